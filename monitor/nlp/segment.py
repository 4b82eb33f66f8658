"""Quote-aware sentence segmentation, paragraph by paragraph.

The stock sentencizer breaks after `dott.`, glues an opening « to the previous sentence and splits
inside quotations. Here a sentence ends at . ! ? … (or after a closing mark that follows one) only
outside quotations, when the next word starts a sentence, and not after an abbreviation or an
initial ("George R. Martin"); "su X. Poi" still ends, since "su" is not a name; so does a full stop
whose space the page lost ("di Acme.Poi").
"""

from __future__ import annotations

import re
from bisect import bisect_right

from monitor.nlp.lexicon import ABBREVIATIONS
from monitor.nlp.quotemarks import Quote

_END = re.compile(r"[.!?…]+[»”’\"')\]]*")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")
_NEXT_START = re.compile(r"\s+[«“‘\"'(\-–—]*[\w«“‘\"]")
_LOWER_NEXT = re.compile(r"\s+[a-zà-ÿ]")
_NONSPACE = re.compile(r"\S")
# "…di Acme.Poi il ministro": a full stop whose space was lost in the page (lower-case word,
# stop, capitalised word) still ends the sentence; "S.p.A." and "U.S." do not match.
_GLUED = re.compile(r"[a-zà-ÿ]{2}\.[A-ZÀ-Ý][a-zà-ÿ]{2}")


class _Outer:
    """Outermost quotations, for a fast "is this offset inside a quotation" test."""

    def __init__(self, quotes: list[Quote]) -> None:
        outer = sorted((q.start, q.end) for q in quotes if q.depth == 0)
        self.starts = [a for a, _ in outer]
        self.ends = [b for _, b in outer]

    def __call__(self, pos: int) -> bool:
        i = bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]


def _abbreviation(text: str, end_dot: int, para_start: int) -> bool:
    """True when the full stop ending at `end_dot` closes an abbreviation or an initial."""
    m = _WORD_BEFORE.search(text, max(para_start, end_dot - 24), end_dot + 1)  # a short look-back
    if not m:
        return False
    word = m.group(1)
    if word.lower() in ABBREVIATIONS or word.lower().rstrip(".") in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isupper():
        # An initial only between capitalised words: "George R. Martin", not "su X. Il".
        prev = text[para_start:m.start()].split()
        return bool(prev) and prev[-1][:1].isupper() and prev[-1][-1:].isalpha()
    return "." in word and len(word) <= 6  # "S.p.A.", "U.S."


def sentence_spans(text: str, quotes: list[Quote]) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, never crossing a line break."""
    spans: list[tuple[int, int]] = []
    inside = _Outer(quotes)
    for para in re.finditer(r"[^\n]+", text):
        start = para.start()
        for m in _END.finditer(text, para.start(), para.end()):
            end = m.end()
            if not _NONSPACE.search(text, end, para.end()) or inside(m.start()) and inside(end - 1):
                continue
            if not _NEXT_START.match(text, end, para.end()) and not (
                    m.group() == "." and _GLUED.match(text, m.start() - 2, end + 3)):
                continue
            if _LOWER_NEXT.match(text, end, para.end()):
                continue
            if m.group().startswith(".") and len(m.group()) == 1 and _abbreviation(text, m.start(), start):
                continue
            if inside(end):
                continue
            spans.append(_trim(text, start, end))
            start = end
        if text[start:para.end()].strip():
            spans.append(_trim(text, start, para.end()))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
