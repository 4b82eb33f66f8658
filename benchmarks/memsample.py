"""Memory of a process tree, sampled: peak RSS and peak PSS summed over a process and its children.

A monitor with parse workers is several processes; `ru_maxrss` sees only one of them. RSS counts
shared pages once per process that maps them, PSS splits each shared page between its sharers,
so the sum of PSS is what the tree really occupies. Linux only (/proc/PID/smaps_rollup).
"""

from __future__ import annotations

from pathlib import Path


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


def rss_pss_mb(pid: int) -> tuple[float, float]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:  # the process ended between listing and reading
        pass
    return rss / 1024, pss / 1024


class TreeSampler:
    """Peak RSS and PSS of a process tree, summed over its processes; call sample() often."""

    def __init__(self) -> None:
        self.peak_rss = self.peak_pss = 0.0
        self.peak_processes = 0

    def sample(self, pid: int) -> None:
        pids = tree(pid)
        sizes = [rss_pss_mb(p) for p in pids]
        self.peak_rss = max(self.peak_rss, sum(r for r, _ in sizes))
        self.peak_pss = max(self.peak_pss, sum(p for _, p in sizes))
        self.peak_processes = max(self.peak_processes, len(pids))
