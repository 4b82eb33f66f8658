"""The alias prefilter may only ever say "no" when the analyzer would find nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.config.entities import load_entities
from monitor.config.types import DEFAULT_ENTITIES
from monitor.nlp import Analyzer
from monitor.nlp.prefilter import _NON_WORD, AliasPrefilter

ENTITIES = load_entities(DEFAULT_ENTITIES)
DEV_SET = Path(__file__).resolve().parents[3] / "shared" / "dev-set"


@pytest.mark.parametrize(("text", "expected"), [
    ("Il piano dell'OpenAI per l'Europa", True),
    ("L’accordo OpenAI-Microsoft", True),
    ("OPEN AI CONTRO TUTTI", True),
    ("La x.AI di Musk", True),
    ("Musk's new plan", True),
    ("Il nuovo visore arriva nei negozi italiani", False),
    ("Il muschio cresce sugli alberi del Muskoka", True),  # a "yes" is only a maybe
    ("Sut_skever a Tel Aviv", True),  # underscores and other non-word characters are ignored
    ("x̲A̲I̲", True),  # combining marks too
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


_PIECES = st.sampled_from(["Sam", "Alt", "man", "OpenAI", "open", "AI", "x", "Mu", "sk", "Elon", "Ilya", "sutsk", "ever",
                           " ", "-", "’", "'", ".", "_", "«", "»", "\n", "ß", "İ", "é", "1", "é"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=30), st.lists(_PIECES, max_size=8))
def test_prefilter_is_a_substring_test_on_the_squashed_text(body: list[str], title: list[str]) -> None:
    """The definition the analyzer relies on: some alias, case and non-word characters dropped,
    occurs in the title or the text."""
    prefilter = AliasPrefilter(ENTITIES)
    text, head = "".join(body), "".join(title)
    squashed = [_NON_WORD.sub("", part.casefold()) for part in (head, text)]
    expected = any(key in part for key in prefilter.keys for part in squashed)
    assert prefilter.may_mention(head, text) is expected
