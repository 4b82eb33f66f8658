"""Direct-quote claims: decide, for each outermost quotation, whether it is a claim and whose.

A quotation is a claim when it stands on its own (starts the sentence, follows a colon, or is the
second half of a split quote) and a speaker is found. A quotation built into the writer's sentence
(`giudica troppo "woke"`) is a claim only when it is long and a clause subject says it.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.models import Claim
from monitor.nlp.attribution import Attribution, after, before, subject_before
from monitor.nlp.grammar import words
from monitor.nlp.quotemarks import Quote
from monitor.nlp.speakers import SpeakerContext
from monitor.nlp.verbs import SPEECH_VERBS

MIN_EMBEDDED_WORDS = 5  # shorter fragments inside the writer's sentence are scare quotes


@dataclass
class SentenceQuotes:
    """The outermost quotations of one sentence, in order."""

    start: int
    end: int
    quotes: list[Quote]


def _score(kind_weight: float, speaker: str | None, tracked: set[str]) -> float:
    return kind_weight + (0.5 if speaker in tracked else 0.0)


def quote_claims(ctx: SpeakerContext, sent: SentenceQuotes, prev_speaker: str | None,
                 tracked: set[str]) -> list[Claim]:
    """Claims for the quotations of one sentence; `prev_speaker` is the previous sentence's."""
    text = ctx.text
    claims: list[Claim] = []
    carried: str | None = None  # a speaker carried over a split quote
    carried_end = 0  # where the attribution between the halves ends
    cursor = sent.start
    for n, q in enumerate(sent.quotes):
        nxt = sent.quotes[n + 1].outer_start if n + 1 < len(sent.quotes) else sent.end
        stripped = text[cursor:q.outer_start].strip()
        attr = after(ctx, q.outer_end, nxt, comma_optional=not stripped or stripped.endswith(":"))
        speaker: str | None = None
        found: Attribution | None = None  # how the speaker was found, for `why`
        second_half, end_of_cue = carried is not None, carried_end
        if carried is not None:
            speaker = carried  # second half of «…», ha detto S, «…»
        elif attr is not None:
            speaker, found = attr.speaker, attr
        elif stripped.endswith(":"):
            found = before(ctx, cursor, text.rindex(":", cursor, q.outer_start))
            speaker = found.speaker if found else None
        elif not stripped and _whole_sentence(text, sent, q):
            speaker = prev_speaker
        elif stripped:
            found = _embedded(ctx, sent.start, q)
            speaker = found.speaker if found else None
        split = attr is not None and n + 1 < len(sent.quotes) and text[q.outer_end:nxt].rstrip().endswith((",", "—", "–"))
        carried = speaker if split else None
        carried_end = attr.end if split and attr is not None else 0
        if speaker and text[q.start:q.end].strip():
            if second_half:
                why = f'second half of a split quote around "{text[cursor:end_of_cue].strip(" ,—–-")}"'
            elif found is None:
                why = "same speaker as the previous quote (continuation)"
            else:
                why = found.why(text)
            claims.append(Claim("quote", speaker, text[q.start:q.end], q.start, q.end,
                                text[sent.start:sent.end], _score(3.0, speaker, tracked), why=why))
            ctx.note(speaker, q.start)
        cursor = q.outer_end
    return claims


def _whole_sentence(text: str, sent: SentenceQuotes, q: Quote) -> bool:
    """The quotation is the sentence: nothing but punctuation around it."""
    rest = text[q.outer_end:sent.end].strip(" .,;:!?…")
    return not text[sent.start:q.outer_start].strip() and not rest


def _embedded(ctx: SpeakerContext, start: int, q: Quote) -> Attribution | None:
    """A long quotation inside the writer's sentence: the subject of the speech verb governing it."""
    if len(ctx.text[q.start:q.end].split()) < MIN_EMBEDDED_WORDS:
        return None
    ws = words(ctx.masked, start, q.outer_start)
    for v in range(len(ws) - 1, -1, -1):
        if ws[v].low in SPEECH_VERBS and not ws[v].cap:
            aux = v - 1 if v > 0 and ws[v - 1].low in ("ha", "hanno", "aveva", "avrebbe") else v
            who = subject_before(ctx, ws, aux, pro_drop=False)
            return Attribution(who, q.outer_start, '{d}, subject of "{cue}" governing the quote',
                               ws[aux].start, ws[v].end, ctx.how) if who else None
    return None
