"""Whole-text patterns open with a look-ahead on their first letters (a speed-up only): it must
never hide a match the pattern itself would find."""

from __future__ import annotations

import re

import pytest

from monitor.nlp.reported import _DA
from monitor.nlp.speaker_words import APPOSITION

TEXTS = [
    "Stando a quanto riferito dal Financial Times, OpenAI tratta. E stando a quanto scritto da Reuters, no.",
    "Da quanto appreso dall'ANSA, Musk ha deciso; da quanto riportato dai giornali, invece, no.",
    "Come riferito dal Corriere, Altman arriva. Lo ha confermato, come spiegato dalla società, ieri.",
    "Secondo quanto dichiarato da xAI, il modello esce; secondo quanto detto dagli avvocati, no.",
    "L'amministratore delegato di Microsoft, Satya Nadella, ha parlato. Il fondatore di xAI, Elon Musk, no.",
    "Un portavoce di OpenAI, Hannah Wong, ha risposto. La responsabile della comunicazione di Meta, Ada Rossi, no.",
    "lo scienziato capo dell'OpenAI, Ilya Sutskever, e una dirigente di Google, Anna Bianchi.",
]


def _without_lookahead(pattern: re.Pattern[str]) -> re.Pattern[str]:
    body = re.sub(r"^\(\?=\[[^\]]+\]\)", "", pattern.pattern)
    assert body != pattern.pattern, "the pattern no longer opens with a look-ahead"
    return re.compile(body, pattern.flags)


@pytest.mark.parametrize("pattern", [_DA, APPOSITION], ids=["reported-source", "apposition"])
@pytest.mark.parametrize("text", TEXTS)
def test_first_letter_lookahead_finds_every_match(pattern: re.Pattern[str], text: str) -> None:
    plain = _without_lookahead(pattern)
    assert [m.span() for m in pattern.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_the_texts_exercise_both_patterns() -> None:
    assert sum(len(_DA.findall(t)) for t in TEXTS) >= 6
    assert sum(len(APPOSITION.findall(t)) for t in TEXTS) >= 4
