"""Soak: the daemon's poll cycle thousands of times against loopback feeds that change every cycle.

Months of operation compressed: each cycle moves a fake clock one hour on and runs what the
daemon's jobs run in that hour — the poll job (`pipeline.poll_feeds`, which fetches, parses,
stores, analyses with the real NLP pipeline and queues alerts, then `flush_outbox` to a real SMTP
sink), a digest when its cron time ("0 8 * * *") has come, and once a fake day the prune job
(articles older than 60 days go). 2,000 cycles are 83 days: the database grows for 60 days and
then holds steady, as on a server that runs for months.

Why in-process with a fake clock rather than `monitor run` with a tiny interval: the poll interval
has a floor of 5 minutes and the daemon's poll tick is 20 s, so 2,000 real polls would take 11
hours; moving the clock lets every cycle run as fast as the machine allows, through the same
runtime (`service.daemon.open_runtime`), fetcher, store and SMTP code the daemon uses. The feed
server and the SMTP sink run in a child process, so the figures are the daemon's alone.

Each feed lists its last `--window` items; every cycle adds `--new` items to each feed (a share
of them naming tracked actors, some alert-flagged). Every `--every` cycles the table records RSS
and open file descriptors of this process and the database size (with its WAL). Targets: RSS
growth under 10 MB after the warm-up (`--warmup` cycles), no fd growth.

    python benchmarks/soak_cycles.py --cycles 2000 [--feeds 8] [--append-results]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "tests", ROOT / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from synthfeeds import make_item  # noqa: E402

START = datetime(2026, 1, 5, 5, 0, tzinfo=UTC)
STEP = timedelta(hours=1)
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


# -- the feed server and SMTP sink (child process) ---------------------------------------------

def feed_body(feed: int, request: int, new: int, window: int, actor_share: float, base: str) -> bytes:
    """Feed `feed` at its `request`-th fetch: the newest `window` items, `new` more each fetch.
    An item's bytes depend only on its number, so an item already stored is never "changed"."""
    newest = (request + 1) * new
    items = []
    for number in range(newest - 1, max(-1, newest - 1 - window), -1):
        rng = random.Random(feed * 1_000_003 + number)
        when = START + STEP * (number // new) - timedelta(minutes=number % new)
        item, _ = make_item(rng, feed, number, base, when, 900, actor_share)
        items.append(item)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>\n'
            f"<title>Soak {feed}</title><link>{base}/</link><description>soak</description>\n"
            + "".join(items) + "</channel></rss>\n").encode()


def _serve(conn: Connection, feeds: int, new: int, window: int, actor_share: float) -> None:
    asyncio.run(_serve_async(conn, feeds, new, window, actor_share))


async def _serve_async(conn: Connection, feeds: int, new: int, window: int, actor_share: float) -> None:
    from support.smtp_server import SmtpServer

    requests = [0] * feeds

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                path = line.split(" ")[1] if line.count(" ") >= 2 else ""
                keep = b"connection: close" not in head.lower()
                try:
                    feed = int(path.removeprefix("/feeds/").removesuffix(".xml"))
                    body = feed_body(feed, requests[feed], new, window, actor_share, base)
                    requests[feed] += 1
                    status = "200 OK"
                except (ValueError, IndexError):
                    body, status = b"", "404 Not Found"
                writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                             f"Content-Length: {len(body)}\r\nConnection: {'keep-alive' if keep else 'close'}"
                             "\r\n\r\n".encode() + body)
                await writer.drain()
                if not keep:
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host="127.0.0.1", port=0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    with SmtpServer() as smtp:
        conn.send({"base": base, "smtp_port": smtp.port})
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_message() -> None:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                stop.set()
                return
            if message == "stats":
                conn.send({"messages": len(smtp.messages), "requests": sum(requests)})
            else:
                stop.set()

        loop.add_reader(conn.fileno(), on_message)
        await stop.wait()
        loop.remove_reader(conn.fileno())
    server.close()


class Services:
    def __init__(self, feeds: int, new: int, window: int, actor_share: float) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, feeds, new, window, actor_share), daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(120):
            raise RuntimeError("the feed server did not start")
        ready = self.conn.recv()
        self.base: str = ready["base"]
        self.smtp_port: int = ready["smtp_port"]

    def stats(self) -> dict[str, int]:
        self.conn.send("stats")
        return self.conn.recv() if self.conn.poll(30) else {}

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()


# -- the daemon's side (this process) -----------------------------------------------------------

