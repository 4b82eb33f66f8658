"""A daemon analyses news for months: the pipeline's vocabulary must not grow without bound."""

from __future__ import annotations

import gc
import random
import subprocess
import sys
import tracemalloc

from monitor.config.entities import load_entities
from monitor.config.types import DEFAULT_ENTITIES
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


def test_memory_held_between_articles_stays_small() -> None:
    """What analysing one article leaves behind must not pile up across thousands of articles."""
    analyzer = Analyzer(load_entities(DEFAULT_ENTITIES))
    rng = random.Random(11)
    vocabulary = _novel_words(rng, 2_000).split()  # a fixed vocabulary: spaCy's own tables stop growing

    def some(n: int) -> str:
        return " ".join(rng.choices(vocabulary, k=n))

    def article() -> str:  # long enough to be split once and sliced, with a quote to attribute
        return (f"{some(40).capitalize()}. «Siamo pronti a {some(3)}», ha detto Sam Altman ai "
                f"giornalisti. {some(40).capitalize()}. Secondo Elon Musk, {some(12)}.")

    for _ in range(300):
        analyzer.analyze("Notizie", article())
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(1_200):
            analyzer.analyze("Notizie", article())
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 4 * 2**20, f"{held / 2**20:.1f} MB still held after 1,200 articles"


def test_an_analysing_process_does_not_load_spacys_command_line() -> None:
    """spaCy's CLI (typer, weasel, requests, rich) is ~25 MB per worker that the analyser never uses."""
    script = """
import sys
from monitor.config.entities import load_entities
from monitor.config.types import DEFAULT_ENTITIES
from monitor.nlp import Analyzer
result = Analyzer(load_entities(DEFAULT_ENTITIES)).analyze("X", "«Sono molto preoccupato», ha scritto Elon Musk su X.")
print([c.speaker for c in result.claims], sorted(m for m in ("typer", "weasel", "requests") if m in sys.modules))
import spacy.cli  # still there for whoever wants it
print(hasattr(spacy.cli, "download"))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split("\n")[:2] == ["['elon_musk'] []", "True"], out.stdout + out.stderr
