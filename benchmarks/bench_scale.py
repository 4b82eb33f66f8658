"""Beyond one machine: one daemon on SQLite, one on PostgreSQL, two sharing one PostgreSQL.

    python benchmarks/bench_scale.py                                  # 10,000 feeds x 10 items, all parties
    python benchmarks/bench_scale.py --parties sqlite --feeds 300     # quick check, SQLite only
    python benchmarks/bench_scale.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres
    python benchmarks/bench_scale.py --rounds 3                       # parties interleaved 3 times, medians

Every party polls the same synthetic Italian feeds, served by loopback HTTP servers in separate
processes (benchmarks/loopserve.py, one 127/8 address per feed, ETag and 304 answers), from a
fresh state: a fresh SQLite state_dir, or a fresh PostgreSQL database. Parties:

- sqlite: one daemon, the SQLite file in its state_dir (no [store] section, as today);
- pg1: one daemon, `[store] url` = a fresh database;
- pg2: two daemons on one fresh database, started at the same moment; the store's leases
  (`FOR UPDATE SKIP LOCKED`) split the due feeds between them.

A daemon is a fresh Python process running monitor's real code: load_config, open_runtime (which
loads spaCy), then `pipeline.poll_feeds(rt)` — not force=True, which would bypass the leases.
Each party runs a COLD cycle (no feed ever polled, every item new) and then a WARM cycle in the
same daemons: every row of `feeds` gets `next_check_at = NULL` directly through sqlite3 /
psycopg (`--warm-reset-sql`), `--warm-gap` seconds pass so idle connections expire as between
real polls, and every feed answers 304.

Every daemon signals once its runtime is open and waits for a start file: model load and feed
sync are excluded in every party the same way. A cycle's time runs from the common start to the
end of the last daemon. Peak memory is sampled from outside (benchmarks/memsample.py): RSS summed
over the daemon and its parse workers, for its whole life (start-up included); for pg2 the
party's figure is the sum of both daemons' peaks (an upper bound: the peaks need not coincide),
and each daemon's is given too. The PostgreSQL server's own memory and CPU are not counted.

`--parse-workers` defaults to 0, one core per daemon: each daemon stands for one machine, and
this VM has two cores; with a worker each daemon would already use both and a second daemon
could only share them. Default size, 10,000 feeds x 10 items (~17 KB a feed, 100,000 items,
175 MB served): on this 2-core VM the feed servers build the feeds in ~4 s, and the SQLite
party took 88 s cold and 4.5 s warm (2026-12-06 13:39 UTC); with PostgreSQL at up to 1.5x that,
the three parties together take about 6 - 8 min, well inside 15.

Results are printed and appended to benchmarks/RESULTS.md. Traffic goes only to 127.0.0.0/8
(feeds and the database); every wait has a time limit and every process started here is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench_cycle import _clean_env, _write_monitor_config, machine, record
from loopserve import FeedServers, FeedSpec
from memsample import TreeSampler
from synthfeeds import fixed_now

HERE = Path(__file__).resolve().parent
PHASES = ("cold", "warm")
TARGETS = {"pg2_speedup": 1.6, "pg1_vs_sqlite": 1.5}
WARM_RESET_SQL = "UPDATE feeds SET next_check_at = NULL"
POLL_SECONDS = 0.005  # how often a waiting daemon looks for its start file
SAMPLE_SECONDS = 0.05  # memory sampling period (as bench_cycle)


@dataclass(frozen=True)
class Party:
    name: str
    store: str  # "sqlite" or "pg"
    daemons: int


PARTIES = {"sqlite": Party("sqlite", "sqlite", 1), "pg1": Party("pg1", "pg", 1), "pg2": Party("pg2", "pg", 2)}


# --- the daemon: its own process, one per daemon -----------------------------------------------

def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _write_json(path: Path, data: dict[str, Any]) -> None:
    # Written aside and renamed: the orchestrator never reads half a file.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.rename(path)


async def _wait_file(path: Path, timeout: float) -> float:
    """Wait for the orchestrator's start file; the monotonic time it was seen."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {path.name} within {timeout:.0f} s")
        await asyncio.sleep(POLL_SECONDS)
    return time.monotonic()