@dataclass
class Row:
    cycle: int
    elapsed: float
    rss_mb: float
    fds: int
    db_mb: float
    articles: int
    messages: int


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_MB


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def db_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()) / 2**20


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def soak(args: argparse.Namespace, folder: Path, report: list[Row]) -> None:
    from support.world import write_config

    from monitor.config.load import load_config
    from monitor.service import pipeline
    from monitor.service.daemon import KEEP_ARTICLES_DAYS, open_runtime
    from monitor.store.articles import prune

    services = Services(args.feeds, args.new, args.window, args.actor_share)
    try:
        config_path = write_config(folder, [(f"{services.base}/feeds/{i}.xml", f"Soak {i}")
                                            for i in range(args.feeds)],
                                   smtp_port=services.smtp_port, digest="0 8 * * *", backfill_hours=48,
                                   extra="", poll_timeout=30)
        config_path.write_text(config_path.read_text() + "\n[alerts]\nmax_per_hour = 4\n")
        rt = open_runtime(load_config(config_path))
        clock = FakeClock(START)
        rt.clock = clock
        began = time.monotonic()
        try:
            for cycle in range(1, args.cycles + 1):
                clock.now = START + STEP * (cycle - 1)
                # The daemon's poll job, then what its other jobs do in that hour.
                await pipeline.poll_feeds(rt)
                await pipeline.flush_outbox(rt)
                for digest in rt.config.digests:
                    if pipeline.digest_due(rt, digest):
                        pipeline.run_digest(rt, digest)
                        await pipeline.flush_outbox(rt)
                if cycle % 24 == 0:
                    prune(rt.store, now=clock.now, older_than=clock.now - timedelta(days=KEEP_ARTICLES_DAYS))
                if cycle == 1 or cycle % args.every == 0:
                    gc.collect()
                    articles = rt.store.db.execute("SELECT count(*) FROM articles").fetchone()[0]
                    row = Row(cycle, time.monotonic() - began, rss_mb(), open_fds(), db_mb(rt.config.database),
                              articles, services.stats().get("messages", 0))
                    report.append(row)
                    print(f"{row.cycle:>6} {row.elapsed:>8.0f} {row.rss_mb:>8.1f} {row.fds:>5} "
                          f"{row.db_mb:>8.1f} {row.articles:>9} {row.messages:>6}", flush=True)
                if args.max_minutes and time.monotonic() - began > args.max_minutes * 60:
                    print(f"stopped at cycle {cycle}: --max-minutes {args.max_minutes} reached", flush=True)
                    break
        finally:
            await rt.aclose()
    finally:
        services.close()


def verdict(rows: list[Row], warmup: int) -> tuple[float, int, str]:
    """(RSS growth after warm-up in MB, fd growth after warm-up, one line)."""
    after = [r for r in rows if r.cycle >= warmup] or rows[-1:]
    base = after[0]
    growth = max(r.rss_mb for r in after) - base.rss_mb
    # An idle keep-alive or SMTP connection may be open at one sample and not the next (±1): fds
    # grow when a later sample holds more than any sample of the warm-up did.
    fd_growth = max(r.fds for r in after) - max(r.fds for r in rows if r.cycle <= base.cycle)
    ok = growth < 10 and fd_growth <= 0
    return growth, fd_growth, (f"RSS growth after warm-up (cycle {base.cycle}): {growth:.1f} MB (target < 10); "
                               f"fd growth: {max(fd_growth, 0)} (target 0; {min(r.fds for r in rows)}–{max(r.fds for r in rows)} open) — {'met' if ok else 'NOT met'}")


def table(rows: list[Row]) -> str:
    lines = ["| cycle | elapsed s | RSS MB | open fds | database MB | articles | mails received |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r.cycle} | {r.elapsed:.0f} | {r.rss_mb:.1f} | {r.fds} | {r.db_mb:.1f} | {r.articles} | "
              f"{r.messages} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=8)
    parser.add_argument("--new", type=int, default=3, help="new items per feed per cycle")
    parser.add_argument("--window", type=int, default=12, help="items each feed lists")
    parser.add_argument("--actor-share", type=float, default=0.3)
    parser.add_argument("--every", type=int, default=100, help="record a row every N cycles")
    parser.add_argument("--warmup", type=int, default=200, help="cycles before growth is measured")
    parser.add_argument("--max-minutes", type=float, default=0, help="stop early after this long (0: never)")
    parser.add_argument("--keep-state", type=Path, help="keep the state (database) in this folder")
    parser.add_argument("--append-results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    os.environ.pop("STATE_DIRECTORY", None)
    # The hourly cap's summary line every few cycles would bury the table; errors still show.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(message)s")
    rows: list[Row] = []
    print(f"{'cycle':>6} {'secs':>8} {'RSS MB':>8} {'fds':>5} {'DB MB':>8} {'articles':>9} {'mails':>6}", flush=True)
    if args.keep_state:
        asyncio.run(soak(args, args.keep_state, rows))
    else:
        with tempfile.TemporaryDirectory(prefix="soak-cycles-") as tmp:
            asyncio.run(soak(args, Path(tmp), rows))
    growth, fd_growth, line = verdict(rows, args.warmup)
    print(line)
    if args.append_results:
        command = (f"python benchmarks/soak_cycles.py --cycles {args.cycles} --feeds {args.feeds} --new {args.new} "
                   f"--window {args.window}")
        with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write(f"\n## Poll-cycle soak, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n`{command}` "
                    f"({rows[-1].cycle} cycles of one fake hour each, {rows[-1].elapsed / 60:.1f} min)\n\n"
                    f"{table(rows)}\n\n{line}\n")
    return 0 if growth < 10 and fd_growth <= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
