"""Several `monitor run` daemons on one PostgreSQL store (issue 20): never a double send.

Real processes, a real throwaway PostgreSQL (tests/conftest.py `pg_url`), 40 loopback feeds and a
real SMTP server. The daemons share the database only; each has its own config file (same
[store] url, same feeds and digest) with its own User-Agent, so the feed server tells which
daemon fetched what. Feed cycles are driven by the test: it adds items and makes every feed due
again (next_check_at = NULL), which is what time passing does; the digest runs on `* * * * *` on
the real clock, so every minute boundary is a slot both daemons race for.

1. Two daemons, no faults: each feed fetched once per cycle, by one of them, both of them
   working; articles stored once; every digest slot one outbox row, one delivery per Message-ID.
2. kill -9 of one daemon (seeded choice) while it holds feed leases, while a message of its is
   in the (slow) SMTP DATA phase, and around a minute boundary (digest render/queue), restarted
   each time; a same-host dead daemon's leases are taken over at once (not after lease_seconds).
   At the end nothing is lost and any duplicate delivery carries the original's Message-ID.
3. A PostgreSQL restart while a daemon polls slow feeds: the daemon lives on, says so in one
   line, and finishes the work afterwards with every mail sent once.

FAULT_SEED overrides the seed (pytest -s prints the figures).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from fault_support import alive, descendants, spawn_cli, wait_line
from support.ingest_server import IngestServer, RecordedRequest, Route, serve
from support.pg import PgServer
from support.smtp_server import SmtpServer
from support.world import RSS, message_id
from support.world import write_config as world_config

SEED = int(os.environ.get("FAULT_SEED", "20261206"))
FEEDS = 40

# OpenAI is the alert actor; Sam Altman only goes to the digest.
ENTITIES = """
[[entity]]
id = "openai"
name = "OpenAI"
kind = "organization"
aliases = ["OpenAI"]
alert = true