async def _daemon(config_path: Path, sync: Path, ident: int, timeout: float) -> None:
    from monitor.config.load import load_config
    from monitor.service import pipeline
    from monitor.service.daemon import open_runtime

    os.environ.pop("STATE_DIRECTORY", None)
    t0 = time.monotonic()
    rt = open_runtime(load_config(config_path))  # spaCy, parse workers, schema, feed sync
    setup = {"wall": time.monotonic() - t0, "cpu": _cpu()}
    try:
        for phase in PHASES:
            _write_json(sync / f"ready-{phase}-{ident}.json", {"pid": os.getpid(), "setup": setup})
            seen = await _wait_file(sync / f"go-{phase}", timeout)
            c0 = _cpu()
            profile = os.environ.get("BENCH_PROFILE")  # a file prefix: cProfile of each cycle
            if profile:
                import cProfile

                # BENCH_PROFILE_CPU=1: the event loop thread's CPU time, not wall time (waits vanish)
                cpu_only = bool(os.environ.get("BENCH_PROFILE_CPU"))
                prof = cProfile.Profile(time.thread_time) if cpu_only else cProfile.Profile()
                prof.enable()
            outcomes = await pipeline.poll_feeds(rt)
            if profile:
                prof.disable()
                prof.dump_stats(f"{profile}-{phase}-{ident}.prof")
            statuses: dict[str, int] = {}
            for o in outcomes:
                statuses[o.status] = statuses.get(o.status, 0) + 1
            _write_json(sync / f"result-{phase}-{ident}.json", {
                "seen": seen, "end": time.monotonic(), "cpu": _cpu() - c0,
                "polled": len(outcomes), "statuses": statuses,
                "new_articles": sum(o.new_articles for o in outcomes),
                "errors": sorted({o.error for o in outcomes if o.error})[:3],
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            })
    finally:
        await rt.aclose()


# --- what two busy processes get out of this machine ------------------------------------------

_SPIN = "import time\nt = time.process_time()\nn = 0\nwhile time.process_time() - t < {seconds}:\n" \
        "    n += sum(range(1000))\nprint(n)"


def parallel_capacity(seconds: float = 2.0) -> float:
    """How much more work two CPU-bound processes do at once than one alone, in the same wall
    time: 2.0 on two idle cores of their own, less where the cores are shared. Any two-daemon
    speed-up measured here is bounded by it (the daemons, PostgreSQL and the feed servers all
    share these cores)."""
    def spin(count: int) -> float:
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", _SPIN.format(seconds=seconds)], stdout=subprocess.PIPE,
                                  text=True) for _ in range(count)]
        work = sum(int(p.communicate(timeout=60 * seconds)[0]) for p in procs)
        return work / (time.perf_counter() - t0)

    alone = spin(1)
    return spin(2) / alone


# --- fresh stores: SQLite needs nothing, PostgreSQL a database per party --------------------

class PgDatabases:
    """Fresh databases on `--pg-url`'s server, or on a throwaway tests.support.pg.PgServer."""

    def __init__(self, admin_url: str | None) -> None:
        self.admin_url = admin_url
        self.server: Any = None
        self.created: list[str] = []

    def start(self) -> None:
        if self.admin_url:
            return
        sys.path.insert(0, str(HERE.parent))  # tests/ lives beside benchmarks/, not installed
        from tests.support.pg import PgServer  # lazily: only the PG parties need it

        self.server = PgServer.launch()

    def create(self, party: str) -> str:
        if self.server is not None:
            return str(self.server.create_database())
        import psycopg

        name = f"bench_scale_{party}_{os.getpid()}_{len(self.created)}"
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=30) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        parts = urlsplit(str(self.admin_url))
        return urlunsplit(parts._replace(path="/" + name))

    def drop(self, url: str) -> None:
        """A party's database, once its daemons are gone."""
        if self.server is not None:
            self.server.drop_database(url)
            return
        import psycopg

        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(str(self.admin_url), autocommit=True, connect_timeout=30) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.remove(name)

    def server_version(self, url: str) -> str:
        import psycopg

        with psycopg.connect(url, connect_timeout=30) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"

    def close(self) -> None:
        if self.server is not None:
            self.server.close()  # stops it and removes its data directory
            self.server = None
            return
        if not self.created:
            return
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=30) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created = []


def make_due_again(store_url: str | None, sqlite_file: Path, sql: str) -> int:
    """Every feed due again, written straight into the store; the number of rows changed."""
    if store_url is None:
        with contextlib.closing(sqlite3.connect(sqlite_file, timeout=60)) as db, db:
            return db.execute(sql).rowcount
    import psycopg

    with psycopg.connect(store_url, connect_timeout=30) as conn:  # commits on leaving
        return conn.execute(sql).rowcount


