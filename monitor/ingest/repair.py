"""Mojibake and stray escaping repaired in plain text, with ftfy, for feeds and full text.

Real Italian feeds carry UTF-8 that was decoded as Windows-1252 somewhere upstream ("Ã¨" for
"è", "puÃ²", "Â " for a no-break space, "â€™" for an apostrophe) and text escaped twice
("&amp;egrave;" read once leaves "&egrave;"). ftfy undoes both from what the text itself shows.

Conservative on purpose: only ftfy's encoding fixes and HTML unescaping run, nothing that
changes text that was right (quotes stay curly, widths, ligatures, line breaks and control
characters are left to textclean), and the result is NFC. ftfy only changes a run of
characters when it decodes to something more plausible, so "SÃO PAULO" or "João" stay as they
are.

Speed: ftfy runs only when the text holds a character that mojibake produces or an entity
reference; correct Italian text pays seven substring checks, about 1.5 µs per item (timing in
benchmarks/README.md).
"""

from __future__ import annotations

import re

from ftfy import TextFixerConfig, fix_text

from monitor.ingest.textclean import tidy_spaces

# The lead bytes of UTF-8 read as Windows-1252/Latin-1: Â (U+0080-U+00BF, e.g. "Â " for a
# no-break space), Ã (U+00C0-U+00FF: "Ã¨"), Ä/Å (Latin Extended-A), â (U+2000-U+2FFF: "â€™"),
# ð (emoji: "ðŸš€"); plus an entity reference left in plain text (escaped twice upstream).
# Correct Italian text contains none of them, so it never reaches ftfy.
_MOJIBAKE_LEAD = "[ÂÃÄÅâð]"
_SUSPECT = re.compile(_MOJIBAKE_LEAD + r"|&(?:#\d{2,7}|#[xX][0-9a-fA-F]{2,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_SUSPECT_IN_MARKUP = re.compile(_MOJIBAKE_LEAD)  # markup is full of entities: only mojibake counts

_CONFIG = TextFixerConfig(
    unescape_html=True,  # plain text here: an entity left in it was escaped one time too many
    remove_terminal_escapes=False,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=True,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=True,
    remove_control_chars=False,
    normalization="NFC",
    explain=False,
)

# For an HTML page before extraction: the same encoding fixes, but entities are markup's own.
_MARKUP_CONFIG = _CONFIG._replace(unescape_html=False, normalization=None)


# Seven substring searches (memchr in C) cost a twentieth of one regex scan over right text.
_SUSPECT_CHARS = "ÂÃÄÅâð&"


def may_need_repair(text: str) -> bool:
    """True when `text` holds a character mojibake produces, or an entity reference."""
    return any(c in text for c in _SUSPECT_CHARS) and _SUSPECT.search(text) is not None


def repair_text(text: str) -> str:
    """`text` with mojibake and stray entity references repaired; unchanged when it is right.

    For plain text only (after markup is gone): spaces are tidied again where a repair brought
    back no-break spaces ("CittÃ Â del" → "Città del").
    """
    if not text or not may_need_repair(text):
        return text
    fixed = fix_text(text, _CONFIG)
    return text if fixed == text else tidy_spaces(fixed)


def repair_markup(html: str) -> str:
    """An HTML page's mojibake repaired before its text is extracted.

    Extraction drops C1 control characters, and with them the last byte of "â€\x9d" (a closing
    quote): repaired afterwards, that quote would be lost. Entities and tags stay as they are.
    """
    if _SUSPECT_IN_MARKUP.search(html) is None:
        return html
    return fix_text(html, _MARKUP_CONFIG)
