"""Fetcher against a real loopback HTTP server: politeness, validators, redirects, limits."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import zlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from support.ingest_server import (  # tests/ is on sys.path (see tests/conftest.py)
    ConcurrencyTracker,
    IngestServer,
    RecordedRequest,
    Route,
    ingest_server,
)

from monitor.config.types import PollingConfig
from monitor.errors import FeedGoneError, FetchError, TooLargeError
from monitor.ingest.fetch import Fetcher, max_age
from monitor.ingest.fulltext import fetch_full_text
from monitor.service.runtime import utc_now

__all__ = ["ingest_server"]  # the fixture, re-exported so pytest finds it here

Serve = Callable[..., IngestServer]
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def polling(**overrides: object) -> PollingConfig:
    values: dict[str, object] = {"timeout_seconds": 2.0, "concurrency": 8, "max_body_bytes": 1_000_000,
                                 "user_agent": "monitor-test/1.0 (+https://example.invalid)"}
    values.update(overrides)
    return PollingConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    f = Fetcher(polling(), clock=utc_now)
    yield f
    await f.aclose()


# --- conditional GET and validators -------------------------------------------------------------

async def test_conditional_get_round_trip(ingest_server: Serve, fetcher: Fetcher) -> None:
    etag = 'W/"5e3-v1"'
    last_modified = "Wed, 16 Nov 2022 00:38:15 GMT"

    def feed(request: RecordedRequest) -> Route:
        if request.headers.get("if-none-match") == etag:
            return Route(status=304, headers={"ETag": etag})
        return Route(body=FEED, headers={"ETag": etag, "Last-Modified": last_modified,
                                         "Content-Type": "application/rss+xml"})

    server = ingest_server({"/feed": feed})
    first = await fetcher.fetch(server.url("/feed"))
    assert (first.status, first.body, first.etag, first.last_modified) == (200, FEED, etag, last_modified)
    assert first.headers["content-type"] == "application/rss+xml"
    assert first.hints.moved_to is None

    second = await fetcher.fetch(server.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert second.status == 304
    assert second.body == b""
    sent = server.requests[1].headers
    assert sent["if-none-match"] == etag
    assert sent["if-modified-since"] == last_modified
    assert "if-none-match" not in server.requests[0].headers


async def test_validators_kept_byte_for_byte(ingest_server: Serve, fetcher: Fetcher) -> None:
    # Odd but real: unquoted ETag, non-GMT Last-Modified. We store and resend them untouched.
    server = ingest_server({"/f": Route(body=FEED, headers={"ETag": "abc 123", "Last-Modified": "ieri sera"})})
    result = await fetcher.fetch(server.url("/f"))
    assert (result.etag, result.last_modified) == ("abc 123", "ieri sera")
    await fetcher.fetch(server.url("/f"), etag=result.etag, last_modified=result.last_modified)
    assert server.requests[1].headers["if-none-match"] == "abc 123"
    assert server.requests[1].headers["if-modified-since"] == "ieri sera"


async def test_304_without_validators_returns_the_ones_sent(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/f": Route(status=304)})
    result = await fetcher.fetch(server.url("/f"), etag='"x"', last_modified="Tue, 15 Nov 2022 20:15:04 GMT")
    assert result.status == 304
    assert (result.etag, result.last_modified) == ('"x"', "Tue, 15 Nov 2022 20:15:04 GMT")


async def test_headers_lower_cased_and_max_age(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({
        "/cc": Route(body=FEED, headers=[("Cache-Control", "public, max-age=3600"), ("X-Thing", "a"),
                                         ("X-Thing", "b")]),
        "/exp": Route(body=FEED, headers={"Date": "Wed, 16 Nov 2022 00:00:00 GMT",
                                          "Expires": "Wed, 16 Nov 2022 02:00:00 GMT"}),
        "/none": Route(body=FEED, headers={"Cache-Control": "no-cache, max-age=99"}),
    })
    cc = await fetcher.fetch(server.url("/cc"))
    assert cc.hints.max_age == 3600
    assert cc.headers["x-thing"] == "a, b"
    assert all(name == name.lower() for name in cc.headers)
    assert (await fetcher.fetch(server.url("/exp"))).hints.max_age == 7200
    assert (await fetcher.fetch(server.url("/none"))).hints.max_age is None


@pytest.mark.parametrize(("headers", "expected"), [
    ({}, None),
    ({"cache-control": "max-age=60"}, 60.0),
    ({"cache-control": 'max-age="60"'}, 60.0),
    ({"cache-control": "max-age=junk"}, None),
    ({"cache-control": "no-store"}, None),
    ({"expires": "0"}, None),
    ({"expires": "Wed, 16 Nov 2022 00:10:00 GMT"}, 600.0),  # no Date header: from `now`
    ({"expires": "Tue, 15 Nov 2022 00:00:00 GMT"}, 0.0),  # already expired
])
def test_max_age_table(headers: dict[str, str], expected: float | None) -> None:
    assert max_age(headers, datetime(2022, 11, 16, tzinfo=UTC)) == expected


# --- status codes ------------------------------------------------------------------------------

async def test_410_is_feed_gone(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/gone": Route(status=410)})
    with pytest.raises(FeedGoneError, match="410"):
        await fetcher.fetch(server.url("/gone"))


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_seconds(ingest_server: Serve, fetcher: Fetcher, status: int) -> None:
    server = ingest_server({"/f": Route(status=status, headers={"Retry-After": "120"})})
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(server.url("/f"))
    assert info.value.hints.retry_after == 120
    assert server.url("/f") in str(info.value)
    assert not isinstance(info.value, TooLargeError)


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_http_date(ingest_server: Serve, fetcher: Fetcher, status: int) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    server = ingest_server({"/f": Route(status=status, headers={"Retry-After": when})})
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(server.url("/f"))
    assert info.value.hints.retry_after is not None
    assert 3590 <= info.value.hints.retry_after <= 3600


async def test_503_without_retry_after(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/f": Route(status=503, headers={"Retry-After": "presto"})})
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(server.url("/f"))
    assert info.value.hints.retry_after is None


@pytest.mark.parametrize("status", [400, 403, 404, 500, 502])
async def test_other_errors_name_the_url(ingest_server: Serve, fetcher: Fetcher, status: int) -> None:
    server = ingest_server({"/f": Route(status=status, body=b"<html>nope</html>")})
    with pytest.raises(FetchError, match=f"HTTP {status}") as info:
        await fetcher.fetch(server.url("/f"))
    assert server.url("/f") in str(info.value)
    assert not isinstance(info.value, FeedGoneError)


async def test_connection_refused_is_fetch_error(fetcher: Fetcher) -> None:
    with socket.socket() as s:  # a port that was free a moment ago and has no listener
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed"
    with pytest.raises(FetchError, match=f"127.0.0.1:{port}/feed"):
        await fetcher.fetch(url)


@pytest.mark.parametrize("url", ["ftp://example.it/feed", "http://[::1/feed", "http:///feed", "not a url"])
async def test_bad_urls_are_fetch_errors(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(FetchError):
        await fetcher.fetch(url)


async def test_bad_stored_validator_is_a_fetch_error(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/f": Route(body=FEED)})
    with pytest.raises(FetchError):
        await fetcher.fetch(server.url("/f"), etag='"a"\r\nX-Injected: 1')
    assert all("x-injected" not in r.headers for r in server.requests)


# --- redirects ---------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [301, 308])
async def test_permanent_redirect_sets_permanent_url(ingest_server: Serve, fetcher: Fetcher, status: int) -> None:
    server = ingest_server({"/old": Route(status=status, redirect="/new"), "/new": Route(body=FEED)})
    result = await fetcher.fetch(server.url("/old"))
    assert (result.status, result.body) == (200, FEED)
    assert result.hints.moved_to == server.url("/new")
    assert result.url == server.url("/new")


@pytest.mark.parametrize("status", [302, 303, 307])
async def test_temporary_redirect_not_persisted(ingest_server: Serve, fetcher: Fetcher, status: int) -> None:
    server = ingest_server({"/old": Route(status=status, redirect="/new"), "/new": Route(body=FEED)})
    result = await fetcher.fetch(server.url("/old"))
    assert result.body == FEED
    assert result.hints.moved_to is None


async def test_permanent_then_temporary_keeps_the_permanent_part(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/a": Route(status=301, redirect="/b"), "/b": Route(status=302, redirect="/c"),
                            "/c": Route(status=301, redirect="/d"), "/d": Route(body=FEED)})
    result = await fetcher.fetch(server.url("/a"))
    assert result.hints.moved_to == server.url("/b")


async def test_conditional_headers_follow_the_redirect(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/a": Route(status=301, redirect="/b"), "/b": Route(status=304)})
    result = await fetcher.fetch(server.url("/a"), etag='"e"')
    assert result.status == 304
    assert result.hints.moved_to == server.url("/b")
    assert server.hits("/b")[0].headers["if-none-match"] == '"e"'


async def test_redirect_loop_fails_fast(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/a": Route(status=302, redirect="/b"), "/b": Route(status=301, redirect="/a")})
    started = time.monotonic()
    with pytest.raises(FetchError, match="redirect loop"):
        await fetcher.fetch(server.url("/a"))
    assert time.monotonic() - started < 1


async def test_too_many_redirects(ingest_server: Serve, fetcher: Fetcher) -> None:
    routes = {f"/{i}": Route(status=302, redirect=f"/{i + 1}") for i in range(20)}
    server = ingest_server(routes)
    with pytest.raises(FetchError, match="redirects"):
        await fetcher.fetch(server.url("/0"))
    assert len(server.requests) <= 6


async def test_redirect_to_non_http_refused(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/a": Route(status=301, redirect="file:///etc/passwd")})
    with pytest.raises(FetchError, match="non-HTTP"):
        await fetcher.fetch(server.url("/a"))


async def test_redirect_without_location(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/a": Route(status=301)})
    with pytest.raises(FetchError, match="Location"):
        await fetcher.fetch(server.url("/a"))


# --- politeness --------------------------------------------------------------------------------

async def test_user_agent_and_accept_sent(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/f": Route(body=FEED)})
    await fetcher.fetch(server.url("/f"))
    headers = server.requests[0].headers
    assert headers["user-agent"] == "monitor-test/1.0 (+https://example.invalid)"
    assert "application/rss+xml" in headers["accept"]
    assert "gzip" in headers["accept-encoding"]


async def test_no_cookies_resent(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/f": Route(body=FEED, headers=[("Set-Cookie", "session=abc; Path=/"),
                                                           ("Set-Cookie", "track=1; Max-Age=3600")])})
    await fetcher.fetch(server.url("/f"))
    await fetcher.fetch(server.url("/f"))
    await fetcher.fetch_page(server.url("/f"))
    assert all("cookie" not in r.headers for r in server.requests)


async def test_one_request_in_flight_per_host(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({f"/f{i}": Route(body=FEED, delay=0.05) for i in range(5)})
    await asyncio.gather(*(fetcher.fetch(server.url(f"/f{i}")) for i in range(5)))
    assert len(server.requests) == 5
    assert server.tracker.max == 1


async def test_same_host_other_port_is_still_one_host(ingest_server: Serve, fetcher: Fetcher) -> None:
    tracker = ConcurrencyTracker()
    a = ingest_server({"/f": Route(body=FEED, delay=0.1)}, tracker=tracker)
    b = ingest_server({"/f": Route(body=FEED, delay=0.1)}, tracker=tracker)
    assert a.port != b.port
    await asyncio.gather(fetcher.fetch(a.url("/f")), fetcher.fetch(b.url("/f")))
    assert tracker.max == 1


async def test_different_hosts_run_in_parallel(ingest_server: Serve, fetcher: Fetcher) -> None:
    tracker = ConcurrencyTracker()
    servers = [ingest_server({"/f": Route(body=FEED, delay=0.3)}, host=f"127.0.0.{i}", tracker=tracker)
               for i in (1, 2, 3)]
    started = time.monotonic()
    await asyncio.gather(*(fetcher.fetch(s.url("/f")) for s in servers))
    assert time.monotonic() - started < 0.8  # serial would be >= 0.9
    assert tracker.max == 3


async def test_global_concurrency_limit(ingest_server: Serve) -> None:
    tracker = ConcurrencyTracker()
    servers = [ingest_server({"/f": Route(body=FEED, delay=0.1)}, host=f"127.0.0.{i}", tracker=tracker)
               for i in range(1, 7)]
    fetcher = Fetcher(polling(concurrency=2), clock=utc_now)
    try:
        await asyncio.gather(*(fetcher.fetch(s.url("/f")) for s in servers))
    finally:
        await fetcher.aclose()
    assert tracker.max == 2
    assert len([r for s in servers for r in s.requests]) == 6


async def test_slow_feed_does_not_delay_others(ingest_server: Serve) -> None:
    slow = ingest_server({"/f": Route(body=FEED, delay=3)}, host="127.0.0.2")
    fast = ingest_server({f"/f{i}": Route(body=FEED) for i in range(3)})
    fetcher = Fetcher(polling(timeout_seconds=0.6, concurrency=2), clock=utc_now)
    done: dict[str, float] = {}
    started = time.monotonic()

    async def timed(url: str) -> None:
        try:
            await fetcher.fetch(url)
        finally:
            done[url] = time.monotonic() - started

    try:
        results = await asyncio.gather(timed(slow.url("/f")), *(timed(fast.url(f"/f{i}")) for i in range(3)),
                                       return_exceptions=True)
    finally:
        await fetcher.aclose()
    assert isinstance(results[0], FetchError)
    assert all(r is None for r in results[1:])
    assert max(done[fast.url(f"/f{i}")] for i in range(3)) < 0.4
    assert 0.5 < done[slow.url("/f")] < 1.5


# --- deadline and size cap ---------------------------------------------------------------------

async def test_trickling_body_hits_the_total_deadline(ingest_server: Serve) -> None:
    # 1 byte every 50 ms: each read is "fast", only a total deadline can stop it.
    server = ingest_server({"/f": Route(body=FEED * 10, trickle=0.05)})
    fetcher = Fetcher(polling(timeout_seconds=0.5), clock=utc_now)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match="within 0.5 s") as info:
            await fetcher.fetch(server.url("/f"))
    finally:
        await fetcher.aclose()
    assert 0.4 < time.monotonic() - started < 1.2
    assert server.url("/f") in str(info.value)


async def test_slow_headers_hit_the_deadline(ingest_server: Serve) -> None:
    server = ingest_server({"/f": Route(body=FEED, delay=5)})
    fetcher = Fetcher(polling(timeout_seconds=0.4), clock=utc_now)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match="within"):
            await fetcher.fetch(server.url("/f"))
    finally:
        await fetcher.aclose()
    assert time.monotonic() - started < 1.0


async def test_deadline_covers_redirect_chain(ingest_server: Serve) -> None:
    # Each hop is under the deadline; the chain as a whole is not.
    server = ingest_server({"/a": Route(status=302, redirect="/b", delay=0.3),
                            "/b": Route(status=302, redirect="/c", delay=0.3),
                            "/c": Route(body=FEED, delay=0.3)})
    fetcher = Fetcher(polling(timeout_seconds=0.7), clock=utc_now)
    try:
        with pytest.raises(FetchError, match="within"):
            await fetcher.fetch(server.url("/a"))
    finally:
        await fetcher.aclose()


async def test_gzip_body_is_decoded(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/f": Route(body=FEED, gzip=True)})
    result = await fetcher.fetch(server.url("/f"))
    assert result.body == FEED


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
async def test_deflate_body_is_decoded(ingest_server: Serve, fetcher: Fetcher, wbits: int) -> None:
    compressor = zlib.compressobj(wbits=wbits)
    body = compressor.compress(FEED) + compressor.flush()
    server = ingest_server({"/f": Route(body=body, headers={"Content-Encoding": "deflate"})})
    assert (await fetcher.fetch(server.url("/f"))).body == FEED


async def test_corrupt_gzip_is_fetch_error(ingest_server: Serve, fetcher: Fetcher) -> None:
    server = ingest_server({"/f": Route(body=b"definitely not gzip", headers={"Content-Encoding": "gzip"})})
    with pytest.raises(FetchError, match="corrupt"):
        await fetcher.fetch(server.url("/f"))


async def test_gzip_bomb_stops_at_the_cap(ingest_server: Serve) -> None:
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024), compresslevel=9)  # ~20 KB on the wire
    assert len(bomb) < 100_000
    server = ingest_server({"/f": Route(body=bomb, headers={"Content-Encoding": "gzip"})})
    fetcher = Fetcher(polling(max_body_bytes=200_000), clock=utc_now)
    started = time.monotonic()
    try:
        with pytest.raises(TooLargeError, match="after decompression"):
            await fetcher.fetch(server.url("/f"))
    finally:
        await fetcher.aclose()
    assert time.monotonic() - started < 1.0


async def test_big_content_length_refused_before_reading(ingest_server: Serve) -> None:
    # The server announces 1 GB, sends 10 bytes and then stalls: we must not wait for it.
    server = ingest_server({"/f": Route(body=b"0123456789", content_length=10**9, hang=5)})
    fetcher = Fetcher(polling(max_body_bytes=100_000, timeout_seconds=3), clock=utc_now)
    started = time.monotonic()
    try:
        with pytest.raises(TooLargeError, match="Content-Length"):
            await fetcher.fetch(server.url("/f"))
    finally:
        await fetcher.aclose()
    assert time.monotonic() - started < 1.0  # the server would stall for 5 s


async def test_chunked_body_over_the_cap(ingest_server: Serve) -> None:
    server = ingest_server({"/f": Route(body=b"x" * 300_000, chunked=True)})
    fetcher = Fetcher(polling(max_body_bytes=100_000), clock=utc_now)
    try:
        with pytest.raises(TooLargeError):
            await fetcher.fetch(server.url("/f"))
    finally:
        await fetcher.aclose()


async def test_body_exactly_at_the_cap_is_fine(ingest_server: Serve) -> None:
    server = ingest_server({"/f": Route(body=b"x" * 2048, gzip=True)})
    fetcher = Fetcher(polling(max_body_bytes=2048), clock=utc_now)
    try:
        assert len((await fetcher.fetch(server.url("/f"))).body) == 2048
    finally:
        await fetcher.aclose()


async def test_fetch_page(ingest_server: Serve, fetcher: Fetcher) -> None:
    page = b"<html><body><p>Articolo</p></body></html>"
    server = ingest_server({"/art": Route(body=page, headers={"Content-Type": "text/html; charset=utf-8"})})
    result = await fetcher.fetch_page(server.url("/art"))
    assert (result.status, result.body) == (200, page)
    assert "text/html" in server.requests[0].headers["accept"]
    assert "if-none-match" not in server.requests[0].headers


# --- full text ---------------------------------------------------------------------------------

ARTICLE = (Path(__file__).parent.parent / "data" / "feeds" / "article.html").read_bytes()


async def test_full_text_extracts_the_article(ingest_server: Serve, fetcher: Fetcher) -> None:
    pytest.importorskip("trafilatura")
    server = ingest_server({"/art": Route(body=ARTICLE, headers={"Content-Type": "text/html; charset=utf-8"})})
    text = await fetch_full_text(fetcher, server.url("/art"))
    assert text is not None
    assert "L'Italia ha un talento straordinario" in text
    assert "dottorato" in text
    assert "Accetta" not in text and "P.IVA" not in text  # boilerplate left out


async def test_full_text_latin1_page(ingest_server: Serve, fetcher: Fetcher) -> None:
    pytest.importorskip("trafilatura")
    body = ARTICLE.replace(b'charset="utf-8"', b'charset="iso-8859-1"').decode("utf-8").encode("latin-1", "replace")
    server = ingest_server({"/art": Route(body=body, headers={"Content-Type": "text/html; charset=ISO-8859-1"})})
    text = await fetch_full_text(fetcher, server.url("/art"))
    assert text is not None and "toccherà" in text


@pytest.mark.parametrize("route", [
    Route(status=404, body=b"<html>not found</html>"),
    Route(status=410),
    Route(body=b"%PDF-1.4 binary", headers={"Content-Type": "application/pdf"}),
    Route(body=b"<html><body><p>Troppo corto.</p></body></html>", headers={"Content-Type": "text/html"}),
    Route(body=b"", headers={"Content-Type": "text/html"}),
    Route(body=b"\x00\xff\xfe garbage \x00" * 50, headers={"Content-Type": "text/html"}),
], ids=["404", "410", "pdf", "too-short", "empty", "garbage"])
async def test_full_text_failures_give_none(ingest_server: Serve, fetcher: Fetcher, route: Route) -> None:
    server = ingest_server({"/art": route})
    assert await fetch_full_text(fetcher, server.url("/art")) is None


async def test_full_text_timeout_gives_none(ingest_server: Serve) -> None:
    server = ingest_server({"/art": Route(body=ARTICLE, trickle=0.05)})
    fetcher = Fetcher(polling(timeout_seconds=0.3), clock=utc_now)
    try:
        assert await fetch_full_text(fetcher, server.url("/art")) is None
    finally:
        await fetcher.aclose()
