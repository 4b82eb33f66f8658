"""One poll cycle of monitor under load, against feedparser alone and rss2email.

    python benchmarks/bench_cycle.py --feeds 100          # quick run, well under a minute
    python benchmarks/bench_cycle.py                      # 1,000 feeds x 30 items (~50 KB each)

Synthetic Italian feeds (a share of items quoting tracked actors) are served by loopback HTTP
servers in separate processes, one 127/8 address per feed, with ETag / Last-Modified and 304
answers. Each measured party runs in its own fresh process, so its peak RSS is its own:

- monitor: the real code path (config from TOML, open_runtime, pipeline.poll_feeds(force=True)
  then pipeline.run_digest) — a cold cycle (every item new, backfill window unlimited) and a
  warm cycle on unchanged feeds (every feed answers 304);
- the floor: the same bytes parsed by feedparser alone, with monitor's options, one thread;
- the peer: rss2email (`r2e run`, delivering to a local maildir), cold and then warm.

The table is printed and appended to benchmarks/RESULTS.md. Traffic goes only to 127.0.0.0/8;
every step has a time limit and every process started here is stopped by it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memsample import TreeSampler

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
TARGETS = {"floor": 0.7, "peer": 5.0, "warm": 5.0, "rss_mb": 200.0}


# --- workers: each runs in its own process and prints one JSON line ---------------------------

def record(text: str) -> None:
    """Append a run's report to RESULTS.md (created with its heading on first use)."""
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nAppended by the scripts in this folder; newest last.\n\n",
                           encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    print(f"appended to {RESULTS}")


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _write_monitor_config(folder: Path, urls: list[str], concurrency: int) -> Path:
    from monitor.config.types import DEFAULT_ENTITIES

    # full_text = false: the cycle measures feeds as before; article pages are another workload.
    feeds = "".join(f'\n[[feeds]]\nurl = "{url}"\nname = "Bench {i}"\nfull_text = false\n'
                    for i, url in enumerate(urls))
    path = folder / "bench-config.toml"
    path.write_text(f"""# Written by benchmarks/bench_cycle.py: loopback feeds only.
[general]
state_dir = "state"
entities_file = {json.dumps(str(DEFAULT_ENTITIES))}

[polling]
backfill_hours = 1000000  # every synthetic item counts as new on the first poll
concurrency = {concurrency}
timeout_seconds = 120
jitter = 0.0
parse_workers = {int(os.environ.get("BENCH_PARSE_WORKERS", "1"))}  # see --parse-workers

[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"
sender = "bench@localhost"

[[digest]]
name = "bench"
schedule = "0 8 * * *"
recipients = ["redazione@example.com"]
{feeds}""", encoding="utf-8")
    return path


