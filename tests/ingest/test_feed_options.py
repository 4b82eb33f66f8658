"""Sites that need a little more: per-feed headers and a global HTTP(S) proxy, validated like
every key; the proxy's credentials never reach a log line or an error message."""

from __future__ import annotations

import base64
import http.server
import logging
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.ingest_server import Route, serve
from support.world import RECENT, Clock, feed

from monitor.config.load import load_config
from monitor.config.types import PollingConfig, ProxyConfig
from monitor.errors import ConfigError, FetchError
from monitor.ingest.fetch import Fetcher
from monitor.service import pipeline
from monitor.service.daemon import open_runtime
from monitor.service.runtime import utc_now
from monitor.store import feeds

SECRET = "s3gr3t0-Pr0xy"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
FEED = feed(("g1", "Notizia", "Testo.", RECENT))


def _config(tmp_path: Path, polling: str = "", feed_extra: str = "", url: str = "https://e.it/feed") -> Path:
    from monitor.config.types import DEFAULT_ENTITIES

    (tmp_path / "entities.toml").write_bytes(DEFAULT_ENTITIES.read_bytes())
    text = (f'[general]\nentities_file = "entities.toml"\nstate_dir = "state"\n\n[polling]\n{polling}\n\n'
            f'[[feeds]]\nurl = "{url}"\nname = "Fonte"\n{feed_extra}\n')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- configuration -------------------------------------------------------------------------------

def test_feed_headers_are_read_in_order(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, feed_extra='headers = { "User-Agent" = "Mozilla/5.0 (X11)", '
                                                      '"Cookie" = "consent=yes; paywall=0" }'))
    assert config.feeds[0].headers == (("User-Agent", "Mozilla/5.0 (X11)"), ("Cookie", "consent=yes; paywall=0"))


@pytest.mark.parametrize(("extra", "key", "reason"), [
    ('headers = { "Bad Name" = "x" }', "feeds[0].headers.Bad Name", "not a valid HTTP header name"),
    ('headers = { "If-None-Match" = "x" }', "feeds[0].headers.If-None-Match", "sets this header itself"),
    ('headers = { "Accept-Encoding" = "br" }', "feeds[0].headers.Accept-Encoding", "sets this header itself"),
    ('headers = { "Cookie" = 3 }', "feeds[0].headers.Cookie", "must be str, not an integer"),
    ('headers = { "Cookie" = "a\\nb" }', "feeds[0].headers.Cookie", "one line of printable ASCII"),
    ('headers = { "Cookie" = "" }', "feeds[0].headers.Cookie", "must not be empty"),
    ('headers = "User-Agent: x"', "feeds[0].headers", "must be dict, not a string"),
    ('headers = { "cookie" = "a", "Cookie" = "b" }', "feeds[0].headers.Cookie", "the same header twice"),
    ('header = { "Cookie" = "a" }', "feeds[0].header", "unknown key"),
])
def test_bad_feed_headers_are_refused_naming_file_and_key(tmp_path: Path, extra: str, key: str,
                                                          reason: str) -> None:
    path = _config(tmp_path, feed_extra=extra)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path.resolve())
    assert info.value.key == key
    assert reason in info.value.reason


def test_a_proxy_from_the_config_and_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONITOR_PROXY", raising=False)
    path = _config(tmp_path, polling='proxy = "http://proxy.lan:3128"\nproxy_env = "MONITOR_PROXY"')
    assert load_config(path).polling.proxy == ProxyConfig("http://proxy.lan:3128")
    monkeypatch.setenv("MONITOR_PROXY", f"https://mario%40rossi:{SECRET}@10.0.0.1:8443/")
    proxy = load_config(path).polling.proxy
    assert proxy == ProxyConfig("https://10.0.0.1:8443", "mario@rossi", SECRET)
    assert SECRET not in repr(load_config(path))


@pytest.mark.parametrize(("polling", "env", "key", "reason"), [
    (f'proxy = "http://mario:{SECRET}@proxy.lan:3128"', None, "polling.proxy", "never lives in the TOML"),
    ('proxy = "socks5://proxy.lan:1080"', None, "polling.proxy", "http:// or https://"),
    ('proxy = "http://proxy.lan:3128/path"', None, "polling.proxy", "without a path"),
    ('proxy = "http://proxy.lan:99999"', None, "polling.proxy", "not a URL"),
    ('proxy = 3128', None, "polling.proxy", "must be str"),
    ('proxy_env = "MONITOR_PROXY"', f"ftp://mario:{SECRET}@proxy.lan", "polling.proxy_env",
     "$MONITOR_PROXY must be an http:// or https:// URL"),
    ('proxy_env = "MONITOR_PROXY"', f"http://mario:{SECRET}@proxy.lan:port", "polling.proxy_env",
     "$MONITOR_PROXY is not a URL"),
    ('proxy_url = "http://proxy.lan"', None, "polling.proxy_url", "unknown key"),
])
def test_bad_proxy_settings_are_refused_without_repeating_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, polling: str, env: str | None, key: str,
        reason: str) -> None:
    if env is None:
        monkeypatch.delenv("MONITOR_PROXY", raising=False)
    else:
        monkeypatch.setenv("MONITOR_PROXY", env)
    path = _config(tmp_path, polling=polling)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (info.value.file, info.value.key) == (str(path.resolve()), key)
    assert reason in info.value.reason
    assert SECRET not in str(info.value)


