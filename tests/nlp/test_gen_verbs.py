"""tools/gen_verbs.py reproduces the shipped verb data files exactly (skipped without its input)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from monitor.nlp import verbs

ROOT = Path(__file__).resolve().parents[2]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_verbs", ROOT / "tools" / "gen_verbs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_data_files() -> None:
    pytest.importorskip("spacy_lookups_data")
    generated = _generator().generate()
    assert set(generated) == {"speech_forms.txt", "event_forms.txt"}
    for name, content in generated.items():
        assert (ROOT / "monitor" / "nlp" / "data" / name).read_text(encoding="utf-8") == content, name


@pytest.mark.parametrize(("form", "speech", "event"), [
    ("dichiarato", True, True),   # generated from both lemma lists
    ("twittato", True, True),     # a hand addition: morph-it lacks twittare
    ("licenziato", False, True),  # an event, not speech
    ("nota", False, False),       # a noun clash dropped by the generator
])
def test_loaded_forms(form: str, speech: bool, event: bool) -> None:
    assert verbs.is_speech_verb(form) is speech
    assert verbs.is_event_verb(form) is event