# --- the orchestrator --------------------------------------------------------------------------

@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    log: Path  # its stdout and stderr
    memory: TreeSampler = field(default_factory=TreeSampler)


def write_config(folder: Path, urls: list[str], store_url: str | None, args: argparse.Namespace) -> Path:
    """bench_cycle's config (backfill unlimited, loopback feeds), plus [store] for PostgreSQL."""
    folder.mkdir(parents=True)
    os.environ["BENCH_PARSE_WORKERS"] = str(args.parse_workers)  # read by _write_monitor_config
    path = _write_monitor_config(folder, urls, args.concurrency)
    if store_url is not None:
        # Appended after the [[feeds]]: a new table header is valid anywhere in TOML. No [store]
        # at all for SQLite, so the party runs exactly today's configuration.
        lease = f"lease_seconds = {args.lease_seconds}\n" if args.lease_seconds else ""
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"\n[store]\nurl = {json.dumps(store_url)}\n{lease}")
    return path


def _start(config: Path, sync: Path, ident: int, args: argparse.Namespace) -> Daemon:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--config", str(config),
           "--sync", str(sync), "--ident", str(ident), "--step-timeout", str(args.step_timeout)]
    log = config.parent / "daemon.log"
    with log.open("wb") as err:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, stdout=err, stderr=err, env=_clean_env(), start_new_session=True)
    return Daemon(proc, log)


def _tail(daemon: Daemon) -> str:
    return daemon.log.read_text(encoding="utf-8", errors="replace")[-3000:]


def _wait(daemons: list[Daemon], files: list[Path], timeout: float, what: str) -> None:
    """Until every file exists, sampling memory; a daemon that dies or a deadline fails the run."""
    deadline = time.monotonic() + timeout
    while not all(f.exists() for f in files):
        for d in daemons:
            code = d.proc.poll()
            if code is not None and code != 0:
                raise RuntimeError(f"daemon {d.proc.pid} exited {code} while {what}:\n{_tail(d)}")
            if code is None:
                d.memory.sample(d.proc.pid)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done within {timeout:.0f} s")
        time.sleep(SAMPLE_SECONDS)


def _pause(daemons: list[Daemon], seconds: float) -> None:
    """Sleep, still sampling memory (a daemon closing idle connections may grow)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for d in daemons:
            if d.proc.poll() is None:
                d.memory.sample(d.proc.pid)
        time.sleep(SAMPLE_SECONDS)


def _stop(daemons: list[Daemon]) -> None:
    for d in daemons:
        if d.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(d.proc.pid, 9)  # its own session: the parse workers go with it
        with contextlib.suppress(subprocess.TimeoutExpired):
            d.proc.wait(10)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def run_party(party: Party, urls: list[str], servers: FeedServers, folder: Path,
              store_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    sync = folder / "sync"
    sync.mkdir(parents=True)
    configs = [write_config(folder / f"daemon{i}", urls, store_url, args) for i in range(party.daemons)]
    daemons: list[Daemon] = []
    result: dict[str, Any] = {"party": party.name, "daemons": party.daemons}
    try:
        for i, config in enumerate(configs):
            # One after the other: the second opens the store once the first has created the
            # schema and synced the feeds, so the start-up does not race (it is not measured).
            daemons.append(_start(config, sync, i, args))
            _wait(daemons, [sync / f"ready-cold-{i}.json"], args.step_timeout, f"{party.name} daemon {i} start-up")
        result["setup"] = [_load(sync / f"ready-cold-{i}.json")["setup"] for i in range(party.daemons)]
        for phase in PHASES:
            if phase == "warm":
                sqlite_file = configs[0].parent / "state" / "monitor.sqlite3"
                result["reset_rows"] = make_due_again(store_url, sqlite_file, args.warm_reset_sql)
                _pause(daemons, args.warm_gap)
            _wait(daemons, [sync / f"ready-{phase}-{i}.json" for i in range(party.daemons)], args.step_timeout,
                  f"{party.name} daemons ready for {phase}")
            servers.reset()
            go = time.monotonic()
            (sync / f"go-{phase}").touch()
            files = [sync / f"result-{phase}-{i}.json" for i in range(party.daemons)]
            _wait(daemons, files, args.step_timeout, f"{party.name} {phase} cycle")
            each = [_load(f) for f in files]
            result[phase] = {"wall": max(r["end"] for r in each) - go, "each": each, "served": servers.stats()}
            print(f"  {party.name} {phase}: {result[phase]['wall']:.2f} s, polled "
                  f"{' + '.join(str(r['polled']) for r in each)}", flush=True)
        for d in daemons:
            d.proc.wait(args.step_timeout)  # closes its runtime and leaves
            if d.proc.returncode != 0:
                raise RuntimeError(f"daemon {d.proc.pid} exited {d.proc.returncode}:\n{_tail(d)}")
    finally:
        _stop(daemons)
    result["peak_each_mb"] = [d.memory.peak_rss for d in daemons]
    result["peak_pss_each_mb"] = [d.memory.peak_pss for d in daemons]
    result["processes"] = [d.memory.peak_processes for d in daemons]
    return result


# --- the report --------------------------------------------------------------------------------

def _fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def _ratios(by: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The two target ratios of one round's parties (those it ran)."""
    ratios = {}
    if "pg1" in by and "pg2" in by:
        ratios["pg2_speedup"] = by["pg1"]["cold"]["wall"] / by["pg2"]["cold"]["wall"]
    if "pg1" in by and "sqlite" in by:
        ratios["pg1_vs_sqlite"] = by["pg1"]["cold"]["wall"] / by["sqlite"]["cold"]["wall"]
    return ratios


