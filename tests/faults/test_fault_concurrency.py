"""The outbox promise under concurrency and crashes (issue 14).

Several jobs flush at the same moment (poll tick, outbox tick, each digest) and `monitor once`
may run beside the daemon: each message must still go out once, and a refusal count as one
attempt. A crash between an article's analysis and its alert must not lose the alert, and a
SIGKILLed daemon must not leave its parse workers behind.

Real SQLite files, a real aiosmtpd server, a real HTTP feed and real `python -m monitor` children.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fault_support import (
    ALERT_ENTITIES,
    Feed,
    alive,
    child_env,
    descendants,
    spawn_cli,
    spawn_crash,
    wait_line,
    write_config,
)
from support.ingest_server import IngestServer
from support.smtp_server import SmtpServer
from support.world import Clock as FakeClock
from support.world import close_runtime, make_runtime, message_id, query

from monitor.cli.commands import cmd_once
from monitor.service import pipeline

ALERTS_OPEN = "[alerts]\nmax_per_hour = 1000\n"
SECOND_DIGEST = """
[[digest]]
name = "sera"
schedule = "{schedule}"
recipients = ["direzione@example.com"]
max_stories = 1000
max_per_section = 1000
"""


def alert_config(folder: Path, feed_url: str, smtp_port: int, schedule: str = "0 7 * * *",
                 polling: str = "") -> Path:
    """Two digests, OpenAI flagged for alerts, no hourly cap in the way."""
    extra = SECOND_DIGEST.format(schedule=schedule) + ALERTS_OPEN
    path = write_config(folder, feed_url, smtp_port, schedule=schedule, extra=extra)
    (folder / "entities.toml").write_text(ALERT_ENTITIES, encoding="utf-8")
    if polling:
        text = path.read_text(encoding="utf-8").replace("[polling]\n", f"[polling]\n{polling}\n", 1)
        path.write_text(text, encoding="utf-8")
    return path


async def queue_everything(rt: pipeline.Runtime, feed: Feed, rounds: int, clock: FakeClock) -> int:
    """Each round: 2 new items (one alert), a poll and both digests; returns the messages queued."""
    for _ in range(rounds):
        feed.items.extend(range(len(feed.items), len(feed.items) + 2))
        await pipeline.poll_feeds(rt, force=True)
        for digest in rt.config.digests:
            pipeline.run_digest(rt, digest)
        clock.advance(timedelta(minutes=1))
    return int(query(rt.store.path, "SELECT COUNT(*) FROM outbox")[0][0])


@pytest.mark.timeout(90)
async def test_two_flushes_at_once_send_each_message_once(
        tmp_path: Path, feed: tuple[Feed, IngestServer], smtp: SmtpServer, clock: FakeClock) -> None:
    f, http = feed
    config = alert_config(tmp_path, http.url("/feed.xml"), smtp.port)
    rt = make_runtime(config, clock)
    other = make_runtime(config, clock)  # a second connection to the same file: `monitor once` beside the daemon
    try:
        queued = await queue_everything(rt, f, 3, clock)
        assert queued == 9  # 3 alerts and 2 digests a round
        # The jobs of one daemon flushing together, and a second process flushing with them.
        counts = await asyncio.gather(pipeline.flush_outbox(rt), pipeline.flush_outbox(rt),
                                      pipeline.flush_outbox(rt), pipeline.flush_outbox(other))
        assert sum(counts) == queued
        received = Counter(message_id(m.raw) for m in smtp.messages)
        assert len(received) == queued and set(received.values()) == {1}, received
        rows = query(rt.store.path, "SELECT status, attempts, claimed_by FROM outbox")
        assert {(r["status"], r["attempts"], r["claimed_by"]) for r in rows} == {("sent", 1, None)}
    finally:
        await close_runtime(other)
        await close_runtime(rt)


def claim_row(db: Path, owner: str, until: datetime) -> None:
    """Leave a claim on every pending row, as a sender in the middle of its SMTP session does."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE outbox SET claimed_by = ?, claimed_until = ?", (owner, until.timestamp()))
    conn.close()


