"""Polite HTTP fetching of feeds and article pages.

Politeness: one request in flight per host, a global concurrency limit, a descriptive
User-Agent, conditional GET, no cookies kept. Safety: one total deadline per fetch (connect,
headers and body, redirects included) and a body cap enforced on the *decompressed* bytes
while streaming, so neither a trickling server nor a gzip bomb can hold us up or fill memory.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from monitor.config.types import PollingConfig
from monitor.errors import FeedGoneError, FetchError, TooLargeError
from monitor.ingest.politeness import host_key, http_date, parse_retry_after
from monitor.ingest.transport import ReqwestTransport, Transport, TransportError, WireResponse
from monitor.models import FetchResult, ServerHints

SiteHeaders = tuple[tuple[str, str], ...]  # a feed's configured headers, in order
MAX_REDIRECTS = 5
PERMANENT_REDIRECTS = frozenset({301, 308})
TEMPORARY_REDIRECTS = frozenset({302, 303, 307})
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
# We decompress ourselves (to enforce the cap on decompressed size chunk by chunk), so we only
# advertise what zlib can do incrementally with a bounded output.
ACCEPT_ENCODING = "gzip, deflate"


class Fetcher:
    """Fetches URLs politely; one instance is shared by the whole daemon (it owns the pools).

    Redirects are followed here, by hand, and the transport (monitor/transport.py) does one
    exchange at a time: the policy stays in one place, whatever the wire.
    """

    def __init__(self, polling: PollingConfig, transport: Transport | None = None, *,
                 clock: Callable[[], datetime]) -> None:
        self.polling = polling
        self._clock = clock  # the caller's clock: Retry-After and Expires are read against it
        self._transport = transport or ReqwestTransport(max_connections=polling.concurrency, proxy=polling.proxy)
        self._headers = {"User-Agent": polling.user_agent, "Accept-Encoding": ACCEPT_ENCODING}
        self._semaphore = asyncio.Semaphore(polling.concurrency)
        self._host_locks: dict[str, asyncio.Lock] = {}

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None, *,
                    site_headers: SiteHeaders = ()) -> FetchResult:
        """A conditional GET of a feed. 304 gives an empty body and the validators to keep.

        `site_headers` (the feed's configured headers) go to the feed's host only: a redirect to
        another host does not carry its cookie along.

        Raises FeedGoneError on 410, FetchError (with a Retry-After hint) on 429/503, other errors,
        timeouts and network trouble, TooLargeError when the body exceeds the cap.
        """
        headers = {"Accept": FEED_ACCEPT}
        # The validators are sent exactly as the server gave them: weak ETags, quotes and all.
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        result = await self._get(url, headers, site_headers, url)
        if result.status == 304:
            # Servers often omit validators on 304; hand back what we sent so the caller can
            # store the result's validators unconditionally.
            return FetchResult(
                url=result.url, status=304, body=b"", headers=result.headers,
                etag=result.etag or etag, last_modified=result.last_modified or last_modified,
                hints=result.hints,
            )
        return result

    async def fetch_page(self, url: str, *, site_headers: SiteHeaders = (), site: str = "") -> FetchResult:
        """A plain GET of an article page (for full text), with the same limits; `site_headers`
        go only to the host of `site` (the feed's URL)."""
        return await self._get(url, {"Accept": PAGE_ACCEPT}, site_headers, site)

    def _host_lock(self, url: str) -> asyncio.Lock:
        key = host_key(url)
        lock = self._host_locks.get(key)
        if lock is None:
            lock = self._host_locks[key] = asyncio.Lock()
        return lock

    async def _get(self, url: str, headers: dict[str, str], site_headers: SiteHeaders = (),
                   site: str = "") -> FetchResult:
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        current = url
        permanent_url: str | None = None
        permanent_chain = True  # still on an unbroken run of 301/308 from the configured URL
        seen = {url}
        for _hop in range(MAX_REDIRECTS + 1):
            _check_scheme(url, current)
            # Lock the host before taking a global slot: a queue of feeds on one slow host
            # must not occupy all the slots while they wait for each other.
            async with self._host_lock(current), self._semaphore:
                if deadline is None:
                    # The deadline starts once we may actually send: waiting in the queue
                    # behind other feeds is not the server's fault.
                    deadline = loop.time() + self.polling.timeout_seconds
                sent = _with_site_headers(headers, site_headers) if _same_host(current, site) else headers
                status, resp_headers, body = await self._one_request(url, current, sent, deadline)
            if status in PERMANENT_REDIRECTS or status in TEMPORARY_REDIRECTS:
                location = resp_headers.get("location")
                if not location:
                    raise FetchError(f"{url}: HTTP {status} redirect without a Location header")
                target = urljoin(current, location.strip())
                if target in seen:
                    raise FetchError(f"{url}: redirect loop at {target}")
                seen.add(target)
                if status in PERMANENT_REDIRECTS and permanent_chain:
                    permanent_url = target
                else:
                    permanent_chain = False
                current = target
                continue
            return _result(url, current, status, resp_headers, body, permanent_url, self._clock())
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    async def _one_request(
        self, url: str, current: str, headers: dict[str, str], deadline: float
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP exchange, fully read within the deadline. Errors name the configured URL."""
        where = url if current == url else f"{url} (redirected to {current})"
        try:
            async with asyncio.timeout_at(deadline):
                # The per-step timeout is a backstop; the real limit is the deadline above.
                response = await self._transport.get(current, _merged(self._headers, headers),
                                                     self.polling.timeout_seconds)
                try:
                    status = response.status
                    if not 200 <= status < 300:
                        # Error and redirect bodies are not needed; don't wait for them.
                        return status, response.headers, b""
                    body = await _read_capped(response, self.polling.max_body_bytes, where)
                    return status, response.headers, body
                finally:
                    response.close()
        except TimeoutError:
            raise FetchError(
                f"{where}: no complete response within {self.polling.timeout_seconds:g} s") from None
        except TransportError as exc:
            raise FetchError(f"{where}: {_describe(exc)}") from None
        except OSError as exc:
            raise FetchError(f"{where}: {exc.__class__.__name__}: {exc}") from None
        except ValueError as exc:
            # Malformed URLs or header values (a stored validator with a newline, say).
            raise FetchError(f"{where}: {_describe(exc)}") from None
        except BaseException as exc:
            # A panic in the Rust HTTP client arrives as pyo3's PanicException, a BaseException:
            # it fails this fetch like any broken exchange instead of ending the daemon. Our own
            # errors, cancellation and interpreter exits go on as they are.
            if isinstance(exc, (Exception, asyncio.CancelledError, KeyboardInterrupt, SystemExit, GeneratorExit)):
                raise
            raise FetchError(f"{where}: the HTTP client failed ({_describe(exc)})") from None


def _same_host(url: str, site: str) -> bool:
    try:
        return bool(site) and host_key(url) == host_key(site)
    except ValueError:  # not a URL: nothing is sent to it anyway
        return False


def _with_site_headers(headers: dict[str, str], site_headers: SiteHeaders) -> dict[str, str]:
    """The request's headers with the site's own: a site's Accept or User-Agent wins."""
    return _merged(headers, dict(site_headers)) if site_headers else headers


def _merged(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """`base` updated with `extra`, names compared without case (one User-Agent, not two)."""
    replaced = {name.lower() for name in extra}
    return {**{k: v for k, v in base.items() if k.lower() not in replaced}, **extra}


def _check_scheme(url: str, current: str) -> None:
    try:
        parts = urlsplit(current)
    except ValueError as exc:
        raise FetchError(f"{url}: invalid URL {current!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url}: refusing to fetch non-HTTP URL {current!r}")


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {text}" if text != exc.__class__.__name__ else text


async def _read_capped(response: WireResponse, cap: int, where: str) -> bytes:
    """The decoded body, refusing more than `cap` bytes after decompression."""
    length = response.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > cap:
        raise TooLargeError(f"{where}: Content-Length {int(length)} exceeds the {cap}-byte limit")
    decoder = _Decoder(response.headers.get("content-encoding", ""), where)
    out = bytearray()
    async for chunk in response.chunks():
        decoder.feed(chunk, out, cap)
    decoder.finish(out, cap)
    return bytes(out)


class _Decoder:
    """Incremental gzip/deflate decoding with bounded output per step (max_length)."""

    def __init__(self, content_encoding: str, where: str) -> None:
        self.where = where
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1:
            raise FetchError(f"{where}: unsupported stacked Content-Encoding {content_encoding!r}")
        self.coding = codings[0] if codings else ""
        if self.coding in ("gzip", "x-gzip"):
            self.wbits = 16 + zlib.MAX_WBITS
        elif self.coding == "deflate":
            self.wbits = zlib.MAX_WBITS  # may switch to raw deflate on the first chunk
        elif self.coding:
            raise FetchError(f"{where}: unsupported Content-Encoding {content_encoding!r}")
        self.obj = zlib.decompressobj(self.wbits) if self.coding else None
        self.started = False

    def feed(self, data: bytes, out: bytearray, cap: int) -> None:
        if self.obj is None:
            out += data
            _check(out, cap, self.where)
            return
        try:
            if self.coding == "deflate" and not self.started and data:
                self.started = True
                try:
                    probe = zlib.decompressobj(zlib.MAX_WBITS)
                    probe.decompress(data[:2])
                except zlib.error:
                    # Many servers send raw deflate although the spec says zlib-wrapped.
                    self.obj = zlib.decompressobj(-zlib.MAX_WBITS)
            while data:
                room = cap - len(out) + 1  # one byte more than allowed is enough to know
                out += self.obj.decompress(data, room)
                _check(out, cap, self.where)
                data = self.obj.unconsumed_tail
                if self.obj.eof and self.obj.unused_data:
                    # Concatenated gzip members are legal; start a new member.
                    data = self.obj.unused_data
                    self.obj = zlib.decompressobj(self.wbits)
        except zlib.error as exc:
            raise FetchError(f"{self.where}: corrupt {self.coding} body: {exc}") from None

    def finish(self, out: bytearray, cap: int) -> None:
        if self.obj is None:
            return
        try:
            out += self.obj.flush()
        except zlib.error as exc:
            raise FetchError(f"{self.where}: corrupt {self.coding} body: {exc}") from None
        _check(out, cap, self.where)


def _check(out: bytearray, cap: int, where: str) -> None:
    if len(out) > cap:
        raise TooLargeError(f"{where}: body exceeds the {cap}-byte limit (after decompression)")


def _result(url: str, final: str, status: int, headers: dict[str, str], body: bytes,
            permanent_url: str | None, now: datetime) -> FetchResult:
    if status == 304 or 200 <= status < 300:
        return FetchResult(
            url=final, status=status, body=b"" if status == 304 else body, headers=headers,
            etag=headers.get("etag"), last_modified=headers.get("last-modified"),
            hints=ServerHints(max_age=max_age(headers, now), moved_to=permanent_url),
        )
    where = url if final == url else f"{url} (redirected to {final})"
    if status == 410:
        raise FeedGoneError(f"{where}: HTTP 410 Gone (the publisher removed it)")
    if status in (429, 503):
        retry_after = parse_retry_after(headers.get("retry-after"), now)
        hint = f", retry after {retry_after:g} s" if retry_after is not None else ""
        raise FetchError(f"{where}: HTTP {status}{hint}", ServerHints(retry_after=retry_after))
    raise FetchError(f"{where}: HTTP {status}")


def max_age(headers: Mapping[str, str], now: datetime) -> float | None:
    """Freshness the server asked for: Cache-Control max-age, else Expires − Date (seconds).

    no-cache/no-store say nothing about how *rarely* to poll, so they give None (use the interval).
    """
    cache_control = headers.get("cache-control", "")
    directives = {}
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return None
    if "max-age" in directives:
        value = directives["max-age"]
        return float(int(value)) if value.isdigit() else None
    expires = headers.get("expires")
    if expires:
        when = http_date(expires)
        if when is None:
            return None  # "Expires: 0" and junk mean already expired
        base = http_date(headers.get("date", "")) or now
        return max((when - base).total_seconds(), 0.0)
    return None