def _checks(rounds: list[dict[str, float]]) -> list[tuple[str, str, str]]:
    """Each target against the median of its per-round ratios (each round's parties ran close
    together in time, so a slow spell of the machine weighs on both sides of a ratio)."""
    rows = []
    texts = {"pg2_speedup": ("two daemons vs one, cold cycle on PostgreSQL", "faster", "≥ 1.6×"),
             "pg1_vs_sqlite": ("one daemon, PostgreSQL vs SQLite, cold cycle", "the time", "≤ 1.5×")}
    for key, (what, unit, target) in texts.items():
        values = [r[key] for r in rounds if key in r]
        if not values:
            rows.append((what, target, "not run"))
            continue
        value = statistics.median(values)
        each = f" (rounds: {', '.join(f'{v:.2f}' for v in values)})" if len(values) > 1 else ""
        met = value >= TARGETS[key] if key == "pg2_speedup" else value <= TARGETS[key]
        median = "median " if len(values) > 1 else ""
        rows.append((f"{what}: **{median}{value:.2f}× {unit}**{each}", target, "yes" if met else "NO"))
    return rows


def _label(r: dict[str, Any]) -> str:
    return f"{r['party']} (round {r['round']})" if r.get("rounds", 1) > 1 else str(r["party"])


def _party_row(r: dict[str, Any], by: dict[str, dict[str, Any]]) -> str:
    cold, warm = r["cold"]["wall"], r["warm"]["wall"]
    vs_pg1 = by["pg1"]["cold"]["wall"] / cold if "pg1" in by else None
    vs_sqlite = cold / by["sqlite"]["cold"]["wall"] if "sqlite" in by else None
    peaks = r["peak_each_mb"]
    peak = f"{sum(peaks):.0f}" + (f" ({' + '.join(f'{p:.0f}' for p in peaks)})" if len(peaks) > 1 else "")
    polled = "; ".join(f"{phase} " + " + ".join(str(e["polled"]) for e in r[phase]["each"]) for phase in PHASES)
    return (f"| {_label(r)} | {r['daemons']} | {cold:.2f} | {warm:.2f} | {_fmt(vs_pg1, '.2f', '×')} | "
            f"{_fmt(vs_sqlite, '.2f', '×')} | {peak} | {polled} |")


