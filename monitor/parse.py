"""Feed bytes → ParsedFeed. Pure: no network, no filesystem, no clock (the caller passes `now`).

feedparser does the heavy lifting; this module adds what a monitor needs on top: hostile-input
guards, plain text, aware UTC dates (Italian ones included), and stable identity keys.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import feedparser
from inscriptis import get_text

from monitor.errors import NotAFeedError
from monitor.models import Entry, ParsedFeed

__all__ = ["parse_feed", "normalise_url", "html_to_text"]

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
    # Always a stream: feedparser treats a str/bytes argument that names a file or a URL as
    # something to open, and a body equal to "/etc/passwd" must stay just bytes.
    try:
        data: Any = feedparser.parse(
            io.BytesIO(body),
            response_headers=response_headers,
            resolve_relative_uris=False,  # we keep only plain text; links in HTML are dropped anyway
            sanitize_html=True,
        )
    except Exception as exc:  # noqa: BLE001 - feedparser's loose parser has crash bugs on junk
        # e.g. KeyError('links') on b"<channel<entry<link</item</link>" (found by fuzzing).
        raise NotAFeedError(f"{url} is not a feed: the parser failed ({exc.__class__.__name__}: {exc})") from exc
    version = data.get("version") or ""
    raw_entries = data.get("entries") or []
    problem = _problem(data)
    if not version and not raw_entries:
        raise NotAFeedError(f"{url} is not a feed: {_what_is_it(body, data, problem)}")
    entries = _unique_url_keys([_entry(e, url, now) for e in raw_entries])
    feed = data.get("feed") or {}
    title = html_to_text(feed.get("title", "")) or None
    problems = "; ".join(p for p in (guard_problem, repair_problem, problem) if p) or None
    return ParsedFeed(title=title, entries=entries, ttl_minutes=_ttl(feed.get("ttl")), problem=problems)


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
    title = html_to_text(raw.get("title", ""))
    text = _text(raw)
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
    absolute = urljoin(feed_url, href)
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
        text = _plain(value) if kind == "text/plain" else html_to_text(value)
        if text:
            return text
    return ""


def _plain(value: str) -> str:
    return "\n".join(" ".join(line.split()) for line in value.strip().splitlines()).strip()


def _published(raw: Any, now: datetime) -> datetime | None:
    when: datetime | None = None
    # dict.get, not FeedParserDict.get: the latter maps a missing "updated" onto "published"
    # with a DeprecationWarning per entry.
    for key in ("published", "updated", "created"):
        value = dict.get(raw, key)
        if isinstance(value, str) and _ITALIAN_WORD.search(value):
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


# --- text -------------------------------------------------------------------------------------

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
    if not _NOT_SIMPLE.search(html) and (simple := _simple_html_to_text(html)) is not None:
        return simple
    text = get_text(html) if ("<" in html or "&" in html) else html
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# The usual feed summary: paragraphs of plain words with bold, italics or links, character
# references to printable characters only, no other tags, no whitespace but spaces and newlines.
# For such HTML, inscriptis gives exactly the paragraphs with their whitespace collapsed,
# separated by one blank line; this does the same at a fraction of the cost
# (tests/test_parse_simple_html.py compares the two on random documents of this shape).
_LINK_OPEN = r'a(?: [a-z]+="[^"<>]*")*>'  # links count as their text (inscriptis drops the URL)
_NOT_SIMPLE = re.compile(r"&(?!#\d{1,7};|amp;|lt;|gt;|quot;)|[\x00-\x1f\x7f\u200b\ufeff]|[^\S \n]|<(?!/?(?:p|strong|em|b|i|a)>|" + _LINK_OPEN + ")")
_PARAGRAPH_TAG = re.compile(r"</?p>")
_INLINE_TAG = re.compile(r"</?(?:strong|em|b|i|a)>|<" + _LINK_OPEN)


def _simple_html_to_text(html: str) -> str | None:
    """The text of a run of <p>…</p> (the last one may be left open), else None."""
    parts = _PARAGRAPH_TAG.split(html)
    tags = _PARAGRAPH_TAG.findall(html)
    # parts[0], parts[2], … lie outside the paragraphs and must be blank; tags alternate <p>, </p>.
    if any(part.strip() for part in parts[0::2]) or any(tag != ("<p>", "</p>")[n % 2] for n, tag in enumerate(tags)):
        return None
    paragraphs = [" ".join(_INLINE_TAG.sub("", part).split()) for part in parts[1::2]]
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


# --- URLs -------------------------------------------------------------------------------------

# Query parameters that only say how a reader arrived; two links differing only in these are
# the same article.
_TRACKING_EXACT = frozenset({
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
    "ref_src", "ref_url", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id",
    "wickedid", "__s", "s_cid", "at_medium", "at_campaign", "ito", "xtor", "ncid", "sr_share",
})
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str) -> str:
    """A canonical form of an article URL, used as its identity.

    Lower-case scheme and host, no default port, no fragment, an empty path becomes "/", and
    tracking parameters (utm_*, fbclid, gclid, mc_cid, ...) removed. Other parameters keep their
    order and their exact encoding: some sites route on them and re-encoding could change them.
    Anything that is not a parseable http(s) URL is returned stripped but otherwise unchanged.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    kept = [p for p in parts.query.split("&") if p and not _is_tracking(p)]
    return urlunsplit((scheme, netloc, parts.path or "/", "&".join(kept), ""))


