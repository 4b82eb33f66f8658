"""Feed bytes → ParsedFeed. Pure: no network, no filesystem, no clock (the caller passes `now`).

parse_common reads the common RSS/Atom feed with lxml, exactly as feedparser would; feedparser
reads everything else. This module adds what a monitor needs on top: hostile-input
guards, plain text, aware UTC dates (Italian ones included), and stable identity keys.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from monitor.errors import NotAFeedError
from monitor.ingest.dates import has_italian_word, parse_loose_date
from monitor.ingest.repair import repair_text
from monitor.ingest.textclean import html_to_text
from monitor.ingest.urls import normalise_url
from monitor.models import Entry, ParsedFeed

__all__ = ["html_to_text", "normalise_url", "parse_feed", "parse_loose_date", "reader_warning", "reading_problem"]

# A publication date this far in the future is a broken clock or template, not news.
FUTURE_SLACK = timedelta(days=1)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE_START = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
# A DOCTYPE with an optional internal subset, up to the first "]>". If an entity value hid a
# "]>", the leftovers are junk outside any DOCTYPE, where nothing can be declared.
_DOCTYPE = re.compile(rb"<!DOCTYPE\b[^\[>]*(?:\[.*?\]\s*)?>", re.IGNORECASE | re.DOTALL)


def parse_feed(body: bytes, headers: Mapping[str, str], url: str, now: datetime) -> ParsedFeed:
    """Parse one feed document fetched from `url`.

    Raises NotAFeedError for an empty body, junk, an HTML page, or any document with neither
    feed markers nor entries. A feed with defects (bozo) still yields its usable entries, and
    ParsedFeed.problem says what was wrong. A well-formed feed with zero items is a valid,
    empty ParsedFeed (e.g. a WordPress category with nothing in it).
    """
    if not body.strip():
        raise NotAFeedError(f"{url} is not a feed: empty body")
    body, guard_problem = _defuse(body, url)
    response_headers = {k.lower(): v for k, v in headers.items()}
    body, repair_problem = _repair_utf8(body, response_headers)
    # No base URL for feedparser: it would also "resolve" an RSS <guid>12345</guid> into
    # https://host/feed/12345, and a feed that moves (301) would then change every identity key.
    # We resolve relative *links* ourselves against `url` (an absolute xml:base still applies).
    response_headers.pop("content-location", None)
    common = _read_common(body, response_headers)
    if common is not None:
        title, ttl, raw_entries, problem = common.title, common.ttl, common.entries, None
    else:
        title, ttl, raw_entries, problem = _read_with_feedparser(body, response_headers, url)
    entries = _unique_url_keys([_entry(e, url, now) for e in raw_entries])
    problems = "; ".join(p for p in (guard_problem, repair_problem, problem) if p) or None
    return ParsedFeed(title=repair_text(html_to_text(title)) or None, entries=entries, ttl_minutes=_ttl(ttl),
                      problem=problems)


CommonReader = Callable[[bytes, Mapping[str, str]], Any]
# A tiny feed both readers must read alike before the lxml reader is trusted (see _common_reader).
_PROBE = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Prova</title>'
          b"<ttl>30</ttl><item><title>Titolo &amp; altro</title><link>/a?x=1&amp;y=2</link>"
          b'<guid isPermaLink="false">id-1</guid><pubDate>Wed, 16 Nov 2022 00:38:15 +0100</pubDate>'
          b"<description>&lt;p&gt;Sam Altman &#232; qui.&lt;/p&gt;</description></item></channel></rss>")


def _common_reader() -> tuple[CommonReader | None, str | None]:
    """The lxml reader, or None and why: it leans on feedparser internals (parse_rules,
    parse_common), which a feedparser release may rename or change. Checked once, at import:
    the internals must import, and the probe feed must read exactly as feedparser reads it.
    Without them every feed goes to feedparser: slower, never wrong.
    """
    try:
        from monitor.ingest.parse_common import read_common_feed
    except (ImportError, AttributeError) as exc:  # a missing module, name or class attribute
        return None, f"{exc.__class__.__name__}: {exc}"
    probe_url, when = "https://probe.invalid/feed", datetime(2026, 1, 1, tzinfo=UTC)
    try:
        common = read_common_feed(_PROBE, {})
        fast = None if common is None else [_entry(e, probe_url, when) for e in common.entries]
        slow = [_entry(e, probe_url, when) for e in _read_with_feedparser(_PROBE, {}, probe_url)[2]]
    except Exception as exc:  # noqa: BLE001 - any failure of the internals means: do not use them
        return None, f"{exc.__class__.__name__}: {exc}"
    if fast != slow:
        return None, "it no longer reads a probe feed as feedparser does"
    return read_common_feed, None


def reader_warning() -> str | None:
    """What the daemon logs once at start-up when the fast feed reader is off, else None."""
    if _READER_PROBLEM is None:
        return None
    return (f"the fast feed reader is off, every feed is read with feedparser (slower): "
            f"feedparser {feedparser.__version__} lacks what it relies on ({_READER_PROBLEM}); "
            f"install the feedparser version pinned in pyproject.toml")


def _read_common(body: bytes, headers: Mapping[str, str]) -> Any:
    """The lxml reader's CommonFeed, or None: not common, reader off, or the reader broke."""
    if _COMMON_READER is None:
        return None
    try:
        return _COMMON_READER(body, headers)
    except Exception:  # noqa: BLE001 - an internal that changed behaviour: feedparser reads it
        return None


