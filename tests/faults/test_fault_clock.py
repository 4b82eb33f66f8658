"""The wall clock jumps (NTP step, a VM restored from a snapshot, a wrong RTC fixed by hand).

A jump forward of days makes overdue work due once, not a flood of repeated polls or sends. A jump
back must not strand anything: state written under the old clock (a feed's next check, a message's
next attempt, a digest's last run) must not postpone work by the size of the jump.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fault_support import feed_xml, write_config
from support.ingest_server import IngestServer, Route, serve
from support.smtp_server import SmtpServer
from support.world import Clock as FakeClock
from support.world import close_runtime, make_runtime, query

from monitor.service import pipeline
from monitor.store import feeds

ROME = ZoneInfo("Europe/Rome")
T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def http() -> Iterator[IngestServer]:
    with serve({"/feed.xml": Route(body=feed_xml(range(4)), headers={"Content-Type": "application/rss+xml"})}) as s:
        yield s


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def polls(http: IngestServer) -> int:
    return len(http.hits("/feed.xml"))


async def _queue_a_deferred_digest(rt: pipeline.Runtime, smtp: SmtpServer) -> None:
    """Poll, queue a digest, and have its first send answered 451: it waits for a retry."""
    await pipeline.poll_feeds(rt)
    pipeline.run_digest(rt, rt.config.digests[0])
    smtp.data_reply = "451 4.3.0 later"
    await pipeline.flush_outbox(rt)


@pytest.mark.timeout(30)
async def test_forward_jump_of_days_polls_an_overdue_feed_once(tmp_path: Path, http: IngestServer) -> None:
    clock = FakeClock(T0)
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), 9), clock)
    try:
        await pipeline.poll_feeds(rt)
        assert polls(http) == 1
        clock.advance(timedelta(days=3))
        for _ in range(10):  # the daemon's 20 s poll tick, ten times over
            await pipeline.poll_feeds(rt)
            clock.advance(timedelta(seconds=20))
        assert polls(http) == 2  # overdue → due once, then back on the normal interval
        nxt = feeds.next_due(rt.store)
        assert nxt is not None and timedelta(minutes=5) <= nxt - clock() <= timedelta(minutes=16)
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(30)
async def test_forward_jump_sends_a_waiting_message_once(tmp_path: Path, http: IngestServer,
                                                         smtp: SmtpServer) -> None:
    clock = FakeClock(T0)
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), smtp.port), clock)
    try:
        await _queue_a_deferred_digest(rt, smtp)
        smtp.data_reply = "451 4.3.0 still later"
        clock.advance(timedelta(days=3))
        for _ in range(10):
            await pipeline.flush_outbox(rt)
            clock.advance(timedelta(minutes=1))
        # One attempt after the jump (not one per missed backoff slot); 2 days passed → dead, reported.
        assert smtp.commands.count("DATA") == 2
        row = query(rt.store.path, "SELECT status, last_error FROM outbox")[0]
        assert row["status"] == "dead" and "gave up after 2 days" in row["last_error"]
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(30)
async def test_backward_jump_keeps_new_polls_near(tmp_path: Path, http: IngestServer) -> None:
    """After a successful poll on the new clock, the next check is an interval away, never the jump."""
    clock = FakeClock(T0)
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), 9), clock)
    try:
        await pipeline.poll_feeds(rt, force=True)
        clock.advance(-timedelta(hours=6))
        await pipeline.poll_feeds(rt, force=True)
        nxt = feeds.next_due(rt.store)
        assert nxt is not None and nxt - clock() <= timedelta(minutes=16)
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(30)
async def test_backward_jump_does_not_strand_a_feed(tmp_path: Path, http: IngestServer) -> None:
    clock = FakeClock(T0)
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), 9), clock)
    try:
        await pipeline.poll_feeds(rt)
        clock.advance(-timedelta(days=30))  # e.g. a clock that ran a month ahead is corrected
        for _ in range(4 * 25):  # 25 hours of 15-minute ticks on the corrected clock
            await pipeline.poll_feeds(rt)
            clock.advance(timedelta(minutes=15))
        # Polled again at the normal rhythm (or at worst within the 24 h politeness cap), not in 30 days.
        assert polls(http) >= 2
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(30)
async def test_backward_jump_does_not_hold_back_a_queued_message(tmp_path: Path, http: IngestServer,
                                                                 smtp: SmtpServer) -> None:
    clock = FakeClock(T0)
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), smtp.port), clock)
    try:
        await _queue_a_deferred_digest(rt, smtp)  # next attempt in 5 minutes, on the old clock
        smtp.data_reply = None
        clock.advance(-timedelta(days=30))
        for _ in range(12 * 2):  # two hours of 5-minute outbox ticks on the corrected clock
            await pipeline.flush_outbox(rt)
            clock.advance(timedelta(minutes=5))
        assert len(smtp.messages) == 1  # the longest backoff is 1 h: sent within it, once
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(30)
async def test_backward_jump_does_not_skip_digests(tmp_path: Path, http: IngestServer) -> None:
    morning = datetime(2026, 11, 26, 8, 0, tzinfo=ROME).astimezone(UTC)
    clock = FakeClock(morning)
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), 9), clock)  # digest "0 7 * * *"
    try:
        pipeline.run_digest(rt, rt.config.digests[0])
        assert not pipeline.digest_due(rt, rt.config.digests[0])
        clock.set(datetime(2026, 11, 23, 6, 0, tzinfo=ROME).astimezone(UTC))  # three days back
        clock.advance(timedelta(hours=2))  # 08:00 on the corrected clock: 07:00 has passed
        assert pipeline.digest_due(rt, rt.config.digests[0])
    finally:
        await close_runtime(rt)
