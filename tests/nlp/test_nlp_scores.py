"""Issue 16: score `monitor analyze` on the shared gold sets with the shared scorer (skipped without them).

The corpora stay in ../shared (third-party text: never copied into the repository). Targets of issue
16 for the real-dev-set: entities P/R ≥ 0.99; mentions P ≥ 0.99, R ≥ 0.98; quotes P ≥ 0.95, R ≥ 0.85;
attributed P ≥ 0.92, R ≥ 0.80. Where the rules do not reach a target yet, the threshold below is what
they reliably reach (marked "target …"), so CI still catches a regression.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SCORER = SHARED / "tools" / "score-extraction"

# (set, figure) -> (min precision, min recall)
THRESHOLDS: dict[str, dict[str, tuple[float, float]]] = {
    "dev-set": {"entities": (0.98, 0.98), "mentions": (0.98, 0.98), "quotes": (0.98, 0.98),
                "attributed": (0.98, 0.98)},
    "real-dev-set": {
        "entities": (0.99, 0.99),
        "mentions": (0.99, 0.98),
        "quotes": (0.95, 0.85),
        "attributed": (0.95, 0.80),  # precision target 0.92; 1.000 measured, keep it high
    },
}


def _score(name: str, tmp_path: Path) -> dict[str, dict[str, float]]:
    gold = SHARED / name
    if not gold.is_dir() or not SCORER.exists():
        pytest.skip(f"{gold} or {SCORER} is not available")
    inputs = []
    for path in sorted(gold.glob("*.json")):
        copy = tmp_path / path.name
        copy.write_text(json.dumps({"text": json.loads(path.read_text(encoding="utf-8"))["text"]},
                                   ensure_ascii=False), encoding="utf-8")
        inputs.append(str(copy))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "monitor", "analyze", "--format", "json", *inputs],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    preds = tmp_path / "predictions.jsonl"
    preds.write_text(run.stdout, encoding="utf-8")
    scored = subprocess.run([sys.executable, str(SCORER), str(gold), str(preds), "--json"],
                            capture_output=True, text=True, check=True)
    result: dict[str, dict[str, float]] = json.loads(scored.stdout)
    return result


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_gold_set_scores(name: str, tmp_path: Path) -> None:
    result = _score(name, tmp_path)
    low = {fig: (result[fig]["precision"], result[fig]["recall"]) for fig in THRESHOLDS[name]
           if result[fig]["precision"] < THRESHOLDS[name][fig][0] or result[fig]["recall"] < THRESHOLDS[name][fig][1]}
    assert not low, f"{name}: below threshold (precision, recall): {low}"
