"""Small pure helpers for rendering untrusted feed text: cleaning, bounding, links, snippets, dates.

Everything that comes from a feed passes through here before it reaches a template or a header.
Nothing here returns markup: templates escape (HTML) or print as is (plain text).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from monitor.models import Mention

Language = Literal["it", "en"]

HEADER_MAX = 120
TITLE_MAX = 200
SNIPPET_MAX = 260
CLAIM_MAX = 220
URL_MAX = 2000

# Bidi overrides/isolates can make a title read differently from what it is (spoofing).
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"))
_SPACE = re.compile(r"\s+")


def clean(text: str | None, limit: int) -> str:
    """One line of display text: control and bidi characters gone, whitespace collapsed, bounded."""
    if not text:
        return ""
    text = text.translate(_BIDI)
    # Cc covers CR, LF, NUL, ESC...; Zl/Zp are U+2028/U+2029, which some clients treat as newlines.
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return bound(_SPACE.sub(" ", text).strip(), limit)


def bound(text: str, limit: int) -> str:
    """Cut at a word boundary when possible and mark the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–") + "…"


def header_text(text: str) -> str:
    """A value that may safely go into a header built from feed text (Subject)."""
    return clean(text, HEADER_MAX)


def safe_url(url: str | None) -> str | None:
    """The link if it is a plain http(s) URL; None for javascript:, data:, relative or odd links."""
    if not url:
        return None
    url = url.strip()
    if len(url) > URL_MAX or any(unicodedata.category(c) in ("Cc", "Zl", "Zp") or c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return url


@dataclass(frozen=True)
class Snippet:
    """The sentence that explains a match, split so the template can emphasise the name."""

    before: str
    match: str
    after: str

    @property
    def plain(self) -> str:
        return f"{self.before}{self.match}{self.after}"


_SENTENCE_END = re.compile(r"[.!?…\n]")


def snippet(text: str, mentions: tuple[Mention, ...], entity: str | None) -> Snippet | None:
    """The sentence around the first body mention (of `entity` if it has one), bounded in length."""
    body = [m for m in mentions if not m.in_title]
    preferred = [m for m in body if m.entity == entity] or body
    for m in sorted(preferred, key=lambda m: m.start):
        span = _locate(text, m)
        if span is not None:
            return _around(text, *span)
    return None


def lead(text: str, limit: int = SNIPPET_MAX) -> Snippet | None:
    """The opening of the article, for stories matched only in the title."""
    first = clean(text, limit)
    return Snippet(first, "", "") if first else None


def _locate(text: str, m: Mention) -> tuple[int, int] | None:
    # Offsets come from another stage and the text may have been re-normalised: verify them.
    if 0 <= m.start < m.end <= len(text) and text[m.start:m.end] == m.text:
        return m.start, m.end
    found = text.find(m.text) if m.text else -1
    return (found, found + len(m.text)) if found >= 0 else None


def _around(text: str, start: int, end: int) -> Snippet:
    left = max((x.end() for x in _SENTENCE_END.finditer(text, 0, start)), default=0)
    right_match = _SENTENCE_END.search(text, end)
    right = right_match.end() if right_match else len(text)
    # A sentence longer than the bound is windowed around the name, the cuts marked with "…".
    room = max(SNIPPET_MAX - (end - start), 40)
    if (start - left) > room // 2:
        left = start - room // 2
        space = text.find(" ", left, start)  # do not start mid-word
        left = space + 1 if space >= 0 else left
    if (right - end) > room - (start - left):
        right = end + room - (start - left)
        space = text.rfind(" ", end, right)
        right = space if space > end else right
    before = clean(text[left:start], SNIPPET_MAX)
    after = clean(text[end:right], SNIPPET_MAX)
    if left > 0 and not _SENTENCE_END.match(text[left - 1]):
        before = "…" + before
    if right < len(text) and not _SENTENCE_END.match(text[right - 1]):
        after = after + "…"
    sep_before = " " if text[left:start][-1:].isspace() else ""
    sep_after = " " if text[end:right][:1].isspace() else ""
    return Snippet(before + sep_before if before else "", clean(text[start:end], 80),
                   sep_after + after if after else "")


_DAYS = {
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
           "settembre", "ottobre", "novembre", "dicembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}


def long_date(when: datetime, language: Language) -> str:
    """"lunedì 3 marzo 2025" / "Monday 3 March 2025", without relying on the process locale."""
    return f"{_DAYS[language][when.weekday()]} {when.day} {_MONTHS[language][when.month - 1]} {when.year}"


def short_time(when: datetime, now: datetime, language: Language) -> str:
    """"08:15" today, "3 mar 08:15" otherwise (both already in the display zone)."""
    if when.date() == now.date():
        return f"{when:%H:%M}"
    month = _MONTHS[language][when.month - 1][:3]
    year = f" {when.year}" if when.year != now.year else ""
    return f"{when.day} {month}{year} {when:%H:%M}"


def date_time(when: datetime | None, language: Language) -> str:
    """Full date and time for feed health ("—" when unknown)."""
    if when is None:
        return "—"
    return f"{long_date(when, language)}, {when:%H:%M}"
