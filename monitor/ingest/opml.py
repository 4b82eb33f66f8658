"""OPML import and export of the feed list.

Reading uses listparser (tolerant of the sloppy OPML that readers export); writing builds OPML 2.0
with ElementTree so every attribute is escaped properly. Both are pure (bytes/str in and out).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import listparser

from monitor.errors import PermanentError

# Characters XML 1.0 cannot carry at all, even as references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)", re.IGNORECASE)


def read_opml(data: bytes) -> list[tuple[str, str]]:
    """[(xml_url, title)] of every feed in the document, nested outlines flattened, in order.

    Duplicate URLs keep their first title; outlines whose xmlUrl is not http(s) are skipped
    (they cannot be polled). A document that is not OPML raises PermanentError; a real OPML
    file with no feeds gives [].
    """
    if not data.strip():
        raise PermanentError("not an OPML document: the file is empty")
    # Always bytes, never str: listparser fetches a str that starts with "http".
    result: Any = listparser.parse(_as_ascii(data))
    if result.get("bozo") and not result.get("feeds"):
        raise PermanentError(f"not an OPML document: {result.get('bozo_exception')}")
    if not result.get("version", "").startswith("opml"):
        raise PermanentError("not an OPML document: no <opml> root element")
    feeds: list[tuple[str, str]] = []
    seen: set[str] = set()
    for feed in result.get("feeds") or []:
        url = " ".join(str(feed.get("url") or "").split())
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or url in seen:
            continue
        seen.add(url)
        title = " ".join(str(feed.get("title") or "").split()) or (parts.hostname or url)
        feeds.append((url, title))
    return feeds


def _as_ascii(data: bytes) -> bytes:
    """The document as ASCII with character references for everything else.

    listparser hands bytes to lxml's HTML parser (or decodes them as UTF-8 without lxml), which
    guesses Latin-1 for a UTF-8 file; character references read the same everywhere.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", "replace")
    elif data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", "replace")
    else:
        declared = _XML_ENCODING.search(data[:512])
        encoding = declared.group(1).decode("ascii") if declared else "utf-8"
        try:
            text = data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1252", "replace")
    # The declaration would now lie about the bytes; drop it.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    return text.encode("ascii", "xmlcharrefreplace")


def write_opml(feeds: Sequence[tuple[str, str]], title: str) -> str:
    """An OPML 2.0 document listing `feeds` [(xml_url, title)] flat, in order."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _NOT_XML.sub("", title)
    body = ET.SubElement(root, "body")
    for url, name in feeds:
        label = _NOT_XML.sub("", name) or url
        ET.SubElement(body, "outline", type="rss", text=label, title=label, xmlUrl=_NOT_XML.sub("", url))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