# --- the headers on the wire ---------------------------------------------------------------------

async def test_feed_headers_go_to_the_feed_host_and_not_across_a_redirect() -> None:
    with serve({"/feed.xml": Route(body=FEED)}, host="127.0.0.2") as other, \
            serve({"/feed.xml": Route(body=FEED), "/moved": Route(status=302, redirect=other.url("/feed.xml")),
                   "/page": Route(body=b"<html></html>", headers={"Content-Type": "text/html"})}) as site:
        site_headers = (("user-agent", "Mozilla/5.0 (compatibile)"), ("Cookie", "consent=1"))
        async with Fetcher(PollingConfig(timeout_seconds=5), clock=utc_now) as fetcher:
            await fetcher.fetch(site.url("/feed.xml"), site_headers=site_headers)
            await fetcher.fetch(site.url("/moved"), site_headers=site_headers)
            await fetcher.fetch_page(site.url("/page"), site_headers=site_headers, site=site.url("/feed.xml"))
            await fetcher.fetch_page(other.url("/feed.xml"), site_headers=site_headers, site=site.url("/feed.xml"))
    first, moved, page = site.requests
    for request in (first, moved, page):
        assert request.headers["user-agent"] == "Mozilla/5.0 (compatibile)"  # replaced, not sent twice
        assert request.headers["cookie"] == "consent=1"
    assert first.headers["accept-encoding"] == "gzip, deflate"
    assert len(other.requests) == 2
    for request in other.requests:
        assert "cookie" not in request.headers
        assert request.headers["user-agent"].startswith("monitor/")


async def test_a_poll_sends_the_feed_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    with serve({"/feed.xml": Route(body=FEED)}) as site:
        path = _config(tmp_path, url=site.url("/feed.xml"),
                       feed_extra='full_text = false\nheaders = { "Cookie" = "gdpr=ok", "User-Agent" = "Lettore/2" }')
        rt = open_runtime(load_config(path))
        rt.clock = Clock(NOW)
        try:
            (outcome,) = await pipeline.poll_feeds(rt, force=True)
        finally:
            await rt.aclose()
    assert outcome.status == "new"
    (request,) = site.requests
    assert (request.headers["cookie"], request.headers["user-agent"]) == ("gdpr=ok", "Lettore/2")


# --- the proxy -------------------------------------------------------------------------------------

@dataclass
class ForwardProxy:
    """A tiny forward proxy on loopback: records each request line and its Proxy-Authorization,
    forwards plain-HTTP GETs to their origin, and refuses CONNECT (the tunnel for https) with 403."""

    lines: list[str] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    port: int = 0


@contextmanager
def forward_proxy() -> Iterator[ForwardProxy]:
    state = ForwardProxy()
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy from the env

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            pass

        def _record(self) -> None:
            state.lines.append(self.requestline)
            state.auth.append(self.headers.get("Proxy-Authorization"))

        def do_GET(self) -> None:  # noqa: N802 - stdlib naming
            self._record()
            with direct.open(urllib.request.Request(self.path, headers={"User-Agent": self.headers["User-Agent"]}),
                             timeout=5) as upstream:
                body = upstream.read()
                status, kind = upstream.status, upstream.headers.get("Content-Type", "text/xml")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_CONNECT(self) -> None:  # noqa: N802 - stdlib naming
            self._record()
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


async def test_requests_go_through_the_proxy_with_its_credentials(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with forward_proxy() as proxy, serve({"/feed.xml": Route(body=FEED)}) as origin:
        config = PollingConfig(timeout_seconds=5,
                               proxy=ProxyConfig(f"http://127.0.0.1:{proxy.port}", "mario", SECRET))
        async with Fetcher(config, clock=utc_now) as fetcher:
            result = await fetcher.fetch(origin.url("/feed.xml"))
            assert result.status == 200 and result.body == FEED
            with pytest.raises(FetchError) as refused:  # https: a CONNECT tunnel, refused here
                await fetcher.fetch(f"https://127.0.0.1:{origin.port}/feed.xml")
    assert proxy.lines == [f"GET {origin.url('/feed.xml')} HTTP/1.1", f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1"]
    expected = "Basic " + base64.b64encode(f"mario:{SECRET}".encode()).decode()
    assert proxy.auth == [expected, expected]
    assert len(origin.requests) == 1  # the feed was reached through the proxy only
    assert SECRET not in str(refused.value)
    assert SECRET not in caplog.text


async def test_a_failing_proxy_never_shows_its_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A poll through a proxy that refuses connections: the error is stored, logged and shown in
    status, and none of them holds the password (the URL came from the environment)."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.setenv("MONITOR_PROXY", f"http://mario:{SECRET}@127.0.0.1:9")
    path = _config(tmp_path, polling='proxy_env = "MONITOR_PROXY"\ntimeout_seconds = 5',
                   feed_extra="full_text = false", url="http://127.0.0.1:9/feed.xml")
    config = load_config(path)
    assert config.polling.proxy is not None and config.polling.proxy.password == SECRET
    rt = open_runtime(config)
    rt.clock = Clock(NOW)
    try:
        (outcome,) = await pipeline.poll_feeds(rt, force=True)
        (health,) = feeds.feed_health(rt.store)
    finally:
        await rt.aclose()
    assert outcome.status == "failed"
    assert health.last_error and "127.0.0.1" in health.last_error
    for text in (outcome.error or "", health.last_error, caplog.text):
        assert SECRET not in text
