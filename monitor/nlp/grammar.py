"""A tiny shallow grammar for attribution: words with offsets, noun phrases, verb groups.

Attribution looks only a few words around a quotation, so it works on its own light word split of
one clause (elided articles stay glued to their apostrophe: `dell'`, `l'`), not on a parse.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from monitor.nlp.lexicon import (
    ADVERBS,
    ANAPHOR_ORG,
    ARTICLES,
    AUXILIARIES,
    CHANNEL_NOUNS,
    CLITICS,
    PLATFORMS,
    PREPOSITIONS,
    ROLE_NOUNS,
    wordset,
)
from monitor.nlp.verbs import MULTIWORD_SPEECH, SPEECH_VERBS

_WORD = re.compile(r"[^\W_]+(?:[-.][^\W_]+)*['’]?|[^\w\s]")
# Title abbreviations keep their full stop ("dott.", "sig.ra"): "Il dott. Rossi" is one noun phrase.
_TITLES = wordset("dott dr sig ing avv prof sen on arch mons geom rag")
_DI = wordset("di d del dello della dei degli delle dell")
_DI_ARTICLE = wordset("del dello della dell")
_INNER_STOP = ARTICLES - {"uno"}  # "una nota un portavoce": two phrases; "il numero uno": one
_DA = wordset("da dal dallo dalla dai dagli dalle dall")
_PARTICIPLES = ("ata", "ato", "ati", "ate", "ita", "ito", "iti", "ite", "uta", "uto", "uti", "ute")


class Word(NamedTuple):
    """A word with offsets; `low` is lower case without a final apostrophe ("dell'" -> "dell")."""

    text: str
    start: int
    end: int
    low: str
    cap: bool = False  # capitalised, or a brand with an inner capital (xAI); "CEO" is a role, not a name
    alpha: bool = True  # a word, not punctuation


def _is_cap(text: str, low: str) -> bool:
    if text.isupper() and low in ROLE_NOUNS:
        return False
    return text[:1].isupper() or text[:1].islower() and text[1:] != text[1:].lower()


def words(text: str, start: int = 0, end: int | None = None) -> tuple[Word, ...]:
    """The words of text[start:end] with offsets into `text`.

    An article is split once (`_Index`) and clauses are slices of it: the rules look at the same
    clauses many times, and building the words is the costly part. Short texts are split directly.
    """
    end = len(text) if end is None else end
    if len(text) < _INDEX_MIN:
        return _short_words(text, start, end)
    index = _INDEX.get(text)
    if index is None:
        if len(_INDEX) >= 4:
            _INDEX.clear()
        index = _INDEX[text] = _Index(_words(text, 0, len(text)))
    return index.slice(start, end)


_INDEX_MIN = 400
_INDEX: dict[str, _Index] = {}


class _Index:
    def __init__(self, ws: tuple[Word, ...]) -> None:
        self.ws = ws
        self.starts = [w.start for w in ws]
        self.ends = [w.end for w in ws]

    def slice(self, start: int, end: int) -> tuple[Word, ...]:
        return self.ws[bisect_left(self.starts, start):bisect_right(self.ends, end)]


def _words(text: str, start: int, end: int) -> tuple[Word, ...]:
    new = tuple.__new__  # skips the NamedTuple constructor's Python-level wrapper
    feats = _FEATURES
    out: list[Word] = []
    for m in _WORD.finditer(text, start, end):
        w = m.group()
        a, b = m.span()
        f = feats.get(w)
        if f is None:
            f = _features(w)
        low = f[0]
        if low in _TITLES and text[b:b + 1] == "." and b + 1 < end and text[b + 1].isspace():
            w, b = w + ".", b + 1  # "dott." (the next match, the full stop, is dropped below)
        elif w == "." and out and out[-1][2] == b:
            continue
        out.append(new(Word, (w, a, b, low, f[1], f[2])))
    return tuple(out)


# The rules revisit the same short clauses while reading one article; nothing is reused across
# articles, so a small cache is enough (a large one held tens of MB of word tuples per process).
_short_words = lru_cache(maxsize=256)(_words)

_FEATURES: dict[str, tuple[str, bool, bool]] = {}  # word -> (low, cap, alpha), shared by all articles


def _features(w: str) -> tuple[str, bool, bool]:
    low = w.lower().rstrip("'’")
    f = (low, _is_cap(w, low), w[:1].isalnum())
    if len(_FEATURES) > 30_000:  # bounded: a worker reads unseen names and typos for months
        _FEATURES.clear()
    _FEATURES[w] = f
    return f


def is_stop(w: Word) -> bool:
    """Words that cannot be part of a speaker noun phrase."""
    low = w.low
    return (not w.alpha or low in PREPOSITIONS and low not in _DI or low in ADVERBS
            or low in AUXILIARIES or low in ("che", "e", "ed", "o", "cui", "ma", "come", "mentre")
            or (not w.cap and low in SPEECH_VERBS))


def np_forward(ws: Sequence[Word], i: int) -> int:
    """End index (exclusive) of the noun phrase starting at ws[i], or i if there is none."""
    j = i
    if j < len(ws) and ws[j].low in ARTICLES | {"un"} and ws[j].alpha:
        j += 1
        head = j
        while (j < len(ws) and (not is_stop(ws[j]) or j == head and _noun_after_article(ws[j]))
               and ws[j].low not in _DI and ws[j].low not in _INNER_STOP and j - head < 4):
            j += 1
        if j == head:
            return i
    elif j < len(ws) and ws[j].cap and not is_stop(ws[j]):
        while j < len(ws) and ws[j].cap and ws[j].alpha and not is_stop(ws[j]):
            j += 1
    else:
        return i
    return _complement(ws, j)


def _complement(ws: Sequence[Word], j: int) -> int:
    """Extend over "di OpenAI", "dell'OpenAI", "di un comitato di residenti", "guidata da Altman"."""
    while j + 1 < len(ws):
        if ws[j].low in _DI:
            k = np_forward(ws, j + 1)
            if k == j + 1 and ws[j].low in _DI_ARTICLE and ws[k].low in ANAPHOR_ORG and not ws[k].cap:
                k += 1  # "il fondatore dell'azienda", "il capo della società": the article is in "della"
        elif j > 0 and ws[j].low in _DA and ws[j - 1].low.endswith(_PARTICIPLES) and not ws[j - 1].cap:
            k = np_forward(ws, j + 1)  # "la società guidata da Anna Verdi"
        else:
            break
        if k == j + 1:
            break
        j = k
    return j


def _noun_after_article(w: Word) -> bool:
    """"la replica", "il commento": a speech-verb form right after an article is a noun."""
    return w.alpha and not w.cap and w.low in SPEECH_VERBS and w.low not in AUXILIARIES


def np_backward(ws: Sequence[Word], end: int) -> int:
    """Start index of a noun phrase that ends right before ws[end], or `end` if there is none."""
    best = end
    for start in range(end - 1, max(-1, end - 9), -1):
        w = ws[start]
        if not w.alpha or (is_stop(w) and w.low not in _DI):
            break
        if np_forward(ws, start) == end and (w.cap or w.low in ARTICLES or w.low == "un"):
            best = start
    return best


def skip_adverbs(ws: Sequence[Word], i: int, step: int, clitics: bool = True) -> int:
    """Skip adverbs and clitics ("ha poi aggiunto", "si è detto") from ws[i] in direction `step`.

    After a verb, `clitics=False`: "ha detto la portavoce" has an article there, not a clitic.
    """
    while 0 <= i < len(ws) and (ws[i].low in ADVERBS or clitics and ws[i].low in CLITICS and not ws[i].cap):
        i += step
    return i


def verb_group(ws: Sequence[Word], i: int) -> int:
    """End of a speech verb group starting at ws[i] ("ha poi aggiunto", "spiega"), else i."""
    j = i
    if j < len(ws) and ws[j].low in AUXILIARIES:
        j = skip_adverbs(ws, j + 1, 1)
        if j < len(ws) and ws[j].low in ("stato", "stata"):
            j += 1
    if j < len(ws) and ws[j].low in SPEECH_VERBS and not ws[j].cap or (
            j + 1 < len(ws) and ws[j].low in MULTIWORD_SPEECH and ws[j + 1].low == MULTIWORD_SPEECH[ws[j].low]):
        j += 1
        if j < len(ws) and ws[j].low in ("sapere", "noto", "corto"):
            j += 1
        return j
    return i


def skip_adjuncts(ws: Sequence[Word], k: int, channel_only: bool = False) -> int:
    """Skip prepositional adjuncts ("in una nota", "a Repubblica", "su X", "al Corriere") from ws[k].

    With `channel_only`, only adjuncts naming a channel or a capitalised outlet are skipped.
    """
    while k < len(ws) and ws[k].low in PREPOSITIONS and ws[k].low not in _DI:
        end = np_forward(ws, k + 1)
        if end == k + 1:  # "ai cronisti", "nel comunicato": an articulated preposition and a bare noun
            while (end < min(len(ws), k + 4) and ws[end].alpha and not ws[end].cap and not is_stop(ws[end])
                   and ws[end].low not in ARTICLES):
                end += 1
        if end == k + 1:
            return k
        if channel_only and not any(w.cap or w.low in CHANNEL_NOUNS for w in ws[k + 1:end]):
            return k
        k = skip_adverbs(ws, end, 1, clitics=False)
    return k


def is_platform(text: str) -> bool:
    return text.lower().strip() in PLATFORMS
