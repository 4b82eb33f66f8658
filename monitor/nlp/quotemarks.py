"""Find quotations: pair opening and closing marks, telling apostrophes from single quotes.

Italian news uses «», “”, straight "", and ‘’ or straight '' (usually nested). The same
character can open or close (" ' ”) or be an apostrophe (’ '), so each mark is classified by the
characters around it. Pages in the wild also pair marks wrongly (“…“, «…“, ”…”): a mark that can
only open still closes an open quotation when it stands where a closing mark stands (after a word,
before punctuation or a space). Quotations never cross a paragraph (a line break), except that a
quotation still open when the text ends runs to the end: an excerpt cut inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# opening mark -> closing marks it accepts
_PAIRS: dict[str, str] = {"«": "»“”", "“": "”\"“", "„": "“”", "‘": "’'", '"': '"”“', "'": "'’", "”": "”\"“"}
_MARKS = frozenset("«»“”„‘’\"'")
_MARK_OR_BREAK = re.compile("[«»“”„‘’\"'\n]")
_OPEN_BEFORE = frozenset(" \t\n([{«“‘'’\"—–-/:")  # a mark after these (or at start) can open
_CLOSE_AFTER = frozenset(" \t\n)]}»”’'\".,;:!?…—–-/")  # a mark before these (or at end) can close


@dataclass(frozen=True)
class Quote:
    """Text between a pair of marks: `start`/`end` delimit the inner text (marks excluded)."""

    start: int
    end: int
    open_mark: str
    close_mark: str
    depth: int  # 0 for an outermost quotation

    @property
    def outer_start(self) -> int:
        return self.start - 1

    @property
    def outer_end(self) -> int:
        return self.end + 1


def _role(text: str, i: int) -> str:
    """'open', 'close', 'both' (could be either) or 'none' (an apostrophe) for the mark at i."""
    c = text[i]
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if c == "«" or c == "„" or c == "‘":
        return "open"
    if c == "»":
        return "close"
    can_open = (before in _OPEN_BEFORE or before.isspace()) and not after.isspace()
    can_close = (after in _CLOSE_AFTER or after.isspace()) and not before.isspace()
    if c in "'’":
        if before.isalpha() and after.isalpha():
            return "none"  # l'OpenAI, c’è
        if before.isalpha() and not can_close:
            return "none"
        if before in "'’" or (before.isalpha() and c == "’" and after.isspace() and _elided(text, i)):
            return "none"
    if c == "“":
        return "both" if can_close and not can_open else "open"  # “…“: a closing “ after a word
    if c in "”\"" and before in ".!?" and after.isupper():
        return "open"  # «…».”Poi …”: a mark glued after a full stop, before a capital, opens
    if can_open and can_close:
        return "both"
    if can_open:
        return "open"
    if can_close:
        return "close"
    return "none"


def _elided(text: str, i: int) -> bool:
    """A word ending in an apostrophe before a space is a poetic elision ("po’"), not a quote."""
    j = i
    while j > 0 and text[j - 1].isalpha():
        j -= 1
    return text[j:i].lower() in {"po", "mo", "be", "de", "pe", "to"}


def find_quotes(text: str) -> list[Quote]:
    """All quotations in `text`, outer ones and nested ones, sorted by start."""
    found: list[Quote] = []
    stack: list[tuple[str, int]] = []
    para = 0  # where the current paragraph starts
    for m in _MARK_OR_BREAK.finditer(text):  # only marks and line breaks: far fewer than characters
        i, c = m.start(), m.group()
        if c == "\n":
            if len(stack) == 1 and _runs_on(text, para, stack[0], i):
                found.append(Quote(stack[0][1] + 1, len(text[:i].rstrip()), stack[0][0], "", 0))
            stack.clear()
            para = i + 1
            continue
        role = _role(text, i)
        if role == "none":
            continue
        if role in ("close", "both") and _close(text, i, c, stack, found):
            continue
        if not stack and c in "”“»" and role in ("close", "both") and _lost_opening(text, para, i, found):
            found.append(Quote(para + len(text[para:i]) - len(text[para:i].lstrip()), i, "", c, 0))
            continue
        if role in ("open", "both"):
            stack.append((c, i))
    if stack and stack[0][0] in "«“\"" and _after_opening(text, stack[0][1]) and len(text) - stack[0][1] > 2:
        pos = stack[0][1]  # the excerpt ends inside a quotation opened at a paragraph start or a colon
        found.append(Quote(pos + 1, len(text.rstrip()), stack[0][0], "", 0))
    found.sort(key=lambda q: q.start)
    return found


def _runs_on(text: str, para: int, opener: tuple[str, int], end: int) -> bool:
    """A quotation over several paragraphs: it opens its paragraph, is still open at the paragraph's end,
    and the next paragraph opens with a mark again (the Italian convention for a quote that runs on)."""
    mark, pos = opener
    if mark not in "«“\"" or text[para:pos].strip() or end - pos < 20:
        return False
    nxt = text[end:end + 8].lstrip()
    return nxt[:1] in ("«", "“", '"')


def _lost_opening(text: str, para: int, i: int, found: list[Quote]) -> bool:
    """A closing mark ends the paragraph with nothing open and no quotation before it in the paragraph:
    the paragraph is a quotation whose opening mark was lost (a block quote flattened into text)."""
    rest = text[i + 1:text.find("\n", i) if "\n" in text[i:] else len(text)]
    body = text[para:i].strip()
    return (not rest.strip(" .!?…\t") and len(body.split()) >= 4 and body[:1].isupper()
            and not any(q.start >= para for q in found))


def _after_opening(text: str, i: int) -> bool:
    """The mark at i opens a paragraph or a sentence, or follows a colon: a statement, not a scare quote."""
    before = text[max(0, i - 3):i].rstrip(" \t")
    return not before or before.endswith(("\n", ":", ".", "!", "?", "»", "”"))


def _close(text: str, i: int, c: str, stack: list[tuple[str, int]], found: list[Quote]) -> bool:
    """Close the innermost open quotation this mark can close; False if none can."""
    for k in range(len(stack) - 1, -1, -1):
        mark, pos = stack[k]
        if c in _PAIRS.get(mark, ""):
            if c in "'’" and k != len(stack) - 1:
                return False  # a stray apostrophe must not close an outer single quote
            del stack[k:]
            if i - pos > 1:
                found.append(Quote(pos + 1, i, mark, c, len(stack)))
            return True
    return False
