"""kill -9 at random moments, many times, each followed by a restart: no article and no digest lost.

Each iteration adds items to a loopback feed, starts the real CLI in a child process (`monitor once`
most of the time, `monitor run` every third iteration) and SIGKILLs it after a seeded random delay
measured from the end of its imports, so the kills land in polling, analysis, rendering, the outbox
transaction, SMTP or marking. The child's wall clock is shifted 20 minutes further each iteration
so the "* * * * *" digest and the 15-minute feed are due on every run. At the end one clean
`monitor run` and one clean `monitor once` recover; then every item must be stored exactly once,
analysed, covered by one digest that the SMTP server received, and any duplicate delivery must
carry the Message-ID of the original.

FAULT_ITERATIONS and FAULT_SEED override the defaults (pytest -s prints the figures).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_support import feed_xml, spawn_cli, spawn_crash, wait_line, write_config
from support.ingest_server import IngestServer, Route, serve
from support.smtp_server import SmtpServer
from support.world import message_id, query

from monitor.cli.commands import cmd_once

ITERATIONS = int(os.environ.get("FAULT_ITERATIONS", "16"))
SEED = int(os.environ.get("FAULT_SEED", "20261126"))
STEP_MINUTES = 20
NEW_PER_ITERATION = 3


class GrowingFeed:
    def __init__(self) -> None:
        self.items: list[int] = []

    def route(self, _request: object) -> Route:
        return Route(body=feed_xml(self.items), headers={"Content-Type": "application/rss+xml"})


@pytest.fixture
def env() -> Iterator[tuple[GrowingFeed, IngestServer, SmtpServer]]:
    feed = GrowingFeed()
    with serve({"/feed.xml": feed.route}) as http, SmtpServer() as smtp:
        yield feed, http, smtp


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> int:
    code = proc.wait(timeout=timeout)
    if proc.stdout is not None:
        proc.stdout.close()
    return code


def phase(text: str) -> str:
    """Where a killed child was, from the log lines it managed to write."""
    if " queued as <" in text or "nothing new" in text:  # "1 story", "3 stories"
        return "after digest render/queue (sending)"
    if "new or updated" in text:
        return "after poll+analysis (digest)"
    if "monitor running" in text:
        return "daemon running (poll/analysis)"
    return "start-up, poll, store or analysis"


def wait_in_log(log: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.timeout(240)
def test_kill_9_at_random_moments_loses_nothing(tmp_path: Path,
                                                env: tuple[GrowingFeed, IngestServer, SmtpServer]) -> None:
    feed, http, smtp = env
    config = write_config(tmp_path, http.url("/feed.xml"), smtp.port, schedule="* * * * *")
    log = tmp_path / "children.log"
    rng = random.Random(SEED)
    kills = completed = run_mode = 0
    work_window = 0.0
    offset = 0
    started = time.monotonic()
    phases: Counter[str] = Counter()
    for i in range(ITERATIONS):
        mark = len(log.read_text(errors="replace")) if log.exists() else 0
        feed.items.extend(range(len(feed.items), len(feed.items) + NEW_PER_ITERATION))
        offset += STEP_MINUTES
        daemon = i % 3 == 2
        argv = ["run" if daemon else "once", "-c", str(config)]
        proc = spawn_cli(config, offset, argv, log)
        assert wait_line(proc, "CHILD-READY", 60), log.read_text()
        if i == 0:  # a clean first run: it measures how long the work after the imports takes
            t = time.monotonic()
            assert finish(proc) == 0, log.read_text()
            work_window = (time.monotonic() - t) * 1.2
            completed += 1
            continue
        run_mode += daemon
        time.sleep(rng.uniform(0.0, 1.5 if daemon else work_window))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        # A `once` may end by itself between the poll and the signal: a clean exit, not a kill.
        code = finish(proc)
        if code == -signal.SIGKILL:
            kills += 1
            phases[phase(log.read_text(errors="replace")[mark:])] += 1
        else:
            assert code == 0, log.read_text()[-3000:]
            completed += 1
    # Recovery: one clean daemon start (finishes analysis and sends what is due), one clean `once`.
    offset += STEP_MINUTES
    mark = len(log.read_text(errors="replace")) if log.exists() else 0
    proc = spawn_cli(config, offset, ["run", "-c", str(config)], log)
    assert wait_line(proc, "CHILD-READY", 60)
    assert wait_in_log(log, "monitor running", 60), log.read_text()[mark:]
    time.sleep(2.0)  # the daemon's first poll
    proc.send_signal(signal.SIGTERM)
    assert finish(proc) == 0, log.read_text()[mark:]
    offset += STEP_MINUTES
    proc = spawn_cli(config, offset, ["once", "-c", str(config)], log)
    assert wait_line(proc, "CHILD-READY", 60) and finish(proc) == 0, log.read_text()[mark:]

    db = config.parent / "state" / "monitor.sqlite3"
    stored = Counter(r["guid_key"] for r in query(db, "SELECT guid_key FROM articles"))
    served = {f"guid:item-{n}" for n in feed.items}
    assert set(stored) == served, f"lost: {sorted(served - set(stored))}"
    assert all(c == 1 for c in stored.values())
    not_analysed = query(db, "SELECT COUNT(*) FROM articles WHERE status != 'analyzed'")[0][0]
    assert not_analysed == 0
    unmarked = query(db, "SELECT COUNT(*) FROM articles WHERE id NOT IN (SELECT article_id FROM digest_marks)")[0][0]
    assert unmarked == 0, "articles never covered by a digest"
    rows = query(db, "SELECT message_id, status FROM outbox")
    assert all(r["status"] == "sent" for r in rows), [tuple(r) for r in rows]
    unsent_marks = query(db, "SELECT COUNT(*) FROM digest_marks m JOIN outbox o ON o.id = m.outbox_id "
                             "WHERE o.status != 'sent'")[0][0]
    assert unsent_marks == 0
    received = Counter(message_id(m.raw) for m in smtp.messages)
    outbox_ids = {r["message_id"] for r in rows}
    assert set(received) == outbox_ids, "a digest was queued but never received, or received but unknown"
    duplicates = sum(received.values()) - len(received)
    assert all(c <= 2 for c in received.values()), received
    elapsed = time.monotonic() - started
    print(f"\n[fault-suite] kill -9: seed {SEED}, {ITERATIONS} iterations ({run_mode} of them `monitor run`), "
          f"{kills} SIGKILLs injected, {completed} runs finished first, + 2 clean recovery runs; "
          f"{len(served)} feed items -> {len(stored)} articles (lost 0, stored twice 0), "
          f"{len(rows)} digests -> {sum(received.values())} deliveries, lost 0, duplicates {duplicates} "
          f"(all with the original Message-ID); kill window {work_window:.2f}s after imports; {elapsed:.0f}s")
    print("  kills by phase: " + ", ".join(f"{k}: {v}" for k, v in sorted(phases.items())))


@pytest.mark.timeout(60)
async def test_once_recovers_articles_stored_but_not_analysed(
        tmp_path: Path, env: tuple[GrowingFeed, IngestServer, SmtpServer]) -> None:
    feed, http, smtp = env
    feed.items.extend(range(4))
    config = write_config(tmp_path, http.url("/feed.xml"), smtp.port)
    crash = spawn_crash(config, "after-store-before-analysis", tmp_path / "child.log")
    assert crash.wait(timeout=60) == -signal.SIGKILL, (tmp_path / "child.log").read_text()
    db = config.parent / "state" / "monitor.sqlite3"
    assert query(db, "SELECT COUNT(*) FROM articles WHERE status = 'pending'")[0][0] == 4
    assert await cmd_once(argparse.Namespace(config=config)) == 0  # the cron-driven restart
    assert query(db, "SELECT COUNT(*) FROM articles WHERE status = 'pending'")[0][0] == 0
    assert len(smtp.messages) == 1
