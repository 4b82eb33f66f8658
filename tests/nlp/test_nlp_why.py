"""Every claim says how its speaker (or subject) was found: `Claim.why`, one row per attribution shape."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from monitor.cli.analyze import analyze_file, format_text
from monitor.nlp import Analyzer

W = tuple[str, str | None, str]  # (kind, speaker or subject, why)


def whys(analyzer: Analyzer, text: str) -> list[W]:
    return [(c.kind, c.speaker or c.subject, c.why) for c in analyzer.analyze("", text).claims]


@pytest.mark.parametrize(("text", "expected"), [
    # after the quote: verb then subject, subject then verb
    ("«Sono molto preoccupato», ha scritto Musk su X.",
     [("quote", "elon_musk", 'speaker "Musk", subject of "ha scritto" after the quote')]),
    ("«Non venderemo», Altman ha precisato.",
     [("quote", "sam_altman", 'speaker "Altman", subject of "ha precisato" after the quote')]),
    ("«Collaboreremo con le autorità», ha fatto sapere un portavoce di OpenAI.",
     [("quote", "openai", '"un portavoce di OpenAI" speaks for openai, subject of "ha fatto sapere" after the quote')]),
    # before the quote, with a colon; headline style
    ("Altman ha dichiarato: «Il modello uscirà a giugno».",
     [("quote", "sam_altman", 'speaker "Altman" before "ha dichiarato:"')]),
    ("Musk: «Nessun passo indietro».",
     [("quote", "elon_musk", 'speaker "Musk" before the colon, headline style')]),
    # around: a split quote
    ("«Il calcolo costa», ha detto Altman, «ma i prezzi scenderanno».",
     [("quote", "sam_altman", 'speaker "Altman", subject of "ha detto" after the quote'),
      ("quote", "sam_altman", 'second half of a split quote around "ha detto Altman"')]),
    # continuation: a quotation that is a whole sentence
    ("«Il piano è pronto», ha detto Altman. «Lo presenteremo a maggio».",
     [("quote", "sam_altman", 'speaker "Altman", subject of "ha detto" after the quote'),
      ("quote", "sam_altman", "same speaker as the previous quote (continuation)")]),
    # pro-drop: before a colon, after the quote, verbless
    ("«Ci siamo», ha scritto Musk. Ha poi aggiunto: «Manca poco». E poco dopo: «Partiamo».",
     [("quote", "elon_musk", 'speaker "Musk", subject of "ha scritto" after the quote'),
      ("quote", "elon_musk", 'pro-drop "Ha poi aggiunto:" inherits the last speaker elon_musk'),
      ("quote", "elon_musk", 'pro-drop "E poco dopo:" inherits the last speaker elon_musk')]),
    ("«Ci siamo», ha scritto Musk. «Manca poco», ha aggiunto.",
     [("quote", "elon_musk", 'speaker "Musk", subject of "ha scritto" after the quote'),
      ("quote", "elon_musk", 'pro-drop "ha aggiunto" inherits the last speaker elon_musk after the quote')]),
    # a role tied to a person by apposition (at the apposition's offset)
    ("Lo scienziato capo di OpenAI, Ilya Sutskever, ha lasciato. "
     "Ieri lo scienziato capo di OpenAI ha detto: «Ho imparato molto».",
     [("quote", "ilya_sutskever", 'role "lo scienziato capo di OpenAI" tied to Ilya Sutskever by apposition at 0 '
                                  'before "ha detto:"')]),
    # reported speech: "secondo", "ha detto che"
    ("Secondo Altman, il modello uscirà a giugno.",
     [("reported", "sam_altman", 'speaker "Altman", source after "Secondo"')]),
    ("Musk ha detto che la causa è infondata.",
     [("reported", "elon_musk", 'speaker "Musk", subject of "ha detto che"')]),
    ("Musk avrebbe detto che la causa è infondata.",
     [("reported", "elon_musk", 'speaker "Musk", subject of "avrebbe detto che"; unconfirmed: conditional "avrebbe"')]),
    # statements: the tracked actor is the subject of the event
    ("Altman è stato licenziato dal consiglio.",
     [("statement", "sam_altman", '"Altman" is the subject of "è stato licenziato"')]),
    ("Secondo indiscrezioni, Altman sarebbe stato licenziato dal consiglio.",
     [("statement", "sam_altman", '"Altman" is the subject of "sarebbe stato licenziato"; '
                                  'unconfirmed: rumour "Secondo indiscrezioni"')]),
])
def test_why_names_the_rule_and_cue(analyzer: Analyzer, text: str, expected: list[W]) -> None:
    assert whys(analyzer, text) == expected


def test_why_is_evidence_not_identity(analyzer: Analyzer) -> None:
    """`why` explains a claim, it does not identify it: claims differing only in `why` are equal."""
    claim = analyzer.analyze("", "«Ci siamo», ha scritto Musk.").claims[0]
    assert claim.why and replace(claim, why="something else") == claim


def test_analyze_file_carries_why(analyzer: Analyzer, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("«Sono molto preoccupato», ha scritto Musk su X.", encoding="utf-8")
    record = analyze_file(path, analyzer)
    assert record["claims"][0]["why"] == 'speaker "Musk", subject of "ha scritto" after the quote'
    assert 'quote     elon_musk: Sono molto preoccupato  (speaker "Musk"' in format_text(record)


def test_format_text_prints_why_on_the_claim_line() -> None:
    record = {"path": "x", "entities": ["elon_musk"], "mentions": [],
              "claims": [{"kind": "quote", "speaker": "elon_musk", "text": "Sono molto preoccupato",
                          "why": 'speaker "Musk", subject of "ha scritto" after the quote'},
                         {"kind": "quote", "speaker": "elon_musk", "text": "Senza spiegazione"}]}
    lines = format_text(record).splitlines()
    assert lines[-2] == ('  quote     elon_musk: Sono molto preoccupato  '
                         '(speaker "Musk", subject of "ha scritto" after the quote)')
    assert lines[-1] == "  quote     elon_musk: Senza spiegazione"
