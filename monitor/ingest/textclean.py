"""HTML (or plain text with entities) → tidy plain text, for feed titles and summaries."""

from __future__ import annotations

import re

from inscriptis import get_text

_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")


def html_to_text(html: str) -> str:
    """HTML (or plain text with entities) → tidy plain text.

    Entities are decoded, scripts and styles dropped, block elements become line breaks; runs of
    spaces collapse to one, lines are stripped, and at most one blank line separates paragraphs.
    """
    if not html or not html.strip():
        return ""
    if not _NOT_SIMPLE.search(html):
        if "<" not in html and "&" not in html:
            return " ".join(html.split())  # one line of plain words (most titles): nothing to decode
        if (simple := _simple_html_to_text(html)) is not None:
            return simple
    return tidy_spaces(get_text(html) if ("<" in html or "&" in html) else html)


def tidy_spaces(text: str) -> str:
    """Plain text with control characters dropped, runs of spaces (no-break ones too) made one,
    lines stripped and at most one blank line between paragraphs."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# The usual feed summary: paragraphs of plain words with bold, italics or links, character
# references to printable characters only, no other tags, no whitespace but spaces and newlines.
# For such HTML, inscriptis gives exactly the paragraphs with their whitespace collapsed,
# separated by one blank line; this does the same at a fraction of the cost
# (tests/ingest/test_textclean.py compares the two on random documents of this shape).
_LINK_OPEN = r'a(?: [a-z]+="[^"<>]*")*>'  # links count as their text (inscriptis drops the URL)
# Every character str.isspace() accepts but space and newline, spelled out: as a set of
# characters the pattern gets a fast first-character scan, which [^\S \n] prevented (a third
# less time; tests/ingest/test_textclean.py checks the list against str.isspace).
OTHER_SPACES = "\t\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NOT_SIMPLE = re.compile(r"&(?!#\d{1,7};|amp;|lt;|gt;|quot;)|[\x00-\x1f\x7f\u200b\ufeff" + OTHER_SPACES
                         + r"]|<(?!/?(?:p|strong|em|b|i|a)>|" + _LINK_OPEN + ")")
_PARAGRAPH_TAG = re.compile(r"(</?p>)")
_INLINE_TAG = re.compile(r"</?(?:strong|em|b|i|a)>|<" + _LINK_OPEN)


def _simple_html_to_text(html: str) -> str | None:
    """The text of a run of <p>…</p> (the last one may be left open), else None."""
    # Inline tags hold no <p>: dropping them first is one pass over the whole text.
    pieces = _PARAGRAPH_TAG.split(_INLINE_TAG.sub("", html))
    # pieces: text, tag, text, tag, … Texts 0, 2, 4, … lie outside the paragraphs and must be
    # blank; the tags alternate <p>, </p>.
    tags = pieces[1::2]
    if any(part.strip() for part in pieces[0::4]) or tags[0::2].count("<p>") != len(tags[0::2]) \
            or tags[1::2].count("</p>") != len(tags[1::2]):
        return None
    paragraphs = [" ".join(part.split()) for part in pieces[2::4]]
    text = "\n\n".join(p for p in paragraphs if p)
    if "&" in text:
        try:
            text = _REFERENCE.sub(_decode_reference, text)
        except ValueError:
            return None
    return text


_REFERENCE = re.compile(r"&(?:#(\d+)|(amp|lt|gt|quot));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"'}


def _decode_reference(match: re.Match[str]) -> str:
    """A character reference, if it stands for a plain printable character (else ValueError)."""
    if match.group(2):
        return _NAMED[match.group(2)]
    code = int(match.group(1))
    if code < 0x21 or 0x7f <= code <= 0xa0 or 0xd800 <= code <= 0xdfff or code > 0x10FFFF:
        raise ValueError(code)
    char = chr(code)
    if not char.isprintable() or char.isspace() or _CONTROL.search(char):
        raise ValueError(code)
    return char