[[entity]]
id = "sam_altman"
name = "Sam Altman"
kind = "person"
aliases = ["Sam Altman", "Altman"]
"""

# Three kinds of item: one quoting Sam Altman, one about OpenAI (an alert), one naming nobody.
SENTENCES = (
    ("Sam Altman torna a parlare di chip, intervista {n}",
     "In un incontro a Milano, Sam Altman ha spiegato che la potenza di calcolo resta il vero collo "
     "di bottiglia. «Ci servono più centrali e più fabbriche di semiconduttori», ha detto nel colloquio {n}."),
    ("OpenAI apre un ufficio a Roma, comunicato {n}",
     "OpenAI ha annunciato l'apertura di una sede italiana con una trentina di ingegneri. Secondo "
     "l'azienda il nuovo gruppo lavorerà sui modelli per la pubblica amministrazione (nota {n})."),
    ("Banda ultralarga nelle aree interne, aggiornamento {n}",
     "La regione ha pubblicato il calendario dei cantieri per la fibra nei comuni montani: i lavori "
     "riguarderanno altre dodici frazioni entro la primavera, scheda {n}."),
)


def item(n: int) -> tuple[str, str, str]:
    title, body = SENTENCES[n % len(SENTENCES)]
    return f"voce-{n}", title.format(n=n), body.format(n=n)


class Feeds:
    """FEEDS loopback feeds; item n lives on feed n % FEEDS. While `gate` is clear a fetch waits
    for it (so the test decides when leased feeds may finish); `delay` slows every answer."""

    def __init__(self, delay: float) -> None:
        self.items: list[int] = []
        self.delay = delay
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()

    def add(self, count: int) -> None:
        with self.lock:
            self.items.extend(range(len(self.items), len(self.items) + count))

    def routes(self) -> dict[str, Callable[[RecordedRequest], Route]]:
        return {f"/f{i}.xml": self._route(i) for i in range(FEEDS)}

    def _route(self, index: int) -> Callable[[RecordedRequest], Route]:
        def route(_request: RecordedRequest) -> Route:
            self.gate.wait(90)
            with self.lock:
                mine = [item(n) for n in self.items if n % FEEDS == index]
            body = "".join(f"<item><title>{t}</title><link>https://notizie.example/{g}</link><guid>{g}</guid>"
                           f"<pubDate>{time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}</pubDate>"
                           f"<description>{b}</description></item>" for g, t, b in mine)
            return Route(body=RSS.format(items=body).encode(), delay=self.delay,
                         headers={"Content-Type": "application/rss+xml"})
        return route


class SlowSmtp(SmtpServer):
    """The test SMTP server, slow to confirm DATA: the message is kept (as a real server that has
    committed it), then the 250 reply waits `data_delay` seconds. A sender killed in that wait
    resends a message already delivered: the duplicate must carry the same Message-ID. `in_data`
    counts the sessions in that phase right now."""

    def __init__(self, data_delay: float) -> None:
        super().__init__()
        self.data_delay = data_delay
        self.in_data = 0
        self.accepted: list[tuple[str, float]] = []  # (Message-ID, when kept), in order
        handler = self._controller.handler
        real = handler.handle_DATA
        server = self

        async def slow(smtp: SMTP, session: Session, envelope: Envelope) -> str:
            reply = str(await real(smtp, session, envelope))
            server.accepted.append((message_id(envelope.original_content or b""), time.monotonic()))
            server.in_data += 1
            try:
                await asyncio.sleep(server.data_delay)
            finally:
                server.in_data -= 1
            return reply
        handler.handle_DATA = slow


def config(folder: Path, http: IngestServer, smtp_port: int, pg_url: str, agent: str, *,
           lease_seconds: float = 8, concurrency: int = 4, parse_workers: int = 0) -> Path:
    feeds = [(http.url(f"/f{i}.xml"), f"Fonte {i}") for i in range(FEEDS)]
    extra = (f'\n[alerts]\nmax_per_hour = 1000\nrecipients = ["allerta@example.it"]\n\n'
             f'[store]\nurl = "{pg_url}"\nlease_seconds = {lease_seconds:g}\n')
    path = world_config(folder, feeds, smtp_port=smtp_port, digest="* * * * *", poll_timeout=60, jitter=0.0,
                        digest_extra="max_stories = 1000\nmax_per_section = 1000", entities=ENTITIES,
                        extra=extra)
    text = path.read_text(encoding="utf-8").replace(
        "[polling]\n", f'[polling]\nuser_agent = "{agent}"\nconcurrency = {concurrency}\nparse_workers = {parse_workers}\n', 1)
    path.write_text(text, encoding="utf-8")
    return path


def sql(url: str, statement: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, args)
        return cur.fetchall() if cur.description else []


def wait_for(what: str, check: Callable[[], bool], timeout: float, detail: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn, psycopg.OperationalError):
            pass  # the first daemon has not created (or finished migrating) the schema yet; the server is restarting
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{detail()}")


class Daemon:
    """One `monitor run` child (fault_support.spawn_cli, real clock) and its log."""

    def __init__(self, name: str, cfg: Path, log: Path) -> None:
        self.name, self.cfg, self.log = name, cfg, log
        self.proc: subprocess.Popen[str] | None = None
        self.pids: list[int] = []
        self.workers: set[int] = set()

    def start(self) -> None:
        self.proc = spawn_cli(self.cfg, 0, ["run", "-c", str(self.cfg)], self.log)
        self.pids.append(self.proc.pid)
        assert wait_line(self.proc, "CHILD-READY", 60), self.tail()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.workers |= descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=20) == -signal.SIGKILL
        self._close()

    def stop(self) -> int:
        assert self.proc is not None
        self.workers |= descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=20)
        self._close()
        return code

    def _close(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def tail(self, chars: int = 4000) -> str:
        return f"--- {self.name} log ---\n" + (self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "")


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Every daemon a test starts; stopped at the end, and none may leave a process behind."""
    started: list[Daemon] = []
    yield started
    for d in started:
        if d.running():
            d.workers |= descendants(d.pid)
            d.proc.kill()  # type: ignore[union-attr]
            d.proc.wait(timeout=20)  # type: ignore[union-attr]
            d._close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(p) for d in started for p in d.workers):
        time.sleep(0.1)
    left = {p for d in started for p in d.workers if alive(p)}
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"orphaned processes: {sorted(left)}"


def owned_by(url: str, pid: int) -> int:
    return int(sql(url, "SELECT COUNT(*) FROM feeds WHERE leased_by LIKE %s", (f"%:{pid}:%",))[0][0])


def all_polled_since(url: str, since: float) -> bool:
    row = sql(url, "SELECT COUNT(*) FILTER (WHERE last_polled_at >= %s AND leased_by IS NULL), COUNT(*) "
                   "FROM feeds", (since,))[0]
    return bool(row[0] == row[1] == FEEDS)


