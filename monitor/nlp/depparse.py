"""Evidence from a statistical dependency parser, used only when the configured model has one.

Precedence (precision first): the rules decide, the parser fills gaps and bounds statements.
  - Speakers: the parser's `nsubj` of a speech verb names the speaker only when the rules found
    none. When both name someone, the rule result stands: it is a lexical match in a fixed shape
    that meets the quality bars alone, and the parser is an unvalidated, configurable model;
    switching would trade one guess for another, and dropping would make a model cost recall.
  - Statements: the event is the sentence ROOT. A tracked actor that is its `nsubj` is the subject;
    when the ROOT has an untracked subject, a tracked actor elsewhere (a subordinate clause, a
    complement) makes no statement. With no ROOT subject (pro-drop, no parse) the rules decide.
"""

from __future__ import annotations

from bisect import bisect_left

from spacy.tokens import Doc, Token

SUBJECT_DEPS = frozenset({"nsubj", "nsubj:pass", "nsubjpass"})
_NAME_DEPS = frozenset({"flat", "flat:name", "flat:foreign", "compound"})
_NP_STOP = frozenset({"appos", "acl", "acl:relcl", "relcl", "advcl", "conj", "cc", "punct", "parataxis"})
_AUX_DEPS = frozenset({"aux", "aux:pass", "auxpass", "cop"})


class Parse:
    """Dependency look-ups over a parsed Doc, by character offsets."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.starts = [t.idx for t in doc]

    def tokens(self, start: int, end: int) -> list[Token]:
        return list(self.doc[bisect_left(self.starts, start):bisect_left(self.starts, end)])

    def root(self, start: int, end: int) -> Token | None:
        """The ROOT of the sentence at [start, end): the main event, not a subordinate clause."""
        return next((t for t in self.tokens(start, end) if t.dep_ == "ROOT" and t.is_alpha), None)

    @staticmethod
    def subject(verb: Token) -> Token | None:
        return next((c for c in verb.children if c.dep_ in SUBJECT_DEPS), None)

    @staticmethod
    def name_span(tok: Token) -> tuple[int, int]:
        """The head token and its flat/compound chain ("Sam" + flat "Altman"), as char offsets."""
        toks = [tok] + [c for c in tok.subtree if c.head == tok and c.dep_ in _NAME_DEPS]
        return min(t.idx for t in toks), max(t.idx + len(t) for t in toks)

    @staticmethod
    def np_span(tok: Token) -> tuple[int, int]:
        """The noun phrase headed by `tok`: its subtree without appositions, clauses and commas."""
        cut = {t.i for c in tok.children if c.dep_ in _NP_STOP for t in c.subtree}
        left = right = tok.i
        doc = tok.doc
        while left - 1 >= tok.left_edge.i and left - 1 not in cut:
            left -= 1
        while right + 1 <= tok.right_edge.i and right + 1 not in cut:
            right += 1
        return doc[left].idx, doc[right].idx + len(doc[right])

    @staticmethod
    def appositions(tok: Token) -> list[Token]:
        return [c for c in tok.children if c.dep_ == "appos"]

    @staticmethod
    def cue(verb: Token) -> str:
        """The verb group: auxiliaries before the verb and the verb ("ha detto", "è stato licenziato")."""
        first = verb.i
        while first > 0 and verb.doc[first - 1].head == verb and verb.doc[first - 1].dep_ in _AUX_DEPS:
            first -= 1
        return verb.doc[first:verb.i + 1].text
