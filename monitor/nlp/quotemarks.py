"""Find quotations: pair opening and closing marks, telling apostrophes from single quotes.

Italian news uses «», “”, straight "", and ‘’ or straight '' (usually nested). The same
character can open or close (" ' ”) or be an apostrophe (’ '), so each mark is classified by the
characters around it. Quotations never cross a paragraph (a line break).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# opening mark -> closing marks it accepts
_PAIRS: dict[str, str] = {"«": "»", "“": "”\"", "„": "“”", "‘": "’'", '"': '"”', "'": "'’", "”": "”"}
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
        return "open"
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
    for m in _MARK_OR_BREAK.finditer(text):  # only marks and line breaks: far fewer than characters
        i, c = m.start(), m.group()
        if c == "\n":
            stack.clear()
            continue
        role = _role(text, i)
        if role == "none":
            continue
        if role in ("close", "both") and _close(text, i, c, stack, found):
            continue
        if role in ("open", "both"):
            stack.append((c, i))
    found.sort(key=lambda q: q.start)
    return found


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
