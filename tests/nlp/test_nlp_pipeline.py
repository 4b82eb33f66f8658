"""The spaCy pipeline: quote-aware sentences, quote pairing, tokenizer fixes, model option."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from monitor.config.entities import load_entities
from monitor.config.types import DEFAULT_ENTITIES
from monitor.errors import ConfigError
from monitor.nlp import Analyzer
from monitor.nlp.quotemarks import find_quotes


@pytest.mark.parametrize(("text", "expected"), [
    ("Lo ha detto il dott. Rossi. Poi è uscito.", ["Lo ha detto il dott. Rossi.", "Poi è uscito."]),
    ("La sig.ra Bianchi e l'ing. Verdi sono arrivati. Dopo è toccato a George R. Martin.",
     ["La sig.ra Bianchi e l'ing. Verdi sono arrivati.", "Dopo è toccato a George R. Martin."]),
    ("Ha scritto su X. Il post è virale.", ["Ha scritto su X.", "Il post è virale."]),
    ("«Non è finita. Torneremo», ha detto. «Presto».", ["«Non è finita. Torneremo», ha detto.", "«Presto»."]),
    ("Così Musk: «Basta!» E poi se n'è andato.", ["Così Musk: «Basta!»", "E poi se n'è andato."]),
    ("Primo paragrafo senza punto\nSecondo paragrafo.", ["Primo paragrafo senza punto", "Secondo paragrafo."]),
])
def test_sentences(analyzer: Analyzer, text: str, expected: list[str]) -> None:
    doc = analyzer.doc("", text)
    assert [s.text.strip() for s in doc.sents] == expected  # a line break token trails a sentence
    assert [text[a:b] for a, b in doc._.sent_spans] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("«Fuori», poi “dentro” e \"qui\".", ["Fuori", "dentro", "qui"]),
    ("«Mi ha detto ‘vai’ e sono andato»", ["Mi ha detto ‘vai’ e sono andato", "vai"]),
    ("«Disse 'basta' e l'AI si fermò»", ["Disse 'basta' e l'AI si fermò", "basta"]),
    ("L’azienda c’è, dell'”intelligenza artificiale” si parla.", ["intelligenza artificiale"]),
    ("Un po’ di \"pazienza\".", ["pazienza"]),
])
def test_quote_pairing(text: str, expected: list[str]) -> None:
    assert [text[q.start:q.end] for q in find_quotes(text)] == expected


def test_tokenizer_splits_platform_full_stop(analyzer: Analyzer) -> None:
    assert [t.text for t in analyzer.doc("", "Lo ha scritto su X.")][-2:] == ["X", "."]
    assert [t.text for t in analyzer.doc("", "Ne parla Musk.")][-2:] == ["Musk", "."]


def test_results_on_doc_and_span_extensions(analyzer: Analyzer) -> None:
    doc = analyzer.doc("", "«Pronti», ha detto Altman all'OpenAI.")
    assert [(s.text, s._.entity) for s in doc.spans["actors"]] == [("Altman", "sam_altman"), ("OpenAI", "openai")]
    assert [c.speaker for c in doc._.claims] == ["sam_altman"]


def test_pipeline_built_once_and_entities_swapped() -> None:
    entities = load_entities(DEFAULT_ENTITIES)
    analyzer = Analyzer(entities)
    nlp = analyzer.nlp
    analyzer.set_entities(entities[:1])
    assert analyzer.nlp is nlp
    assert analyzer.analyze("", "OpenAI e Musk").entities == ("openai",)


def test_missing_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="nlp.model.*not installed") as info:
        Analyzer(load_entities(DEFAULT_ENTITIES), model="it_core_news_sm_not_here")
    assert (info.value.file, info.value.key) == ("configuration", "nlp.model")
    assert "leave nlp.model empty" in info.value.reason


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny stand-in for a statistical pipeline: blank Italian + an entity ruler labelling PER."""
    nlp = spacy.blank("it")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([  # type: ignore[attr-defined]
        {"label": "PER", "pattern": [{"TEXT": "Steven"}, {"TEXT": {"REGEX": r"^J\.?$"}}, {"TEXT": ".", "OP": "?"},
                                     {"TEXT": "Musk"}]},
        {"label": "PER", "pattern": [{"TEXT": "Satya"}, {"TEXT": "Narayana"}, {"TEXT": "Nadella"}]},
    ])
    path = tmp_path_factory.mktemp("nlp") / "model"
    nlp.to_disk(path)
    return path


def test_model_person_entity_blocks_a_surname(analyzer: Analyzer, model_dir: Path) -> None:
    text = "Il giudice Steven J. Musk ha respinto il ricorso. Musk ha detto che la causa è chiusa."
    # The rules alone cannot see past the initial and take "Musk" for Elon Musk...
    assert [m.text for m in analyzer.analyze("", text).mentions] == ["Musk", "Musk"]
    # ...the model's PER entity says it is someone else, and so is the later bare surname.
    with_model = Analyzer(load_entities(DEFAULT_ENTITIES), model=str(model_dir))
    assert "entity_ruler" in with_model.nlp.pipe_names
    a = with_model.analyze("", text)
    assert a.mentions == () and all(c.speaker != "elon_musk" for c in a.claims)


def test_model_person_entity_bounds_the_speaker(analyzer: Analyzer, model_dir: Path) -> None:
    text = "Il ceo di Microsoft Satya Narayana Nadella ha dichiarato: «La partnership resta solida»."
    assert [c.speaker for c in analyzer.analyze("", text).claims] == ["Narayana Nadella"]  # a guess
    with_model = Analyzer(load_entities(DEFAULT_ENTITIES), model=str(model_dir))
    assert [c.speaker for c in with_model.analyze("", text).claims] == ["Satya Narayana Nadella"]


def test_blank_pipeline_is_default(analyzer: Analyzer) -> None:
    assert analyzer.nlp.pipe_names == ["monitor_segmenter", "monitor_actors", "monitor_claims"]