def reading_problem(parsed: ParsedFeed) -> str | None:
    """Why a feed that answered still deserves an operator's look, or None.

    A document with no entries parses as a valid, empty feed, and yet polling it brings nothing:
    a feed emptied by a CMS change, a category nobody writes in, an error page that happens to
    be RSS. It is not an error (the poll succeeded), but it is not ok either.
    """
    if parsed.entries:
        return None
    detail = f" ({parsed.problem})" if parsed.problem else ""
    return f"the feed answered with no entries{detail}"


def _read_with_feedparser(body: bytes, headers: dict[str, str],
                          url: str) -> tuple[str, str | None, list[Any], str | None]:
    """Feed title, ttl, raw entries and the defect feedparser reported, for any document."""
    # Always a stream: feedparser treats a str/bytes argument that names a file or a URL as
    # something to open, and a body equal to "/etc/passwd" must stay just bytes.
    try:
        data: Any = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            resolve_relative_uris=False,  # we keep only plain text; links in HTML are dropped anyway
            # Not sanitised: we keep only text (inscriptis drops scripts and styles), and the
            # digest escapes it; feedparser's sanitiser was half of its parsing time.
            sanitize_html=False,
        )
    except Exception as exc:  # noqa: BLE001 - feedparser's loose parser has crash bugs on junk
        # e.g. KeyError('links') on b"<channel<entry<link</item</link>" (found by fuzzing).
        raise NotAFeedError(f"{url} is not a feed: the parser failed ({exc.__class__.__name__}: {exc})") from exc
    version = data.get("version") or ""
    raw_entries = data.get("entries") or []
    problem = _problem(data)
    if not version and not raw_entries:
        raise NotAFeedError(f"{url} is not a feed: {_what_is_it(body, data, problem)}")
    feed = data.get("feed") or {}
    ttl = feed.get("ttl")  # a <ttl> with attributes comes back as a dict: no ttl
    return feed.get("title", ""), ttl if isinstance(ttl, str) else None, raw_entries, problem


def _defuse(body: bytes, url: str) -> tuple[bytes, str | None]:
    """Keep entity declarations away from the XML parser (billion laughs, XXE).

    feedparser turns off external entities, but its own DOCTYPE filter is line-anchored and lets
    a one-line internal subset through, which expat then expands (see the canary test). Entities
    can only be declared inside a DOCTYPE, so: no DOCTYPE, or no "<!ENTITY" after it, means
    nothing to expand (an article *mentioning* "<!ENTITY" in CDATA is fine). Otherwise the
    DOCTYPE is cut out; references to its entities are then undefined and stay literal text.
    Whatever the cut leaves behind is harmless as long as no DOCTYPE remains: we check, and
    refuse the document if one does.
    """
    probe = body.replace(b"\x00", b"") if b"\x00" in body[:512] else body  # UTF-16/32 as ASCII
    first = _DOCTYPE_START.search(probe)
    if first is None or not _ENTITY_DECL.search(probe, first.start()):
        return body, None  # the path of every normal feed
    if probe is not body:
        # Editing UTF-16/32 bytes in place is not worth the risk: refuse the document.
        raise NotAFeedError(f"{url} is not a feed: declares XML entities in a wide encoding (refused)")
    # One anchored attempt at a known position: linear even on hostile input.
    match = _DOCTYPE.match(body, first.start())
    if match is None:
        raise NotAFeedError(f"{url} is not a feed: unterminated DOCTYPE with entity declarations")
    stripped = body[: match.start()] + body[match.end():]
    if _DOCTYPE_START.search(stripped):
        raise NotAFeedError(f"{url} is not a feed: several DOCTYPEs with entity declarations (refused)")
    return stripped, "DOCTYPE with entity declarations removed (entities not expanded)"