def _notes(results: list[dict[str, Any]], args: argparse.Namespace, info: dict[str, Any]) -> list[str]:
    notes = []
    for r in results:
        for phase in PHASES:
            each = r[phase]["each"]
            polled = sum(e["polled"] for e in each)
            statuses: dict[str, int] = {}
            for e in each:
                for status, n in e["statuses"].items():
                    statuses[status] = statuses.get(status, 0) + n
            flag = "" if polled == args.feeds else f" — **{polled} polls for {args.feeds} feeds**"
            errors = [err for e in each for err in e["errors"]]
            notes.append(f"{_label(r)} {phase}: {statuses}, {sum(e['new_articles'] for e in each)} new articles, "
                         f"daemon CPU {' + '.join(format(e['cpu'], '.1f') for e in each)} s, served {r[phase]['served']}"
                         + (f", errors {errors[:3]}" if errors else "") + flag + ".")
        setup = ", ".join(f"{s['wall']:.1f}" for s in r["setup"])
        notes.append(f"{_label(r)}: start-up (config, spaCy, schema, feed sync) {setup} s, not counted; "
                     f"warm reset changed {r.get('reset_rows')} rows; peak PSS "
                     f"{' + '.join(f'{p:.0f}' for p in r['peak_pss_each_mb'])} MB over "
                     f"{' + '.join(str(p) for p in r['processes'])} processes.")
    notes.append("cold / warm s: from the common start file to the end of the last daemon's poll_feeds; "
                 "model load and feed sync excluded in every party.")
    notes.append("peak RSS: sampled from outside every 50 ms, summed over each daemon and its parse workers, over "
                 "its whole life (start-up included); for two daemons the sum of both peaks (an upper bound), each "
                 "in brackets. The PostgreSQL server is not counted.")
    notes.append("load average (1 min) at start / end: {:.2f} / {:.2f}".format(*info["load"]))
    return notes