def _is_tracking(param: str) -> bool:
    name = unquote_plus(param.partition("=")[0]).strip().lower()
    return name in _TRACKING_EXACT or name.startswith(_TRACKING_PREFIXES)


# --- dates ------------------------------------------------------------------------------------

_MONTHS = {
    "gennaio": 1, "febbraio": 2, "marzo": 3, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7,
    "agosto": 8, "settembre": 9, "ottobre": 10, "novembre": 11, "dicembre": 12,
    "gen": 1, "feb": 2, "mar": 3, "apr": 4, "mag": 5, "giu": 6, "lug": 7, "ago": 8, "set": 9,
    "sett": 9, "ott": 10, "nov": 11, "dic": 12,
    # English too: the same loose parser rescues English dates in odd layouts.
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "dec": 12,
}
_ZONES = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0, "wet": 0, "west": 60, "cet": 60, "cest": 120,
    "met": 60, "mest": 120, "eet": 120, "eest": 180, "bst": 60,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360,
    "pst": -480, "pdt": -420,
}
_ROME = ZoneInfo("Europe/Rome")
# Month and weekday words that only Italian uses (not "mar", "nov": English has them too).
_ITALIAN_WORD = re.compile(
    r"(?<![^\W\d_])(gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|"
    r"novembre|dicembre|gen|mag|giu|lug|ago|sett?|ott|dic|lun|mer|gio|ven|sab|dom|"
    r"luned[iì]|marted[iì]|mercoled[iì]|gioved[iì]|venerd[iì]|sabato|domenica)(?![^\W\d_])",
    re.IGNORECASE)
_DAY_MONTH_YEAR = re.compile(r"(?<!\d)(\d{1,2})\s*[ .\-/]?\s*([^\W\d_]{3,9})\.?,?\s*[ .\-/]?\s*(\d{4})(?!\d)")
_TIME = re.compile(r"(?<!\d)(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?!\d)")
_OFFSET = re.compile(r"(?:^|\s)([+-])(\d{2}):?(\d{2})(?!\d)|(?:^|\s|\d)([A-Za-z]{1,4})\s*$")


def parse_loose_date(value: str) -> datetime | None:
    """Dates feedparser gives up on: Italian month names, odd punctuation, garbage around them.

    "mer, 16 nov 2022 00:38:15 +0100", "16 novembre 2022 10:05", "Sun 17 ago 2008, 17  2008
    10.05.00 EDT". Without a zone we assume Italian local time (these are Italian feeds).
    Returns an aware UTC datetime, or None when no day-month-year can be found.
    """
    text = " ".join(value.split())
    match = _DAY_MONTH_YEAR.search(text)
    if not match:
        return None
    month = _MONTHS.get(match.group(2).lower())
    if month is None:
        return None
    day, year = int(match.group(1)), int(match.group(3))
    rest = text[match.end():]
    hour = minute = second = 0
    time_match = _TIME.search(rest)
    if time_match:
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        second = int(time_match.group(3) or 0)
        rest = rest[time_match.end():]
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    zone = _zone(rest)
    aware = naive.replace(tzinfo=zone) if zone is not None else naive.replace(tzinfo=_ROME)
    return aware.astimezone(UTC)


def _zone(rest: str) -> timezone | None:
    match = _OFFSET.search(rest.strip())
    if not match:
        return None
    if match.group(1):
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        if minutes >= 24 * 60:
            return None
        return timezone(timedelta(minutes=-minutes if match.group(1) == "-" else minutes))
    offset = _ZONES.get(match.group(4).lower())
    return timezone(timedelta(minutes=offset)) if offset is not None else None
