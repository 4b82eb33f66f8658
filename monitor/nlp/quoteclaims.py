"""Direct-quote claims: decide, for each outermost quotation, whether it is a claim and whose.

A quotation is a claim when it stands on its own (starts the sentence, follows a colon, or is the
second half of a split quote) and a speaker is found. A quotation built into the writer's sentence
(`giudica troppo "woke"`) is a claim only when it is long and a clause subject says it.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.models import Claim
from monitor.nlp.attribution import Attribution, after, attributed, before, subject_before
from monitor.nlp.grammar import np_forward, words
from monitor.nlp.lexicon import ARTICLES
from monitor.nlp.quotemarks import Quote
from monitor.nlp.speakers import Speaker, SpeakerContext
from monitor.nlp.subjects import sentence_subject, skip_apposition
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
        elif attr is not None and attr.pro_drop or attr is not None and attr.speaker is None and (
                stripped.endswith(":")):
            found = _clause_subject(ctx, cursor, q, stripped, attr)  # pro-drop: this sentence's subject first
            speaker = found.speaker if found else None
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
        if not speaker and carried is None and ctx.parse is not None:
            found = _parsed_speaker(ctx, cursor, q, nxt)  # the rules found no one: the parser may
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


def _clause_subject(ctx: SpeakerContext, cursor: int, q: Quote, stripped: str,
                    attr: Attribution) -> Attribution | None:
    """A pro-drop verb after the quote (`S è intervenuto: «…», ha scritto su X`) takes the subject of
    its own sentence: the clause before a colon, else the subject the sentence opens with. With no
    subject there, the inherited last speaker (None when another person was named since)."""
    if stripped.endswith(":"):
        found = before(ctx, cursor, ctx.text.rindex(":", cursor, q.outer_start))
        if found is not None and found.speaker:
            return found
    elif stripped:
        who, _ = sentence_subject(ctx, cursor, q.outer_start, ctx.masked)
        if not who:
            who = _lone_subject(ctx, cursor, q.outer_start)
        if who:
            cue = ctx.text[q.outer_end:attr.end].strip(" ,—–-")
            return attributed(who, attr.end, f'{{d}}, subject of the sentence, pro-drop "{cue}" after the quote')
    return attr if attr.speaker else None  # `inherit` already refused a last speaker with a rival since


def _parsed_speaker(ctx: SpeakerContext, cursor: int, q: Quote, nxt: int) -> Attribution | None:
    """With a parser: the `nsubj` of the speech verb after the quote (else before it), or the name
    in apposition to it. Used only when the rules found no speaker."""
    parse = ctx.parse
    if parse is None:
        return None
    after_q = [t for t in parse.tokens(q.outer_end, nxt) if t.lower_ in SPEECH_VERBS]
    before_q = [t for t in parse.tokens(cursor, q.outer_start) if t.lower_ in SPEECH_VERBS][::-1]
    for verb in after_q + before_q:
        subj = parse.subject(verb)
        if subj is None:
            continue
        for tok in [subj, *parse.appositions(subj)]:
            who = ctx.resolve(*parse.np_span(tok))
            if who:
                rule = f'{{d}}; parser: nsubj of "{parse.cue(verb)}"' + (" (apposition)" if tok is not subj else "")
                return attributed(who, q.outer_end, rule)
        return None
    return None


def _lone_subject(ctx: SpeakerContext, start: int, end: int) -> Speaker | None:
    """`Poi Elon Musk, dal palco di Austin, «…», ha aggiunto`: a noun phrase (and an aside between
    commas) is all that precedes the quotation, so it is the subject of the verb after it."""
    ws = words(ctx.masked, start, end)
    i = 0
    while i < len(ws) and ws[i].low in _OPENERS:
        i += 1
    np_end = np_forward(ws, i)
    if np_end == i or not ws[i].cap and ws[i].low not in ARTICLES:
        return None
    rest = len(ws) - 1 if ws and ws[-1].text == "," else len(ws)
    if np_end != rest and skip_apposition(ws, np_end) != len(ws):
        return None
    return ctx.resolve(ws[i].start, ws[np_end - 1].end)


_OPENERS = frozenset(("e", "ed", "ma", "poi", "anche", "intanto", "invece", "però"))


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
            return attributed(who, q.outer_start, '{d}, subject of "{cue}" governing the quote',
                              ws[aux].start, ws[v].end) if who else None
    return None