def report(results: list[dict[str, Any]], failed: dict[str, str], args: argparse.Namespace, info: dict[str, Any],
           served: dict[str, Any], versions: dict[str, str]) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"### {now} — scale: {args.feeds} feeds × {args.items} items, "
        f"{', '.join(p.name for p in args.party_list)}"
        + (f", {args.rounds} rounds" if args.rounds > 1 else "") + " (`bench_scale.py`)",
        "",
        f"Machine: {info['cores']} cores, {info['mem_gib']:.1f} GiB, {info['cpu'] or 'cpu unknown'}, "
        f"Python {info['python']}; " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        f"Two CPU-bound processes at once did {info['capacity']:.2f}× the work of one alone (2.00 = two free "
        "cores): an upper bound on any two-daemon speed-up here, before PostgreSQL and the feed servers "
        "take their share of the same cores.",
        f"Feeds: {served['bytes'] / 1e6:.1f} MB in total, {served['actor_items']} items naming a tracked actor; "
        f"{args.feeds} loopback hosts served by {args.servers} processes; per daemon concurrency "
        f"{args.concurrency}, parse_workers {args.parse_workers}"
        + (f", lease_seconds {args.lease_seconds}" if args.lease_seconds else "") + ".",
        "",
        "| party | daemons | cold s | warm s | cold speed-up vs pg1 | cold time vs sqlite | peak RSS MB | "
        "feeds polled by each daemon |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    rounds = sorted({r["round"] for r in results})
    per_round = [{r["party"]: r for r in results if r["round"] == n} for n in rounds]
    lines += [_party_row(r, per_round[rounds.index(r["round"])]) for r in results]
    lines += [f"| {name} | | failed | | | | | {why} |" for name, why in failed.items()]
    if len(rounds) > 1:
        lines += ["", "| party | median cold s | median warm s |", "| --- | ---: | ---: |"]
        for party in dict.fromkeys(r["party"] for r in results):
            mine = [r for r in results if r["party"] == party]
            lines.append(f"| {party} | {statistics.median(r['cold']['wall'] for r in mine):.2f} | "
                         f"{statistics.median(r['warm']['wall'] for r in mine):.2f} |")
    lines += ["", "| ratio | target | met |", "| --- | --- | --- |"]
    lines += [f"| {text} | {target} | {met} |" for text, target, met in _checks([_ratios(b) for b in per_round])]
    lines += [""] + [f"- {n}" for n in _notes(results, args, info)] + [""]
    return "\n".join(lines)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("spacy", "pyreqwest", "psycopg"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    git = subprocess.run(["git", "-C", str(HERE.parent), "describe", "--always", "--dirty"],
                         capture_output=True, text=True, timeout=30, check=False)
    found["monitor"] = git.stdout.strip() or "?"
    return found


# --- main --------------------------------------------------------------------------------------

def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=10, help="items per feed")
    parser.add_argument("--item-kb", type=float, default=17.0, help="approximate size of each feed, KB")
    parser.add_argument("--actor-share", type=float, default=0.15, help="share of items naming an actor")
    parser.add_argument("--parties", default="sqlite,pg1,pg2", help="comma-separated: sqlite, pg1, pg2")
    parser.add_argument("--pg-url", help="URL of an existing PostgreSQL server whose user may CREATE DATABASE; "
                                         "default: a throwaway server from tests.support.pg.PgServer")
    parser.add_argument("--lease-seconds", type=int, help="[store] lease_seconds (default: the store's own)")
    parser.add_argument("--warm-reset-sql", default=WARM_RESET_SQL, help="makes every feed due again")
    parser.add_argument("--concurrency", type=int, default=32, help="each daemon's polling.concurrency")
    parser.add_argument("--parse-workers", type=int, default=0,
                        help="each daemon's polling.parse_workers (default 0: one core per daemon)")
    parser.add_argument("--servers", type=int, default=2, help="feed server processes")
    parser.add_argument("--warm-gap", type=float, default=6.0,
                        help="seconds before the warm cycle (longer than the fetcher's 5 s keep-alive)")
    parser.add_argument("--step-timeout", type=float, default=900.0, help="seconds allowed per step")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the parties this many times, interleaved; targets use the median ratio")
    parser.add_argument("--no-record", action="store_true", help="print only; don't append to RESULTS.md")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--sync", help=argparse.SUPPRESS)
    parser.add_argument("--ident", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    names = [p.strip() for p in args.parties.split(",") if p.strip()]
    if not names or any(p not in PARTIES for p in names):
        parser.error(f"--parties: a comma-separated choice of {', '.join(PARTIES)}")
    args.party_list = [PARTIES[p] for p in PARTIES if p in names]  # always sqlite, pg1, pg2 order
    if not (1 <= args.feeds <= 20_000 and 1 <= args.items <= 1000 and 0.5 <= args.item_kb <= 5000):
        parser.error("--feeds 1..20000, --items 1..1000, --item-kb 0.5..5000")
    return args


def _open_pg(args: argparse.Namespace) -> PgDatabases | None:
    """The PostgreSQL side, or None (the PG parties dropped, with a message) when there is none."""
    if not any(p.store == "pg" for p in args.party_list):
        return None
    pg = PgDatabases(args.pg_url)
    try:
        pg.start()
    except ImportError as exc:
        print(f"skipping the PostgreSQL parties: no --pg-url and tests.support.pg.PgServer is not "
              f"importable ({exc})", file=sys.stderr)
        args.party_list = [p for p in args.party_list if p.store != "pg"]
        return None
    return pg


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.worker:
        asyncio.run(_daemon(Path(args.config), Path(args.sync), args.ident, args.step_timeout))
        return 0
    started = time.perf_counter()
    info, versions = machine(), _versions()
    info["capacity"] = parallel_capacity()
    spec = FeedSpec(items=args.items, item_kb=args.item_kb, actor_share=args.actor_share, seed=1, now=fixed_now())
    pg = _open_pg(args)
    results: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    try:
        if not args.party_list:
            print("nothing to run", file=sys.stderr)
            return 1
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp, \
                FeedServers(args.feeds, spec, processes=args.servers, lifetime=6 * args.step_timeout) as servers:
            served = {"bytes": servers.bytes, "actor_items": servers.actor_items}
            print(f"serving {args.feeds} feeds ({servers.bytes / 1e6:.1f} MB) on {args.feeds} loopback hosts "
                  f"in {time.perf_counter() - started:.1f} s", flush=True)
            # Rounds interleave the parties: each round's ratios compare runs minutes apart.
            for n, party in ((n, p) for n in range(1, args.rounds + 1) for p in args.party_list):
                url = pg.create(party.name) if party.store == "pg" and pg is not None else None
                if url is not None and "postgresql" not in versions:
                    versions["postgresql"] = pg.server_version(url) if pg is not None else "?"
                print(f"{party.name}: {party.daemons} daemon(s), round {n} of {args.rounds}…", flush=True)
                try:
                    folder = Path(tmp) / f"{party.name}-{n}"
                    result = run_party(party, servers.urls, servers, folder, url, args)
                    results.append({**result, "round": n, "rounds": args.rounds})
                except (RuntimeError, TimeoutError, subprocess.TimeoutExpired) as exc:
                    # One party's failure (say, a store that refuses the config) leaves the others'
                    # figures standing; the report names it.
                    print(f"{party.name} failed: {exc}", file=sys.stderr, flush=True)
                    failed[f"{party.name} (round {n})"] = (str(exc).splitlines()[-1][:300] if str(exc)
                                                          else type(exc).__name__)
                if url is not None and pg is not None:
                    pg.drop(url)  # a round's databases would otherwise hold disk until the end
    finally:
        if pg is not None:
            pg.close()
    info["load"] = (info["load_start"], os.getloadavg()[0])
    text = report(results, failed, args, info, served, versions)
    print()
    print(text)
    if not args.no_record:
        record(text)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
