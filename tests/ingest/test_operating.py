"""Operating for months: the lxml reader steps aside when feedparser's internals are gone, and a
panic inside the HTTP client fails one fetch, never the daemon."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.ingest_server import Route, serve
from support.world import RECENT, Clock, feed, write_config

from monitor.config.load import load_config
from monitor.config.types import PollingConfig
from monitor.errors import FetchError
from monitor.ingest.fetch import Fetcher
from monitor.ingest.parse import parse_feed, reader_warning
from monitor.service import pipeline
from monitor.service.daemon import open_runtime
from monitor.service.runtime import utc_now
from monitor.store import feeds

REPO = Path(__file__).resolve().parents[2]
FEEDS = REPO / "tests" / "data" / "feeds"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

# Run in a subprocess: one feedparser internal the lxml reader imports is removed before monitor
# is imported, as a future feedparser release might do.
WITHOUT_INTERNAL = """
import feedparser.urls
del feedparser.urls._urljoin
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("STATE_DIRECTORY", None)
    return subprocess.run([sys.executable, "-c", WITHOUT_INTERNAL + code, *args], capture_output=True,
                          text=True, env=env, timeout=120, check=False)


def _entries(path: Path) -> list[list[object]]:
    parsed = parse_feed(path.read_bytes(), {}, "https://www.esempio.it/feed/", NOW)
    return [[e.key, e.title, e.text, e.url, e.published.isoformat() if e.published else None]
            for e in parsed.entries]


def test_without_the_internals_every_feed_reads_the_same_with_feedparser() -> None:
    assert reader_warning() is None  # the pinned feedparser: the fast reader is on
    code = """
import json, sys
from datetime import datetime, UTC
from pathlib import Path
from monitor.ingest import parse
out = []
for name in sys.argv[1:]:
    feed = parse.parse_feed(Path(name).read_bytes(), {}, "https://www.esempio.it/feed/",
                            datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    out.append([[e.key, e.title, e.text, e.url, e.published.isoformat() if e.published else None]
                for e in feed.entries])
print(json.dumps({"warning": parse.reader_warning(), "reader": parse._COMMON_READER is None, "feeds": out}))
"""
    paths = sorted(FEEDS.glob("*.xml"))[:8]
    result = _python(code, *map(str, paths))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["reader"] is True  # the lxml reader is off
    assert "_urljoin" in data["warning"] and "feedparser" in data["warning"]
    assert data["feeds"] == [_entries(p) for p in paths]


def test_a_run_without_the_internals_warns_once_and_reads_every_feed(tmp_path: Path) -> None:
    items = [(f"g{i}", f"Notizia {i}", f"Testo della notizia {i} su Sam Altman.", RECENT) for i in range(3)]
    with serve({"/feed.xml": Route(body=feed(*items)), "/due.xml": Route(body=feed(*items[:1]))}) as http:
        config = write_config(tmp_path, [(http.url("/feed.xml"), "Uno"), (http.url("/due.xml"), "Due")],
                              smtp_port=9, digest=None)
        result = _python("import sys\nfrom monitor.cli.main import main\nraise SystemExit(main(sys.argv[1:]))",
                         "once", "-c", str(config))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "fast feed reader is off" in line]
    assert len(warnings) == 1, result.stderr
    db = sqlite3.connect(tmp_path / "state" / "monitor.sqlite3")
    try:
        assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 3
        assert db.execute("SELECT COUNT(*) FROM feeds WHERE consecutive_failures = 0 "
                          "AND last_success_at IS NOT NULL").fetchone()[0] == 2
    finally:
        db.close()


class Panic(BaseException):
    """What pyo3 raises for a Rust panic (PanicException derives from BaseException)."""


class _Body:
    status = 200
    headers: dict[str, str] = {"content-type": "application/rss+xml"}

    async def chunks(self) -> AsyncIterator[bytes]:
        yield b"<rss"
        raise Panic("called `Option::unwrap()` on a `None` value")

    def close(self) -> None:
        pass


class PanickingTransport:
    """Our own transport at the fetcher's seam: panics in `get` or in the middle of the body."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.calls = 0

    async def get(self, url: str, headers: dict[str, str], timeout: float) -> _Body:
        self.calls += 1
        if self.where == "get":
            raise Panic("thread 'tokio-runtime-worker' panicked")
        return _Body()

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize("where", ["get", "body"])
async def test_a_panic_in_the_transport_is_a_fetch_error(where: str) -> None:
    fetcher = Fetcher(PollingConfig(timeout_seconds=5), PanickingTransport(where), clock=utc_now)
    with pytest.raises(FetchError, match="the HTTP client failed .*Panic"):
        await fetcher.fetch("http://127.0.0.1:9/feed.xml")
    with pytest.raises(FetchError, match="the HTTP client failed"):
        await fetcher.fetch_page("http://127.0.0.1:9/page.html")


async def test_cancelling_a_fetch_still_cancels() -> None:
    class Slow(PanickingTransport):
        async def get(self, url: str, headers: dict[str, str], timeout: float) -> _Body:
            await asyncio.sleep(60)
            raise AssertionError("not reached")

    fetcher = Fetcher(PollingConfig(timeout_seconds=30), Slow("get"), clock=utc_now)
    task = asyncio.ensure_future(fetcher.fetch("http://127.0.0.1:9/feed.xml"))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_panic_fails_that_feed_and_the_poll_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    config = load_config(write_config(tmp_path, [("http://127.0.0.1:9/a.xml", "A"), ("http://127.0.0.1:9/b.xml", "B")],
                                      smtp_port=9, digest=None))
    rt = open_runtime(config)
    rt.clock = Clock(NOW)
    transport = PanickingTransport("body")
    rt.fetcher = Fetcher(config.polling, transport, clock=rt.clock)
    try:
        outcomes = await pipeline.poll_feeds(rt, force=True)
        assert sorted(o.status for o in outcomes) == ["failed", "failed"]
        assert transport.calls == 2  # the second feed was still polled
        health = feeds.feed_health(rt.store)
        assert all(h.consecutive_failures == 1 and "HTTP client failed" in (h.last_error or "") for h in health)
    finally:
        await rt.aclose()
