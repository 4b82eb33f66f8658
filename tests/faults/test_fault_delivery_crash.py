"""Digests are delivered once and never lost: a SIGKILL at every step from render to mark-sent.

A real child process renders and sends a digest against a real SQLite file and a real aiosmtpd
server, and kills itself (SIGKILL) at one chosen point. Then `monitor once` runs as the restart.
Whatever the point: the digest arrives, each of its articles is covered by exactly one outbox
row, the digest is rendered at most once more (only when the crash came before the commit), and
a message the server already had is resent at most once, with the same Message-ID.
"""

from __future__ import annotations

import argparse
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_support import feed_xml, spawn_crash, write_config
from support.ingest_server import IngestServer, Route, serve
from support.smtp_server import SmtpServer
from support.world import make_runtime, message_id, query

from monitor.cli.commands import cmd_once
from monitor.service import pipeline

# (point, the server may already hold the message when the process dies)
POINTS: list[tuple[str, bool]] = [
    ("in-render", False),
    ("before-outbox-commit-start", False),
    ("after-outbox-insert", False),
    ("before-outbox-commit", False),
    ("after-outbox-commit", False),
    ("after-smtp-accepted", True),
    ("before-sent-commit", True),
    ("after-mark-sent", True),
    ("none", True),
]
ITEMS = list(range(6))


@pytest.fixture
def feed_server() -> Iterator[IngestServer]:
    with serve({"/feed.xml": Route(body=feed_xml(ITEMS), headers={"Content-Type": "application/rss+xml"})}) as s:
        yield s


@pytest.mark.timeout(120)
async def test_crash_at_every_delivery_step(tmp_path: Path, feed_server: IngestServer) -> None:
    # One template state: the feed polled and analysed, no digest run yet.
    template = tmp_path / "template"
    cfg = write_config(template, feed_server.url("/feed.xml"), 25)
    rt = make_runtime(cfg)
    await pipeline.poll_feeds(rt, force=True)
    rt.store.close()
    relevant = query(template / "state" / "monitor.sqlite3",
                     "SELECT COUNT(*) FROM articles WHERE status = 'analyzed' AND salience != '{}'")[0][0]
    assert relevant == len(ITEMS)

    servers: dict[str, SmtpServer] = {}
    children = {}
    try:
        for point, _ in POINTS:
            servers[point] = SmtpServer().start()
            folder = tmp_path / point
            shutil.copytree(template / "state", folder / "state")
            config = write_config(folder, feed_server.url("/feed.xml"), servers[point].port)
            children[point] = (config, spawn_crash(config, point, folder / "child.log"))
        # All children run at once (independent state, one SMTP server each).
        for point, (config, proc) in children.items():
            code = proc.wait(timeout=90)
            expected = 0 if point == "none" else -signal.SIGKILL
            assert code == expected, f"{point}: exit {code}\n{(config.parent / 'child.log').read_text()}"

        rows: list[str] = []
        resends = 0
        for point, may_hold in POINTS:
            config, _ = children[point]
            server = servers[point]
            before_restart = len(server.messages)
            assert before_restart <= (1 if may_hold else 0), point
            db = config.parent / "state" / "monitor.sqlite3"
            # The kill left a consistent state: no outbox row before the commit, a pending one after.
            state = [r["status"] for r in query(db, "SELECT status FROM outbox")]
            committed = point not in ("in-render", "before-outbox-commit-start", "after-outbox-insert",
                                      "before-outbox-commit")
            assert state == (["sent"] if point in ("after-mark-sent", "none") else
                             ["pending"] if committed else []), (point, state)
            if not committed:
                assert query(db, "SELECT COUNT(*) FROM digest_marks")[0][0] == 0, point
            # The restart: the real `monitor once` code path (flush pending, poll, digest if due, flush).
            assert await cmd_once(argparse.Namespace(config=config)) == 0
            outbox = query(db, "SELECT id, message_id, status FROM outbox")
            marks = query(db, "SELECT article_id, outbox_id FROM digest_marks")
            got = [message_id(m.raw) for m in server.messages]
            # Rendered once at most: one outbox row, sent, covering every article exactly once.
            assert len(outbox) == 1, (point, [tuple(r) for r in outbox])
            assert outbox[0]["status"] == "sent", point
            assert len(marks) == len(ITEMS) and {m["outbox_id"] for m in marks} == {outbox[0]["id"]}, point
            # Delivered: once, or twice with the very same Message-ID when the crash followed DATA.
            assert got and set(got) == {outbox[0]["message_id"]}, (point, got)
            assert len(got) <= 2, (point, got)
            if len(got) == 2:
                assert point in ("after-smtp-accepted", "before-sent-commit"), point
                resends += 1
            rows.append(f"  {point:<28} delivered {len(got)}x  same Message-ID: {len(set(got)) == 1}")
        print(f"\n[fault-suite] delivery crash injection: {len(POINTS) - 1} SIGKILL points + control, "
              f"articles lost 0, digests lost 0, resends {resends} (all with the original Message-ID)")
        print("\n".join(rows))
    finally:
        for server in servers.values():
            server.stop()
        for _, proc in children.values():
            if proc.poll() is None:
                proc.kill()
