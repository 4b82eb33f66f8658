"""Quote attribution, reported speech and statements, on sentences written for these tests."""

from __future__ import annotations

import pytest

from monitor.nlp import Analyzer

Q = tuple[str | None, str]  # (speaker, quote text)


def quotes(analyzer: Analyzer, text: str) -> list[Q]:
    return [(c.speaker, c.text) for c in analyzer.analyze("", text).claims if c.kind == "quote"]


@pytest.mark.parametrize(("text", "expected"), [
    # after: verb then subject, subject then verb, with platform and time adverbials
    ("«Il futuro è aperto», ha scritto Musk su X stamattina.", [("elon_musk", "Il futuro è aperto")]),
    ("“Non venderemo”, Altman ha precisato.", [("sam_altman", "Non venderemo")]),
    ('"Serve prudenza", ha commentato Sutskever in un podcast.', [("ilya_sutskever", "Serve prudenza")]),
    ("«Siamo pronti», spiega Laura Bianchi, analista di una banca milanese.",
     [("Laura Bianchi", "Siamo pronti")]),
    # before, with a colon; headline style; typographic and straight marks
    ("Altman ha dichiarato: «Il modello uscirà a giugno».", [("sam_altman", "Il modello uscirà a giugno")]),
    ("Elon Musk, che su X ha postato un video, ha aggiunto: “Ci vediamo in tribunale”.",
     [("elon_musk", "Ci vediamo in tribunale")]),
    ("Musk: «Nessun passo indietro».", [("elon_musk", "Nessun passo indietro")]),
    # around: both halves belong to the speaker in the middle
    ("«Il calcolo costa», ha detto Altman, «ma i prezzi scenderanno».",
     [("sam_altman", "Il calcolo costa"), ("sam_altman", "ma i prezzi scenderanno")]),
    ("«Abbiamo sbagliato», osserva Marco Neri, docente di informatica a Pisa, «e lo ammettiamo».",
     [("Marco Neri", "Abbiamo sbagliato"), ("Marco Neri", "e lo ammettiamo")]),
    # nested quotes stay inside the outer quote
    ("Altman ha raccontato: «Mi hanno detto ‘non funzionerà’ e invece funziona».",
     [("sam_altman", "Mi hanno detto ‘non funzionerà’ e invece funziona")]),
    # company spokespeople speak for the company; X the network is not xAI
    ("«Collaboreremo con le autorità», ha fatto sapere un portavoce di OpenAI.",
     [("openai", "Collaboreremo con le autorità")]),
    ("Un portavoce dell'xAI ha dichiarato: «I conti sono in ordine».", [("xai", "I conti sono in ordine")]),
    ("«Nessuna modifica alle regole», ha assicurato un portavoce di X.",
     [("un portavoce di X", "Nessuna modifica alle regole")]),
    # a person's lawyer is not the person
    ("«Il mio cliente è innocente», ha detto l'avvocato di Musk.",
     [("l'avvocato di Musk", "Il mio cliente è innocente")]),
])
def test_attribution_shapes(analyzer: Analyzer, text: str, expected: list[Q]) -> None:
    assert quotes(analyzer, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # a continuation sentence keeps the last speaker
    ("«Il piano è pronto», ha detto Altman. «Lo presenteremo a maggio».",
     [("sam_altman", "Il piano è pronto"), ("sam_altman", "Lo presenteremo a maggio")]),
    # pro-drop verbs inherit the last speaker, also a verbless "E poco dopo:"
    ("«Ci siamo», ha scritto Musk. Ha poi aggiunto: «Manca poco». E poco dopo: «Partiamo».",
     [("elon_musk", "Ci siamo"), ("elon_musk", "Manca poco"), ("elon_musk", "Partiamo")]),
    ("Musk ha detto che la causa è infondata. Interrogato dai giudici, ha risposto: «Non ricordo».",
     [("elon_musk", "Non ricordo")]),
    # a role tied to a person by apposition resolves to that person later
    ("Il ricercatore capo di OpenAI, Ilya Sutskever, ha lasciato. Ieri il ricercatore capo di OpenAI "
     "aveva scritto: «Mi fido del consiglio».", [("ilya_sutskever", "Mi fido del consiglio")]),
    # the owner of a speech noun is who the next pro-drop quote belongs to
    ("Sam Altman ha parlato a lungo. Poi è arrivato il commento di Giorgio Verdi. «Tutto previsto», "
     "ha detto ai cronisti.", [("Giorgio Verdi", "Tutto previsto")]),
])
def test_speaker_carries_over(analyzer: Analyzer, text: str, expected: list[Q]) -> None:
    assert quotes(analyzer, text) == expected


@pytest.mark.parametrize("text", [
    # scare quotes and short fragments of the writer's own sentence
    "Musk continua a definire il concorrente troppo «woke» e parla di “tradimento”.",
    'Il sistema di "memoria" del chatbot preoccupa il Garante.',
    # quotes with no identifiable speaker
    "«Il futuro è adesso». Lo slogan campeggiava sul palco.",
    # platforms and channels are never speakers
    "Su X: «Nuove funzioni in arrivo per tutti».",
    # reported speech is never a quote
    "Secondo Altman, il prossimo modello sarà più sicuro.",
])
def test_not_quotes(analyzer: Analyzer, text: str) -> None:
    assert quotes(analyzer, text) == []


@pytest.mark.parametrize(("text", "kind", "speaker", "subject", "unconfirmed"), [
    ("Secondo Altman, il prossimo modello sarà più sicuro.", "reported", "sam_altman", None, False),
    ("Musk ha detto che la causa è infondata.", "reported", "elon_musk", None, False),
    ("Stando a quanto riferito da Sutskever, il team è al completo.", "reported", "ilya_sutskever", None, False),
    ("Altman avrebbe detto che il modello è pronto.", "reported", "sam_altman", None, True),
    ("Altman è stato licenziato dal consiglio.", "statement", None, "sam_altman", False),
    ("Musk ha fondato xAI nel 2023.", "statement", None, "elon_musk", False),
    ("Secondo indiscrezioni, OpenAI avrebbe acquistato una startup.", "statement", None, "openai", True),
    ("Kimbal Musk ha fondato una catena di ristoranti.", None, None, None, False),
    ("Il consiglio ha licenziato Altman.", None, None, None, False),
])
def test_reported_and_statements(analyzer: Analyzer, text: str, kind: str | None, speaker: str | None,
                                 subject: str | None, unconfirmed: bool) -> None:
    claims = [c for c in analyzer.analyze("", text).claims if c.kind != "quote"]
    if kind is None:
        assert claims == []
        return
    assert [(c.kind, c.speaker, c.subject, c.unconfirmed) for c in claims] == [(kind, speaker, subject, unconfirmed)]
    assert claims[0].sentence == text
    assert text[claims[0].start:claims[0].end] == claims[0].text


def test_claim_offsets_and_key_claims() -> None:
    from monitor.config.entities import load_entities
    from monitor.config.types import DEFAULT_ENTITIES

    analyzer = Analyzer(load_entities(DEFAULT_ENTITIES), key_claims=2)
    text = ("Musk ha fondato xAI nel 2023. Secondo Altman, la gara è aperta.\n\n"
            "«Vinceremo noi», ha scritto Musk su X. «Di sicuro», ha detto Mario Bianchi.")
    a = analyzer.analyze("Musk e Altman", text)
    for c in a.claims:
        assert text[c.start:c.end] == c.text and c.text in c.sentence
    assert [(c.kind, c.speaker) for c in a.key_claims] == [("quote", "elon_musk"), ("reported", "sam_altman")]