def new_cycle(url: str) -> float:
    """Every feed due again (what 15 minutes would do); the cycle's start, on the database's clock."""
    started = float(sql(url, "SELECT extract(epoch FROM clock_timestamp())")[0][0])
    sql(url, "UPDATE feeds SET next_check_at = NULL")
    return started


def check_store(url: str, feeds: Feeds, smtp: SmtpServer) -> dict[str, int]:
    """Nothing lost, nothing doubled; returns the figures."""
    stored = Counter(r[0] for r in sql(url, "SELECT guid_key FROM articles"))
    served = {f"guid:voce-{n}" for n in feeds.items}
    assert set(stored) == served, f"lost: {sorted(served - set(stored))[:10]}, unknown: {sorted(set(stored) - served)[:10]}"
    assert set(stored.values()) == {1}, [k for k, c in stored.items() if c > 1]
    assert sql(url, "SELECT COUNT(*) FROM articles WHERE status != 'analyzed'")[0][0] == 0
    # Every OpenAI item owes an alert: one row each, queued and sent.
    owed = sum(1 for n in feeds.items if n % len(SENTENCES) == 1)
    alerts = sql(url, "SELECT a.outbox_id, o.status FROM alerts a LEFT JOIN outbox o ON o.id = a.outbox_id "
                      "WHERE a.entity = 'openai'")
    assert len(alerts) == owed and all(status == "sent" for _, status in alerts), (owed, Counter(s for _, s in alerts))
    # Every article naming an actor went into a digest that was sent.
    unmarked = sql(url, "SELECT COUNT(DISTINCT m.article_id) FROM mentions m WHERE m.article_id NOT IN "
                        "(SELECT d.article_id FROM digest_marks d JOIN outbox o ON o.id = d.outbox_id "
                        "WHERE o.status = 'sent')")[0][0]
    assert unmarked == 0, f"{unmarked} articles naming an actor in no sent digest"
    # Each digest slot: at most one outbox row, and each digest row belongs to one slot.
    slots = sql(url, "SELECT slot_at, outbox_id FROM digest_slots WHERE digest = 'mattina'")
    digests = sql(url, "SELECT id FROM outbox WHERE kind = 'digest'")
    slot_rows = Counter(o for _, o in slots if o is not None)
    assert set(slot_rows.values()) <= {1} and set(slot_rows) == {i for (i,) in digests}, (slots, digests)
    rows = sql(url, "SELECT message_id, status FROM outbox")
    assert all(status == "sent" for _, status in rows), Counter(s for _, s in rows)
    received = Counter(message_id(m.raw) for m in smtp.messages)
    assert set(received) == {m for m, _ in rows}, "queued but never received, or received but unknown"
    return {"articles": len(stored), "alerts": owed, "slots": len(slots), "digests": len(digests),
            "deliveries": sum(received.values()), "duplicates": sum(received.values()) - len(received)}


def no_traceback(*daemons: Daemon) -> None:
    for d in daemons:
        text = d.log.read_text(errors="replace")
        assert "Traceback" not in text, d.tail(8000)


