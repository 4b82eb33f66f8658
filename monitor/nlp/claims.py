"""Claims of one article, sentence by sentence, so that pro-drop verbs see the last speaker."""

from __future__ import annotations

from monitor.models import Claim
from monitor.nlp.actors import Found
from monitor.nlp.depparse import Parse
from monitor.nlp.quoteclaims import SentenceQuotes, quote_claims
from monitor.nlp.quotemarks import Quote
from monitor.nlp.reported import parsed_statement, reported, statement
from monitor.nlp.speakers import SpeakerContext
from monitor.nlp.subjects import sentence_subject, speech_noun_owner


def _mask(text: str, quotes: list[Quote]) -> str:
    """The text with quoted words blanked (same length), so quotes never look like attribution."""
    chars = list(text)
    for q in quotes:
        if q.depth == 0:
            chars[q.start:q.end] = " " * (q.end - q.start)
    return "".join(chars)


def extract_claims(text: str, sentences: list[tuple[int, int]], quotes: list[Quote], mentions: list[Found],
                   kinds: dict[str, str], short_names: frozenset[str] = frozenset(),
                   person_ents: list[tuple[int, int]] | None = None, parse: Parse | None = None) -> list[Claim]:
    """`short_names`: tracked first names and surnames; `person_ents`: PER spans from a spaCy model;
    `parse`: dependency evidence from a model's parser (see depparse for how it ranks with the rules)."""
    ctx = SpeakerContext(text, mentions, kinds, short_names=short_names, person_ents=person_ents or [],
                         parse=parse)
    ctx.learn_appositions()
    masked = ctx.masked = _mask(text, quotes)
    tracked = set(kinds)
    outer = [q for q in quotes if q.depth == 0]
    claims: list[Claim] = []
    prev_speaker: str | None = None
    for start, end in sentences:
        inside = [q for q in outer if start <= q.start and q.end <= end]
        found = quote_claims(ctx, SentenceQuotes(start, end, inside), prev_speaker, tracked) if inside else []
        prev_speaker = found[-1].speaker if found else None
        claims.extend(found)
        if found:
            ctx.note(prev_speaker, start)
            continue
        claim = reported(ctx, start, end, masked) or (
            statement(ctx, start, end, masked) if parse is None else parsed_statement(ctx, start, end, masked))
        if claim is not None:
            claims.append(claim)
        subject, _ = sentence_subject(ctx, start, end, masked)
        topic = speech_noun_owner(ctx, start, end, masked)
        ctx.note(topic.name if topic else (claim.speaker or claim.subject if claim else None)
                 or (subject.name if subject else None), start)
    return claims
