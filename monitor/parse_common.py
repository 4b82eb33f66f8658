"""The common feed, read straight from libxml2: the same fields feedparser would give, or None.

feedparser's SAX handler runs in Python and was about 45 % of a cold cycle's CPU; libxml2 reads
the same bytes some 50 times faster. This reader takes only what it can reproduce exactly: a
well-formed RSS 2.x or Atom 1.0 document that feedparser would decode without complaint, whose
feed and entry elements are all in the tables below (or have no feedparser handler) and carry
plain text. For anything else (another version, an unknown namespace, markup inside an element,
a DOCTYPE, xml:base below the root, base64, two summaries in one entry ...) it returns None and
parse_feed asks feedparser, so odd feeds lose nothing. Each rule below mirrors what feedparser 6
does with that element; tests/test_parse_common.py compares both readers on real, repository
and generated feeds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import feedparser
from feedparser.datetimes import _parse_date as feedparser_date
from feedparser.encodings import convert_to_utf8
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin, make_safe_absolute_uri
from feedparser.util import FeedParserDict
from lxml import etree

Fields = dict[str, Any]  # one entry, keyed as feedparser keys it (only the keys parse.py reads)

_ATOM = "http://www.w3.org/2005/Atom"
# Namespace URI (lower case) -> the prefix feedparser files its elements under ("" = core).
_PREFIXES = {uri.lower(): f"{prefix}:" if prefix else "" for uri, prefix in _FeedParserMixin.namespaces.items()}
# The entry keys parse.py reads: an element feedparser would store under one of them by name
# is never ignored.
_READ_KEYS = frozenset({
    "title", "link", "links", "id", "guidislink", "content", "summary", "summary_detail",
    "published", "published_parsed", "updated", "updated_parsed", "created", "created_parsed",
    "ttl",
})
# An element feedparser has no handler for is stored under its own name: harmless, unless the
# name is one FeedParserDict renames (<date> becomes "updated") or a key feedparser's handlers
# read back from the same dictionary (an <authors> string breaks its author handling).
_COLLIDING = _READ_KEYS | frozenset(FeedParserDict.keymap) | frozenset({
    "author", "authors", "author_detail", "publisher", "publisher_detail", "contributors",
    "generator_detail", "media_content", "media_thumbnail", "media_player", "media_credit",
    "media_rating", "media_restriction", "media_license", "tags", "image", "textinput", "source",
    "cloud", "where", "license", "href", "enclosures", "category", "subtitle", "subtitle_detail",
    "rights", "rights_detail", "language", "info", "info_detail", "newlocation",
})
# Namespaces whose declaration on an Atom root makes feedparser take the document for RSS 1.0
# or 0.90 (the first one declared sets its version), which changes how it types text.
_NOT_ATOM_VERSIONS = frozenset({"http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/"})
_CANONICAL = frozenset(prefix for prefix in _PREFIXES.values() if prefix)
_NS_DECLARATION = re.compile(rb"""xmlns:([^\s=/>"']+)\s*=\s*["']([^"']*)["']""")
_FIRST_ELEMENT = re.compile(rb"<\w")
_PROLOG_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DATES = {
    "pubdate": "published", "published": "published", "issued": "published",
    "dcterms:issued": "published",
    "updated": "updated", "modified": "updated", "lastbuilddate": "updated", "dc:date": "updated",
    "dcterms:modified": "updated",
    "created": "created", "dcterms:created": "created",
}
# Entry elements whose feedparser handlers file them away from every key parse.py reads
# (authors, tags, media ...), each checked in feedparser's source.
_ENTRY_IGNORED = frozenset({
    "category", "dc:subject", "author", "dc:creator", "enclosure", "media:content",
    "media:thumbnail", "rights", "itunes:author", "itunes:subtitle", "itunes:explicit",
    "itunes:image", "itunes:keywords", "itunes:block",
})
# Feed elements whose handlers touch neither the feed's title nor its ttl.
_FEED_IGNORED = frozenset({
    "link", "description", "subtitle", "language", "lastbuilddate", "pubdate", "updated",
    "generator", "copyright", "rights", "managingeditor", "webmaster", "category", "cloud", "id",
    "dc:language", "dc:creator", "dc:rights", "itunes:author", "itunes:subtitle",
    "itunes:explicit", "itunes:image", "itunes:keywords", "itunes:block", "itunes:summary",
})
_IMAGE_PARTS = frozenset({"url", "title", "link", "width", "height", "description"})
_AUTHOR_PARTS = frozenset({"name", "email", "uri"})
_CONTENT_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html",
                  "text/plain": "text/plain", "text/html": "text/html"}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_TYPE_NAMES = {"text": "text/plain", "plain": "text/plain", "html": "text/html",
               "xhtml": "application/xhtml+xml"}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")
