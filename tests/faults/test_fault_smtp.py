"""SMTP faults with a clock the test owns: relay down then up, backoff and give-up, 5xx, 535, partial refusal.

Real SQLite file, real aiosmtpd server (tests/smtp_server.py), the real Runtime and flush_outbox.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fault_support import Feed, write_config
from support.ingest_server import IngestServer
from support.smtp_server import SmtpServer
from support.world import Clock as FakeClock
from support.world import close_runtime, dead_port, make_runtime, message_id, query

from monitor.cli.status import collect_status
from monitor.service import pipeline
from monitor.store import outbox


def point_at(rt: pipeline.Runtime, port: int) -> None:
    """What an operator's reload does when the relay moves: same state, new SMTP settings."""
    rt.config = dataclasses.replace(rt.config, smtp=dataclasses.replace(rt.config.smtp, port=port))


async def queue_digests(rt: pipeline.Runtime, feed: Feed, clock: FakeClock, count: int) -> list[str]:
    """`count` digests, each over 2 fresh articles; returns their Message-IDs as rendered."""
    ids = []
    for _ in range(count):
        start = len(feed.items)
        feed.items.extend(range(start, start + 2))
        await pipeline.poll_feeds(rt, force=True)
        outbox_id = pipeline.run_digest(rt, rt.config.digests[0])
        assert outbox_id is not None
        ids.append(rt.store.db.execute("SELECT message_id FROM outbox WHERE id = ?", (outbox_id,)).fetchone()[0])
        clock.advance(timedelta(minutes=1))
    return ids


