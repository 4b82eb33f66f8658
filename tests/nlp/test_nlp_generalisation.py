"""Held-out-style sentences in varied Italian news styles (ANSA, Corriere, Il Post, Wired, HDblog).

Written for these tests, not tuned against: each case states the output the annotation rules
(see /work/shared/dev-set/README.md) call for. Precision first: where a speaker is unclear the
expected output is no speaker, never a guess.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli.analyze import analyze_file, format_text
from monitor.models import Analysis, Claim
from monitor.nlp import Analyzer, normalise_claim_text, rank_key_claims

Q = tuple[str | None, str]
TRACKED_PEOPLE = {"elon_musk", "sam_altman", "ilya_sutskever"}


def run(analyzer: Analyzer, text: str, title: str = "") -> Analysis:
    return analyzer.analyze(title, text)


def quotes(a: Analysis) -> list[Q]:
    return [(c.speaker, c.text) for c in a.claims if c.kind == "quote"]


# Direct quotes: (text, [(speaker, quote)]) — exactly these quote claims, in order.
QUOTES: list[tuple[str, list[Q]]] = [
    # subject + speech verb + adjunct + colon; "Poche ore dopo" is a time adverbial, not a preposition
    ("Poche ore dopo Sam Altman ha risposto con un post su X: «Elon, ti auguriamo il meglio».",
     [("sam_altman", "Elon, ti auguriamo il meglio")]),
    # no comma between the closing mark and the verb
    ("«Non abbiamo paura della concorrenza» ha dichiarato un portavoce di OpenAI al Corriere.",
     [("openai", "Non abbiamo paura della concorrenza")]),
    # noun-phrase attribution: la replica / il commento di X:
    ("Dura la replica del commissario europeo Thierry Breton: «Le regole valgono per tutti, anche per Altman».",
     [("Thierry Breton", "Le regole valgono per tutti, anche per Altman")]),
    ("Il commento di Sam Altman: «Una giornata storica».", [("sam_altman", "Una giornata storica")]),
    # present tense verbs; the abbreviation dott.
    ("Il dott. Rossi, ricercatore al Politecnico, spiega: «Il problema è la trasparenza dei dati».",
     [("Rossi", "Il problema è la trasparenza dei dati")]),
    ("«È un passo avanti per tutti», dice Altman.", [("sam_altman", "È un passo avanti per tutti")]),
    ("«Non ho nulla da aggiungere», afferma Musk, «ma i fatti parlano da soli».",
     [("elon_musk", "Non ho nulla da aggiungere"), ("elon_musk", "ma i fatti parlano da soli")]),
    # verb-first attribution before a colon: the subject follows the verb
    ("Sottolinea Sutskever: «La sicurezza non è negoziabile».", [("ilya_sutskever", "La sicurezza non è negoziabile")]),
    ("Scrive Musk su X: «Il futuro è adesso».", [("elon_musk", "Il futuro è adesso")]),
    ("Lo ha confermato a Wired Italia un portavoce di xAI: «Il data center sarà operativo a giugno».",
     [("xai", "Il data center sarà operativo a giugno")]),
    # ANSA style: fa sapere, si legge nel comunicato, ha precisato in una nota
    ("«Siamo al lavoro per risolvere il problema», fa sapere OpenAI in una nota.",
     [("openai", "Siamo al lavoro per risolvere il problema")]),
    ("«Il nostro obiettivo resta la sicurezza», si legge nel comunicato di OpenAI.",
     [("openai", "Il nostro obiettivo resta la sicurezza")]),
    ("«Nessun dato è stato compromesso», ha precisato in una nota un portavoce di OpenAI.",
     [("openai", "Nessun dato è stato compromesso")]),
    ("Sam Altman ha scritto su LinkedIn: «Un giorno storico per il nostro team».",
     [("sam_altman", "Un giorno storico per il nostro team")]),
    ("«Nessuno ci ha avvisato», come ha spiegato Sutskever a Repubblica.",
     [("ilya_sutskever", "Nessuno ci ha avvisato")]),
    ("In una nota, OpenAI ha dichiarato: «Rispettiamo la decisione del tribunale».",
     [("openai", "Rispettiamo la decisione del tribunale")]),
    # headline style inside the body
    ("Altman: «Non lascerò OpenAI».", [("sam_altman", "Non lascerò OpenAI")]),
    ("OpenAI: «Nessun problema di sicurezza».", [("openai", "Nessun problema di sicurezza")]),
    # dashes instead of commas around the attribution
    ("«Siamo pronti» — ha detto Altman — «a investire in Europa».",
     [("sam_altman", "Siamo pronti"), ("sam_altman", "a investire in Europa")]),
    # nested and English quotes, X (ex Twitter)
    ("Musk ha scritto: «Altman mi disse “fidati di me” e io ci ho creduto».",
     [("elon_musk", "Altman mi disse “fidati di me” e io ci ho creduto")]),
    ("“We’re not for sale”, ha scritto Altman su X.", [("sam_altman", "We’re not for sale")]),
    ("Musk ha pubblicato su X (ex Twitter) un messaggio: «Ci vediamo in tribunale».",
     [("elon_musk", "Ci vediamo in tribunale")]),
    # roles and appositions
    ("Il presidente di OpenAI, Greg Brockman, ha ricordato: «Siamo partiti in nove».",
     [("Greg Brockman", "Siamo partiti in nove")]),
    ("Elon Musk è tornato ad attaccare. «È una truffa», ha scritto il fondatore di xAI.",
     [("elon_musk", "È una truffa")]),
    ("Sam Altman è a Milano. Aggiunge poi il manager: «Vogliamo crescere in Italia».",
     [("sam_altman", "Vogliamo crescere in Italia")]),
    # a name that shares a tracked surname or first name speaks for itself
    ("Ilya Yashin, oppositore russo, ha dichiarato: «Non mi arrendo».", [("Ilya Yashin", "Non mi arrendo")]),
    # a role phrase ending with the person's name: the name, not whoever was mentioned last
    ("Sam Altman ha parlato a Milano. Il ceo di Microsoft Satya Nadella ha detto: «Siamo partner».",
     [("Satya Nadella", "Siamo partner")]),
    ("Il cofondatore di OpenAI Ilya Sutskever ha spiegato: «Serve tempo».", [("ilya_sutskever", "Serve tempo")]),
    # a role resolves to the person just named only when it can be theirs
    ("Microsoft e OpenAI hanno firmato. Satya Nadella era a Milano. «Non è una gara», ha detto il ceo di Microsoft.",
     [("Satya Nadella", "Non è una gara")]),
    ("Satya Nadella era a Milano. «Non è una gara», ha detto il ceo di OpenAI.",
     [("il ceo di OpenAI", "Non è una gara")]),
    # "ha reso noto", "fanno sapere", a trailing description of the speaker
    ("«I servizi sono di nuovo attivi», ha reso noto xAI.", [("xai", "I servizi sono di nuovo attivi")]),
    ("«Valuteremo ogni opzione», fanno sapere da OpenAI.", [("openai", "Valuteremo ogni opzione")]),
    ("«Nessuna decisione è stata presa», ha detto ai giornalisti Sam Altman, ceo di OpenAI.",
     [("sam_altman", "Nessuna decisione è stata presa")]),
    # noun-phrase attribution after the quotation; "Così S a Bloomberg:"; "Parola di S:"; "S (Org):"
    ("«Ci vediamo in tribunale», è stato il commento di Musk.", [("elon_musk", "Ci vediamo in tribunale")]),
    ("Così Altman in un'intervista a Bloomberg: «Non vendiamo».", [("sam_altman", "Non vendiamo")]),
    ("Parola di Elon Musk: «Marte entro il 2030».", [("elon_musk", "Marte entro il 2030")]),
    ("Sam Altman (OpenAI): «Serve una regolamentazione globale».",
     [("sam_altman", "Serve una regolamentazione globale")]),
    ("«È una vergogna», tuona Musk su X.", [("elon_musk", "È una vergogna")]),
    ("«Non abbiamo nulla da nascondere» - ha detto Altman.", [("sam_altman", "Non abbiamo nulla da nascondere")]),
    ("Musk, raggiunto al telefono, ha risposto: «Non ho tempo».", [("elon_musk", "Non ho tempo")]),
    ("«Siamo delusi», hanno commentato i vertici di xAI.", [("xai", "Siamo delusi")]),
    # a statement that is not a person's is not attributed
    ("Il bilancio è chiaro: «Serve una regolamentazione globale».", []),
    # a quotation continued in a new paragraph: the new piece keeps the speaker
    ("Altman ha parlato a lungo dei costi.\n«Ma i prezzi scenderanno», ha aggiunto.",
     [("sam_altman", "Ma i prezzi scenderanno")]),
]


@pytest.mark.parametrize(("text", "expected"), QUOTES)
def test_quotes(analyzer: Analyzer, text: str, expected: list[Q]) -> None:
    assert quotes(run(analyzer, text)) == expected


# Reported speech and statements: (text, kind, speaker, unconfirmed) of the one non-quote claim.
REPORTED: list[tuple[str, str, str | None, bool]] = [
    ("Secondo quanto riportato da Bloomberg, xAI avrebbe chiuso un round da 20 miliardi.",
     "reported", "Bloomberg", True),
    ("Come riportato dal Wall Street Journal, OpenAI starebbe lavorando a un dispositivo.",
     "reported", "Wall Street Journal", True),
    ("Secondo Reuters, OpenAI starebbe trattando con Apple.", "reported", "Reuters", True),
    ("OpenAI ha fatto sapere che il servizio tornerà online in serata.", "reported", "openai", False),
    ("Sutskever ha precisato in una nota che non tornerà in OpenAI.", "reported", "ilya_sutskever", False),
    ("Musk ha scritto su X che OpenAI è diventata una società chiusa.", "reported", "elon_musk", False),
    ("Il regista Steven Altman ha detto che il film uscirà a maggio.", "reported", "Steven Altman", False),


    ("Sam Altman è a Milano.\nIn un'intervista al Sole 24 Ore, il numero uno di OpenAI ha detto che l'Europa "
     "rischia di restare indietro.", "reported", "sam_altman", False),
    ("Da quanto appreso dal Post, OpenAI sta valutando una sede a Milano.", "reported", "Post", False),
    ("L'Antitrust, invece, ha fatto sapere che avvierà un'istruttoria.", "reported", "L'Antitrust", False),
    ("Durante l'audizione al Senato, Altman ha ammesso che «i rischi sono reali».", "reported", "sam_altman", False),
    ("Secondo il ceo di OpenAI Sam Altman, il modello arriverà a giugno.", "reported", "sam_altman", False),
]
REPORTED = [c for c in REPORTED if c]


@pytest.mark.parametrize(("text", "kind", "speaker", "unconfirmed"), REPORTED)
def test_reported(analyzer: Analyzer, text: str, kind: str, speaker: str | None, unconfirmed: bool) -> None:
    claims = [c for c in run(analyzer, text).claims if c.kind == "reported" or c.subject is None]
    assert [(c.kind, c.speaker, c.unconfirmed) for c in claims if c.kind != "quote"] == [(kind, speaker, unconfirmed)]


def test_quote_embedded_in_indirect_speech_keeps_the_named_speaker(analyzer: Analyzer) -> None:
    text = ("Il fratello Kimbal Musk non ha commentato.\n"
            "L'amministratore delegato di Microsoft Satya Nadella ha spiegato che «la partnership resta solida».")
    claims = run(analyzer, text).claims
    assert claims and {c.speaker for c in claims if c.speaker} == {"Satya Nadella"}


# Texts where no claim may name a wrong speaker: the allowed speakers, or () for none at all.
NO_WRONG_SPEAKER: list[tuple[str, set[str]]] = [
    # both Elon and Kimbal introduced: the bare surname is ambiguous
    ("Elon Musk ha parlato ieri. Il fratello Kimbal Musk non ha commentato. Musk, intanto, ha annunciato "
     "che xAI raccoglierà altri 6 miliardi di dollari.", set()),
    # interview Q/A with dashes: no quote marks, no quote claims
    ("Intervista a Ilya Sutskever.\n— Perché ha lasciato OpenAI?\n— Volevo concentrarmi sulla sicurezza.", set()),
    # a rumour has no speaker
    ("Stando a fonti vicine al dossier, Altman sarebbe pronto a lasciare.", set()),
    # a role NP that names someone else is not the person just mentioned
    ("Sam Altman ha parlato a Milano. Il ceo di Microsoft Satya Nadella ha detto: «Siamo partner».",
     {"Satya Nadella"}),
    # a list of names is not attribution
    ("Alla riunione c'erano Sam Altman, Elon Musk, Satya Nadella e Ilya Sutskever.", set()),
    # a trailing subject that is not a person does not fall back to the last speaker
    ("Altman ha parlato. «Non abbiamo ricevuto offerte», ha precisato in una nota la società guidata da "
     "Brad Lightcap.", {"la società guidata da Brad Lightcap"}),
    # an infinitive has no subject: no reported claim inherits one (seen in a real tech-blog feed)
    ("Variabile Path modificata per clangd.\nassicurarsi che l'estensione di Microsoft non sia installata.", set()),
    ("Per dire che il modello funziona, Altman ha mostrato una demo.", set()),
    # a sentence-initial capitalised verb is not a first name: "Scrive Musk" is Musk
    ("Elon Musk e il fratello Kimbal Musk erano presenti. Scrive Musk su X: «Andiamo avanti».", set()),
    # English attribution order is not Italian: no guess
    ('"We are not for sale," Altman wrote on X.', set()),
]


@pytest.mark.parametrize(("text", "allowed"), NO_WRONG_SPEAKER)
def test_no_wrong_speaker(analyzer: Analyzer, text: str, allowed: set[str]) -> None:
    speakers = {c.speaker for c in run(analyzer, text).claims if c.speaker}
    assert speakers <= allowed


M = tuple[str, str]

# Mentions in the body: (text, [(entity, surface)]).
MENTIONS: list[tuple[str, list[M]]] = [
    ("Il post di @elonmusk ha fatto il giro del web.", []),
    ("Il modello è disponibile su openai.com e su chat.openai.com.", []),
    ("Per informazioni scrivere a press@openai.com o visitare OpenAI.com.", []),
    ("La xAI di Musk ha raccolto 6 miliardi.", [("xai", "xAI"), ("elon_musk", "Musk")]),
    ("Secondo il Financial Times, Musk's xAI punta a 200 miliardi.", [("elon_musk", "Musk"), ("xai", "xAI")]),
    ("Alla riunione c'erano Sam Altman, Elon Musk, Satya Nadella e Ilya Sutskever.",
     [("sam_altman", "Sam Altman"), ("elon_musk", "Elon Musk"), ("ilya_sutskever", "Ilya Sutskever")]),
    ("Il cofondatore di OpenAI Ilya Sutskever ha lasciato.", [("openai", "OpenAI"), ("ilya_sutskever", "Ilya Sutskever")]),
    ("Altman (OpenAI) e Musk (xAI) si sono sfidati.",
     [("sam_altman", "Altman"), ("openai", "OpenAI"), ("elon_musk", "Musk"), ("xai", "xAI")]),
    ("Il regista Steven Altman ha detto che il film uscirà a maggio.", []),
    ("Il chimico Ilya Prigogine vinse il Nobel. Ilya era belga.", []),
    # a hashtag that is exactly the name names the actor; a name glued to other letters does not
    ("Il #MuskGate e l'hashtag #OpenAI sono in tendenza.", [("openai", "OpenAI")]),
    ("Elon Musk e il fratello Kimbal. Poi Elon ha parlato.", [("elon_musk", "Elon Musk"), ("elon_musk", "Elon")]),
    ("Musk ha incontrato Altman: i due non si parlavano da anni.", [("elon_musk", "Musk"), ("sam_altman", "Altman")]),
    ("Un convegno sull'XAI e sulla trasparenza dei modelli.", []),
]


@pytest.mark.parametrize(("text", "expected"), MENTIONS)
def test_mentions(analyzer: Analyzer, text: str, expected: list[M]) -> None:
    assert [(m.entity, m.text) for m in run(analyzer, text).mentions] == expected


# All-capitals titles: full names and names confirmed in the body count; XAI alone stays ambiguous.
TITLES: list[tuple[str, str, list[str]]] = [
    ("ELON MUSK CONTRO OPENAI", "Il fondatore di xAI ha attaccato OpenAI.", ["elon_musk", "openai"]),
    ("XAI RACCOGLIE 6 MILIARDI", "La startup xAI ha chiuso il round.", ["xai"]),
    ("XAI, LA SFIDA DELLA TRASPARENZA", "L'intelligenza artificiale spiegabile cresce.", []),
    ("MUSK: «OPENAI HA TRADITO»", "Elon Musk torna all'attacco di OpenAI.", ["elon_musk", "openai"]),
]


@pytest.mark.parametrize(("title", "text", "expected"), TITLES)
def test_all_caps_titles(analyzer: Analyzer, title: str, text: str, expected: list[str]) -> None:
    assert sorted({m.entity for m in run(analyzer, text, title).mentions if m.in_title}) == expected


def test_every_mention_has_evidence(analyzer: Analyzer) -> None:
    text = "Elon Musk ha parlato dell'OpenAI. Poi Musk ha citato Ilya Sutskever. Ilya ha taciuto."
    a = run(analyzer, text)
    assert all(m.why for m in a.mentions)
    why = {m.text: m.why for m in a.mentions}
    assert 'after elision "dell\'"' in why["OpenAI"]
    assert "surname of Elon Musk" in why["Musk"] and "at 0" in why["Musk"]
    assert 'first name "Ilya"' in why["Ilya"] and "Ilya Sutskever" in why["Ilya"]


def test_format_text_shows_evidence(analyzer: Analyzer, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Elon Musk ha scritto. Poi Musk ha taciuto.", encoding="utf-8")
    out = format_text(analyze_file(path, analyzer))
    assert '(alias "Musk" (surname of Elon Musk; full name seen at 0))' in out


def test_normalise_claim_text() -> None:
    assert normalise_claim_text("«Vinceremo  noi!»") == normalise_claim_text("“vinceremo noi”.") == "vinceremo noi"
    assert normalise_claim_text("L’azienda è \"pronta\"") == "l azienda è pronta"


def test_rank_key_claims_puts_claims_seen_elsewhere_last() -> None:
    def claim(kind: str, speaker: str, text: str, pos: int) -> Claim:
        return Claim(kind, speaker, text, pos, pos + len(text), text, 1.0)  # type: ignore[arg-type]

    old = claim("quote", "elon_musk", "«Vinceremo noi»", 0)
    new = claim("reported", "sam_altman", "il modello uscirà a giugno", 50)
    other = claim("quote", "Mario Rossi", "Tutto previsto", 90)
    scores = {"elon_musk": 3.0, "sam_altman": 2.0}
    assert rank_key_claims([old, new, other], scores, 3) == (old, new, other)
    seen = {normalise_claim_text("Vinceremo noi!")}
    assert rank_key_claims([old, new, other], scores, 3, seen) == (new, other, old)
    assert rank_key_claims([old, new, other], scores, 1, seen) == (new,)
