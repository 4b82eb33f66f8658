"""Memory of a process tree, sampled: peak RSS and peak PSS summed over a process and its children.

A monitor with parse workers is several processes; `ru_maxrss` sees only one of them. RSS counts
shared pages once per process that maps them, PSS splits each shared page between its sharers,
so the sum of PSS is what the tree really occupies. Linux only (/proc/PID/statm, smaps_rollup).

The sampler shares the two cores with the run it measures, so it reads the cheap figure (RSS
from statm, ~20 µs a process) every time and the costly one (PSS: smaps_rollup walks the page
tables, ~1.3 ms a process) only when the tree's RSS is 1 MB above its high or a second has passed.
PSS never exceeds RSS, and memory grows in plateaus of seconds: the PSS peak is read at the
RSS peak or within a second of it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
PSS_EVERY_SECONDS = 1.0
TREE_EVERY_SECONDS = 0.5  # the process list changes only when a worker starts or ends


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * PAGE_MB
    except (OSError, IndexError, ValueError):  # the process ended between listing and reading
        return 0.0


def rss_pss_mb(pid: int) -> tuple[float, float]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss / 1024, pss / 1024


class TreeSampler:
    """Peak RSS and PSS of a process tree, summed over its processes; call sample() often."""

    def __init__(self) -> None:
        self.peak_rss = self.peak_pss = 0.0
        self.peak_processes = 0
        self._pids: list[int] = []
        self._pids_at = self._pss_at = float("-inf")

    def sample(self, pid: int) -> None:
        now = time.monotonic()
        if now - self._pids_at >= TREE_EVERY_SECONDS or not self._pids or self._pids[0] != pid:
            self._pids, self._pids_at = tree(pid), now
            self.peak_processes = max(self.peak_processes, len(self._pids))
        rss = sum(rss_mb(p) for p in self._pids)
        if rss > self.peak_rss + 1 or now - self._pss_at >= PSS_EVERY_SECONDS:
            sizes = [rss_pss_mb(p) for p in self._pids]
            self.peak_pss = max(self.peak_pss, sum(p for _, p in sizes))
            rss = max(rss, sum(r for r, _ in sizes))
            self._pss_at = now
        self.peak_rss = max(self.peak_rss, rss)