@pytest.mark.timeout(90)
async def test_a_live_senders_claim_is_respected_and_a_dead_ones_is_not(
        tmp_path: Path, feed: tuple[Feed, IngestServer], smtp: SmtpServer, clock: FakeClock) -> None:
    f, http = feed
    rt = make_runtime(alert_config(tmp_path, http.url("/feed.xml"), smtp.port), clock)
    sender = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # another live process
    try:
        f.items.extend(range(2))
        await pipeline.poll_feeds(rt, force=True)  # one alert queued
        host = socket.gethostname()
        # Another process on this machine holds the claim: not ours to send, not even once.
        claim_row(rt.store.path, f"{host}:{sender.pid}:0123456789ab:cafe", clock() + timedelta(minutes=3))
        assert await pipeline.flush_outbox(rt) == 0 and not smtp.messages
        # Its claim expires (a sender hung past every SMTP timeout): the message goes out.
        clock.advance(timedelta(minutes=4))
        assert await pipeline.flush_outbox(rt) == 1
        f.items.extend(range(2, 4))
        await pipeline.poll_feeds(rt, force=True)  # a second alert
        # A claim of a process that has died, or of an earlier process with our very pid (a
        # container restarts with the same pids), is stale at once: no wait for the expiry.
        sender.kill()
        sender.wait()
        claim_row(rt.store.path, f"{host}:{sender.pid}:0123456789ab:cafe", clock() + timedelta(minutes=3))
        assert await pipeline.flush_outbox(rt) == 1
        f.items.extend(range(4, 6))
        await pipeline.poll_feeds(rt, force=True)  # a third
        claim_row(rt.store.path, f"{host}:{os.getpid()}:0123456789ab:cafe", clock() + timedelta(minutes=3))
        assert await pipeline.flush_outbox(rt) == 1
        assert len({message_id(m.raw) for m in smtp.messages}) == len(smtp.messages) == 3
    finally:
        sender.kill()
        sender.wait()
        await close_runtime(rt)


@pytest.mark.timeout(90)
async def test_451_outage_with_flushes_racing_counts_one_attempt_and_delivers_once(
        tmp_path: Path, feed: tuple[Feed, IngestServer], smtp: SmtpServer, clock: FakeClock) -> None:
    f, http = feed
    rt = make_runtime(alert_config(tmp_path, http.url("/feed.xml"), smtp.port), clock)
    try:
        queued = await queue_everything(rt, f, 3, clock)
        smtp.data_reply = "451 4.3.0 try again later"
        for _ in range(6):  # a 6-minute outage, every job flushing each minute
            await asyncio.gather(*(pipeline.flush_outbox(rt) for _ in range(3)))
            clock.advance(timedelta(minutes=1))
        # Each row was tried once at the start (the next try is 5 minutes later), then once more
        # after 5 minutes: two real attempts, each counted once, and DATA seen twice per row.
        rows = query(rt.store.path, "SELECT attempts, next_attempt_at, first_attempt_at FROM outbox")
        assert [r["attempts"] for r in rows] == [2] * queued
        assert smtp.commands.count("DATA") == 2 * queued
        for r in rows:  # second failure: 10 minutes after it, not 20 as a double count would give
            assert r["next_attempt_at"] - r["first_attempt_at"] == pytest.approx(5 * 60 + 10 * 60)
        smtp.data_reply = None
        clock.advance(timedelta(minutes=30))
        await asyncio.gather(*(pipeline.flush_outbox(rt) for _ in range(3)))
        received = Counter(message_id(m.raw) for m in smtp.messages)
        expected = {r["message_id"] for r in query(rt.store.path, "SELECT message_id FROM outbox")}
        assert set(received) == expected and set(received.values()) == {1}, received
        kinds = Counter(r["kind"] for r in query(rt.store.path, "SELECT kind FROM outbox WHERE status = 'sent'"))
        assert kinds == {"alert": 3, "digest": 6}
        print(f"\n[fault-suite] 451 for 6 minutes, 3 flushes racing each minute: {queued} messages "
              f"(3 alerts, 6 digests), 2 attempts each, each delivered once after recovery")
    finally:
        await close_runtime(rt)


@pytest.mark.timeout(90)
async def test_crash_between_analysis_and_alert_sends_the_alert_on_restart(
        tmp_path: Path, feed: tuple[Feed, IngestServer], smtp: SmtpServer) -> None:
    f, http = feed
    f.items.extend(range(4))  # items 1 and 3 quote OpenAI: two alerts owed
    config = alert_config(tmp_path, http.url("/feed.xml"), smtp.port)
    log = tmp_path / "child.log"
    assert spawn_crash(config, "after-analysis-before-alert", log).wait(timeout=60) == -signal.SIGKILL, \
        log.read_text()
    db = config.parent / "state" / "monitor.sqlite3"
    assert query(db, "SELECT COUNT(*) FROM articles WHERE status = 'analyzed'")[0][0] == 4
    assert query(db, "SELECT COUNT(*) FROM outbox")[0][0] == 0  # died before any alert was queued
    assert await cmd_once(argparse.Namespace(config=config)) == 0  # the restart
    kinds = Counter(r["kind"] for r in query(db, "SELECT kind FROM outbox WHERE status = 'sent'"))
    assert kinds == {"alert": 2, "digest": 2}, kinds
    assert len(smtp.messages) == 4 and len({message_id(m.raw) for m in smtp.messages}) == 4
    # The digest marks the alerted story "già segnalato": the owed alerts were queued before it.
    [digest] = [m.raw for m in smtp.messages if m.rcpt_tos == ("direzione@example.com",)]
    assert "già segnalato" in text_of(digest)
    assert await cmd_once(argparse.Namespace(config=config)) == 0  # nothing owed any more
    assert query(db, "SELECT COUNT(*) FROM outbox WHERE kind = 'alert'")[0][0] == 2


