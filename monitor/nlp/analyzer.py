"""The public entry point of the NLP stage: `Analyzer(entities).analyze(title, text)`."""

from __future__ import annotations

from collections.abc import Sequence

from spacy.language import Language
from spacy.tokens import Doc

from monitor.config.types import EntityConfig
from monitor.models import Analysis, Mention
from monitor.nlp import forget_spacy_cli_stubs, pipeline
from monitor.nlp.ranking import key_claims, salience

forget_spacy_cli_stubs()

# About 90 MB of strings, lexemes and their tables above a fresh pipeline (measured on unseen words).
MAX_VOCAB_STRINGS = 50_000


class Analyzer:
    """Finds tracked actors and who said what in an Italian article.

    The spaCy pipeline is built once; `set_entities` only swaps the alias patterns. With `model`
    naming an installed spaCy pipeline or a pipeline directory, that pipeline is the base and its
    PER entities are extra evidence (a PER span "Steven J. Musk" blocks the surname, a PER span
    ending a role phrase is the speaker), and so are its dependency arcs when it has a parser (the
    `nsubj` of a speech verb fills a speaker the rules missed; a statement's subject is the `nsubj`
    of the sentence ROOT, never a subordinate clause's: see depparse). An unknown or missing model raises
    ConfigError("configuration", "nlp.model", ...).
    """

    def __init__(self, entities: Sequence[EntityConfig], model: str = "", key_claims: int = 3,
                 max_strings: int = MAX_VOCAB_STRINGS) -> None:
        self.key_claims = key_claims
        self.max_strings = max_strings
        self.model = model
        self.entities = tuple(entities)
        self.nlp: Language = pipeline.build(model, entities)

    def set_entities(self, entities: Sequence[EntityConfig]) -> None:
        self.entities = tuple(entities)
        pipeline.set_entities(self.nlp, entities)

    def _renew_if_grown(self) -> None:
        # spaCy keeps every string it has ever seen (its StringStore and lexemes only grow):
        # months of news would grow a daemon without bound, so past a limit a fresh pipeline
        # replaces this one. Results do not depend on the vocabulary of earlier documents.
        if len(self.nlp.vocab.strings) > self.max_strings:
            self.nlp = pipeline.build(self.model, self.entities)

    def doc(self, title: str, text: str) -> Doc:
        """Run the pipeline; results are on `doc._.mentions`, `doc._.title_mentions`, `doc._.claims`."""
        doc = self.nlp.make_doc(text)
        doc._.title = title
        doc._.raw = text
        for _, proc in self.nlp.pipeline:
            doc = proc(doc)
        return doc

    def analyze(self, title: str, text: str) -> Analysis:
        self._renew_if_grown()
        doc = self.doc(title, text)
        mentions = [Mention(f.entity, text[f.start:f.end], f.start, f.end, why=f.why) for f in doc._.mentions]
        mentions += [Mention(f.entity, title[f.start:f.end], f.start, f.end, in_title=True, why=f.why)
                     for f in doc._.title_mentions]
        claims = tuple(doc._.claims)
        scores = salience(text, mentions, claims)
        return Analysis(
            entities=tuple(sorted({m.entity for m in mentions})),
            mentions=tuple(mentions),
            claims=claims,
            salience=scores,
            key_claims=key_claims(claims, scores, self.key_claims),
        )