# feedparser maps C1 controls onto the windows-1252 characters they were meant to be.
_CP1252 = {c: bytes([c]).decode("cp1252") for c in range(0x80, 0xA0)
           if c not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
_C1_CONTROL = re.compile("[\x80-\x9f]")
_NO_ATTRS: frozenset[str] = frozenset()
_TYPE_ONLY = frozenset({"type"})
_GUID_ATTRS = frozenset({"ispermalink"})
_LINK_ATTRS = frozenset({"rel", "href", "type", "hreflang", "title", "length"})


class _Unsupported(Exception):
    """Something this reader does not reproduce: feedparser reads the document instead."""


@dataclass(frozen=True, slots=True)
class CommonFeed:
    title: str
    ttl: str | None
    entries: list[Fields]


def read_common_feed(body: bytes, headers: Mapping[str, str]) -> CommonFeed | None:
    """The feed's title, ttl and entries as feedparser would report them, or None."""
    try:
        return _read(body, headers)
    except _Unsupported:
        return None


def why_not_common(body: bytes, headers: Mapping[str, str]) -> str | None:
    """Why read_common_feed leaves this document to feedparser (None: it does not)."""
    try:
        _read(body, headers)
    except _Unsupported as exc:
        return str(exc)
    return None


def _read(body: bytes, headers: Mapping[str, str]) -> CommonFeed:
    if any(key.lower() == "content-location" for key in headers):
        raise _Unsupported("Content-Location header")  # feedparser would resolve links against it
    result: dict[str, Any] = {}
    try:
        data = convert_to_utf8(dict(headers), body, result)
    except Exception as exc:  # noqa: BLE001 - feedparser would fail the same way; parse_feed reports it
        raise _Unsupported(f"encoding: {exc.__class__.__name__}") from None
    problem = result.get("bozo_exception")
    if result.get("bozo") and not isinstance(problem, feedparser.NonXMLContentType):
        raise _Unsupported(f"encoding: {problem}")
    if not result.get("encoding"):
        raise _Unsupported("encoding unknown")
    _check_prolog_and_prefixes(data)
    try:
        # A new parser per call: an lxml parser must not be shared between threads.
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise _Unsupported(f"not well-formed: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise _Unsupported("DOCTYPE")
    if root.tag == "rss" and root.get("version", "").startswith("2."):
        return _rss(root)
    if root.tag == f"{{{_ATOM}}}feed":
        if any(uri.lower() in _NOT_ATOM_VERSIONS for uri in root.nsmap.values()):
            raise _Unsupported("RSS 1.0 namespace on an Atom root")
        return _feed(root, _Scope(root, depth=2), item="entry", atom=True)
    raise _Unsupported(f"root element {root.tag} {root.get('version', '')}".strip())


def _check_prolog_and_prefixes(data: bytes) -> None:
    """Two things feedparser does on the raw bytes that a tree cannot show.

    Before the first element it cuts out anything that looks like a DOCTYPE or ENTITY line, even
    inside a comment (breaking the comment). And its prefix map is global: a namespace we know,
    declared anywhere under another standard prefix (xmlns:dc for DC terms), renames every later
    element that uses that prefix.
    """
    first = _FIRST_ELEMENT.search(data)
    if _PROLOG_DECLARATION.search(data, 0, first.start() if first else len(data)):
        raise _Unsupported("DOCTYPE or ENTITY before the root element")
    for prefix, uri in _NS_DECLARATION.findall(data):
        canonical = _PREFIXES.get(uri.decode("utf-8", "replace").lower())
        given = prefix.decode("utf-8", "replace")
        if canonical is not None and f"{given}:" != canonical and f"{given}:" in _CANONICAL:
            raise _Unsupported(f"prefix {given} bound to another namespace")


def _name(element: Any) -> str | None:
    """feedparser's name for an element ('title', 'dc:date'), None for comments and PIs."""
    tag = element.tag
    if not isinstance(tag, str):
        return None
    if not tag.isascii():
        raise _Unsupported("non-ASCII element name")  # libxml2 allows names expat refuses
    if tag[0] != "{":
        return tag.lower()
    uri, _, local = tag[1:].partition("}")
    prefix = _PREFIXES.get(uri.lower())
    if prefix is None:
        raise _Unsupported(tag)  # feedparser would use the document's own prefix: not ours to guess
    return prefix + local.lower()


_UNHANDLED_CACHE: dict[str, bool] = {}


def _unhandled(name: str) -> bool:
    """True for an element feedparser has no handler for: it only stores the text under the
    element's own name, which is harmless unless that name is a key we read."""
    known = _UNHANDLED_CACHE.get(name)
    if known is None:
        key = name.replace(":", "_")
        known = key not in _COLLIDING and not hasattr(_FeedParserMixin, f"_start_{key}") \
            and not hasattr(_FeedParserMixin, f"_end_{key}")
        if len(_UNHANDLED_CACHE) < 4096:  # hostile feeds can invent names without end
            _UNHANDLED_CACHE[name] = known
    return known


def _children(element: Any) -> list[tuple[str, Any]]:
    return [(name, child) for child in element if (name := _name(child)) is not None]


def _leaf_text(element: Any) -> str:
    if len(element):
        raise _Unsupported("markup inside an element")
    return element.text or ""


def _finish(text: str, base: str | None = None) -> str:
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
    return repaired.translate(_CP1252) if _C1_CONTROL.search(repaired) else repaired


def _is_base(key: str) -> bool:
    # feedparser files an attribute of an unknown namespace (or Atom's) under its bare local
    # name, lower-cased, and takes "base" as xml:base: x:base, atom:base, xml:BASE all count.
    return key.rpartition("}")[2].lower() == "base"


def _plain_attrs(element: Any, base_ok: bool) -> None:
    """Refuse attributes that would move feedparser's base URI or that expat cannot name.

    feedparser restores the base when an element ends only if the parent's base is not empty:
    below a root without xml:base, a base set on any element stays in force for everything
    after it. `base_ok` is for leaves whose text we do not resolve, under a root with a base.
    """
    for key in element.attrib:
        if not key.isascii() or _is_base(key) and not base_ok:
            raise _Unsupported(f"attribute {key}")


def _attrs(element: Any, allowed: frozenset[str], base_ok: bool = False) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in element.attrib.items():
        if key == _XML_LANG or base_ok and _is_base(key) and key.isascii():
            continue
        name = key.lower()
        if name not in allowed:
            raise _Unsupported(f"attribute {key}")
        found[name] = value.lower() if name in ("rel", "type") else value
    return found


def _content_type(element: Any, default: str, base_ok: bool) -> str:
    given = _attrs(element, _TYPE_ONLY, base_ok).get("type")
    if given is None:
        return default
    kind = _CONTENT_TYPES.get(given)
    if kind is None:
        raise _Unsupported(f"content type {given}")
    return kind


def _untyped(element: Any, kind: str, base_ok: bool) -> str:
    _attrs(element, _NO_ATTRS, base_ok)
    return kind


class _Scope:
    """Where feedparser stands: the document's base URI and the title it already kept."""

    def __init__(self, root: Any, depth: int) -> None:
        self.depth = depth  # of the feed's own child elements
        self.title_depth = -1
        given = root.get(_XML_BASE)
        if any(_is_base(key) for key in root.attrib if key != _XML_BASE):
            raise _Unsupported("base attribute")
        base = _urljoin("", given) if given else ""
        # feedparser re-derives the base at each element it enters, joining it onto itself
        # ("https://e.it/a?#" becomes "https://e.it/a"; "http:e.it/" changes twice).
        self.bases = [base]
        for _ in range(depth):
            base = (make_safe_absolute_uri(base, base) or base) if base else ""
            self.bases.append(base)

        self.leaf_base_ok = bool(self.bases[0])

    def base(self, depth: int) -> str:
        return self.bases[depth - 1]

    def take_title(self, depth: int, value: str) -> bool:
        """feedparser keeps the first non-empty title of a scope, tracked by element depth."""
        if -1 < self.title_depth <= depth:
            return False
        if value:
            self.title_depth = depth
        return True


def _rss(root: Any) -> CommonFeed:
    channels = _children(root)
    if len(channels) != 1 or channels[0][0] != "channel":
        raise _Unsupported("not one channel")
    scope = _Scope(root, depth=3)
    _plain_attrs(channels[0][1], base_ok=False)
    return _feed(channels[0][1], scope, item="item", atom=False)


def _feed(channel: Any, scope: _Scope, item: str, atom: bool) -> CommonFeed:
    depth = scope.depth
    title, ttl = "", None
    entries: list[Fields] = []
    for name, child in _children(channel):
        if name == item:
            scope.title_depth = -1
            entries.append(_entry(child, depth + 1, scope, atom))
        elif name == "title":
            _content_type(child, "text/plain", scope.leaf_base_ok)
            value = _finish(_leaf_text(child))
            if scope.take_title(depth, value):
                title = value
        elif name == "ttl":
            _attrs(child, _NO_ATTRS)
            ttl = _finish(_leaf_text(child))
        elif name == "image" and not atom:
            scope.title_depth = -1
            _image(child, depth + 1, scope)
        elif not _skipped(name, child, scope, atom, _FEED_IGNORED):
            raise _Unsupported(name)
    return CommonFeed(title=title, ttl=ttl, entries=entries)


def _skipped(name: str, child: Any, scope: _Scope, atom: bool, ignored: frozenset[str]) -> bool:
    """True for an element that touches no field we read (and holds no markup that might)."""
    if name == "author" and atom:
        _author(child, scope)
        return True
    if name in ignored or _unhandled(name):
        _plain_attrs(child, scope.leaf_base_ok)
        if len(child):
            raise _Unsupported(f"markup inside {name}")
        return True
    return False


def _image(image: Any, depth: int, scope: _Scope) -> None:
    _plain_attrs(image, base_ok=False)
    for name, child in _children(image):
        if name not in _IMAGE_PARTS:
            raise _Unsupported(f"image/{name}")
        _plain_attrs(child, scope.leaf_base_ok)
        value = _finish(_leaf_text(child))
        if name == "title":
            scope.take_title(depth, value)  # the image's own title, but it counts as seen


def _author(author: Any, scope: _Scope) -> None:
    _plain_attrs(author, scope.leaf_base_ok)
    for name, child in _children(author):
        if name not in _AUTHOR_PARTS:
            raise _Unsupported(f"author/{name}")
        _plain_attrs(child, scope.leaf_base_ok)
        _leaf_text(child)


def _entry(item: Any, depth: int, scope: _Scope, atom: bool) -> Fields:
    if len(item.attrib):
        raise _Unsupported("attributes on an entry")
    fields: Fields = {}
    for name, child in _children(item):
        if not _skipped(name, child, scope, atom, _ENTRY_IGNORED):
            _entry_field(fields, name, child, depth, scope, atom)
    return fields


def _entry_field(fields: Fields, name: str, child: Any, depth: int, scope: _Scope, atom: bool) -> None:
    if name in ("title", "dc:title"):
        _content_type(child, "text/plain", scope.leaf_base_ok)
        value = _finish(_leaf_text(child))
        if scope.take_title(depth, value):
            fields["title"] = value
    elif name == "link":
        _link(fields, child, scope.base(depth))
    elif name in ("guid", "id"):
        _guid(fields, child, scope.base(depth))
    elif name in _DATES:
        _attrs(child, _NO_ATTRS)
        key = _DATES[name]
        fields[key] = value = _finish(_leaf_text(child))
        fields[key + "_parsed"] = feedparser_date(value)
    elif name in ("description", "dc:description") and not atom or name == "summary" and atom:
        kind = (_content_type(child, "text/plain", scope.leaf_base_ok) if atom
                else _untyped(child, "text/html", scope.leaf_base_ok))
        if "summary" in fields and not fields.get("content"):
            raise _Unsupported("a second summary, which feedparser reads as content")
        fields["summary"] = _finish(_leaf_text(child))
        fields["summary_detail"] = {"type": kind}
    elif name == "content:encoded" and not atom or name == "content" and atom:
        kind = (_content_type(child, "text/plain", scope.leaf_base_ok) if atom
                else _untyped(child, "text/html", scope.leaf_base_ok))
        value = _finish(_leaf_text(child))
        fields.setdefault("content", []).append({"type": kind, "value": value})
        fields.setdefault("summary", value)
    else:
        raise _Unsupported(name)


def _guid(fields: Fields, child: Any, base: str) -> None:
    is_link = _attrs(child, _GUID_ATTRS).get("ispermalink", "true") == "true"
    value = _finish(_leaf_text(child), base if is_link else None)
    fields["id"] = value
    fields.setdefault("guidislink", is_link and "link" not in fields)
    if is_link:
        fields.setdefault("link", value)


def _link(fields: Fields, child: Any, base: str) -> None:
    attrs: dict[str, str] = _attrs(child, _LINK_ATTRS)
    attrs.setdefault("rel", "alternate")
    attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
    fields.setdefault("links", []).append(attrs)
    if "href" in attrs:
        attrs["href"] = _urljoin(base, attrs["href"])
        if attrs["rel"] == "alternate" and _TYPE_NAMES.get(attrs["type"], attrs["type"]) in _HTML_TYPES:
            fields["link"] = attrs["href"]
        return
    value = _finish(_leaf_text(child), base)
    # feedparser repairs query strings it takes for mangled entity references.
    value = _LINK_ENTITY.sub(r"&\g<1>", value.replace("&amp;", "&"))
    fields["link"] = value
    if value:
        attrs["href"] = value