@pytest.mark.timeout(90)
async def test_alerts_owed_after_a_crash_still_obey_the_hourly_cap(
        tmp_path: Path, feed: tuple[Feed, IngestServer], smtp: SmtpServer) -> None:
    f, http = feed
    f.items.extend(range(6))  # items 1, 3 and 5 quote OpenAI: three alerts owed
    config = alert_config(tmp_path, http.url("/feed.xml"), smtp.port)
    config.write_text(config.read_text(encoding="utf-8").replace("max_per_hour = 1000", "max_per_hour = 2"),
                      encoding="utf-8")
    log = tmp_path / "child.log"
    assert spawn_crash(config, "after-analysis-before-alert", log).wait(timeout=60) == -signal.SIGKILL, \
        log.read_text()
    assert await cmd_once(argparse.Namespace(config=config)) == 0
    assert await cmd_once(argparse.Namespace(config=config)) == 0  # the held one stays held
    db = config.parent / "state" / "monitor.sqlite3"
    assert query(db, "SELECT COUNT(*) FROM outbox WHERE kind = 'alert' AND status = 'sent'")[0][0] == 2
    assert Counter(r["state"] for r in query(db, "SELECT state FROM alerts")) == {"queued": 2, "held": 1}


def text_of(raw: bytes) -> str:
    """The plain-text part of a message, decoded."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("command", ["run", "once"])
def test_sigkill_of_the_parent_leaves_no_worker_behind(tmp_path: Path, feed: tuple[Feed, IngestServer],
                                                       smtp: SmtpServer, command: str) -> None:
    f, http = feed
    f.items.extend(range(40))
    config = alert_config(tmp_path, http.url("/feed.xml"), smtp.port, polling="parse_workers = 1")
    log = tmp_path / "child.log"
    proc = spawn_cli(config, 0, [command, "-c", str(config)], log)
    try:
        assert wait_line(proc, "CHILD-READY", 60), log.read_text()
        deadline = time.monotonic() + 90
        workers: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            workers = descendants(proc.pid)
            if len(workers) >= 2:  # the parse worker and multiprocessing's resource tracker
                break
            time.sleep(0.05)
        assert len(workers) >= 2 and proc.poll() is None, (workers, log.read_text())
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(alive(p) for p in workers):
            time.sleep(0.1)
        left = {p for p in workers if alive(p)}
        for pid in left:  # don't leak them into the rest of the run
            os.kill(pid, signal.SIGKILL)
        assert not left, f"orphaned after SIGKILL of monitor {command}: {sorted(left)}"
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_two_digests_due_in_the_same_minute_under_monitor_run(
        tmp_path: Path, feed: tuple[Feed, IngestServer], smtp: SmtpServer) -> None:
    f, http = feed
    config = alert_config(tmp_path, http.url("/feed.xml"), smtp.port, schedule="* * * * *")
    # Empty digests go out too: both fire at every minute boundary whatever the feed holds.
    config.write_text(config.read_text(encoding="utf-8").replace(
        "max_per_section = 1000", "max_per_section = 1000\nsend_empty = true"), encoding="utf-8")
    log = tmp_path / "run.log"
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "-c", str(config)], env=child_env(),
                            stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=str(tmp_path))
    try:
        # Two minute boundaries: each fires both digests at once, each digest job flushing while
        # the other's, the poll tick's and the outbox tick's flushes may be running.
        start = time.time()
        boundaries = 0
        while boundaries < 2 and proc.poll() is None:
            f.items.extend(range(len(f.items), len(f.items) + 3))
            time.sleep(10)
            boundaries = int(time.time() // 60 - start // 60)
        time.sleep(8)  # the second boundary's digests go out
        assert proc.poll() is None, log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    db = config.parent / "state" / "monitor.sqlite3"
    rows = query(db, "SELECT message_id, kind, status FROM outbox")
    digests = Counter(r["kind"] for r in rows)["digest"]
    assert digests >= 4, (rows, log.read_text()[-3000:])
    received = Counter(message_id(m.raw) for m in smtp.messages)
    assert set(received) == {r["message_id"] for r in rows if r["status"] == "sent"}
    assert set(received.values()) == {1}, f"delivered twice without a crash: {received}"
    assert all(r["status"] == "sent" for r in rows), [tuple(r) for r in rows]
