"""Claims of one article, sentence by sentence, so that pro-drop verbs see the last speaker."""

from __future__ import annotations

from monitor.models import Claim
from monitor.nlp.actors import Found
from monitor.nlp.adjacent import message_owner, next_sentence
from monitor.nlp.attribution import Attribution, attributed
from monitor.nlp.colon import before
from monitor.nlp.depparse import Parse
from monitor.nlp.grammar import words
from monitor.nlp.quoteclaims import SentenceQuotes, quote_claims
from monitor.nlp.quotemarks import Quote
from monitor.nlp.reported import parsed_statement, reported, statement
from monitor.nlp.speakers import SpeakerContext
from monitor.nlp.subjects import sentence_subject, speech_noun_owner, speech_subject, stage_subject
from monitor.nlp.unmarked import unmarked_claims


def _mask(text: str, quotes: list[Quote]) -> str:
    """The text with quoted words blanked (same length), so quotes never look like attribution."""
    chars = list(text)
    for q in quotes:
        if q.depth == 0:
            chars[q.start:q.end] = " " * (q.end - q.start)
    return "".join(chars)


_CONTINUATION = "same speaker as the previous quote (continuation)"


def _introduces(ctx: SpeakerContext, start: int, end: int, claim: Claim | None) -> Attribution | None:
    """The speaker a sentence announces for a quotation-only sentence right after it: the speaker of
    a sentence ending in a colon, of its reported speech, or the subject of its speech verb."""
    body = ctx.masked[start:end].rstrip()
    if body.endswith(":"):
        found = before(ctx, start, start + len(body) - 1)
        return found if found is not None and found.speaker else None
    if claim is not None and claim.kind == "reported" and claim.speaker:
        return Attribution(claim.speaker, end, f"{claim.why}; the next sentence quotes them")
    said = next_sentence(ctx, start, end) or message_owner(ctx, words(ctx.masked, start, end))
    if said is not None and said.speaker:
        return said  # "Lo ha detto Rossi.", "una nota di Acme che chiarisce …", then the words
    who = speech_subject(ctx, start, end)
    if who is not None:
        return attributed(who, end, "{d}, subject of the speech verb in the sentence before the quote")
    who = stage_subject(ctx, start, end)
    if who is None:
        return None
    return attributed(who, end, "{d}, who takes the floor in the sentence before the quote")


def extract_claims(text: str, sentences: list[tuple[int, int]], quotes: list[Quote], mentions: list[Found],
                   kinds: dict[str, str], short_names: frozenset[str] = frozenset(),
                   person_ents: list[tuple[int, int]] | None = None, parse: Parse | None = None,
                   roles: dict[str, frozenset[str]] | None = None) -> list[Claim]:
    """`short_names`: tracked first names and surnames; `person_ents`: PER spans from a spaCy model;
    `parse`: dependency evidence from a model's parser (see depparse for how it ranks with the rules);
    `roles`: actor id -> role keys from the entities file (`patron di tesla`)."""
    ctx = SpeakerContext(text, mentions, kinds, short_names=short_names, person_ents=person_ents or [],
                         parse=parse, actor_roles=roles or {})
    ctx.learn_appositions()
    masked = ctx.masked = _mask(text, quotes)
    tracked = set(kinds)
    outer = [q for q in quotes if q.depth == 0]
    opening = {q.outer_start for q in outer}
    claims: list[Claim] = []
    prev_speaker: str | None = None
    prev_why = _CONTINUATION
    for n, (start, end) in enumerate(sentences):
        inside = [q for q in outer if start <= q.start and q.end <= end]
        following = sentences[n + 1] if n + 1 < len(sentences) else None
        sent = SentenceQuotes(start, end, inside, following, prev_why)
        found = quote_claims(ctx, sent, prev_speaker, tracked) if inside else []
        prev_speaker, prev_why = (found[-1].speaker if found else None), _CONTINUATION
        claims.extend(found)
        if found:
            ctx.note(prev_speaker, start)
            continue
        claim = reported(ctx, start, end, masked) or (
            statement(ctx, start, end, masked) if parse is None else parsed_statement(ctx, start, end, masked))
        if claim is not None:
            claims.append(claim)
        # Only a sentence followed by one that opens with a quotation can introduce it (saves the work).
        intro = _introduces(ctx, start, end, claim) if following and following[0] in opening else None
        if intro is not None:
            prev_speaker, prev_why = intro.speaker, intro.why(text)
        subject, subject_at = sentence_subject(ctx, start, end, masked)
        topic = speech_noun_owner(ctx, start, end, masked)
        # After "S ha detto che X …" the people in the reported content are not rivals of S.
        at = end if claim is not None and claim.kind == "reported" and claim.speaker else start
        noted = topic.name if topic else (claim.speaker or claim.subject if claim else None)
        if not noted and subject is not None:
            noted, at = subject.name, max(at, subject_at)  # where the subject is, past a long opener
        ctx.note(noted, at)
    extra = unmarked_claims(ctx, [(q.start, q.end) for q in outer] + [(c.start, c.end) for c in claims])
    return sorted(claims + extra, key=lambda c: c.start) if extra else claims
