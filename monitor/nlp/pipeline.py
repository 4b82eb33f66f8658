"""The spaCy pipeline: a blank (or user-supplied) Italian pipeline plus our three components.

Components, in order, each registered as a spaCy factory and storing results on extensions:
  monitor_segmenter  quotations (`doc._.quotes`) and quote-aware sentence starts
  monitor_actors     tracked-actor mentions in body and title (`doc._.mentions`, `doc.spans`)
  monitor_claims     quotes, reported speech and statements (`doc._.claims`)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy
import spacy
from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span
from spacy.util import compile_suffix_regex

from monitor.config.types import EntityConfig
from monitor.errors import ConfigError
from monitor.nlp import forget_spacy_cli_stubs
from monitor.nlp.actors import resolve
from monitor.nlp.aliases import AliasTable
from monitor.nlp.claims import extract_claims
from monitor.nlp.depparse import Parse
from monitor.nlp.quotemarks import find_quotes
from monitor.nlp.segment import sentence_spans
from monitor.nlp.speaker_words import role_key

forget_spacy_cli_stubs()
ACTORS_KEY = "actors"
PERSON_LABELS = frozenset({"PER", "PERSON"})  # person labels of spaCy's Italian and English models


def _register_extensions() -> None:
    for name, default in (("title", ""), ("raw", None), ("quotes", None), ("sent_spans", None), ("mentions", None),
                          ("title_mentions", None), ("claims", None)):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)
    if not Span.has_extension("entity"):
        Span.set_extension("entity", default=None)


_register_extensions()


def doc_text(doc: Doc) -> str:
    """`doc.text`, computed once: spaCy rebuilds it from the tokens on every access."""
    if doc._.raw is None:
        doc._.raw = doc.text
    text: str = doc._.raw
    return text


@Language.component("monitor_segmenter")
def segmenter(doc: Doc) -> Doc:
    text = doc_text(doc)
    quotes = find_quotes(text)
    spans = sentence_spans(text, quotes)
    doc._.quotes = quotes
    doc._.sent_spans = spans
    if len(doc):
        # One array write: setting token.is_sent_start one by one rescans the doc each time.
        idx = doc.to_array(IDX)
        # Which tokens start a sentence: a sorted search (numpy.isin costs ~10x more on a few
        # hundred tokens, 5 % of the analysis).
        starts = numpy.array(sorted({s for s, _ in spans}), dtype=idx.dtype)
        found = (starts[numpy.searchsorted(starts, idx).clip(max=len(starts) - 1)] == idx if len(starts)
                 else numpy.zeros(len(idx), dtype=bool))
        flags = numpy.where(found, 1, -1)  # -1: "not a start"
        flags[0] = 1
        values: Any = flags.astype("int64").reshape(-1, 1).astype("uint64")
        doc.from_array([SENT_START], values)
    return doc


class ActorMatcher:
    """Finds tracked actors; `set_entities` swaps the alias table without touching the pipeline."""

    def __init__(self) -> None:
        self.table = AliasTable(())

    def set_entities(self, entities: Sequence[EntityConfig]) -> None:
        self.table = AliasTable(entities)

    def __call__(self, doc: Doc) -> Doc:
        title: str = doc._.title or ""
        offset = len(title) + 2 if title else 0
        # Title and body are resolved together: one sense of "Musk" or "Sam" per article.
        text = doc_text(doc)
        persons = [(e.start_char + offset, e.end_char + offset) for e in doc.ents if e.label_ in PERSON_LABELS]
        found = resolve(f"{title}\n\n{text}" if title else text, self.table, offset, persons)
        body = [f for f in found if f.start >= offset]
        doc._.title_mentions = [f for f in found if f.start < offset]
        doc._.mentions = [type(f)(f.entity, f.start - offset, f.end - offset, f.why) for f in body]
        spans = []
        for f in doc._.mentions:
            span = doc.char_span(f.start, f.end, label=f.entity, alignment_mode="expand")
            if span is not None:
                spans.append(span)
                span._.entity = f.entity
        doc.spans[ACTORS_KEY] = spans
        return doc


@Language.factory("monitor_actors")
def make_actors(nlp: Language, name: str) -> ActorMatcher:
    return ActorMatcher()


class ClaimExtractor:
    """With `parsed` (the model has a parser), dependency arcs are extra evidence (see depparse)."""

    def __init__(self, kinds: dict[str, str] | None = None, parsed: bool = False) -> None:
        self.kinds: dict[str, str] = kinds or {}
        self.short_names: frozenset[str] = frozenset()
        self.roles: dict[str, frozenset[str]] = {}  # actor id -> role keys of its roles and descriptions
        self.parsed = parsed

    def __call__(self, doc: Doc) -> Doc:
        persons = [(e.start_char, e.end_char) for e in doc.ents if e.label_ in PERSON_LABELS]
        parse = Parse(doc) if self.parsed and doc.has_annotation("DEP") else None
        doc._.claims = extract_claims(doc_text(doc), doc._.sent_spans, doc._.quotes, doc._.mentions, self.kinds,
                                      self.short_names, persons, parse, self.roles)
        return doc


@Language.factory("monitor_claims")
def make_claims(nlp: Language, name: str) -> ClaimExtractor:
    return ClaimExtractor(parsed="parser" in nlp.pipe_names)


def build(model: str, entities: Sequence[EntityConfig]) -> Language:
    """Build the pipeline once; entities can be swapped later with `set_entities`."""
    if model:
        try:
            nlp = spacy.load(model)
        except (OSError, ImportError) as exc:
            raise ConfigError("configuration", "nlp.model",
                              f"spaCy pipeline {model!r} is not installed; install it (pip install …) or "
                              f"leave nlp.model empty for the built-in rules ({exc})") from None
        except ValueError as exc:
            raise ConfigError("configuration", "nlp.model",
                              f"spaCy pipeline {model!r} cannot be loaded: {exc}") from None
    else:
        nlp = spacy.blank("it")
    _tokenizer_rules(nlp)
    first = nlp.pipe_names[0] if nlp.pipe_names else None
    nlp.add_pipe("monitor_segmenter", before=first) if first else nlp.add_pipe("monitor_segmenter")
    nlp.add_pipe("monitor_actors")
    nlp.add_pipe("monitor_claims")
    if not model:
        nlp.initialize()  # initialize() resets components, so entities are set after it
    set_entities(nlp, entities)
    return nlp


def set_entities(nlp: Language, entities: Sequence[EntityConfig]) -> None:
    actors = nlp.get_pipe("monitor_actors")
    assert isinstance(actors, ActorMatcher)
    actors.set_entities(entities)
    claims = nlp.get_pipe("monitor_claims")
    assert isinstance(claims, ClaimExtractor)
    claims.kinds = {e.id: e.kind for e in entities}
    claims.roles = {e.id: frozenset(role_key(r) for r in (*e.roles, *e.descriptions)) for e in entities
                    if e.roles or e.descriptions}
    claims.short_names = frozenset(n for p in actors.table.persons.values() for n in (p.first, p.last))


def _tokenizer_rules(nlp: Language) -> None:
    """`su X.` stays one token in the blank tokenizer: split a full stop after a lone capital.

    A suffix rule rather than special cases: special cases that contain punctuation bypass the
    tokenizer cache and make tokenization about 40 times slower. Initials ("R.") split too, which
    is harmless: sentences are segmented on characters, knowing about initials.
    """
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)
    suffixes = list(nlp.Defaults.suffixes or []) + [r"(?<=^[A-Z])\."]
    tokenizer.suffix_search = compile_suffix_regex(suffixes).search
