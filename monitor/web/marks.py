"""Text cut into plain pieces for the templates to escape: search hits and marked evidence.

The templates never receive HTML from the data: a snippet from FTS5 comes with control-character
marks around the matching words, and an article comes with the offsets of its mentions and
claims; both become a list of pieces, each plain text plus what marks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.store.search import HIT_END, HIT_START


@dataclass(frozen=True)
class Piece:
    text: str
    hit: bool = False
    mentions: tuple[int, ...] = ()  # indexes into the page's mention list
    claims: tuple[int, ...] = ()  # indexes into the page's claim list


def hit_pieces(marked: str) -> list[Piece]:
    """'a \\x02b\\x03 c' → [a ], [b](hit), [ c]."""
    pieces: list[Piece] = []
    for i, part in enumerate(marked.split(HIT_START)):
        text, sep, rest = part.partition(HIT_END)
        if i == 0 or not sep:
            # Before the first mark, or a mark FTS5 never closed: plain text.
            text, rest = text + sep + rest, ""
            if text:
                pieces.append(Piece(text.replace(HIT_END, "")))
            continue
        if text:
            pieces.append(Piece(text, hit=True))
        if rest:
            pieces.append(Piece(rest.replace(HIT_END, "")))
    return pieces


def plain(marked: str) -> str:
    return marked.replace(HIT_START, "").replace(HIT_END, "")


def span_pieces(text: str, mentions: Sequence[tuple[int, int]], claims: Sequence[tuple[int, int]]) -> list[Piece]:
    """The text cut at every mention and claim boundary; each piece knows which cover it.

    Offsets outside the text (a stored analysis of an older text) are left out rather than
    shifted: a mark in the wrong place would be worse evidence than none.
    """
    size = len(text)
    valid_m = [(i, s, e) for i, (s, e) in enumerate(mentions) if 0 <= s < e <= size]
    valid_c = [(i, s, e) for i, (s, e) in enumerate(claims) if 0 <= s < e <= size]
    cuts = sorted({0, size, *(s for _, s, _ in valid_m + valid_c), *(e for _, _, e in valid_m + valid_c)})
    pieces: list[Piece] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        pieces.append(Piece(text[start:end],
                            mentions=tuple(i for i, s, e in valid_m if s <= start and end <= e),
                            claims=tuple(i for i, s, e in valid_c if s <= start and end <= e)))
    return pieces


@dataclass(frozen=True)
class Run:
    """Consecutive pieces inside the same claim (or outside any): one highlighted block each."""

    claim: int | None
    pieces: tuple[Piece, ...]


def claim_runs(pieces: Sequence[Piece]) -> list[Run]:
    runs: list[Run] = []
    for piece in pieces:
        claim = piece.claims[0] if piece.claims else None
        if runs and runs[-1].claim == claim:
            runs[-1] = Run(claim, (*runs[-1].pieces, piece))
        else:
            runs.append(Run(claim, (piece,)))
    return runs
