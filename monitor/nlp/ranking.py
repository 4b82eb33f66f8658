"""Salience of each tracked actor in an article, and the key claims to show in a digest."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence

from monitor.models import Claim, Mention

TITLE_WEIGHT = 2.0  # a name in the title makes the article about that actor
LEAD_WEIGHT = 1.0  # the first paragraph (lead) says what the story is about
MENTION_WEIGHT = 0.5  # one passing mention alone stays below the default threshold of 1.0
LEAD_CHARS = 300  # the lead is the first paragraph, at most its first sentences (a page may have no breaks)
SPEAKER_WEIGHT = 1.0
SUBJECT_WEIGHT = 0.5
KIND_RANK = {"quote": 2, "reported": 1, "statement": 0}


def salience(text: str, mentions: Sequence[Mention], claims: Sequence[Claim]) -> dict[str, float]:
    """How much the article is about each actor. A passing mention (one mention in the body, neither
    in the title nor a speaker or subject of any claim) gets no lead bonus: naming an actor once in
    the first lines ("la startup fondata da Elon Musk") does not make the story theirs."""
    lead_end = text.find("\n")
    lead_end = min(LEAD_CHARS, len(text) if lead_end < 0 else lead_end)
    counts = Counter(m.entity for m in mentions)
    active = {c.speaker for c in claims} | {c.subject for c in claims}
    scores: dict[str, float] = {}
    seen_lead: set[str] = set()
    for m in mentions:
        gain = MENTION_WEIGHT
        if m.in_title:
            gain = TITLE_WEIGHT
        elif m.start < lead_end and m.entity not in seen_lead and (counts[m.entity] > 1 or m.entity in active):
            gain += LEAD_WEIGHT
            seen_lead.add(m.entity)
        scores[m.entity] = scores.get(m.entity, 0.0) + gain
    for c in claims:
        if c.speaker in scores:
            scores[c.speaker] += SPEAKER_WEIGHT
        if c.subject in scores:
            scores[c.subject] += SUBJECT_WEIGHT
    return {k: round(v, 3) for k, v in sorted(scores.items())}


_NOT_WORD = re.compile(r"[^\w]+")


def normalise_claim_text(text: str) -> str:
    """The text of a claim as outlets share it: case-folded, without quote marks, punctuation or
    spaces collapsed ("«Vinceremo noi!»" -> "vinceremo noi")."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", text).replace("_", " ").split())


def key_claims(claims: Sequence[Claim], scores: dict[str, float], n: int) -> tuple[Claim, ...]:
    """Top-n claims: tracked speaker or subject first, then quote > reported > statement, then the
    earlier in the article, then the more salient actor."""
    return rank_key_claims(claims, scores, n)


def rank_key_claims(claims: Sequence[Claim], salience: dict[str, float], n: int,
                    seen: Collection[str] = ()) -> tuple[Claim, ...]:
    """Like `key_claims`, but a claim whose normalised text is in `seen` (already published by
    another outlet, see `normalise_claim_text`) ranks after every novel claim."""
    scores = salience
    seen_set = seen if isinstance(seen, (set, frozenset)) else frozenset(seen)

    def rank(item: tuple[int, Claim]) -> tuple[float, ...]:
        pos, c = item
        actor = c.speaker if c.speaker in scores else c.subject
        tracked = 1.0 if actor in scores else 0.0
        stale = 1.0 if seen_set and normalise_claim_text(c.text) in seen_set else 0.0
        return (stale, -tracked, -KIND_RANK[c.kind], float(c.unconfirmed), float(pos),
                -scores.get(actor or "", 0.0))

    ranked = sorted(enumerate(claims), key=rank)
    return tuple(c for _, c in ranked[:max(0, n)])
