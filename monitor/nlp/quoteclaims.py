"""Direct-quote claims: decide, for each outermost quotation, whether it is a claim and whose.

A quotation is a claim when it stands on its own (starts the sentence, follows a colon, or is the
second half of a split quote) and a speaker is found. A quotation built into the writer's sentence
(`giudica troppo "woke"`) is a claim only when it is long and a clause subject says it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.models import Claim
from monitor.nlp.adjacent import headline_comma, inserted, next_sentence
from monitor.nlp.attribution import Attribution, after, attributed, subject_before
from monitor.nlp.colon import before
from monitor.nlp.grammar import Word, np_forward, skip_adverbs, words
from monitor.nlp.lexicon import ARTICLES
from monitor.nlp.quotemarks import Quote
from monitor.nlp.speaker_words import Speaker
from monitor.nlp.speakers import SpeakerContext
from monitor.nlp.subjects import opening_subject, sentence_subject, skip_apposition, skip_openers
from monitor.nlp.verbs import SPEECH_VERBS

MIN_EMBEDDED_WORDS = 5
# Between an original and its translation: `“…” (“…”)`, `«…», ovvero «…»`.
_TRANSLATION = frozenset(("(", "[", ", ovvero", "ovvero", ", cioè", "cioè", ", ossia", "ossia", ", tradotto",
                          "- tradotto:", ", in italiano", "– in italiano"))  # shorter fragments inside the writer's sentence are scare quotes


@dataclass
class SentenceQuotes:
    """The outermost quotations of one sentence, in order."""

    start: int
    end: int
    quotes: list[Quote]
    following: tuple[int, int] | None = None  # the next sentence, when it may attribute a quote-only one
    previous_why: str = "same speaker as the previous quote (continuation)"  # why `prev_speaker` speaks


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
            if (found is None or not found.speaker) and cursor > sent.start:
                found = _sentence_owner(ctx, sent.start, q.outer_start) or found
            speaker = found.speaker if found else None
        elif not stripped and _whole_sentence(text, sent, q):
            found = next_sentence(ctx, *sent.following) if sent.following else None
            speaker = found.speaker if found else prev_speaker
        elif stripped in (".", ";", "…") and claims and claims[-1].end == cursor - 1:
            speaker = claims[-1].speaker  # «…». «…» glued in one sentence: the quotation goes on
            found = Attribution(speaker, cursor, "same speaker as the quotation right before it")
        elif stripped:
            found = headline_comma(ctx, cursor, q) or _embedded(ctx, sent.start, q)
            speaker = found.speaker if found else None
        inside = inserted(ctx, q) if carried is None else None
        if inside is not None and inside.speaker and (not speaker or inside.pro_drop and found is None):
            speaker, found = inside.speaker, inside  # «Io – prosegue – non credo»
        elif inside is not None and inside.speaker and not _same_person(inside.speaker, speaker) and not inside.pro_drop:
            speaker = None  # the quote's own marks name someone else: conflicting evidence
        if not speaker and carried is None and ctx.parse is not None:
            found = _parsed_speaker(ctx, cursor, q, nxt)  # the rules found no one: the parser may
            speaker = found.speaker if found else None
        split = attr is not None and n + 1 < len(sent.quotes) and text[q.outer_end:nxt].rstrip().endswith((",", "—", "–"))
        translated = n + 1 < len(sent.quotes) and text[q.outer_end:nxt].strip().lower() in _TRANSLATION
        carried = speaker if split or translated else None
        carried_end = attr.end if split and attr is not None else q.outer_end
        if speaker and text[q.start:q.end].strip():
            if second_half and end_of_cue == cursor:
                why = f'translation of the previous quote, after "{text[cursor:q.outer_start].strip()}"'
            elif second_half:
                why = f'second half of a split quote around "{text[cursor:end_of_cue].strip(" ,—–-")}"'
            elif found is None:
                why = sent.previous_why
            else:
                why = found.why(text)
            claims.append(Claim("quote", speaker, text[q.start:q.end], q.start, q.end,
                                text[sent.start:sent.end], _score(3.0, speaker, tracked), why=why))
            ctx.note(speaker, q.start)
        cursor = q.outer_end
    return _originals(ctx, sent, claims, tracked)


def _same_person(a: str, b: str | None) -> bool:
    """"Giorgia Meloni" and "la Meloni" (one surname) are one speaker; tracked ids must be equal."""
    if b is None or a == b:
        return a == b
    return len(a.split()) + len(b.split()) > 2 and a.split()[-1] == b.split()[-1]


def _originals(ctx: SpeakerContext, sent: SentenceQuotes, claims: list[Claim], tracked: set[str]) -> list[Claim]:
    """`«I am ready», ovvero «sono pronto», ha detto S`: the original takes its translation's speaker."""
    by_start = {c.start: c for c in claims}
    text = ctx.text
    for q, nxt in zip(sent.quotes, sent.quotes[1:], strict=False):
        translation = by_start.get(nxt.start)
        if q.start in by_start or translation is None or not text[q.start:q.end].strip():
            continue
        if text[q.outer_end:nxt.outer_start].strip().lower() in _TRANSLATION:
            why = f"original of the translated quote at {nxt.start}, whose speaker is {translation.speaker}"
            by_start[q.start] = Claim("quote", translation.speaker, text[q.start:q.end], q.start, q.end,
                                      translation.sentence, _score(3.0, translation.speaker, tracked), why=why)
    return sorted(by_start.values(), key=lambda c: c.start) if len(by_start) > len(claims) else claims


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


