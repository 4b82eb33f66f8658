"""CPU per conditional GET answered 304, through monitor's Fetcher alone (not a test).

    python benchmarks/bench_wire.py [--feeds 1000] [--rounds 3]

The same loopback feed servers as bench_cycle.py (one 127/8 address per feed, separate
processes); every round opens new connections, as polls minutes apart do. Prints wall time and
this process's CPU time (Rust threads included) per round, and the median per request.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loopserve import FeedServers, FeedSpec  # noqa: E402
from synthfeeds import fixed_now  # noqa: E402

from monitor.config.types import PollingConfig  # noqa: E402
from monitor.ingest.fetch import Fetcher  # noqa: E402
from monitor.service.runtime import utc_now


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _round(urls: list[str], etags: list[str], concurrency: int) -> set[int]:
    async with Fetcher(PollingConfig(concurrency=concurrency), clock=utc_now) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(u, e) for u, e in zip(urls, etags, strict=True)))
    return {r.status for r in results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    spec = FeedSpec(items=30, item_kb=50, actor_share=0.15, seed=1, now=fixed_now())
    with FeedServers(args.feeds, spec) as servers:
        etags = []
        for url in servers.urls:
            with urllib.request.urlopen(url) as response:  # noqa: S310 - loopback only (checked by FeedServers)
                etags.append(response.headers["ETag"])
        cpu_per_request = []
        for number in range(args.rounds):
            t0, c0 = time.perf_counter(), _cpu()
            statuses = asyncio.run(_round(servers.urls, etags, args.concurrency))
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            cpu_per_request.append(cpu / args.feeds * 1000)
            print(f"round {number + 1}: {args.feeds} requests, statuses {sorted(statuses)}, "
                  f"wall {wall:.3f} s, CPU {cpu:.3f} s")
        print(f"median CPU per 304: {statistics.median(cpu_per_request):.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
