"""Issue 16: actors that survive misspellings, family members and handles (our own sentences)."""

from __future__ import annotations

import pytest

from monitor.nlp import Analyzer
from monitor.nlp.actors import misspelt

M = tuple[str, str]


def mentions(analyzer: Analyzer, text: str) -> list[M]:
    return [(m.entity, m.text) for m in analyzer.analyze("", text).mentions]


CASES: list[tuple[str, list[M], str]] = [
    ("Ieri Sam Altnan ha parlato a Roma. Altman ha poi incontrato i ricercatori.",
     [("sam_altman", "Sam Altnan"), ("sam_altman", "Altman")],
     "a one-letter slip of the surname after the tracked first name is the tracked person"),
    ("Elom Musk ha visitato la fabbrica. Musk ha poi parlato con i dipendenti.",
     [("elon_musk", "Musk"), ("elon_musk", "Musk")],
     "a slip of the first name does not introduce another Musk who would hide every Musk"),
    ("Kimbal Musk ha aperto un ristorante. Il fratello Elon non era presente.",
     [("elon_musk", "Elon")],
     "a bare first name counts in an article about the family, when nobody else has that first name"),
    ("Sam Bankman-Fried è stato condannato. Sam ha ascoltato la sentenza in silenzio.",
     [],
     "a bare first name that belongs to someone else named in the article does not count"),
    ("Il post firmato @sama ha fatto il giro del web.",
     [("sam_altman", "@sama")],
     "a public handle listed as an alias"),
    ("Robert Altman è stato un grande regista. Altman ha vinto un Oscar alla carriera.",
     [],
     "a different first name that is not a slip of the tracked one: another person"),
]


@pytest.mark.parametrize(("text", "expected", "why"), CASES)
def test_robust_actor_mentions(analyzer: Analyzer, text: str, expected: list[M], why: str) -> None:
    assert mentions(analyzer, text) == expected, why


@pytest.mark.parametrize(("word", "name", "expected"), [
    ("Alttman", "Altman", True),  # one letter added
    ("Altnan", "Altman", True),  # one letter changed
    ("Marghertia", "Margherita", True),  # two letters swapped in a long name
    ("Altmann", "Altman", True),
    ("Robert", "Sam", False),  # different names
    ("Baltman", "Altman", False),  # another first letter
    ("Musk", "Musk", True),
])
def test_misspelt(word: str, name: str, expected: bool) -> None:
    assert misspelt(word, name) is expected