@pytest.mark.timeout(60)
async def test_relay_down_for_the_whole_run_then_up(tmp_path: Path, feed: tuple[Feed, IngestServer],
                                                    smtp: SmtpServer, clock: FakeClock) -> None:
    f, http = feed
    down = dead_port()
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), down), clock)
    try:
        rendered = await queue_digests(rt, f, clock, 3)
        # Phase 1: nothing listens on the port (connection refused), for an hour of retries.
        attempts = 0
        for _ in range(8):
            assert await pipeline.flush_outbox(rt) == 0
            attempts += 1
            clock.advance(timedelta(minutes=10))
        # Phase 2: the relay answers but says 421 (closing), for another while.
        point_at(rt, smtp.port)
        smtp.mail_reply = "421 4.3.2 service not available, closing"
        for _ in range(4):
            assert await pipeline.flush_outbox(rt) == 0
            clock.advance(timedelta(minutes=30))
        assert not smtp.messages
        pending = [r.message_id for r in outbox.due_messages(rt.store, clock() + timedelta(days=1))]
        assert pending == rendered  # still queued, same bytes, same ids
        # Phase 3: up. Before the backoff expires nothing is tried; after, everything goes once.
        smtp.mail_reply = None
        commands_before = len(smtp.commands)
        next_try = min(r["next_attempt_at"] for r in query(rt.store.path, "SELECT next_attempt_at FROM outbox"))
        clock.set(datetime.fromtimestamp(next_try, UTC) - timedelta(seconds=1))
        assert await pipeline.flush_outbox(rt) == 0 and len(smtp.commands) == commands_before
        clock.advance(timedelta(hours=2))
        assert await pipeline.flush_outbox(rt) == 3
        for _ in range(3):  # later flushes send nothing again
            clock.advance(timedelta(hours=1))
            assert await pipeline.flush_outbox(rt) == 0
        delivered = [message_id(m.raw) for m in smtp.messages]
        assert delivered == rendered
        assert [r["status"] for r in query(rt.store.path, "SELECT status FROM outbox")] == ["sent"] * 3
        print(f"\n[fault-suite] relay down then up: 3 digests, {attempts} refused-connection rounds + 4 "
              f"421 rounds, delivered {len(delivered)} (exactly once each, original Message-IDs), lost 0")
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(60)
async def test_temporary_failures_back_off_then_give_up_after_two_days(
        tmp_path: Path, feed: tuple[Feed, IngestServer], smtp: SmtpServer, clock: FakeClock) -> None:
    f, http = feed
    config = write_config(tmp_path, http.url("/feed.xml"), smtp.port)
    rt = make_runtime(config, clock)
    try:
        await queue_digests(rt, f, clock, 1)
        smtp.data_reply = "451 4.3.0 try again later"
        first = clock()
        times = []
        for _ in range(200):
            await pipeline.flush_outbox(rt)
            times.append(clock())
            row = query(rt.store.path, "SELECT status, next_attempt_at FROM outbox")[0]
            if row["status"] != "pending":
                break
            # Jump exactly to the scheduled retry: flushing earlier must not try.
            commands = len(smtp.commands)
            clock.set(datetime.fromtimestamp(row["next_attempt_at"], UTC) - timedelta(seconds=30))
            await pipeline.flush_outbox(rt)
            assert len(smtp.commands) == commands, "retried before its backoff expired"
            clock.set(datetime.fromtimestamp(row["next_attempt_at"], UTC))
        gaps = [round((b - a).total_seconds() / 60) for a, b in zip(times, times[1:], strict=False)]
        assert gaps[:5] == [5, 10, 20, 40, 60]
        assert all(g <= 60 for g in gaps) and max(gaps) == 60
        assert times[-1] - first == timedelta(days=2)  # the last retry is pulled in to the deadline
        assert row["status"] == "dead"
        status = collect_status(rt.config, clock())
        assert status["outbox"]["failed"] == 1 and status["outbox"]["pending"] == 0
        problem = status["outbox"]["problems"][0]
        assert problem["status"] == "dead" and "gave up after 2 days" in problem["error"] and "451" in problem["error"]
        assert problem["attempts"] == len(times)
        print(f"\n[fault-suite] 451 for 2 days: {len(times)} attempts, delays (min) {gaps[:7]}…, "
              f"dead-lettered at +{times[-1] - first}, reported by status")
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(30)
async def test_connection_refused_backs_off_like_a_4xx(tmp_path: Path, feed: tuple[Feed, IngestServer],
                                                       clock: FakeClock) -> None:
    f, http = feed
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), dead_port()), clock)
    try:
        await queue_digests(rt, f, clock, 1)
        base = clock()
        delays = []
        for _ in range(6):
            await pipeline.flush_outbox(rt)
            nxt = datetime.fromtimestamp(query(rt.store.path, "SELECT next_attempt_at FROM outbox")[0][0], UTC)
            delays.append(round((nxt - clock()).total_seconds() / 60))
            clock.set(nxt)
        assert delays == [5, 10, 20, 40, 60, 60]
        row = query(rt.store.path, "SELECT status, attempts, last_error FROM outbox")[0]
        assert row["status"] == "pending" and row["attempts"] == 6 and "Connect" in row["last_error"]
        assert clock() - base < timedelta(days=2)
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(30)
async def test_permanent_refusal_is_dead_lettered_at_once(tmp_path: Path, feed: tuple[Feed, IngestServer],
                                                          smtp: SmtpServer, clock: FakeClock) -> None:
    f, http = feed
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), smtp.port), clock)
    try:
        await queue_digests(rt, f, clock, 1)
        smtp.data_reply = "554 5.7.1 message refused"
        assert await pipeline.flush_outbox(rt) == 0
        datas = smtp.commands.count("DATA")
        for _ in range(5):
            clock.advance(timedelta(hours=3))
            await pipeline.flush_outbox(rt)
        assert smtp.commands.count("DATA") == datas == 1  # never retried
        status = collect_status(rt.config, clock())
        assert status["outbox"]["failed"] == 1
        assert "554" in status["outbox"]["problems"][0]["error"]
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(30)
async def test_bad_credentials_pause_sending_instead_of_looping(
        tmp_path: Path, feed: tuple[Feed, IngestServer], clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    f, http = feed
    with SmtpServer(tls="starttls", auth=("user", "secret")) as server:
        monkeypatch.setenv("FAULT_SMTP_PASSWORD", "wrong")
        config = write_config(tmp_path, http.url("/feed.xml"), server.port,
                              smtp_extra='username = "user"\npassword_env = "FAULT_SMTP_PASSWORD"')
        config.write_text(config.read_text().replace('tls = "none"', 'tls = "starttls"'))
        rt = make_runtime(config, clock)
        rt.tls_context = server.client_context()
        try:
            await queue_digests(rt, f, clock, 3)
            assert await pipeline.flush_outbox(rt) == 0
            assert rt.sending_paused and "535" in rt.sending_paused
            tried = len(server.auth_attempts)  # aiosmtplib tries each mechanism in one session
            assert 1 <= tried <= 2
            for _ in range(10):  # the daemon's outbox tick keeps firing: no new AUTH attempts
                clock.advance(timedelta(minutes=5))
                assert await pipeline.flush_outbox(rt) == 0
            assert len(server.auth_attempts) == tried
            assert [r["status"] for r in query(rt.store.path, "SELECT status FROM outbox")] == ["pending"] * 3
            # Fixed credentials + reload (which clears the pause): all three go, once.
            monkeypatch.setenv("FAULT_SMTP_PASSWORD", "secret")
            rt.sending_paused = None
            assert await pipeline.flush_outbox(rt) == 3
            assert len(server.messages) == 3
        finally:
            await close_runtime(rt)


@pytest.mark.timeout(30)
async def test_partial_refusal_is_recorded_per_recipient_and_not_resent(
        tmp_path: Path, feed: tuple[Feed, IngestServer], smtp: SmtpServer, clock: FakeClock) -> None:
    f, http = feed
    recipients = ("a@example.com", "b@example.com", "c@example.com")
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), smtp.port, recipients=recipients), clock)
    try:
        await queue_digests(rt, f, clock, 1)
        smtp.rcpt_replies["b@example.com"] = "550 5.1.1 no such user"
        assert await pipeline.flush_outbox(rt) == 1
        for _ in range(5):
            clock.advance(timedelta(hours=1))
            assert await pipeline.flush_outbox(rt) == 0
        assert [m.rcpt_tos for m in smtp.messages] == [("a@example.com", "c@example.com")]
        row = query(rt.store.path, "SELECT status, refused FROM outbox")[0]
        assert row["status"] == "sent"
        assert json.loads(row["refused"]) == {"b@example.com": "550 5.1.1 no such user"}
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(30)
async def test_temporary_refusal_of_one_recipient_is_retried_for_that_recipient_only(
        tmp_path: Path, feed: tuple[Feed, IngestServer], smtp: SmtpServer, clock: FakeClock) -> None:
    f, http = feed
    recipients = ("a@example.com", "b@example.com")
    rt = make_runtime(write_config(tmp_path, http.url("/feed.xml"), smtp.port, recipients=recipients), clock)
    try:
        await queue_digests(rt, f, clock, 1)
        smtp.rcpt_replies["b@example.com"] = "452 4.2.2 mailbox full, try later"
        await pipeline.flush_outbox(rt)
        del smtp.rcpt_replies["b@example.com"]
        for _ in range(4):
            clock.advance(timedelta(hours=1))
            await pipeline.flush_outbox(rt)
        got = [(message_id(m.raw), m.rcpt_tos) for m in smtp.messages]
        assert [r for _, r in got] == [("a@example.com",), ("b@example.com",)]  # a once, b once
        assert len({mid for mid, _ in got}) == 1  # the same message
    finally:
        await close_runtime(rt)