def _main_subject(ctx: SpeakerContext, ws: Sequence[Word]) -> Speaker | None:
    """The subject of the finite clause a gerund or infinitive hangs on: the last clause opened by
    `e`/`ma` (`I toni sono distesi e OpenAI tiene a precisare`), else the sentence's."""
    for c in range(len(ws) - 2, 0, -1):
        if ws[c].low in ("e", "ed", "ma") and not ws[c].cap and ws[c - 1].alpha and not ws[c - 1].cap:
            who, _ = opening_subject(ctx, ws[c + 1:])
            if who is not None:
                return who
            break
    who, _ = opening_subject(ctx, ws)
    return who


def _coordinated(ctx: SpeakerContext, ws: Sequence[Word], aux: int) -> Speaker | None:
    """`Rossi ha ammesso i ritardi, ma ha precisato che «…»`: a clause coordinated by `ma`/`e` with no
    subject of its own has the subject of the sentence's first clause, unless someone else was named."""
    if aux < 2 or ws[aux - 1].low not in ("ma", "e", "ed") or ws[aux - 2].text != ",":
        return None
    who, _ = opening_subject(ctx, ws[:aux - 2])
    if who is None or ctx.other_person(ws[0].start, ws[aux].start, who.name):
        return None
    return who


def _sentence_owner(ctx: SpeakerContext, start: int, end: int) -> Attribution | None:
    """`Rossi ha testimoniato che … «disastroso». Alla domanda …, ha risposto: «…»`: a pro-drop colon
    clause after an earlier quotation in the same sentence has the sentence's subject (no rival since)."""
    who, at = sentence_subject(ctx, start, end, ctx.masked)
    if who is None or ctx.other_person(at, end, who.name):
        return None
    return attributed(who, end, "{d}, subject of the sentence, pro-drop before the colon")


def _inverted(ctx: SpeakerContext, ws: Sequence[Word], aux: int, v: int) -> Speaker | None:
    """`La svolta, ha spiegato Rossi, sta nei dati; «…»`: verb and subject inserted between commas."""
    end = np_forward(ws, v + 1)
    if aux == 0 or ws[aux - 1].text != "," or end == v + 1 or end >= len(ws) or ws[end].text != ",":
        return None
    return ctx.resolve(ws[v + 1].start, ws[end - 1].end)


def _embedded(ctx: SpeakerContext, start: int, q: Quote) -> Attribution | None:
    """A long quotation inside the writer's sentence: the subject of the speech verb governing it."""
    if len(ctx.text[q.start:q.end].split()) < MIN_EMBEDDED_WORDS:
        return None
    ws = words(ctx.masked, start, q.outer_start)
    for v in range(len(ws) - 1, -1, -1):
        if ws[v].low == "sapere" and v > 0 and ws[v - 1].low in ("far", "fare"):
            v -= 1  # "vuole far sapere che «…»"
        if ws[v].low in SPEECH_VERBS and not ws[v].cap or ws[v].low in ("far", "fare"):
            if ws[v].low.endswith(("ando", "endo", "are", "ere", "ire", "far")):
                # "…, aggiungendo che «…»", "tiene a precisare che": a gerund or an infinitive has the
                # main clause's subject, never its object
                who = _main_subject(ctx, ws[:v])
                return attributed(who, q.outer_start, '{d}, subject of the main clause of "{cue}"',
                                  ws[v].start, ws[v].end) if who else None
            k = skip_adverbs(ws, v - 1, -1)
            aux = k if k >= 0 and ws[k].low in ("ha", "hanno", "aveva", "avevano", "avrebbe") else v
            opened = skip_openers(ws[:aux + 1]) == aux
            # "Lì, spiega, «…»": only openers before a pro-drop verb inserted before the quote
            who = ctx.inherit(ctx.text[ws[aux].start:ws[v].end], ws[aux].start) if opened and aux > 0 else (
                subject_before(ctx, ws, aux, pro_drop=False) or _inverted(ctx, ws, aux, v)
                or _coordinated(ctx, ws, aux))
            return attributed(who, q.outer_start, '{d}, subject of "{cue}" governing the quote',
                              ws[aux].start, ws[v].end) if who else None
    return None
