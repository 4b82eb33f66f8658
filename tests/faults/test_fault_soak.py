"""A short run of the kill soak (benchmarks/soak_kills.py): SIGKILLs of the real `monitor once` and
`monitor run`, with and without parse workers, a flaky SMTP sink, then recovery and the figures.

The full soak (200+ kills) is run by hand before a release; its figures are in the README.
SOAK_KILLS and SOAK_SEED override the defaults (pytest -s prints the figures).
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

from soak_kills import run_soak  # noqa: E402

KILLS = int(os.environ.get("SOAK_KILLS", "12"))
SEED = int(os.environ.get("SOAK_SEED", "20261206"))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kill_soak_loses_nothing_and_duplicates_only_after_a_crash(tmp_path: Path) -> None:
    figures = run_soak(tmp_path, KILLS, SEED, max_seconds=400, say=lambda _line: None)
    print("\n[fault-suite] kill soak: " + ", ".join(f"{k} {v}" for k, v in asdict(figures).items()))
    assert figures.kills >= min(KILLS, 8)
    assert figures.items_lost == figures.items_stored_twice == 0
    assert figures.alerts_lost == 0 and figures.alerts_expected > 0
    assert figures.digests_lost == figures.stories_uncovered == 0
    assert figures.duplicates_without_crash == 0
    assert figures.orphaned_processes == 0
    assert figures.unsent_at_end == 0
