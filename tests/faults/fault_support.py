"""The fault suite's own pieces: its entities, numbered feeds, its config, and crashing children.

The clock, runtimes, SQLite and message helpers are tests/support/world.py's."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from support import world
from support.ingest_server import Route

REPO = Path(__file__).resolve().parents[2]

# No alert-flagged entity: every message in these tests is a digest, so counts stay exact.
# ALERT_ENTITIES flags OpenAI (the speaker of every odd item) for the tests about alerts.
ENTITIES = """
[[entity]]
id = "openai"
name = "OpenAI"
kind = "organization"
aliases = ["OpenAI"]

[[entity]]
id = "elon_musk"
name = "Elon Musk"
kind = "person"
aliases = ["Elon Musk", "Musk"]
"""

ALERT_ENTITIES = ENTITIES.replace('kind = "organization"', 'kind = "organization"\nalert = true')

SPEAKERS = ("Elon Musk", "OpenAI")


def item_xml(n: int, published: datetime) -> str:
    who = SPEAKERS[n % len(SPEAKERS)]
    return f"""<item>
<title>{who} e la notizia numero {n}</title>
<link>https://news.example/articolo-{n}</link>
<guid isPermaLink="false">item-{n}</guid>
<pubDate>{format_datetime(published)}</pubDate>
<description>{who} ha detto: «Questa è la dichiarazione numero {n} sul futuro dell'intelligenza
artificiale». Secondo {who} il mercato italiano crescerà ancora.</description>
</item>"""


def feed_xml(numbers: Sequence[int], published: datetime | None = None) -> bytes:
    when = published or datetime.now(UTC) - timedelta(hours=1)
    items = "\n".join(item_xml(n, when) for n in numbers)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Notizie di prova</title><link>https://news.example/</link>
<description>feed di prova</description>
{items}
</channel></rss>""".encode()


def write_config(folder: Path, feed_url: str, smtp_port: int, *, schedule: str = "0 7 * * *",
                 recipients: Sequence[str] = ("redazione@example.com",), smtp_extra: str = "",
                 extra: str = "") -> Path:
    """One feed, the entities above, no jitter, and a digest that never truncates (counts stay exact)."""
    return world.write_config(folder, [(feed_url, "Notizie")], smtp_port=smtp_port, smtp_extra=smtp_extra,
                              digest=schedule, recipients=recipients,
                              digest_extra="max_stories = 1000\nmax_per_section = 1000",
                              poll_timeout=None, jitter=0.0, entities=ENTITIES, extra=extra)


# A child process that runs real monitor code and SIGKILLs itself at a chosen point, or runs a
# CLI command with its wall clock shifted (so a cron digest is due on every run of a test).
CHILD = r"""
import asyncio, os, signal, sys
from datetime import timedelta

from monitor.service import flush as delivery

from monitor.service import pipeline

from monitor.service import daemon as service

from monitor.store import outbox as store_outbox
from monitor.cli import main as cli

mode, cfg, arg = sys.argv[1], sys.argv[2], sys.argv[3]


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if mode == "cli":
    offset = timedelta(minutes=float(arg))
    real_open = service.open_runtime

    def shifted(config):
        rt = real_open(config)
        rt.clock = lambda: pipeline.utc_now() + offset
        return rt

    service.open_runtime = shifted
    # The daemon's first poll is "now" on the real clock (APScheduler runs on the real clock).
    service._now_local = lambda rt: pipeline.utc_now().astimezone(rt.config.timezone)
    print("CHILD-READY", flush=True)
    sys.exit(cli.main(sys.argv[4:]))

point = arg
from monitor.config.load import load_config

rt = service.open_runtime(load_config(cfg))


def trace_killer(first: str, kill_at: str):
    armed = [False]

    def trace(sql: str) -> None:
        if sql.startswith(first):
            armed[0] = True
        elif armed[0] and sql.strip().upper().startswith(kill_at):
            die()
    return trace


if point == "in-render":
    real_render = pipeline.render_digest
    pipeline.render_digest = lambda *a, **k: (real_render(*a, **k), die())[0]
elif point == "before-outbox-commit-start":
    real_enqueue = store_outbox.enqueue
    store_outbox.enqueue = lambda *a, **k: (die(), real_enqueue(*a, **k))[1]
elif point == "after-outbox-insert":
    rt.store.db.set_trace_callback(trace_killer("INSERT INTO outbox", "INSERT INTO DIGEST_RUNS"))
elif point == "before-outbox-commit":
    rt.store.db.set_trace_callback(trace_killer("INSERT INTO outbox", "COMMIT"))
elif point == "after-outbox-commit":
    real_send = delivery.send_raw

    async def send_then(*a, **k):
        die()
        return await real_send(*a, **k)
    delivery.send_raw = send_then
elif point == "after-smtp-accepted":
    real_send = delivery.send_raw

    async def send_then(*a, **k):
        report = await real_send(*a, **k)
        die()
        return report
    delivery.send_raw = send_then
elif point == "before-sent-commit":
    rt.store.db.set_trace_callback(trace_killer("UPDATE outbox SET status", "COMMIT"))
elif point == "after-mark-sent":
    real_mark = store_outbox.mark_sent
    store_outbox.mark_sent = lambda *a, **k: (real_mark(*a, **k), die())[0]
elif point == "after-store-before-analysis":
    async def never(rt_, ids, *rest):
        if ids:
            die()
    pipeline.analyze_articles = never
elif point == "after-analysis-before-alert":
    # Dies on the first statement after the analysis transaction (which owes the alert) commits.
    rt.store.db.set_trace_callback(trace_killer("INSERT OR IGNORE INTO alerts", "SELECT ARTICLE_ID, ENTITY"))
elif point != "none":
    raise SystemExit(f"unknown point {point}")


async def main() -> None:
    if point in ("after-store-before-analysis", "after-analysis-before-alert"):
        await pipeline.poll_feeds(rt, force=True)
        return
    for digest in rt.config.digests:
        pipeline.run_digest(rt, digest)
    await pipeline.flush_outbox(rt)

asyncio.run(main())
rt.store.close()
"""


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STATE_DIRECTORY", "WATCHDOG_USEC", "NOTIFY_SOCKET")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def spawn_crash(config: Path, point: str, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, "crash", str(config), point],
                            env=child_env(), stdout=log.open("w"), stderr=subprocess.STDOUT, text=True,
                            cwd=str(config.parent))


def spawn_cli(config: Path, offset_minutes: float, argv: Sequence[str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, "cli", str(config), str(offset_minutes), *argv],
                            env=child_env(), stdout=subprocess.PIPE, stderr=log.open("a"), text=True,
                            cwd=str(config.parent))


def wait_line(proc: subprocess.Popen[str], marker: str, timeout: float) -> bool:
    """Read the child's stdout until `marker` (True) or the child exits / time runs out (False)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            return False
        if marker in line:
            return True
    return False


class Feed:
    """A feed whose items the test adds to between polls."""

    def __init__(self) -> None:
        self.items: list[int] = []

    def route(self, _request: object) -> Route:
        return Route(body=feed_xml(self.items), headers={"Content-Type": "application/rss+xml"})


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children, their children, ...), from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return False
