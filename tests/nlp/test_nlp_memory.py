"""A daemon analyses news for months: the pipeline's vocabulary must not grow without bound."""

from __future__ import annotations

import random

from monitor.config import DEFAULT_ENTITIES, load_entities
from monitor.nlp import Analyzer


def _novel_words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choice("bcdfglmnprstvz") + rng.choice("aeiou") for _ in range(4)) for _ in range(n))


def test_vocabulary_is_bounded_and_results_survive_a_renewal() -> None:
    analyzer = Analyzer(load_entities(DEFAULT_ENTITIES), max_strings=3_000)
    rng = random.Random(7)
    sizes = []
    for _ in range(60):  # about 9,000 never-seen words: three renewals at this limit
        text = f"{_novel_words(rng, 150)}. «Siamo pronti», ha detto Sam Altman ai giornalisti."
        result = analyzer.analyze("Notizie", text)
        sizes.append(len(analyzer.nlp.vocab.strings))
        assert [(c.speaker, c.text) for c in result.claims if c.kind == "quote"] == [("sam_altman", "Siamo pronti")]
    assert max(sizes) < 3_000 + 1_000  # the limit plus one article's new words
    assert min(sizes[10:]) < max(sizes)  # it was renewed, not merely slow to grow