@pytest.mark.timeout(240)
def test_two_daemons_share_the_feeds_and_send_each_slot_once(tmp_path: Path, pg_url: str,
                                                             daemons: list[Daemon]) -> None:
    feeds = Feeds(delay=0.2)
    feeds.add(2 * FEEDS)
    with serve(feeds.routes()) as http, SlowSmtp(0.0) as smtp:
        a = Daemon("A", config(tmp_path / "a", http, smtp.port, pg_url, "monitor-test/A"), tmp_path / "a.log")
        b = Daemon("B", config(tmp_path / "b", http, smtp.port, pg_url, "monitor-test/B"), tmp_path / "b.log")
        daemons += [a, b]
        started = time.monotonic()
        cycles: list[list[RecordedRequest]] = []
        for cycle in range(2):
            # The feeds answer only once both daemons hold some: each cycle is shared for sure.
            feeds.gate.clear()
            mark = len(http.requests)
            if cycle == 0:
                since = 0.0
                a.start()
                b.start()
            else:
                feeds.add(FEEDS)
                since = new_cycle(pg_url)
            wait_for("both daemons to lease feeds", lambda: owned_by(pg_url, a.pid) > 0 and owned_by(pg_url, b.pid) > 0,
                     90, lambda: a.tail() + b.tail())
            feeds.gate.set()
            wait_for(f"cycle {cycle} to poll every feed", partial(all_polled_since, pg_url, since), 90,
                     lambda: a.tail() + b.tail())
            cycles.append(http.requests[mark:])
        # The mail of the last cycle and at least one minute-boundary slot raced by both.
        first_minute = int(time.time() // 60)
        wait_for("a minute boundary's digest", lambda: int(time.time() // 60) > first_minute and sql(
            pg_url, "SELECT COUNT(*) FROM digest_slots WHERE slot_at >= %s", (float((first_minute + 1) * 60),))[0][0] > 0,
                 90)
        wait_for("the outbox to empty", lambda: sql(
            pg_url, "SELECT COUNT(*) FROM outbox WHERE status != 'sent'")[0][0] == 0, 90)
        assert a.running() and b.running(), a.tail() + b.tail()
        assert a.stop() == 0 and b.stop() == 0
        elapsed = time.monotonic() - started
    by_agent: Counter[str] = Counter()
    for number, requests in enumerate(cycles):
        per_feed = Counter(r.path for r in requests)
        assert per_feed == Counter({f"/f{i}.xml": 1 for i in range(FEEDS)}), (number, per_feed)
        agents = Counter(r.headers.get("user-agent", "") for r in requests)
        assert set(agents) == {"monitor-test/A", "monitor-test/B"}, (number, agents)  # both did work
        by_agent += agents
    figures = check_store(pg_url, feeds, smtp)
    assert figures["duplicates"] == 0
    assert figures["slots"] >= 2  # the first run and a minute boundary at least
    no_traceback(a, b)
    print(f"\n[fault-suite] two daemons on one PostgreSQL store: {len(cycles)} cycles x {FEEDS} feeds, "
          f"fetches by A {by_agent['monitor-test/A']}, by B {by_agent['monitor-test/B']}, each feed once a cycle; "
          f"{figures}; {elapsed:.1f} s")


def wait_in_log(d: Daemon, pattern: str, timeout: float, since: int = 0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, d.log.read_text(errors="replace")[since:]):
            return True
        time.sleep(0.1)
    return False


def held_by(url: str, d: Daemon) -> list[int]:
    return [r[0] for r in sql(url, "SELECT id FROM feeds WHERE leased_by LIKE %s", (f"%:{d.pid}:%",))]


@pytest.mark.timeout(180)
def test_a_dead_daemons_leases_are_taken_over_at_once_on_the_same_host(tmp_path: Path, pg_url: str,
                                                                        daemons: list[Daemon]) -> None:
    """lease_seconds is 300: the survivor must not wait for it, the dead owner is seen dead."""
    feeds = Feeds(delay=0.1)
    feeds.add(FEEDS)
    with serve(feeds.routes()) as http, SlowSmtp(0.0) as smtp:
        a = Daemon("A", config(tmp_path / "a", http, smtp.port, pg_url, "monitor-test/A", lease_seconds=300),
                   tmp_path / "a.log")
        b = Daemon("B", config(tmp_path / "b", http, smtp.port, pg_url, "monitor-test/B", lease_seconds=300),
                   tmp_path / "b.log")
        daemons += [a, b]
        feeds.gate.clear()
        a.start()
        wait_for("A to lease feeds", lambda: bool(held_by(pg_url, a)), 90, a.tail)
        orphaned = held_by(pg_url, a)
        until = float(sql(pg_url, "SELECT MIN(leased_until) FROM feeds WHERE id = ANY(%s)", (orphaned,))[0][0])
        mark = len(http.requests)
        a.kill()  # in the middle of its first cycle, its fetches hanging on the gate
        killed = time.monotonic()
        b.start()
        feeds.gate.set()
        wait_for("B to poll every feed, A's too", lambda: all_polled_since(pg_url, 0.0), 120, b.tail)
        taken = time.monotonic() - killed
        polled = sql(pg_url, "SELECT MAX(last_polled_at) FROM feeds WHERE id = ANY(%s)", (orphaned,))[0][0]
        assert polled < until, "A's feeds waited for their lease to expire"
        agents = Counter(r.headers.get("user-agent", "") for r in http.requests[mark:])
        assert agents["monitor-test/B"] >= FEEDS, agents  # every feed, the orphaned ones included
        wait_for("the outbox to empty", lambda: bool(sql(pg_url, "SELECT COUNT(*) FROM outbox")[0][0]) and sql(
            pg_url, "SELECT COUNT(*) FROM outbox WHERE status != 'sent'")[0][0] == 0, 90, b.tail)
        assert b.stop() == 0
    figures = check_store(pg_url, feeds, smtp)
    no_traceback(b)
    print(f"\n[fault-suite] same-host takeover: {len(orphaned)} feeds leased by a killed daemon for 300 s, "
          f"all polled by the other {taken:.1f} s after the kill; {figures}")


PHASES = ("poll", "send", "queue")
KILLS = int(os.environ.get("FAULT_KILLS", "6"))


@pytest.mark.timeout(300)
def test_kill_9_of_one_daemon_while_another_runs_loses_and_doubles_nothing(
        tmp_path: Path, pg_url: str, daemons: list[Daemon]) -> None:
    """Each round: new items, every feed due, the daemon killed last round restarted (it polls at
    once, the other at its next tick), then one of them SIGKILLed while it holds feed leases, while
    a message of its is in the slow DATA phase, or just after a minute boundary (the digest slot
    being rendered and queued by both). A boundary coming within a few seconds makes the round a
    "queue" one, at least once in the run."""
    rng = random.Random(SEED)
    feeds = Feeds(delay=0.2)
    feeds.add(FEEDS)
    with serve(feeds.routes()) as http, SlowSmtp(0.7) as smtp:
        pair = [Daemon(name, config(tmp_path / name, http, smtp.port, pg_url, f"monitor-test/{name}", lease_seconds=6,
                              parse_workers=1),
                       tmp_path / f"{name}.log") for name in ("A", "B")]
        daemons += pair

        def tails() -> str:
            return "".join(d.tail() for d in pair)
        started = time.monotonic()
        for d in pair:
            d.start()
        wait_for("the first cycle", lambda: all_polled_since(pg_url, 0.0), 90, tails)
        kills: Counter[str] = Counter()
        leases_at_kill = 0
        killed: Daemon | None = None
        since = 0.0
        kill_times: list[float] = []
        rounds: list[str] = []
        for round_ in range(KILLS):
            round_started = time.monotonic()
            target = rng.choice(PHASES[:2])
            if 60 - time.time() % 60 < 10 or (round_ == KILLS - 1 and not kills["queue"]):
                target = "queue"
            feeds.add(FEEDS // 2)  # every third an OpenAI alert
            if target == "poll":
                feeds.gate.clear()  # fetches wait until the victim holds leases
            since = new_cycle(pg_url)
            if killed is not None:
                killed.start()
            if target == "poll":
                wait_for("a daemon to lease", lambda: any(held_by(pg_url, d) for d in pair), 60, tails)
                victim = rng.choice([d for d in pair if held_by(pg_url, d)] or pair)
                feeds.gate.set()
                time.sleep(rng.uniform(0.0, 1.0))  # a random moment into its cycle
                leases_at_kill += len(held_by(pg_url, victim))
            elif target == "send":
                def sender() -> Daemon | None:
                    if not smtp.in_data:
                        return None
                    owners = [r[0] for r in sql(pg_url, "SELECT claimed_by FROM outbox WHERE claimed_by IS NOT NULL")]
                    return next((d for d in pair if any(f":{d.pid}:" in o for o in owners)), None)
                wait_for("a message in DATA", lambda: sender() is not None, 90, tails)
                victim = sender() or rng.choice(pair)
                time.sleep(rng.uniform(0.0, 0.5))
            else:
                victim = rng.choice(pair)
                time.sleep(60 - time.time() % 60 + rng.uniform(0.0, 0.4))
            kills[target] += 1
            kill_times.append(time.monotonic())
            victim.kill()
            rounds.append(f"{target} {victim.name} {kill_times[-1] - round_started:.1f}s")
            killed = victim
        # The final clean pass: new items, every feed due, the last victim back; then the mail
        # and a digest slot later than the last article, so every story is in a sent digest.
        feeds.add(FEEDS // 2)
        since = new_cycle(pg_url)
        assert killed is not None
        killed.start()
        wait_for("a clean final cycle", lambda: all_polled_since(pg_url, since), 120, tails)
        wait_for("articles analysed and mail sent", lambda: sql(
            pg_url, "SELECT (SELECT COUNT(*) FROM articles WHERE status != 'analyzed') + "
                    "(SELECT COUNT(*) FROM outbox WHERE status != 'sent')")[0][0] == 0, 120, tails)
        last = float(sql(pg_url, "SELECT MAX(first_seen_at) FROM articles")[0][0])
        wait_for("a digest slot after the last article", lambda: sql(
            pg_url, "SELECT COUNT(*) FROM digest_slots WHERE slot_at > %s", (last,))[0][0] > 0, 90, tails)
        wait_for("the outbox to empty", lambda: sql(
            pg_url, "SELECT COUNT(*) FROM outbox WHERE status != 'sent'")[0][0] == 0, 90, tails)
        for d in pair:
            assert d.running(), d.tail()
            assert d.stop() == 0, d.tail()
        elapsed = time.monotonic() - started
    figures = check_store(pg_url, feeds, smtp)
    # A message is delivered again only when its sender died after the server kept it (within
    # the slow reply): every delivery but the last of a Message-ID precedes a kill closely.
    received = Counter(message_id(m.raw) for m in smtp.messages)
    for mid, when in smtp.accepted:
        if received[mid] > 1 and when != max(w for m, w in smtp.accepted if m == mid):
            assert any(when <= k <= when + smtp.data_delay + 10 for k in kill_times), (mid, received[mid])
    no_traceback(*pair)
    workers = sum(len(d.workers) for d in pair)
    assert workers >= KILLS, "the daemons' parse workers were not seen (the orphan check would be empty)"
    print(f"\n[fault-suite] kill -9 beside a live daemon (seed {SEED}): {sum(kills.values())} kills {dict(kills)}, "
          f"{leases_at_kill} feed leases held at the poll kills, {workers} worker processes checked for orphans, "
          f"{figures}; {elapsed:.1f} s; rounds: {', '.join(rounds)}")


@pytest.mark.timeout(240)
def test_a_postgresql_restart_mid_cycle_is_survived_with_one_line(tmp_path: Path, pg_server: PgServer, pg_url: str,
                                                                 daemons: list[Daemon]) -> None:
    if not pg_server.owned:
        pytest.skip("MONITOR_TEST_PG_URL names a server this test may not restart")
    feeds = Feeds(delay=0.4)  # one host: fetched one at a time, a cycle lasts about 16 s
    feeds.add(2 * FEEDS)
    with serve(feeds.routes()) as http, SlowSmtp(0.0) as smtp:
        a = Daemon("A", config(tmp_path / "a", http, smtp.port, pg_url, "monitor-test/A"), tmp_path / "a.log")
        daemons.append(a)
        started = time.monotonic()
        feeds.gate.clear()
        a.start()
        wait_for("A to lease feeds", lambda: bool(held_by(pg_url, a)), 90, a.tail)
        feeds.gate.set()
        time.sleep(2.0)  # some feeds recorded, one in flight, more leased as slots free up
        before = int(sql(pg_url, "SELECT COUNT(*) FROM feeds WHERE last_polled_at IS NOT NULL")[0][0])
        t = time.monotonic()
        pg_server.restart()
        restart_seconds = time.monotonic() - t
        wait_for("every feed polled after the restart", lambda: all_polled_since(pg_url, 0.0), 120, a.tail)
        wait_for("articles analysed and mail sent", lambda: sql(
            pg_url, "SELECT (SELECT COUNT(*) FROM articles WHERE status != 'analyzed') + "
                    "(SELECT COUNT(*) FROM outbox WHERE status != 'sent')")[0][0] == 0, 120, a.tail)
        last = float(sql(pg_url, "SELECT MAX(first_seen_at) FROM articles")[0][0])
        wait_for("a digest slot after the last article", lambda: sql(
            pg_url, "SELECT COUNT(*) FROM digest_slots WHERE slot_at > %s", (last,))[0][0] > 0, 90, a.tail)
        wait_for("the outbox to empty", lambda: sql(
            pg_url, "SELECT COUNT(*) FROM outbox WHERE status != 'sent'")[0][0] == 0, 90, a.tail)
        assert a.running(), a.tail()
        assert a.stop() == 0, a.tail()
        elapsed = time.monotonic() - started
    text = a.log.read_text(errors="replace")
    assert "Traceback" not in text, a.tail(8000)
    lost = [line for line in text.splitlines() if "PostgreSQL store" in line and "lost the connection" in line]
    assert 1 <= len(lost) <= 2, a.tail(8000)  # said once (twice at most: the poll and a flush in flight)
    problems = [line for line in text.splitlines() if " ERROR " in line or "exception" in line.lower()]
    assert len(problems) <= len(lost), problems
    figures = check_store(pg_url, feeds, smtp)
    assert figures["duplicates"] == 0
    print(f"\n[fault-suite] PostgreSQL restart mid-cycle ({before} of {FEEDS} feeds polled before it, restart "
          f"{restart_seconds:.1f} s): the daemon lived on; log: {lost}; {figures}; {elapsed:.1f} s")
