"""Issue 16: a passing mention does not make an actor the main subject of a story (our own sentences)."""

from __future__ import annotations

import pytest

from monitor.nlp import Analyzer

THRESHOLD = 1.0  # the default nlp.relevance_threshold


@pytest.mark.parametrize(("text", "relevant", "why"), [
    ("La startup fondata da Elon Musk non c'entra: il campionato di tennis riparte domani a Roma con "
     "molti italiani in tabellone e grandi attese per la finale.",
     set(), "one mention in the lead, in a complement: a passing mention"),
    ("Elon Musk ha annunciato un nuovo razzo. Il lancio è previsto a maggio.",
     {"elon_musk"}, "the subject of the lead's event"),
    ("Il campionato riparte domani. " + "Le squadre sono pronte. " * 20 + "Anche Musk ha commentato su X.",
     {"elon_musk"}, "a speaker or subject anywhere still counts, as before"),
    ("OpenAI e i suoi rivali. " + "Il mercato cresce. " * 5 + "OpenAI ha chiuso l'anno in crescita.",
     {"openai"}, "two mentions, one in the lead"),
])
def test_passing_mentions(analyzer: Analyzer, text: str, relevant: set[str], why: str) -> None:
    scores = analyzer.analyze("", text).salience
    assert {e for e, s in scores.items() if s >= THRESHOLD} == relevant, (why, scores)


def test_quotes_without_a_speaker_stay_out_of_key_claims(analyzer: Analyzer) -> None:
    """Scare quotes and unattributed quotations are no claims at all, so never key claims."""
    text = ("Elon Musk ha presentato il «nuovo» razzo. «È una svolta per tutti noi e per il settore». "
            "Il lancio è previsto a maggio, secondo il calendario «ufficiale».")
    analysis = analyzer.analyze("", text)
    assert all(c.speaker for c in analysis.key_claims if c.kind == "quote")
    assert all(c.speaker for c in analysis.claims if c.kind == "quote")