async def _monitor_cycles(urls: list[str], folder: Path, concurrency: int, warm_runs: int,
                          warm_gap: float) -> dict[str, Any]:
    from monitor.config.load import load_config
    from monitor.service import pipeline
    from monitor.service.daemon import open_runtime

    os.environ.pop("STATE_DIRECTORY", None)
    result: dict[str, Any] = {}
    t0, c0 = time.perf_counter(), _cpu()
    config = load_config(_write_monitor_config(folder, urls, concurrency))
    rt = open_runtime(config)
    result["setup"] = {"wall": time.perf_counter() - t0, "cpu": _cpu() - c0, "rss_mb": _maxrss_mb()}
    try:
        phases = ["cold"] + [f"warm{i}" for i in range(warm_runs)]
        for phase in phases:
            if phase != "cold":
                # Feeds are polled minutes apart: let the fetcher's idle connections expire (its
                # keep-alive is 5 s), so each warm cycle connects afresh, as it would in service.
                await asyncio.sleep(warm_gap)
            t0, c0 = time.perf_counter(), _cpu()
            prof = None
            if os.environ.get("BENCH_PROFILE_PHASE") == phase.rstrip("0123456789"):  # cProfile of this phase
                import cProfile

                prof = cProfile.Profile()
                prof.enable()
            outcomes = await pipeline.poll_feeds(rt, force=True)
            t_poll = time.perf_counter()
            outbox_ids = [pipeline.run_digest(rt, d) for d in config.digests]
            wall = time.perf_counter() - t0
            if prof is not None:
                prof.disable()
                prof.dump_stats(f"/tmp/bench-{phase}.prof")
            statuses: dict[str, int] = {}
            for o in outcomes:
                statuses[o.status] = statuses.get(o.status, 0) + 1
            errors = sorted({o.error for o in outcomes if o.error})[:3]
            db = rt.store.db
            digest_bytes = [db.execute("SELECT length(raw) FROM outbox WHERE id = ?", (i,)).fetchone()[0]
                            for i in outbox_ids if i is not None]
            result[phase] = {
                "wall": wall, "poll_wall": t_poll - t0, "cpu": _cpu() - c0, "rss_mb": _maxrss_mb(),
                "statuses": statuses, "errors": errors,
                "new_articles": sum(o.new_articles for o in outcomes),
                "digest_bytes": digest_bytes,
            }
        db = rt.store.db
        result["counts"] = {
            "articles": db.execute("SELECT COUNT(*) FROM articles").fetchone()[0],
            "matched": db.execute("SELECT COUNT(*) FROM articles WHERE entities != '[]'").fetchone()[0],
            "mentions": db.execute("SELECT COUNT(*) FROM mentions").fetchone()[0],
            "claims": db.execute("SELECT COUNT(*) FROM claims").fetchone()[0],
            "outbox": db.execute("SELECT kind, COUNT(*) FROM outbox GROUP BY kind").fetchall(),
        }
        result["counts"]["outbox"] = {k: n for k, n in result["counts"]["outbox"]}
        warm = sorted((result.pop(p) for p in phases[1:]), key=lambda r: r["wall"])
        result["warm"] = dict(warm[len(warm) // 2], runs=[r["wall"] for r in warm])  # the median run
    finally:
        await rt.aclose()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["workers_cpu"] = ru.ru_utime + ru.ru_stime  # parse/analysis pool, both cycles and start-up
    return result


def worker_monitor(args: argparse.Namespace) -> dict[str, Any]:


    urls = json.loads(Path(args.urls).read_text())
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        profile = os.environ.get("BENCH_PROFILE")  # a path: cProfile of the monitor worker goes there
        if not profile:
            return asyncio.run(_monitor_cycles(urls, Path(tmp), args.concurrency, args.warm_runs, args.warm_gap))
        import cProfile

        with cProfile.Profile() as prof:
            result = asyncio.run(_monitor_cycles(urls, Path(tmp), args.concurrency, args.warm_runs,
                                                 args.warm_gap))
        prof.dump_stats(profile)
        return result


def _fetch_all(urls: list[str]) -> list[bytes]:
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    bodies = []
    for url in urls:
        with opener.open(url, timeout=60) as response:
            bodies.append(response.read())
    return bodies


def worker_floor(args: argparse.Namespace) -> dict[str, Any]:
    """feedparser alone on the same bytes (monitor's options), then monitor's stages one by one."""
    import feedparser

    urls = json.loads(Path(args.urls).read_text())
    bodies = _fetch_all(urls)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    t0, c0 = time.perf_counter(), _cpu()
    items = 0
    for body in bodies:
        data = feedparser.parse(io.BytesIO(body), response_headers=headers,
                                resolve_relative_uris=False, sanitize_html=False)  # as monitor.ingest.parse
        items += len(data.entries)
    floor = {"wall": time.perf_counter() - t0, "cpu": _cpu() - c0, "items": items,
             "bytes": sum(len(b) for b in bodies), "rss_mb": _maxrss_mb()}
    result: dict[str, Any] = {"floor": floor}
    if not args.breakdown:
        return result
    # Where a cold cycle's time goes, stage by stage, single-threaded: monitor.ingest.parse.parse_feed
    # (feedparser + HTML → text + identity) and the NLP analyzer on a sample of the entries.
    from monitor.config.entities import load_entities
    from monitor.ingest.parse import parse_feed
    from monitor.nlp import Analyzer

    now = datetime.now(UTC)
    t0 = time.perf_counter()
    entries = []
    for url, body in zip(urls, bodies, strict=True):
        entries.extend(parse_feed(body, headers, url, now).entries)
    parse_wall = time.perf_counter() - t0
    from monitor.config.types import DEFAULT_ENTITIES

    analyzer = Analyzer(load_entities(DEFAULT_ENTITIES))
    sample = entries[:: max(1, len(entries) // args.nlp_sample)][: args.nlp_sample]
    t0 = time.perf_counter()
    for entry in sample:
        analyzer.analyze(entry.title, entry.text)
    nlp_wall = time.perf_counter() - t0
    result["breakdown"] = {
        "parse_feed_ms_per_item": 1000 * parse_wall / max(1, len(entries)),
        "feedparser_ms_per_item": 1000 * floor["wall"] / max(1, items),
        "nlp_ms_per_item": 1000 * nlp_wall / max(1, len(sample)),
        "nlp_sample": len(sample),
        "text_chars_per_item": sum(len(e.text) for e in entries) / max(1, len(entries)),
    }
    return result


# --- the orchestrator --------------------------------------------------------------------------

def _median_item(runs: list[dict[str, Any]], key: Any) -> dict[str, Any]:
    return sorted(runs, key=key)[(len(runs) - 1) // 2]


def combine_rounds(mons: list[dict[str, Any]], floors: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One monitor result and one floor result out of several alternating rounds.

    Walls are medians; the cold-vs-floor ratio is the median of each round's own ratio (a monitor
    run against the floor measured just before it, on the machine as it was then); memory is
    the largest seen in any round; warm is the median of every warm cycle of every round.
    """
    ratios = [f["floor"]["wall"] / m["cold"]["wall"] for m, f in zip(mons, floors, strict=True)]
    mon = dict(_median_item(mons, lambda m: m["cold"]["wall"]))
    warm_runs = [w for m in mons for w in m["warm"]["runs"]]
    mon["warm"] = dict(_median_item([m["warm"] for m in mons], lambda w: w["wall"]), runs=sorted(warm_runs))
    mon["process"] = dict(mon["process"], **{k: max(m["process"][k] for m in mons)
                                            for k in ("rss_mb", "tree_rss_mb", "tree_pss_mb", "processes")})
    mon["rounds"] = [{"cold": m["cold"]["wall"], "floor": f["floor"]["wall"], "ratio": r,
                      "cpu": m["cold"]["cpu"] + m.get("workers_cpu", 0.0)} for m, f, r in zip(mons, floors, ratios, strict=True)]
    mon["floor_ratio"] = sorted(ratios)[(len(ratios) - 1) // 2]
    floor = dict(floors[0], floor=_median_item([f["floor"] for f in floors], lambda f: f["wall"]))
    return mon, floor


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    env.update(extra or {})
    return env


SAMPLE_SECONDS = 0.05  # memory sampling period (RSS; PSS less often, see memsample)


def run_measured(cmd: list[str], timeout: float, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> dict[str, Any]:
    """Run a child; its own wall time, CPU seconds and peak RSS (os.wait4), stdout and status."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        return _run_measured(cmd, timeout, env, cwd, out, err)


def _run_measured(cmd: list[str], timeout: float, env: dict[str, str] | None, cwd: Path | None,
                  out: Any, err: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env or _clean_env(), cwd=cwd)
    deadline = t0 + timeout
    status, usage, timed_out = 0, None, False
    memory = TreeSampler()  # from outside, so the sampling costs the measured process nothing
    next_sample = t0
    while True:  # bounded by the deadline
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        now = time.perf_counter()
        if now > deadline:
            timed_out = True
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            break
        if now >= next_sample:
            # Sampling shares the two cores with the measured run: memsample reads the costly
            # PSS only near a new high (read every 20 ms, it took ~14 % of a core).
            memory.sample(proc.pid)
            next_sample = now + SAMPLE_SECONDS
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    out.seek(0)
    err.seek(0)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "tree_rss_mb": memory.peak_rss, "tree_pss_mb": memory.peak_pss, "processes": memory.peak_processes,
            "returncode": proc.returncode, "timed_out": timed_out,
            "stdout": out.read().decode("utf-8", "replace"), "stderr": err.read().decode("utf-8", "replace")}


def _worker(kind: str, urls_file: Path, args: argparse.Namespace, breakdown: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--urls", str(urls_file),
           "--concurrency", str(args.concurrency), "--nlp-sample", str(args.nlp_sample),
           "--warm-runs", str(args.warm_runs), "--warm-gap", str(args.warm_gap),
           "--breakdown" if breakdown else "--no-breakdown"]
    run = run_measured(cmd, args.step_timeout, env=_clean_env({"BENCH_PARSE_WORKERS": str(args.parse_workers)}))
    if run["returncode"] != 0 or run["timed_out"]:
        raise RuntimeError(f"{kind} worker failed (exit {run['returncode']}, timed out: {run['timed_out']}):\n"
                           f"{run['stderr'][-3000:]}")
    data: dict[str, Any] = json.loads(run["stdout"].strip().splitlines()[-1])
    data["process"] = {k: run[k] for k in ("wall", "cpu", "rss_mb", "tree_rss_mb", "tree_pss_mb", "processes")}
    return data


def _find_r2e(given: str | None) -> str | None:
    if given:
        return given
    found = shutil.which("r2e")
    if found:
        return found
    sibling = Path(sys.executable).with_name("r2e")
    return str(sibling) if sibling.exists() else None


def run_r2e(r2e: str, urls: list[str], folder: Path, timeout: float, warm_runs: int) -> dict[str, Any]:
    """rss2email over the same feeds into a maildir: a cold run, then warm runs (all 304)."""
    maildir = folder / "maildir"
    maildir.mkdir()  # rss2email creates the mailbox (INBOX), not its parent
    config = folder / "rss2email.cfg"
    sections = "".join(f"\n[feed.bench{i:05d}]\nurl = {url}\n" for i, url in enumerate(urls))
    config.write_text(f"""[DEFAULT]
to = redazione@example.com
from = bench@localhost
email-protocol = maildir
maildir-path = {maildir}
maildir-mailbox = INBOX
verbose = warning
feed-timeout = 60
{sections}""", encoding="utf-8")
    data = folder / "rss2email.json"
    env = _clean_env({"XDG_CONFIG_HOME": str(folder), "XDG_DATA_HOME": str(folder), "HOME": str(folder)})
    cmd = [r2e, "-c", str(config), "-d", str(data), "run"]
    result: dict[str, Any] = {}
    startup = run_measured([r2e, "--version"], 60, env=env, cwd=folder)
    result["startup_wall"] = startup["wall"]
    inbox = maildir / "INBOX" / "new"
    phases = ["cold"] + [f"warm{i}" for i in range(warm_runs)]
    for phase in phases:
        before = len(list(inbox.iterdir())) if inbox.exists() else 0
        run = run_measured(cmd, timeout, env=env, cwd=folder)
        after = len(list(inbox.iterdir())) if inbox.exists() else 0
        result[phase] = {k: run[k] for k in ("wall", "cpu", "rss_mb", "tree_rss_mb", "tree_pss_mb",
                                             "returncode", "timed_out")}
        result[phase]["messages"] = after - before
        result[phase]["stderr_tail"] = run["stderr"][-500:]
    warm = sorted((result.pop(p) for p in phases[1:]), key=lambda r: r["wall"])
    result["warm"] = dict(warm[len(warm) // 2], runs=[r["wall"] for r in warm],
                          messages=sum(r["messages"] for r in warm))
    return result


def machine() -> dict[str, Any]:
    mem_kb = 0
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    except OSError:
        pass
    return {"cores": os.cpu_count(), "mem_gib": mem_kb / 1024 / 1024, "cpu": model,
            "python": platform.python_version(), "load_start": os.getloadavg()[0]}


def _versions(r2e: str | None) -> dict[str, str]:
    from importlib.metadata import version

    found = {name: version(name) for name in ("feedparser", "pyreqwest", "spacy", "monitor")}
    git = run_measured(["git", "-C", str(HERE.parent), "describe", "--always", "--dirty"], 30)
    if git["returncode"] == 0:
        found["monitor"] += f" ({git['stdout'].strip()})"
    if r2e:
        run = run_measured([r2e, "--version"], 60)
        found["rss2email"] = (run["stdout"] or run["stderr"]).strip().split()[-1] if run["returncode"] == 0 else "?"
    return found


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def report(args: argparse.Namespace, servers_info: dict[str, Any], mon: dict[str, Any],
           floor: dict[str, Any], peer: dict[str, Any] | None, info: dict[str, Any],
           versions: dict[str, str]) -> str:
    items = args.feeds * args.items
    cold, warm = mon["cold"], mon["warm"]
    fl = floor["floor"]
    rows = [
        ("monitor cold cycle (poll → claims → digest)", cold["wall"], items / cold["wall"], cold["cpu"],
         cold["rss_mb"]),
        ("monitor warm cycle (all 304)", warm["wall"], items / warm["wall"], warm["cpu"], warm["rss_mb"]),
        ("feedparser alone, same bytes (floor)", fl["wall"], fl["items"] / fl["wall"], fl["cpu"], fl["rss_mb"]),
    ]
    if peer:
        for phase in ("cold", "warm"):
            p = peer[phase]
            rows.append((f"rss2email {phase} run (`r2e run`, maildir)", p["wall"], items / p["wall"], p["cpu"],
                         p["rss_mb"]))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"### {now} — {args.feeds} feeds × {args.items} items (~{args.item_kb:g} KB each)",
        "",
        f"Machine: {info['cores']} cores, {info['mem_gib']:.1f} GiB, {info['cpu'] or 'cpu unknown'}, "
        f"Python {info['python']}; " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        f"Feeds: {servers_info['bytes'] / 1e6:.1f} MB in total, {servers_info['actor_items']} items "
        f"({100 * servers_info['actor_items'] / max(1, items):.0f} %) naming a tracked actor; "
        f"{args.feeds} loopback hosts served by {args.servers} processes; monitor concurrency "
        f"{args.concurrency}, parse_workers {args.parse_workers}"
        + (f"; {servers_info['uncommon']} feeds ({100 * args.uncommon_share:g} % asked) in a shape left to "
           "feedparser." if args.uncommon_share else "."),
        "",
        "| run | wall s | items/s | CPU s | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {name} | {wall:.2f} | {rate:,.0f} | {cpu:.2f} | {rss:.0f} |" for name, wall, rate, cpu, rss in rows]
    cold_rate = items / cold["wall"]
    floor_rate = fl["items"] / fl["wall"]
    proc = mon["process"]  # sampled from outside: the main process and its parse workers together
    vs_floor = mon.get("floor_ratio", cold_rate / floor_rate)
    checks = [(f"cold throughput vs feedparser alone: **{vs_floor:.2f}×**"
               + (f" (median of {len(mon['rounds'])} rounds)" if len(mon.get("rounds", [])) > 1 else ""), "≥ 0.7×",
               vs_floor >= TARGETS["floor"])]
    if peer:
        peer_cold_rate = items / peer["cold"]["wall"]
        checks.append((f"cold throughput vs rss2email cold: **{cold_rate / peer_cold_rate:.1f}×**", "≥ 5×",
                       cold_rate / peer_cold_rate >= TARGETS["peer"]))
        speed = _ratio(peer["warm"]["wall"], warm["wall"])
        checks.append((f"warm cycle vs rss2email warm: **{speed:.1f}× faster**", "≥ 5×",
                       speed >= TARGETS["warm"]))
    main_rss = max(mon["setup"]["rss_mb"], cold["rss_mb"], warm["rss_mb"])  # its own ru_maxrss
    checks.append((f"monitor peak memory, all {proc['processes']} processes: **{proc['tree_pss_mb']:.0f} MB PSS** "
                   f"({proc['tree_rss_mb']:.0f} MB RSS summed; main process alone {main_rss:.0f} MB RSS, "
                   f"largest single process {proc['rss_mb']:.0f} MB)",
                   "≤ 200 MB", proc["tree_pss_mb"] <= TARGETS["rss_mb"]))
    lines += ["", "| ratio | target | met |", "| --- | --- | --- |"]
    lines += [f"| {text} | {target} | {'yes' if ok else 'NO'} |" for text, target, ok in checks]
    counts = mon["counts"]
    notes = [
        f"monitor cold: {cold['statuses']}, {cold['new_articles']} articles analysed, "
        f"{counts['matched']} with tracked actors, {counts['mentions']} mentions, {counts['claims']} claims, "
        f"digest {cold['digest_bytes']} bytes, outbox {counts['outbox']}; poll {cold['poll_wall']:.2f} s of "
        f"{cold['wall']:.2f} s; startup (config + open_runtime) {mon['setup']['wall']:.2f} s, not counted; parse/analysis workers {mon.get('workers_cpu', 0):.1f} CPU s in all.",
        f"monitor warm: {warm['statuses']}, {warm['new_articles']} new; {len(warm['runs'])} warm cycles "
        f"({', '.join(f'{w:.2f}' for w in warm['runs'])} s), {args.warm_gap:g} s apart, the median shown "
        f"(poll {warm['poll_wall']:.2f} s, digest {warm['wall'] - warm['poll_wall']:.2f} s).",
        "peak RSS column: the main process alone (ru_maxrss); the memory line below the ratios sums every "
        "process of the run (sampled from outside: RSS every 50 ms, PSS near each new high; PSS counts a shared page once).",
    ]
    if len(mon.get("rounds", [])) > 1:
        notes.append(f"{len(mon['rounds'])} alternating rounds (floor, then monitor); the table shows the median of each "
                     "row, the ratio is the median of each round's own: " + "; ".join(
                         f"floor {r['floor']:.2f} s, cold {r['cold']:.2f} s ({r['cpu']:.1f} CPU s in all processes) → "
                         f"{r['ratio']:.2f}×" for r in mon["rounds"]) + ".")
    if cold["errors"] or warm["errors"]:
        notes.append(f"monitor errors: {cold['errors'] + warm['errors']}")
    if peer:
        notes.append(f"rss2email: cold {peer['cold']['messages']} messages delivered, warm "
                     f"{peer['warm']['messages']} ({len(peer['warm']['runs'])} warm runs: "
                     f"{', '.join(f'{w:.2f}' for w in peer['warm']['runs'])} s, the median shown; "
                     f"peak {peer['cold']['tree_pss_mb']:.0f} MB PSS); its wall time includes interpreter start-up "
                     f"(`r2e --version` alone: {peer['startup_wall']:.2f} s); one feed at a time, by design.")
    else:
        notes.append("rss2email: not run (not found; install it with `pip install rss2email` and pass --r2e).")
    if "breakdown" in floor:
        b = floor["breakdown"]
        notes.append(f"stages, one thread, per item: feedparser {b['feedparser_ms_per_item']:.2f} ms, "
                     f"monitor.ingest.parse.parse_feed {b['parse_feed_ms_per_item']:.2f} ms, NLP analyze "
                     f"{b['nlp_ms_per_item']:.2f} ms (sample of {b['nlp_sample']}, "
                     f"{b['text_chars_per_item']:.0f} chars of text per item).")
    notes.append(f"server counters: {servers_info.get('stats')}")
    notes.append("load average (1 min) at start / end: {:.2f} / {:.2f} — anything above ~0.1 at the start "
                 "means other work shared the cores".format(*info["load"]))
    lines += [""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30, help="items per feed")
    parser.add_argument("--item-kb", type=float, default=50.0, help="approximate size of each feed, KB")
    parser.add_argument("--actor-share", type=float, default=0.15, help="share of items naming an actor")
    parser.add_argument("--uncommon-share", type=float, default=0.0,
                        help="share of feeds in a shape monitor's lxml reader leaves to feedparser")
    parser.add_argument("--concurrency", type=int, default=32, help="monitor's polling.concurrency")
    parser.add_argument("--servers", type=int, default=2, help="feed server processes")
    parser.add_argument("--r2e", help="path of rss2email's r2e (default: on PATH or beside python)")
    parser.add_argument("--no-peer", action="store_true", help="skip rss2email")
    parser.add_argument("--parse-workers", type=int, default=max(1, (os.cpu_count() or 2) - 1),
                        help="monitor's polling.parse_workers (default: one core fewer than the machine "
                             "has, as README recommends: the daemon's own parse thread uses the last one)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating feedparser / monitor rounds; medians are reported")
    parser.add_argument("--warm-runs", type=int, default=1,
                        help="warm cycles per round (and rss2email warm runs, at least 3); the median is reported")
    parser.add_argument("--warm-gap", type=float, default=6.0,
                        help="seconds before each monitor warm cycle (longer than its 5 s keep-alive)")
    parser.add_argument("--breakdown", action=argparse.BooleanOptionalAction, default=True,
                        help="also time monitor's parse and NLP stages alone (default on)")
    parser.add_argument("--nlp-sample", type=int, default=500, help="items analysed for the breakdown")
    parser.add_argument("--step-timeout", type=float, default=900.0, help="seconds allowed per measured step")
    parser.add_argument("--no-record", action="store_true", help="print only; don't append to RESULTS.md")
    parser.add_argument("--worker", choices=("monitor", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        work = worker_monitor if args.worker == "monitor" else worker_floor
        print(json.dumps(work(args)))
        return 0
    if not (1 <= args.feeds <= 20_000 and 1 <= args.items <= 1000 and 0.5 <= args.item_kb <= 5000):
        parser.error("--feeds 1..20000, --items 1..1000, --item-kb 0.5..5000")
    if args.rounds < 1 or args.warm_runs < 1:
        parser.error("--rounds and --warm-runs must be at least 1")

    from loopserve import FeedServers, FeedSpec
    from synthfeeds import fixed_now, is_uncommon

    started = time.perf_counter()
    info = machine()
    r2e = None if args.no_peer else _find_r2e(args.r2e)
    versions = _versions(r2e)
    spec = FeedSpec(items=args.items, item_kb=args.item_kb, actor_share=args.actor_share, seed=1, now=fixed_now(),
                    uncommon_share=args.uncommon_share)
    with tempfile.TemporaryDirectory(prefix="bench-cycle-") as tmp, \
            FeedServers(args.feeds, spec, processes=args.servers, lifetime=4 * args.step_timeout) as servers:
        folder = Path(tmp)
        urls_file = folder / "urls.json"
        urls_file.write_text(json.dumps(servers.urls))
        info_servers: dict[str, Any] = {"bytes": servers.bytes, "actor_items": servers.actor_items, "stats": {},
                                        "uncommon": sum(is_uncommon(f, args.uncommon_share)
                                                        for f in range(args.feeds))}
        print(f"serving {args.feeds} feeds ({servers.bytes / 1e6:.1f} MB) on {args.feeds} loopback hosts "
              f"in {time.perf_counter() - started:.1f} s", flush=True)

        floors, mons = [], []
        for n in range(args.rounds):
            # Alternating rounds: the VM's speed drifts by ±25 % over minutes, so each monitor
            # run is compared with the floor measured just before it (see combine_rounds).
            print(f"round {n + 1}/{args.rounds}: feedparser alone{' (and stage breakdown)' if n == 0 and args.breakdown else ''}…",
                  flush=True)
            floors.append(_worker("floor", urls_file, args, breakdown=n == 0 and args.breakdown))
            print(f"round {n + 1}/{args.rounds}: monitor cold and warm cycles…", flush=True)
            servers.reset()
            mons.append(_worker("monitor", urls_file, args))
            info_servers["stats"]["monitor"] = servers.stats()
        mon, floor = combine_rounds(mons, floors)
        peer = None
        if r2e:
            print(f"rss2email cold and warm runs ({r2e})…", flush=True)
            servers.reset()
            r2e_dir = folder / "r2e"
            r2e_dir.mkdir()
            peer = run_r2e(r2e, servers.urls, r2e_dir, args.step_timeout, max(3, args.warm_runs))
            info_servers["stats"]["rss2email"] = servers.stats()
            for phase in ("cold", "warm"):
                if peer[phase]["returncode"] != 0 or peer[phase]["timed_out"]:
                    print(f"warning: r2e {phase} run: exit {peer[phase]['returncode']}, "
                          f"timed out {peer[phase]['timed_out']}: {peer[phase]['stderr_tail']}", file=sys.stderr)
    info["load"] = (info["load_start"], os.getloadavg()[0])
    text = report(args, info_servers, mon, floor, peer, info, versions)
    print()
    print(text)
    if not args.no_record:
        record(text)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
