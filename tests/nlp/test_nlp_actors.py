"""Tracked-actor mentions: Italian forms that must count, and near-misses that must not."""

from __future__ import annotations

import pytest

from monitor.config.types import Alias, EntityConfig
from monitor.models import Analysis
from monitor.nlp import Analyzer

M = tuple[str, str]


def body_mentions(analysis: Analysis) -> list[M]:
    return [(m.entity, m.text) for m in analysis.mentions if not m.in_title]


@pytest.mark.parametrize(("text", "expected"), [
    # elisions and articulated prepositions glued with ' or ’: the mention is the name alone
    ("Gli investitori dell'OpenAI sono tornati.", [("openai", "OpenAI")]),
    ("Un accordo dell’OpenAI con Apple.", [("openai", "OpenAI")]),
    ("Ha venduto le sue quote all'xAI ieri.", [("xai", "xAI")]),
    ("L'OpenAI e l’xAI litigano.", [("openai", "OpenAI"), ("xai", "xAI")]),
    # possessives, hyphenated compounds, spacing, casing and dotted variants
    ("Le aziende di Musk crescono.", [("elon_musk", "Musk")]),
    ("L'alleanza OpenAI-Microsoft regge.", [("openai", "OpenAI")]),
    ("La sigla Open AI compare nel documento, e anche open ai.",
     [("openai", "Open AI"), ("openai", "open ai")]),
    ("Nel 2023 OpenAi ha cambiato logo.", [("openai", "OpenAi")]),
    ("La società si chiamava X.AI, poi x.AI, infine xAI.",
     [("xai", "X.AI"), ("xai", "x.AI"), ("xai", "xAI")]),
    ("Il post di Sam Altman, poi Altman ha taciuto.", [("sam_altman", "Sam Altman"), ("sam_altman", "Altman")]),
])
def test_italian_forms_count(analyzer: Analyzer, text: str, expected: list[M]) -> None:
    assert body_mentions(analyzer.analyze("", text)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # X the social network, X Corp, X Holdings, XAI = explainable AI
    ("Il post è apparso su X. Poi è sparito da X Corp e da X Holdings.", []),
    ("Un convegno sull'XAI, l'intelligenza artificiale spiegabile, e sulla XAI in medicina.", []),
    # other people with a tracked surname
    ("Kimbal Musk ha investito nelle serre. Errol Musk approva.", []),
    ("Il regista Robert Altman girò Nashville.", []),
    ("Il fratello Kimbal Musk parla spesso, e Musk tace.", []),
    # words that contain a name, and products that are not the company or the person
    ("Nella regione di Muskoka il muschio copre i tronchi; Musketeer è un film.", []),
    ("ChatGPT e Tesla crescono in Europa.", []),
    # a first name alone without the tracked full name in the article
    ("Sam è arrivato in ritardo. Elon non c'era.", []),
])
def test_near_misses_do_not_count(analyzer: Analyzer, text: str, expected: list[M]) -> None:
    assert body_mentions(analyzer.analyze("", text)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # a first name counts once the full name has appeared in the same article...
    ("Elon Musk ha parlato a lungo. Poi Elon ha salutato.", [("elon_musk", "Elon Musk"), ("elon_musk", "Elon")]),
    ("«Con Ilya lavoravamo bene», ha detto Murati. Ilya Sutskever non ha commentato.",
     [("ilya_sutskever", "Ilya"), ("ilya_sutskever", "Ilya Sutskever")]),
    # ...but not when it belongs to another full name, or points at that other person
    ("Sam Altman ha incontrato Sam Bankman-Fried. Bankman-Fried ha detto: «Sam mi capisce».",
     [("sam_altman", "Sam Altman")]),
    ("Ilya Sutskever ha citato il chimico Ilya Prigogine.", [("ilya_sutskever", "Ilya Sutskever")]),
    ("Il fisico Ilya Prigogine ha scritto molto. Ilya Sutskever lo ha citato.",
     [("ilya_sutskever", "Ilya Sutskever")]),
    # a surname alone is the tracked person unless someone else with it was introduced
    ("Secondo Musk il mercato crescerà.", [("elon_musk", "Musk")]),
    ("Elon Musk e il fratello Kimbal Musk. Musk ha poi parlato.", [("elon_musk", "Elon Musk")]),
    ("Kimbal Musk ha parlato. Più tardi Musk ha risposto ai giornalisti.", []),
])
def test_one_sense_per_article(analyzer: Analyzer, text: str, expected: list[M]) -> None:
    assert body_mentions(analyzer.analyze("", text)) == expected


def test_title_mentions_and_offsets(analyzer: Analyzer) -> None:
    title = "Musk attacca OpenAI"
    text = "Elon Musk ha scritto all’OpenAI."
    a = analyzer.analyze(title, text)
    body = [m for m in a.mentions if not m.in_title]
    titled = [m for m in a.mentions if m.in_title]
    assert [(m.entity, text[m.start:m.end]) for m in body] == [("elon_musk", "Elon Musk"), ("openai", "OpenAI")]
    assert [(m.entity, title[m.start:m.end]) for m in titled] == [("elon_musk", "Musk"), ("openai", "OpenAI")]
    assert a.mentions.index(titled[0]) > a.mentions.index(body[-1])  # body first, then title
    assert a.entities == ("elon_musk", "openai")
    assert a.salience["elon_musk"] > a.salience["openai"] > 0


def test_entity_config_semantics() -> None:
    """Case-insensitive aliases, excludes, and set_entities swapping the patterns."""
    acme = EntityConfig("acme", "Acme Labs", "organization", (Alias("Acme Labs"), Alias("acmelabs", False)))
    rossi = EntityConfig("mario_rossi", "Mario Rossi", "person", (Alias("Mario Rossi"), Alias("Rossi")),
                         exclude=("Paolo Rossi",))
    analyzer = Analyzer([acme])
    assert body_mentions(analyzer.analyze("", "ACMELABS e AcmeLabs, poi Acme Labs.")) == [
        ("acme", "ACMELABS"), ("acme", "AcmeLabs"), ("acme", "Acme Labs")]
    assert body_mentions(analyzer.analyze("", "Mario Rossi parla.")) == []
    analyzer.set_entities([rossi])
    assert body_mentions(analyzer.analyze("", "Paolo Rossi segnò. Mario Rossi parla, Rossi ride.")) == [
        ("mario_rossi", "Mario Rossi"), ("mario_rossi", "Rossi")]
    assert body_mentions(analyzer.analyze("", "Acme Labs cresce.")) == []
