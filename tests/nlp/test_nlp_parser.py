"""A model's dependency parser as extra evidence: a tiny parser trained here stands in for it_core_news_sm."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import spacy
from spacy.training import Example

from monitor.config.entities import load_entities
from monitor.config.types import DEFAULT_ENTITIES
from monitor.nlp import Analyzer

# (sentence, heads, deps): Universal Dependencies style, as in spaCy's Italian models.
TRAIN = [
    ("Dopo che Musk ha lasciato il consiglio, OpenAI ha cambiato strategia.",
     [4, 0, 4, 4, 10, 6, 4, 4, 10, 10, 10, 10, 10],
     "mark fixed nsubj aux advcl det obj punct nsubj aux ROOT obj punct"),
    ("«Il futuro è aperto», ha scritto nella notte, dopo settimane di silenzio e di polemiche con i soci, Altman.",
     [4, 2, 4, 4, 8, 4, 4, 8, 8, 10, 8, 13, 13, 8, 15, 13, 18, 18, 15, 21, 21, 18, 23, 8, 8],
     "punct det nsubj cop ccomp punct punct aux ROOT case obl punct case obl case nmod cc case conj case det nmod "
     "punct nsubj punct"),
    ("Alla fine Musk, stanco delle polemiche, ha detto che xAI andrà avanti.",
     [1, 9, 9, 4, 2, 6, 4, 4, 9, 9, 12, 12, 9, 12, 9],
     "case obl nsubj punct acl case obl punct aux ROOT mark nsubj ccomp advmod punct"),
    ("Musk ha detto che OpenAI sbaglia.",
     [2, 2, 2, 5, 5, 2, 2],
     "nsubj aux ROOT mark nsubj ccomp punct"),
    ("Altman è stato licenziato perché Musk lo voleva.",
     [3, 3, 3, 3, 7, 7, 7, 3, 3],
     "nsubj:pass aux aux:pass ROOT mark nsubj obj advcl punct"),
    ("«Andremo avanti», ha scritto ieri sera Altman.",
     [1, 6, 1, 1, 1, 6, 6, 6, 6, 6, 6],
     "punct ccomp advmod punct punct aux ROOT advmod obl nsubj punct"),
    ("Mentre Musk attaccava la società, Altman ha lanciato un nuovo modello.",
     [2, 2, 8, 4, 2, 2, 8, 8, 8, 11, 11, 8, 8],
     "mark nsubj advcl det obj punct nsubj aux ROOT det amod obj punct"),
    ("Quando Altman è tornato, un giudice ha respinto il ricorso.",
     [3, 3, 3, 8, 3, 6, 8, 8, 8, 10, 8, 8],
     "mark nsubj aux advcl punct det nsubj aux ROOT det obj punct"),
    # A deliberate parser mistake (Altman as subject) to test that the rules keep precedence.
    ("«Basta», ha detto Musk ad Altman.",
     [1, 5, 1, 1, 5, 5, 5, 8, 5, 5],
     "punct ccomp punct punct aux ROOT obl case nsubj punct"),
]


@pytest.fixture(scope="module")
def parser_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Blank Italian + a parser overfit on TRAIN (deterministic, a few seconds)."""
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("it")
    nlp.add_pipe("parser", config={"min_action_freq": 1})  # keep rare labels (default 30)
    examples = [Example.from_dict(nlp.make_doc(text), {"heads": heads, "deps": deps.split()})
                for text, heads, deps in TRAIN]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(50):  # 50 passes reproduce every training parse
        rng.shuffle(examples)
        nlp.update(examples, sgd=optimizer, drop=0.0)
    path = tmp_path_factory.mktemp("nlp") / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def parsed(parser_model: Path) -> Analyzer:
    return Analyzer(load_entities(DEFAULT_ENTITIES), model=str(parser_model))


def test_parser_reproduces_training(parsed: Analyzer) -> None:
    assert "parser" in parsed.nlp.pipe_names
    for text, heads, deps in TRAIN:
        doc = parsed.doc("", text)
        assert doc.has_annotation("DEP")
        assert [(t.head.i, t.dep_) for t in doc] == list(zip(heads, deps.split(), strict=True)), text


def _claims(analyzer: Analyzer, text: str) -> list[tuple[str, str | None, str | None]]:
    return [(c.kind, c.speaker, c.subject) for c in analyzer.analyze("", text).claims]


@pytest.mark.parametrize(("n", "blank", "main", "cue"), [
    (0, "elon_musk", "openai", "ha cambiato"),  # "Dopo che Musk ha lasciato …, OpenAI ha cambiato strategia."
    (6, "elon_musk", "sam_altman", "ha lanciato"),  # "Mentre Musk attaccava …, Altman ha lanciato …"
])
def test_statement_is_the_main_event(analyzer: Analyzer, parsed: Analyzer, n: int, blank: str, main: str,
                                     cue: str) -> None:
    text = TRAIN[n][0]
    assert _claims(analyzer, text) == [("statement", None, blank)]  # blank: the subordinate clause
    [claim] = parsed.analyze("", text).claims
    assert (claim.kind, claim.subject) == ("statement", main)
    assert f'parser: nsubj of "{cue}" (sentence root)' in claim.why


def test_untracked_main_subject_makes_no_statement(analyzer: Analyzer, parsed: Analyzer) -> None:
    text = TRAIN[7][0]  # "Quando Altman è tornato, un giudice ha respinto il ricorso."
    assert _claims(analyzer, text) == [("statement", None, "sam_altman")]
    assert _claims(parsed, text) == []


def test_quote_speaker_from_parser_when_rules_find_none(analyzer: Analyzer, parsed: Analyzer) -> None:
    text = TRAIN[1][0]  # "«…», ha scritto nella notte, dopo settimane …, Altman."
    assert _claims(analyzer, text) == []
    [claim] = parsed.analyze("", text).claims
    assert (claim.kind, claim.speaker, claim.text) == ("quote", "sam_altman", "Il futuro è aperto")
    assert 'parser: nsubj of "ha scritto"' in claim.why


def test_reported_speaker_from_parser(analyzer: Analyzer, parsed: Analyzer) -> None:
    text = TRAIN[2][0]  # "Alla fine Musk, stanco delle polemiche, ha detto che xAI andrà avanti."
    assert _claims(analyzer, text) == [("statement", None, "elon_musk")]
    [claim] = parsed.analyze("", text).claims
    assert (claim.kind, claim.speaker, claim.text) == ("reported", "elon_musk", "xAI andrà avanti.")
    assert 'parser: nsubj of "ha detto" before "che"' in claim.why


@pytest.mark.parametrize("n", [3, 4, 5])
def test_rules_and_parser_agree_elsewhere(analyzer: Analyzer, parsed: Analyzer, n: int) -> None:
    text = TRAIN[n][0]
    assert _claims(parsed, text) == _claims(analyzer, text)


def test_blank_pipeline_has_no_parser(analyzer: Analyzer) -> None:
    assert "parser" not in analyzer.nlp.pipe_names
    assert not analyzer.doc("", TRAIN[0][0]).has_annotation("DEP")


def test_rule_speaker_wins_over_a_disagreeing_parser(analyzer: Analyzer, parsed: Analyzer) -> None:
    text = TRAIN[8][0]  # the parser (wrongly) takes "Altman" for the subject of "ha detto"
    doc = parsed.doc("", text)
    assert [t.text for t in doc if t.dep_ == "nsubj"] == ["Altman"]
    assert _claims(analyzer, text) == _claims(parsed, text) == [("quote", "elon_musk", None)]
    assert "parser" not in parsed.analyze("", text).claims[0].why
