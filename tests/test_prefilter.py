"""The alias prefilter may only ever say "no" when the analyzer would find nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.config import DEFAULT_ENTITIES, load_entities
from monitor.nlp import Analyzer
from monitor.prefilter import AliasPrefilter

ENTITIES = load_entities(DEFAULT_ENTITIES)
DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "dev-set"


@pytest.mark.parametrize(("text", "expected"), [
    ("Il piano dell'OpenAI per l'Europa", True),
    ("L’accordo OpenAI-Microsoft", True),
    ("OPEN AI CONTRO TUTTI", True),
    ("La x.AI di Musk", True),
    ("Musk's new plan", True),
    ("Il nuovo visore arriva nei negozi italiani", False),
    ("Il muschio cresce sugli alberi del Muskoka", True),  # a "yes" is only a maybe
])
def test_prefilter_says_no_only_without_any_alias(text: str, expected: bool) -> None:
    assert AliasPrefilter(ENTITIES).may_mention("", text) is expected


def test_prefilter_never_hides_a_match_the_analyzer_finds() -> None:
    if not DEV_SET.is_dir():
        pytest.skip("shared dev set not available")
    analyzer, prefilter = Analyzer(ENTITIES), AliasPrefilter(ENTITIES)
    for path in sorted(DEV_SET.glob("*.json")):
        article = json.loads(path.read_text(encoding="utf-8"))
        for paragraph in article["text"].split("\n"):
            if analyzer.analyze("", paragraph).mentions:
                assert prefilter.may_mention("", paragraph), (path.name, paragraph[:80])
