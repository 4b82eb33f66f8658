"""feedparser 6's rules, as the common-feed reader (parse_common) needs them.

Which element names feedparser files under which key, which attributes move its base URI, what
its pop() does to an element's text: each table and function here mirrors a piece of feedparser's
source, so that parse_common can produce exactly feedparser's fields or step aside (Unsupported).
"""

from __future__ import annotations

import re
from typing import Any

from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin
from feedparser.util import FeedParserDict

ATOM = "http://www.w3.org/2005/Atom"
# Namespace URI (lower case) -> the prefix feedparser files its elements under ("" = core).
PREFIXES = {uri.lower(): f"{prefix}:" if prefix else "" for uri, prefix in _FeedParserMixin.namespaces.items()}
# The entry keys parse.py reads: an element feedparser would store under one of them by name
# is never ignored.
READ_KEYS = frozenset({
    "title", "link", "links", "id", "guidislink", "content", "summary", "summary_detail",
    "published", "published_parsed", "updated", "updated_parsed", "created", "created_parsed",
    "ttl",
})
# An element feedparser has no handler for is stored under its own name: harmless, unless the
# name is one FeedParserDict renames (<date> becomes "updated") or a key feedparser's handlers
# read back from the same dictionary (an <authors> string breaks its author handling).
COLLIDING = READ_KEYS | frozenset(FeedParserDict.keymap) | frozenset({
    "author", "authors", "author_detail", "publisher", "publisher_detail", "contributors",
    "generator_detail", "media_content", "media_thumbnail", "media_player", "media_credit",
    "media_rating", "media_restriction", "media_license", "tags", "image", "textinput", "source",
    "cloud", "where", "license", "href", "enclosures", "category", "subtitle", "subtitle_detail",
    "rights", "rights_detail", "language", "info", "info_detail", "newlocation",
})
# Namespaces whose declaration on an Atom root makes feedparser take the document for RSS 1.0
# or 0.90 (the first one declared sets its version), which changes how it types text.
NOT_ATOM_VERSIONS = frozenset({"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"})
CANONICAL = frozenset(prefix for prefix in PREFIXES.values() if prefix)
NS_DECLARATION = re.compile(rb"""xmlns:([^\s=/>"']+)\s*=\s*["']([^"']*)["']""")
FIRST_ELEMENT = re.compile(rb"<\w")
PROLOG_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
DATES = {
    "pubdate": "published", "published": "published", "issued": "published",
    "dcterms:issued": "published",
    "updated": "updated", "modified": "updated", "lastbuilddate": "updated", "dc:date": "updated",
    "dcterms:modified": "updated",
    "created": "created", "dcterms:created": "created",
}
# Entry elements whose feedparser handlers file them away from every key parse.py reads
# (authors, tags, media ...), each checked in feedparser's source.
ENTRY_IGNORED = frozenset({
    "category", "dc:subject", "author", "dc:creator", "enclosure", "media:content",
    "media:thumbnail", "rights", "itunes:author", "itunes:subtitle", "itunes:explicit",
    "itunes:image", "itunes:keywords", "itunes:block",
})
# Feed elements whose handlers touch neither the feed's title nor its ttl.
FEED_IGNORED = frozenset({
    "link", "description", "subtitle", "language", "lastbuilddate", "pubdate", "updated",
    "generator", "copyright", "rights", "managingeditor", "webmaster", "category", "cloud", "id",
    "dc:language", "dc:creator", "dc:rights", "itunes:author", "itunes:subtitle",
    "itunes:explicit", "itunes:image", "itunes:keywords", "itunes:block", "itunes:summary",
})
IMAGE_PARTS = frozenset({"url", "title", "link", "width", "height", "description"})
AUTHOR_PARTS = frozenset({"name", "email", "uri"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# feedparser's map_content_type: the short type names it expands.
TYPE_NAMES = {"text": "text/plain", "plain": "text/plain", "html": "text/html", "xhtml": "application/xhtml+xml"}
# The text types this reader takes (XHTML holds markup, which is feedparser's business).
CONTENT_TYPES = {name: kind
                 for name, kind in {**TYPE_NAMES, "text/plain": "text/plain", "text/html": "text/html"}.items()
                 if kind != "application/xhtml+xml"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")
# feedparser maps C1 controls onto the windows-1252 characters they were meant to be.
CP1252 = {c: bytes([c]).decode("cp1252") for c in range(0x80, 0xA0)
          if c not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
C1_CONTROL = re.compile("[\x80-\x9f]")
NO_ATTRS: frozenset[str] = frozenset()
TYPE_ONLY = frozenset({"type"})
GUID_ATTRS = frozenset({"ispermalink"})
LINK_ATTRS = frozenset({"rel", "href", "type", "hreflang", "title", "length"})


class Unsupported(Exception):
    """Something this reader does not reproduce: feedparser reads the document instead."""


def check_prolog_and_prefixes(data: bytes) -> None:
    """Two things feedparser does on the raw bytes that a tree cannot show.

    Before the first element it cuts out anything that looks like a DOCTYPE or ENTITY line, even
    inside a comment (breaking the comment). And its prefix map is global: a namespace we know,
    declared anywhere under another standard prefix (xmlns:dc for DC terms), renames every later
    element that uses that prefix.
    """
    first = FIRST_ELEMENT.search(data)
    if PROLOG_DECLARATION.search(data, 0, first.start() if first else len(data)):
        raise Unsupported("DOCTYPE or ENTITY before the root element")
    for prefix, uri in NS_DECLARATION.findall(data):
        canonical = PREFIXES.get(uri.decode("utf-8", "replace").lower())
        given = prefix.decode("utf-8", "replace")
        if canonical is not None and f"{given}:" != canonical and f"{given}:" in CANONICAL:
            raise Unsupported(f"prefix {given} bound to another namespace")


def element_name(element: Any) -> str | None:
    """feedparser's name for an element ('title', 'dc:date'), None for comments and PIs."""
    tag = element.tag
    if not isinstance(tag, str):
        return None
    if not tag.isascii():
        raise Unsupported("non-ASCII element name")  # libxml2 allows names expat refuses
    if tag[0] != "{":
        return tag.lower()
    uri, _, local = tag[1:].partition("}")
    prefix = PREFIXES.get(uri.lower())
    if prefix is None:
        raise Unsupported(tag)  # feedparser would use the document's own prefix: not ours to guess
    return prefix + local.lower()


UNHANDLED_CACHE: dict[str, bool] = {}


def unhandled(name: str) -> bool:
    """True for an element feedparser has no handler for: it only stores the text under the
    element's own name, which is harmless unless that name is a key we read."""
    known = UNHANDLED_CACHE.get(name)
    if known is None:
        key = name.replace(":", "_")
        known = key not in COLLIDING and not hasattr(_FeedParserMixin, f"_start_{key}") \
            and not hasattr(_FeedParserMixin, f"_end_{key}")
        if len(UNHANDLED_CACHE) < 4096:  # hostile feeds can invent names without end
            UNHANDLED_CACHE[name] = known
    return known


def named_children(element: Any) -> list[tuple[str, Any]]:
    return [(name, child) for child in element if (name := element_name(child)) is not None]


def leaf_text(element: Any) -> str:
    if len(element):
        raise Unsupported("markup inside an element")
    return element.text or ""


def finish_text(text: str, base: str | None = None) -> str:
    """What feedparser's pop() makes of an element's text (a URI is resolved against base)."""
    out = text.strip()
    if base is not None and out:
        out = _urljoin(base, out)
    try:
        # feedparser undoes UTF-8 that was read as latin-1 somewhere upstream.
        repaired = out.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        repaired = out
    # str.translate with a table walks every character in Python-level steps (15 us on a
    # summary): look for a C1 control first, which almost no feed has.
    return repaired.translate(CP1252) if C1_CONTROL.search(repaired) else repaired


def is_base(key: str) -> bool:
    # feedparser files an attribute of an unknown namespace (or Atom's) under its bare local
    # name, lower-cased, and takes "base" as xml:base: x:base, atom:base, xml:BASE all count.
    return key.rpartition("}")[2].lower() == "base"


def plain_attrs(element: Any, base_ok: bool) -> None:
    """Refuse attributes that would move feedparser's base URI or that expat cannot name.

    feedparser restores the base when an element ends only if the parent's base is not empty:
    below a root without xml:base, a base set on any element stays in force for everything
    after it. `base_ok` is for leaves whose text we do not resolve, under a root with a base.
    """
    for key in element.attrib:
        if not key.isascii() or is_base(key) and not base_ok:
            raise Unsupported(f"attribute {key}")


def checked_attrs(element: Any, allowed: frozenset[str], *, base_ok: bool = False) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in element.attrib.items():
        if key == XML_LANG or base_ok and is_base(key) and key.isascii():
            continue
        name = key.lower()
        if name not in allowed:
            raise Unsupported(f"attribute {key}")
        found[name] = value.lower() if name in ("rel", "type") else value
    return found


def content_type(element: Any, default: str, base_ok: bool) -> str:
    given = checked_attrs(element, TYPE_ONLY, base_ok=base_ok).get("type")
    if given is None:
        return default
    kind = CONTENT_TYPES.get(given)
    if kind is None:
        raise Unsupported(f"content type {given}")
    return kind


def untyped(element: Any, kind: str, base_ok: bool) -> str:
    checked_attrs(element, NO_ATTRS, base_ok=base_ok)
    return kind