_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)", re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.IGNORECASE)
_UTF8_NAMES = frozenset({"utf-8", "utf8"})
_NON_ASCII_CHAR = re.compile("[^\x00-\x7f\ufffd]")  # a real decoded multi-byte character


def _repair_utf8(body: bytes, headers: Mapping[str, str]) -> tuple[bytes, str | None]:
    """A UTF-8 feed with a few bad bytes: replace them rather than re-read everything wrong.

    Left alone, feedparser falls back to windows-1252 for the *whole* document when a single
    byte is not UTF-8, turning every accented letter into mojibake. When the document is
    otherwise clearly UTF-8 (it holds valid multi-byte sequences) and nothing declares another
    encoding, the bad bytes become U+FFFD instead. Legacy single-byte documents (no valid
    multi-byte sequence at all) are left to feedparser's own detection.
    """
    header = _CHARSET.search(headers.get("content-type", ""))
    if header and header.group(1).lower() not in _UTF8_NAMES:
        return body, None
    declared = _XML_ENCODING.search(body[:512].lstrip(b"\xef\xbb\xbf"))
    if not header and declared and declared.group(1).decode("ascii").lower() not in _UTF8_NAMES:
        return body, None  # (an explicit HTTP charset=utf-8 overrides the declaration)
    if b"\x00" in body[:512]:
        return body, None  # UTF-16/32: not ours to judge
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
        if _NON_ASCII_CHAR.search(text):
            return text.encode("utf-8"), "invalid UTF-8 bytes replaced with U+FFFD"
    return body, None


def _what_is_it(body: bytes, data: Any, problem: str | None) -> str:
    feed = data.get("feed") or {}
    head = body[:4096].lower()
    if "html" in feed or "xhtml_html" in feed or b"<html" in head or b"<!doctype html" in head:
        title = html_to_text(feed.get("title", ""))[:80]
        kind = f"an HTML page ({title!r})" if title else "an HTML page"
        return f"{kind}; {problem}" if problem else kind
    return problem or "no RSS or Atom elements"


def _problem(data: Any) -> str | None:
    if not data.get("bozo"):
        return None
    exc = data.get("bozo_exception")
    if exc is None:
        return "malformed feed"
    if isinstance(exc, feedparser.NonXMLContentType):
        # Feeds served as text/plain or text/html (or with no type, as in tests) are common and
        # harmless; the document itself decides whether it is a feed.
        return None
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}"


def _ttl(value: object) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        minutes = int(value.strip())
        return minutes if minutes > 0 else None
    return None


def _entry(raw: Any, feed_url: str, now: datetime) -> Entry:
    """One raw entry from either reader (lxml or feedparser): every entry's text passes here, so
    mojibake is repaired here, once, for both."""
    title = repair_text(html_to_text(raw.get("title", "")))
    # A post whose body is empty or a template placeholder still has its title to show.
    text = _text(raw) or title
    url = _link(raw, feed_url)
    guid = (raw.get("id") or "").strip() or None
    published = _published(raw, now)
    if guid:
        key = f"guid:{guid}"
    elif url:
        key = f"url:{url}"
    else:
        key = _fingerprint(title, published, text)
    return Entry(key=key, title=title, text=text, url=url, guid=guid, published=published,
                 content_hash=_sha1(f"{title}\n{text}"))


