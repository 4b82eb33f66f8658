"""Soak: SIGKILL the real monitor at random moments, hundreds of times, and count what broke.

Each iteration adds 3 items to a loopback feed (every other one quotes OpenAI, an alert-flagged
actor), starts the real CLI in a child process with its wall clock shifted 20 minutes further
(so both "* * * * *" digests and the feed are due on every run): `monitor once` two times in
three, `monitor run` the third; every other iteration with `parse_workers = 1`. About one
iteration in five the SMTP sink answers 451 to DATA throughout. The child is SIGKILLed after a
seeded random delay (a `once` that finishes first counts as completed). After each kill, every
process the child had started must be gone within 10 s. At the end clean runs with a healthy
sink pay what is owed, and the figures are counted from the feed, the database and the sink:

- items lost: served but never stored (or stored twice);
- alerts lost: an OpenAI item whose alert never reached the sink;
- digests lost: a queued digest never received, or a story no digest covered;
- duplicates after a crash: a Message-ID received again with a kill between the two deliveries
  (the one duplicate the README allows); duplicates without a crash: the same with no kill
  in between (must be 0);
- orphaned processes: workers or helpers alive 10 s after their parent's SIGKILL.

    python benchmarks/soak_kills.py --kills 200 --max-minutes 30 [--seed N] [--append-results]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT / "tests", ROOT / "tests" / "faults"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from fault_support import (  # noqa: E402
    ALERT_ENTITIES,
    SPEAKERS,
    alive,
    descendants,
    feed_xml,
    spawn_cli,
    wait_line,
    write_config,
)
from support.ingest_server import Route, serve  # noqa: E402
from support.smtp_server import SmtpServer  # noqa: E402
from support.world import message_id, query  # noqa: E402

STEP_MINUTES = 20
NEW_PER_ITERATION = 3
ORPHAN_GRACE = 10.0
REMEASURE_EVERY = 12  # iterations; the first two of each dozen run clean (one per config)
SECOND_DIGEST = """
[[digest]]
name = "sera"
schedule = "* * * * *"
recipients = ["direzione@example.com"]
max_stories = 1000
max_per_section = 1000
[alerts]
max_per_hour = 1000
"""


@dataclass(frozen=True)
class Figures:
    seed: int
    iterations: int
    kills: int
    kills_with_workers: int
    kills_of_run: int
    completed: int
    flaky_iterations: int
    items_served: int
    items_lost: int
    items_stored_twice: int
    alerts_expected: int
    alerts_lost: int
    digests_queued: int
    digests_lost: int
    stories_uncovered: int
    deliveries: int
    duplicates_after_crash: int
    duplicates_without_crash: int
    orphaned_processes: int
    unsent_at_end: int
    seconds: float
    kills_by_phase: str

    def zero_where_promised(self) -> bool:
        return not (self.items_lost or self.items_stored_twice or self.alerts_lost or self.digests_lost
                    or self.stories_uncovered or self.duplicates_without_crash or self.orphaned_processes
                    or self.unsent_at_end)


class GrowingFeed:
    def __init__(self) -> None:
        self.items: list[int] = []

    def route(self, _request: object) -> Route:
        return Route(body=feed_xml(self.items), headers={"Content-Type": "application/rss+xml"})


def configs(folder: Path, feed_url: str, smtp_port: int) -> tuple[Path, Path]:
    """The same state, with and without a parse worker."""
    plain = write_config(folder, feed_url, smtp_port, schedule="* * * * *", extra=SECOND_DIGEST)
    (folder / "entities.toml").write_text(ALERT_ENTITIES, encoding="utf-8")
    workers = folder / "config-workers.toml"
    workers.write_text(plain.read_text(encoding="utf-8").replace("[polling]\n", "[polling]\nparse_workers = 1\n", 1),
                       encoding="utf-8")
    return plain, workers


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> int:
    code = proc.wait(timeout=timeout)
    if proc.stdout is not None:
        proc.stdout.close()
    return code


def wait_in_log(log: Path, text: str, start: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace")[start:]:
            return True
        time.sleep(0.05)
    return False


def phase(text: str) -> str:
    """How far a killed child got, from the log lines it managed to write."""
    if " queued as <" in text or "nothing new" in text:  # "1 story", "3 stories"
        return "digest queued or sending"
    if "new or updated" in text:
        return "polled and analysed"
    if "monitor running" in text:
        return "daemon running"
    return "start-up, first flush, poll or analysis"


class Soak:
    def __init__(self, folder: Path, seed: int, say: Callable[[str], None]) -> None:
        self.folder, self.seed, self.say = folder, seed, say
        self.rng = random.Random(seed)
        self.log = folder / "children.log"
        self.log.touch()
        self.offset = 0
        self.windows: dict[bool, float] = {}
        self.kill_marks: list[int] = []  # messages the sink held when each killed child was dead
        self.counts: Counter[str] = Counter()
        self.phases: Counter[str] = Counter()  # where the killed children were, from their logs

    def iteration(self, i: int, feed: GrowingFeed, smtp: SmtpServer, plain: Path, workers: Path) -> None:
        feed.items.extend(range(len(feed.items), len(feed.items) + NEW_PER_ITERATION))
        self.offset += STEP_MINUTES
        with_workers, daemon = i % 2 == 1, i % 3 == 2
        flaky = self.rng.random() < 0.2
        smtp.data_reply = "451 4.3.0 try again later" if flaky else None
        self.counts["flaky"] += flaky
        config = workers if with_workers else plain
        mark = len(self.log.read_text(errors="replace"))
        proc = spawn_cli(config, self.offset, ["run" if daemon else "once", "-c", str(config)], self.log)
        if not wait_line(proc, "CHILD-READY", 120):
            raise RuntimeError(self.log.read_text(errors="replace")[-3000:])
        # A clean run measures the kill window, now and then again: runs grow longer as the
        # state grows (stories waiting for a digest), and a stale window would bunch the kills
        # at the start of each run.
        if not daemon and (with_workers not in self.windows or i % REMEASURE_EVERY < 2):
            started = time.monotonic()
            code = finish(proc)
            self.windows[with_workers] = (time.monotonic() - started) * 1.2
            self.counts["completed"] += 1
            if code != 0:
                raise RuntimeError(f"clean run failed ({code}): " + self.log.read_text(errors="replace")[-3000:])
            return
        window = self.windows.get(with_workers, 3.0) * (1.5 if daemon else 1.0)
        time.sleep(self.rng.uniform(0.0, window))
        if proc.poll() is not None:
            code = finish(proc)
            self.counts["completed"] += 1
            if code != 0:
                raise RuntimeError(f"run failed ({code}): " + self.log.read_text(errors="replace")[-3000:])
            return
        self.kill(proc, smtp, with_workers, daemon)
        self.phases[phase(self.log.read_text(errors="replace")[mark:])] += 1

    def kill(self, proc: subprocess.Popen[str], smtp: SmtpServer, with_workers: bool, daemon: bool) -> None:
        below = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        finish(proc)
        time.sleep(0.2)  # a DATA the server accepted as the client died is recorded by now
        self.kill_marks.append(len(smtp.messages))
        self.counts["kills"] += 1
        self.counts["kills_with_workers"] += with_workers
        self.counts["kills_of_run"] += daemon
        deadline = time.monotonic() + ORPHAN_GRACE
        while time.monotonic() < deadline and any(alive(p) for p in below):
            time.sleep(0.1)
        left = {p for p in below if alive(p)}
        self.counts["orphans"] += len(left)
        for pid in left:  # counted; now out of the way of the next iterations
            os.kill(pid, signal.SIGKILL)

    def recover(self, smtp: SmtpServer, plain: Path) -> None:
        """A clean daemon start, then clean `once` runs until nothing is pending (backoff ≤ 1 h)."""
        smtp.data_reply = None
        self.offset += STEP_MINUTES
        mark = len(self.log.read_text(errors="replace"))
        proc = spawn_cli(plain, self.offset, ["run", "-c", str(plain)], self.log)
        wait_line(proc, "CHILD-READY", 120)
        if not wait_in_log(self.log, "monitor running", mark, 120):
            raise RuntimeError(self.log.read_text(errors="replace")[mark:])
        time.sleep(3.0)
        proc.send_signal(signal.SIGTERM)
        finish(proc)
        db = plain.parent / "state" / "monitor.sqlite3"
        for _ in range(6):
            self.offset += 30
            proc = spawn_cli(plain, self.offset, ["once", "-c", str(plain)], self.log)
            wait_line(proc, "CHILD-READY", 120)
            finish(proc)
            if not query(db, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'")[0][0]:
                break

    def figures(self, feed: GrowingFeed, smtp: SmtpServer, db: Path, iterations: int, seconds: float) -> Figures:
        stored = Counter(r[0] for r in query(db, "SELECT guid_key FROM articles"))
        served = {f"guid:item-{n}" for n in feed.items}
        alert_items = {f"guid:item-{n}" for n in feed.items if SPEAKERS[n % len(SPEAKERS)] == "OpenAI"}
        received = [message_id(m.raw) for m in smtp.messages]
        got = set(received)
        alerted = {r["guid_key"] for r in query(
            db, "SELECT a.guid_key, o.message_id FROM alerts l JOIN articles a ON a.id = l.article_id "
                "JOIN outbox o ON o.id = l.outbox_id WHERE l.state = 'queued'") if r["message_id"] in got}
        digests = [r["message_id"] for r in query(db, "SELECT message_id FROM outbox WHERE kind = 'digest'")]
        uncovered = query(db, "SELECT COUNT(*) FROM articles a, (SELECT 'mattina' AS d UNION SELECT 'sera') "
                              "WHERE NOT EXISTS (SELECT 1 FROM digest_marks m WHERE m.article_id = a.id "
                              "AND m.digest = d)")[0][0]
        after, without = self.duplicates(received)
        return Figures(
            seed=self.seed, iterations=iterations, kills=self.counts["kills"],
            kills_with_workers=self.counts["kills_with_workers"], kills_of_run=self.counts["kills_of_run"],
            completed=self.counts["completed"], flaky_iterations=self.counts["flaky"],
            items_served=len(served), items_lost=len(served - set(stored)),
            items_stored_twice=sum(1 for c in stored.values() if c > 1),
            alerts_expected=len(alert_items), alerts_lost=len(alert_items - alerted),
            digests_queued=len(digests), digests_lost=sum(1 for d in digests if d not in got),
            stories_uncovered=int(uncovered), deliveries=len(received), duplicates_after_crash=after,
            duplicates_without_crash=without, orphaned_processes=self.counts["orphans"],
            unsent_at_end=int(query(db, "SELECT COUNT(*) FROM outbox WHERE status != 'sent'")[0][0]),
            seconds=round(seconds, 1),
            kills_by_phase=", ".join(f"{k}: {v}" for k, v in sorted(self.phases.items())))

    def duplicates(self, received: list[str]) -> tuple[int, int]:
        """Repeat deliveries of one Message-ID, split by whether a kill fell between the two."""
        seen: dict[str, int] = {}
        after = without = 0
        for position, mid in enumerate(received):
            if mid in seen:
                crashed = any(seen[mid] < mark <= position for mark in self.kill_marks)
                after += crashed
                without += not crashed
            seen[mid] = position
        return after, without


def run_soak(folder: Path, kills: int, seed: int, max_seconds: float,
             say: Callable[[str], None] = print) -> Figures:
    """Kill until `kills` SIGKILLs are in (or time is up), recover, count."""
    feed = GrowingFeed()
    soak = Soak(folder, seed, say)
    started = time.monotonic()
    with serve({"/feed.xml": feed.route}) as http, SmtpServer() as smtp:
        plain, workers = configs(folder, http.url("/feed.xml"), smtp.port)
        i = 0
        while soak.counts["kills"] < kills and time.monotonic() - started < max_seconds:
            soak.iteration(i, feed, smtp, plain, workers)
            i += 1
            if i % 20 == 0:
                say(f"  {i} iterations, {soak.counts['kills']} kills, {time.monotonic() - started:.0f}s")
        soak.recover(smtp, plain)
        return soak.figures(feed, smtp, plain.parent / "state" / "monitor.sqlite3", i, time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--max-minutes", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--keep", type=Path, help="work in this folder (kept) instead of a temporary one")
    parser.add_argument("--append-results", action="store_true", help="append the figures to RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        figures = run_soak(folder, args.kills, args.seed, args.max_minutes * 60)
    for key, value in asdict(figures).items():
        print(f"{key:26} {value}")
    verdict = "PASS" if figures.zero_where_promised() else "FAIL"
    print(f"verdict: {verdict}")
    if args.append_results:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        rows = "\n".join(f"| {k} | {v} |" for k, v in asdict(figures).items())
        with (Path(__file__).parent / "RESULTS.md").open("a", encoding="utf-8") as out:
            out.write(f"\n### {stamp} — kill soak (`python benchmarks/soak_kills.py --kills {args.kills} "
                      f"--seed {args.seed}`): {verdict}\n\n| figure | value |\n| --- | ---: |\n{rows}\n")
    return 0 if figures.zero_where_promised() else 1


if __name__ == "__main__":
    sys.exit(main())
