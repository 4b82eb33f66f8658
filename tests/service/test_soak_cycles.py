"""A short run of the poll-cycle soak (benchmarks/soak_cycles.py): the daemon's cycle against
loopback feeds that change every cycle, with a real SMTP sink; no fd growth and RSS within the
target after the warm-up. The full 2,000-cycle run is in benchmarks/RESULTS.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_short_soak_holds_fds_and_memory() -> None:
    env = {k: v for k, v in os.environ.items() if k != "STATE_DIRECTORY"}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "soak_cycles.py"), "--cycles", "50",
                           "--every", "10", "--warmup", "20", "--feeds", "4"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert [int(r[0]) for r in rows] == [1, 10, 20, 30, 40, 50], proc.stdout
    assert int(rows[-1][5]) == 50 * 4 * 3  # every cycle brought 3 new items to each of the 4 feeds
    assert int(rows[-1][6]) > 0  # alerts and digests reached the sink
    assert "fd growth: 0" in proc.stdout and "met" in proc.stdout, proc.stdout
    assert "ERROR" not in proc.stderr, proc.stderr