def _unique_url_keys(entries: list[Entry]) -> tuple[Entry, ...]:
    """Entries without a guid that share one link (podcasts pointing every item at the show's
    home page) are different items: they get a fingerprint key instead of colliding."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.key] = counts.get(entry.key, 0) + 1
    return tuple(
        replace(entry, key=_fingerprint(entry.title, entry.published, entry.text))
        if entry.key.startswith("url:") and counts[entry.key] > 1 else entry
        for entry in entries
    )


def _fingerprint(title: str, published: datetime | None, text: str) -> str:
    stamp = published.isoformat() if published else ""
    return "fp:" + _sha1(f"{title}\n{stamp}" if title or stamp else text)


def _link(raw: Any, feed_url: str) -> str | None:
    """The article's own page, absolute and normalised; None if there is none.

    The first rel=alternate link wins over feedparser's `link`, which can be an enclosure when
    the enclosure element carries its URL as text (seen on dday.it). A link feedparser copied
    from an RSS guid (isPermaLink defaults to true) counts only if it is an absolute URL:
    <guid>12345</guid> is an identifier, not a page.
    """
    href = ""
    for link in raw.get("links") or []:
        candidate = (link.get("href") or "").strip()
        if candidate and link.get("rel", "alternate") == "alternate":
            href = candidate
            break
    if not href:
        href = (raw.get("link") or "").strip()
        if href and raw.get("guidislink") and href == (raw.get("id") or "").strip() \
                and not _is_absolute_http(href):
            return None
    if not href:
        return None
    try:
        absolute = urljoin(feed_url, href)
    except ValueError:  # e.g. an unclosed IPv6 bracket: no usable page, the entry still counts
        return None
    return normalise_url(absolute) if _is_absolute_http(absolute) else None


def _is_absolute_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _sha1(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8"), usedforsecurity=False).hexdigest()


def _text(raw: Any) -> str:
    """Plain text of the entry, preferring full content over the summary."""
    candidates: list[tuple[str, str]] = []
    for content in raw.get("content") or []:
        candidates.append((content.get("value") or "", content.get("type") or ""))
    detail = raw.get("summary_detail") or {}
    candidates.append((raw.get("summary") or "", detail.get("type") or ""))
    for value, kind in candidates:
        if not value.strip():
            continue
        text = repair_text(_plain(value) if kind == "text/plain" else html_to_text(value))
        if text and not is_placeholder(text):
            return text
    return ""


# Bodies some CMS templates publish when the field was never filled in: a post whose content is
# one of these falls back to its summary, then to its title.
_PLACEHOLDERS = frozenset({"content", "contenuto", "description", "descrizione", "summary", "body",
                           "text", "null", "none", "undefined", "n/a", "nan", "..."})


def is_placeholder(text: str) -> bool:
    """True for a body that says nothing: a template placeholder word or punctuation alone."""
    short = text.strip().strip("[](){}<>\"'`").strip().lower()
    return short in _PLACEHOLDERS or not any(c.isalnum() for c in short)


def _plain(value: str) -> str:
    return "\n".join(" ".join(line.split()) for line in value.strip().splitlines()).strip()


def _published(raw: Any, now: datetime) -> datetime | None:
    when: datetime | None = None
    # dict.get, not FeedParserDict.get: the latter maps a missing "updated" onto "published"
    # with a DeprecationWarning per entry.
    for key in ("published", "updated", "created"):
        value = dict.get(raw, key)
        if isinstance(value, str) and has_italian_word(value):
            # feedparser reads "16 novembre 2022 10:05" as November (first three letters) but
            # "16 gennaio" not at all, and assumes UTC for both; ours assumes Italian time.
            when = parse_loose_date(value)
            if when:
                break
    if when is None:
        for key in ("published_parsed", "updated_parsed", "created_parsed"):
            parsed = dict.get(raw, key)
            if parsed:
                # feedparser normalises to UTC and returns a struct_time.
                when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
                break
    if when is None:
        for key in ("published", "updated", "created"):
            value = dict.get(raw, key)
            if isinstance(value, str) and value:
                when = parse_loose_date(value)
                if when:
                    break
    if when is not None and now.tzinfo is not None and when > now + FUTURE_SLACK:
        return None  # the store falls back to first-seen time
    return when


_COMMON_READER, _READER_PROBLEM = _common_reader()
