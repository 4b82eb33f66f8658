"""Reported speech and statements: claims without quotation marks.

Reported: `secondo Altman, …`, `Musk ha detto che …`, `stando a quanto riferito da …`,
`come riferito da …`. Statements: a tracked actor is the subject of the sentence's event
(`Altman è stato licenziato`, `Musk ha fondato xAI`). The news conditional (`sarebbe stato`,
`avrebbe detto`) and `secondo indiscrezioni` mark a claim unconfirmed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.models import Claim
from monitor.nlp.attribution import subject_before
from monitor.nlp.grammar import Word, np_forward, skip_adjuncts, skip_adverbs, verb_group, words
from monitor.nlp.lexicon import (
    ADVERBS,
    ARTICLES,
    AUXILIARIES,
    CONDITIONAL_AUX,
    PERSON_NOUNS,
    PREPOSITIONS,
    RUMOUR_HEADS,
)
from monitor.nlp.speaker_words import Speaker
from monitor.nlp.speakers import SpeakerContext
from monitor.nlp.subjects import sentence_subject, skip_apposition
from monitor.nlp.verbs import EVENT_VERBS, SPEECH_VERBS

_SECONDO = re.compile(r"\b[Ss]econdo\s+")
# The look-ahead on the possible first letters lets the engine skip other positions without
# trying every alternative there (about 45 % less time: this runs over every analysed text).
_DA = re.compile(r"(?=[SsDdCc])\b(?:(?:[Ss]tando\s+a|[Ss]econdo|[Dd]a)\s+quanto\s+(?:riferito|riportato|dichiarato|detto"
                 r"|scritto|rivelato|appreso|anticipato)\s+da(?:l|llo|lla|i|gli|lle|ll['’])?"
                 r"|[Cc]ome\s+(?:riferito|riportato|dichiarato|spiegato|detto|scritto|annunciato|rivelato"
                 r"|anticipato)\s+da(?:l|llo|lla|i|gli|lle|ll['’])?"
                 r"|[Ss]tando\s+a)(?![\w'’])\s*")
_RUMOUR = re.compile(r"\bsecondo\s+(?:(?:le|alcune|diverse|ultime|recenti|quanto)\s+)*"
                     r"(?:indiscrezion|fonti|voci|rumor|segnalazion|riportato|riferito|ricostruzion)", re.I)
# Infinitives (also with a clitic), gerunds and participles: "assicurarsi", "dicendo", "detto".
_NON_FINITE = re.compile(r"(?:[aeio]r(?:e|si|lo|la|li|le|ne|ci|gli)|ndo(?:si|lo|la|ne)?|[aiu]t[oaie]|tt[oaie]|st[oaie])$")
_PARTICIPLE = re.compile(r"[a-zà-ÿ]+(?:at|ut|it|tt|st|ss|s)[oaie]$")


# The news conditional ("starebbe valutando", "avrebbe detto"); the modals dovrebbe/potrebbe/
# vorrebbe express obligation or possibility, not hearsay.
_CONDITIONAL = re.compile(r"\b(?!(?:dov|pot|vor)rebber?o?\b)[a-zà-ÿ]+rebber?o?\b", re.I)


def doubt(sentence: str) -> str:
    """Why a claim is unconfirmed ('unconfirmed: conditional "avrebbe"'), or "" when it is not."""
    m = _RUMOUR.search(sentence)
    if m:
        end = m.end()
        while end < len(sentence) and sentence[end].isalpha():
            end += 1  # the whole word: "segnalazioni", not "segnalazion"
        return f'unconfirmed: rumour "{sentence[m.start():end]}"'
    m = _CONDITIONAL.search(sentence)
    if m:
        return f'unconfirmed: conditional "{m.group()}"'
    aux = next((w for w in sentence.lower().split() if w in CONDITIONAL_AUX), None)
    return f'unconfirmed: conditional "{aux}"' if aux else ""


def reported(ctx: SpeakerContext, start: int, end: int, masked: str) -> Claim | None:
    """A reported claim in the sentence [start, end); `masked` has quotations blanked out."""
    sentence = ctx.text[start:end]
    for regex, needs in ((_SECONDO, "econdo"), (_DA, "")):
        m = ctx.first_match(regex, start, end, needs)
        lead = masked[start:m.start()].strip().lower() if m else ""
        if m and (not lead or lead.endswith((",", ";", ":")) or lead in ("e", "ma", "ed")):
            ws = words(masked, m.end(), end)
            np_end = _to_comma(ws, np_forward(ws, 0))
            if np_end == 0:
                continue
            if {w.low for w in ws[:np_end]} & RUMOUR_HEADS:
                return None  # "secondo indiscrezioni": a rumour, left to `statement` (unconfirmed)
            who = ctx.resolve(ws[0].start, ws[np_end - 1].end)
            if who is None:
                continue
            speaker, why = who.name, f'{who.describe()}, source after "{m.group().strip()}"'
            body_start = ws[np_end].end if np_end < len(ws) and ws[np_end].text == "," else ws[np_end - 1].end
            aside = _aside(ws, np_end)
            if aside:
                named = ws[np_end + 1].cap and not ws[0].cap and _is_name(ws[np_end + 1:aside])
                if named:  # "Secondo il ceo di xAI, Elon Musk, …": the name is the source
                    named_who = ctx.resolve(ws[np_end + 1].start, ws[aside - 1].end)
                    if named_who is not None:
                        speaker = named_who.name
                        why = f'{named_who.describe()}, source after "{m.group().strip()}" and a role'
                if named or ws[np_end + 1].low in ADVERBS or ws[0].cap and _is_role(ws[np_end + 1:aside]):
                    body_start = ws[aside].end  # "Secondo Altman, ceo di OpenAI, …", "…, però, …": not the claim
            return _claim(ctx, "reported", speaker, body_start, end, sentence, why)
    return _said_that(ctx, start, end, masked, sentence) or _parsed_said_that(ctx, start, end, sentence)


def _parsed_said_that(ctx: SpeakerContext, start: int, end: int, sentence: str) -> Claim | None:
    """With a parser, when the rules found no `S ha detto che …`: a speech verb with a `che` clause
    (ccomp marked by "che") and an `nsubj` that resolves. Only where the rules found nothing."""
    parse = ctx.parse
    if parse is None:
        return None
    for verb in parse.tokens(start, end):
        if verb.lower_ not in SPEECH_VERBS or ctx.masked[verb.idx] == " ":
            continue
        subj = parse.subject(verb)
        che = next((m for c in verb.children if c.dep_ == "ccomp" for m in c.children
                    if m.dep_ == "mark" and m.lower_ == "che" and m.i > verb.i), None)
        if subj is None or che is None:
            continue
        who = ctx.resolve(*parse.np_span(subj))
        if who:
            why = f'{who.describe()}; parser: nsubj of "{parse.cue(verb)}" before "che"'
            return _claim(ctx, "reported", who.name, che.idx + len(che), end, sentence, why)
    return None


_NP_INNER = frozenset("di d del dello della dei degli delle dell".split()) | ARTICLES


def _to_comma(ws: Sequence[Word], np_end: int) -> int:
    """Extend a source noun phrase over `di`/`del …` complements up to a comma: `il Garante della
    privacy,`, `il presidente dell'Autorità per le comunicazioni,`. Unchanged when no comma is near
    or a verb-like word ("che", an auxiliary) comes first."""
    if np_end == 0 or np_end >= len(ws) or ws[np_end].low not in _NP_INNER:
        return np_end
    for k in range(np_end, min(len(ws), np_end + 8)):
        w = ws[k]
        if w.text == ",":
            return k
        if not w.alpha or w.low in AUXILIARIES or w.low in ("che", "e", "ed", "ma", "cui"):
            return np_end
    return np_end


def _aside(ws: Sequence[Word], c: int) -> int:
    """Index of the comma closing a short aside (no verb) that opens at the comma ws[c], else 0."""
    if c >= len(ws) or ws[c].text != ",":
        return 0
    for k in range(c + 1, min(len(ws), c + 9)):
        if ws[k].text == ",":
            return k if k > c + 1 else 0
        if not ws[k].alpha or ws[k].low in AUXILIARIES or ws[k].low in ("che", "cui"):
            return 0
    return 0


def _is_name(seg: Sequence[Word]) -> bool:
    return all(w.cap for w in seg)


def _is_role(seg: Sequence[Word]) -> bool:
    """"ceo di OpenAI", "il fondatore di xAI": a role apposition (a role noun heads it)."""
    i = 1 if seg and seg[0].low in ARTICLES else 0
    return i < len(seg) and seg[i].low in PERSON_NOUNS


def _said_that(ctx: SpeakerContext, start: int, end: int, masked: str, sentence: str) -> Claim | None:
    if masked.find("che", start, end) < 0:
        return None  # cheap test first: most sentences have no "che"
    ws = words(masked, start, end)
    for i, w in enumerate(ws):
        if w.low != "che" or i == 0:
            continue
        k = i - 1
        while k >= 0 and ws[k].low not in AUXILIARIES and verb_group(ws, k) <= k:
            k -= 1
        if k < 0 or i not in (verb_group(ws, k), skip_adjuncts(ws, verb_group(ws, k), channel_only=True)):
            continue
        aux = skip_adverbs(ws, k - 1, -1)
        if aux >= 0 and ws[aux].low in AUXILIARIES:
            k = aux  # "Musk ha poi detto che": the subject is before the auxiliary
        elif _NON_FINITE.search(ws[k].low):
            continue  # "assicurarsi che", "dicendo che": no subject of its own
        who = subject_before(ctx, ws, k)
        cue = ctx.text[ws[k].start:ws[i].end]
        if who:
            why = (f'pro-drop "{cue}" inherits the last speaker {who.name}' if who.inherited
                   else f'{who.describe()}, subject of "{cue}"')
            return _claim(ctx, "reported", who.name, *_body(ctx.text, ws[i].end, end), sentence, why)
        who = _coordinated_subject(ctx, ws, k, start, masked)
        if who:
            why = f'{who.describe()}, subject of the first clause, carried over to "{cue}"'
            return _claim(ctx, "reported", who.name, *_body(ctx.text, ws[i].end, end), sentence, why)
    return None


_COORDINATORS = frozenset(("e", "ed", "ma", "però"))


def _coordinated_subject(ctx: SpeakerContext, ws: Sequence[Word], k: int, start: int,
                         masked: str) -> Speaker | None:
    """`Altman non ha commentato, ma in un post su X ha scritto che …`: a coordinated clause with no
    subject of its own (only adverbs and adjuncts after `ma`/`e`) takes the subject the sentence opens
    with, unless another person is named in between (precision first)."""
    for c in range(k - 1, 0, -1):
        if ws[c].low not in _COORDINATORS:
            continue
        p, q = c + 1, -1
        while p != q:
            q = p
            p = skip_adjuncts(ws, skip_adverbs(ws, p, 1, clitics=False))
        if p != k:
            return None
        who, at = sentence_subject(ctx, start, ws[c].start, masked)
        if not who or ctx.other_person(at, ws[k].start, who.name):
            return None
        return who
    return None


def _body(text: str, start: int, end: int) -> tuple[int, int]:
    """A `che` clause that is one whole quotation (`ha scritto che «il lavoro continua».`): its words."""
    body = text[start:end].strip(" ,;:.")
    if len(body) > 2 and body[0] in "«“\"" and body[-1] in "»”\"" and not any(m in body[1:-1] for m in "«»“”\""):
        s = text.index(body, start) + 1
        return s, s + len(body) - 2
    return start, end


def _claim(ctx: SpeakerContext, kind: str, speaker: str | None, start: int, end: int, sentence: str,
           why: str, subject: str | None = None) -> Claim:
    text = ctx.text[start:end].strip(" ,;:")
    start = ctx.text.index(text, start) if text else start
    score = {"reported": 2.0, "statement": 1.0}[kind]
    unsure = doubt(sentence)
    return Claim(kind, speaker, text, start, start + len(text), sentence, score,  # type: ignore[arg-type]
                 bool(unsure), subject, f"{why}; {unsure}" if unsure else why)


def statement(ctx: SpeakerContext, start: int, end: int, masked: str) -> Claim | None:
    """A sentence whose event has a tracked actor as subject (not after a preposition)."""
    inside = [f for f in ctx.mentions if start <= f.start < end]
    if not inside:
        return None
    ws = words(masked, start, end)
    for f in inside:
        i = next((n for n, w in enumerate(ws) if w.start <= f.start < w.end), None)
        if i is None or i > 0 and _complement(ws[i - 1]):
            continue
        j = i + 1
        while j < len(ws) and ws[j].cap and ws[j].alpha:
            j += 1  # the rest of the name ("Sam Altman")
        j = skip_apposition(ws, j)
        verb_end = _event_verb(ws, j)
        if verb_end:
            sentence = ctx.text[start:end]
            why = f'"{ctx.text[f.start:f.end]}" is the subject of "{ctx.text[ws[j].start:ws[verb_end - 1].end]}"'
            return _claim(ctx, "statement", None, start, end, sentence, why, f.entity)
    return None


def parsed_statement(ctx: SpeakerContext, start: int, end: int, masked: str) -> Claim | None:
    """`statement` with a parser: only the `nsubj` of the sentence ROOT (the main event) is the
    subject, so `Dopo che Musk ha lasciato, OpenAI ha cambiato strategia` is OpenAI's. With no ROOT
    subject (pro-drop, no parse) the rules decide."""
    parse = ctx.parse
    root = parse.root(start, end) if parse is not None else None
    subj = parse.subject(root) if parse is not None and root is not None else None
    if parse is None or root is None or subj is None:
        return statement(ctx, start, end, masked)
    s, e = parse.name_span(subj)
    f = next((f for f in ctx.mentions if s <= f.start < e), None)
    if f is None:
        return None  # the main event has another subject: tracked actors elsewhere are not its subject
    why = f'"{ctx.text[f.start:f.end]}" is the subject; parser: nsubj of "{parse.cue(root)}" (sentence root)'
    return _claim(ctx, "statement", None, start, end, ctx.text[start:end], why, f.entity)


def _complement(w: Word) -> bool:
    return w.low in PREPOSITIONS or w.text.endswith(("'", "’")) and w.low not in ("l", "un")


def _event_verb(ws: Sequence[Word], j: int) -> int:
    """The end (word index) of an event verb group starting at ws[j], or 0 when there is none."""
    j = skip_adverbs(ws, j, 1)
    if j >= len(ws) or ws[j].cap:
        return 0
    if ws[j].low in AUXILIARIES:
        k = skip_adverbs(ws, j + 1, 1)
        if k < len(ws) and ws[k].low in ("stato", "stata", "stati", "state"):
            k += 1
        return k + 1 if k < len(ws) and (ws[k].low in EVENT_VERBS or bool(_PARTICIPLE.match(ws[k].low))) else 0
    return j + 1 if ws[j].low in EVENT_VERBS else 0
