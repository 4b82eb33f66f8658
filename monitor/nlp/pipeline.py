"""The spaCy pipeline: a blank (or user-supplied) Italian pipeline plus our three components.

Components, in order, each registered as a spaCy factory and storing results on extensions:
  monitor_segmenter  quotations (`doc._.quotes`) and quote-aware sentence starts
  monitor_actors     tracked-actor mentions in body and title (`doc._.mentions`, `doc.spans`)
  monitor_claims     quotes, reported speech and statements (`doc._.claims`)
"""

from __future__ import annotations

from collections.abc import Sequence

import spacy
from spacy.language import Language
from spacy.symbols import ORTH
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span

from monitor.config import EntityConfig
from monitor.errors import ConfigError
from monitor.nlp.actors import resolve
from monitor.nlp.aliases import AliasTable
from monitor.nlp.claims import extract_claims
from monitor.nlp.lexicon import PLATFORMS
from monitor.nlp.quotemarks import find_quotes
from monitor.nlp.segment import sentence_spans

ACTORS_KEY = "actors"


def _register_extensions() -> None:
    for name, default in (("title", ""), ("quotes", None), ("sent_spans", None), ("mentions", None),
                          ("title_mentions", None), ("claims", None)):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)
    if not Span.has_extension("entity"):
        Span.set_extension("entity", default=None)


_register_extensions()


@Language.component("monitor_segmenter")
def segmenter(doc: Doc) -> Doc:
    quotes = find_quotes(doc.text)
    spans = sentence_spans(doc.text, quotes)
    doc._.quotes = quotes
    doc._.sent_spans = spans
    starts = {s for s, _ in spans}
    for token in doc:
        token.is_sent_start = token.i == 0 or token.idx in starts
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
        found = resolve(f"{title}\n\n{doc.text}" if title else doc.text, self.table)
        body = [f for f in found if f.start >= offset]
        doc._.title_mentions = [f for f in found if f.start < offset]
        doc._.mentions = [type(f)(f.entity, f.start - offset, f.end - offset) for f in body]
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
    def __init__(self, kinds: dict[str, str] | None = None) -> None:
        self.kinds: dict[str, str] = kinds or {}

    def __call__(self, doc: Doc) -> Doc:
        doc._.claims = extract_claims(doc.text, doc._.sent_spans, doc._.quotes, doc._.mentions, self.kinds)
        return doc


@Language.factory("monitor_claims")
def make_claims(nlp: Language, name: str) -> ClaimExtractor:
    return ClaimExtractor()


def build(model: str, entities: Sequence[EntityConfig]) -> Language:
    """Build the pipeline once; entities can be swapped later with `set_entities`."""
    if model:
        try:
            nlp = spacy.load(model)
        except OSError as exc:
            raise ConfigError("nlp.model", "", f"spaCy pipeline {model!r} is not installed ({exc}); "
                              "install it (pip install …) or leave nlp.model empty for the "
                              "built-in rules") from None
    else:
        nlp = spacy.blank("it")
    _special_cases(nlp)
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
    _special_cases(nlp, entities)


def _special_cases(nlp: Language, entities: Sequence[EntityConfig] = ()) -> None:
    """`su X.` stays one token in the blank tokenizer: split names from a final full stop."""
    names = {p.capitalize() for p in PLATFORMS} | {"X"}
    for ent in entities:
        names |= {a.text for a in ent.aliases if " " not in a.text}
    tokenizer = nlp.tokenizer
    assert isinstance(tokenizer, Tokenizer)
    for name in names:
        if not name.endswith("."):
            tokenizer.add_special_case(f"{name}.", [{ORTH: name}, {ORTH: "."}])
