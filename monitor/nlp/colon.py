"""The speaker of a quotation introduced by a colon: `S ha dichiarato: «…»`, `Musk: «…»`, a pro-drop
`Ha poi aggiunto: «…»`, `la replica di S: «…»` or an interview label at the start of a line.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor.nlp.adjacent import message_owner
from monitor.nlp.attribution import Attribution, attributed, cue_span, subject_before
from monitor.nlp.grammar import Word, is_stop, np_forward, skip_adjuncts, skip_adverbs, verb_group, words
from monitor.nlp.lexicon import (
    ADVERBS,
    ARTICLES,
    AUXILIARIES,
    FUNCTION_WORDS,
    FURNITURE,
    PREPOSITIONS,
    SPEECH_NOUNS,
)
from monitor.nlp.speaker_words import Speaker
from monitor.nlp.speakers import SpeakerContext
from monitor.nlp.subjects import opening_subject, skip_apposition, verb_at
from monitor.nlp.verbs import SPEECH_VERBS

_DI = frozenset(("di", "del", "della", "dell", "dei", "degli", "delle", "dello"))
# Participles, gerunds and infinitives are not finite: "per commentare" has no subject of its own.
_NON_FINITE = ("ato", "uto", "ito", "tto", "sto", "ndo", "are", "ere", "ire")


def _finite_verb(ws: Sequence[Word]) -> int:
    """Index of the last finite verb group in a clause (auxiliary or speech verb), or -1."""
    for i in range(len(ws) - 1, -1, -1):
        low = ws[i].low
        if low in AUXILIARIES and low not in ("stato", "stata", "stati", "state"):
            return i
        if low in SPEECH_VERBS and (not ws[i].cap or i == 0):
            if i > 0 and (ws[i - 1].low in ARTICLES or ws[i - 1].low in PREPOSITIONS):
                continue  # "la replica", "con un post": a noun
            k = skip_adverbs(ws, i - 1, -1)
            if k >= 0 and ws[k].low in AUXILIARIES:
                return k  # "Ha poi aggiunto"
            if not low.endswith(_NON_FINITE):
                return i
    return -1


def before(ctx: SpeakerContext, start: int, colon: int) -> Attribution | None:
    """The speaker of `S ha dichiarato: «…»`, `Musk: «…»` or a pro-drop `Ha poi aggiunto: «…»`."""
    ws: Sequence[Word] = words(ctx.masked, start, colon)
    while ws and ws[0].text in _BULLETS:
        ws = ws[1:]  # "- Rossi: «…»": a list item
    if not ws:
        return None
    label = _label(ctx, ws, colon)
    if label is not None:
        return label
    owner = _speech_noun_owner(ctx, ws)
    if owner is not None:
        return owner  # "Dura la replica del commissario Thierry Breton:"
    ws = _main_clause(_drop_parenthesis(ws))
    v = _finite_verb(ws)
    if v < 0:
        h = 1 if ws[0].low in ("così", "e", "ma", "anche", "poi") and len(ws) > 1 else 0
        end = np_forward(ws, h)
        if end > h and ws[h].cap and skip_adjuncts(ws, end) == len(ws):
            who = ctx.resolve(ws[h].start, ws[end - 1].end)  # headline style, "Così Altman a Bloomberg:"
            return attributed(who, colon, "{d} before the colon, headline style")
        if end > h and ws[h].cap and end + 1 < len(ws) and ws[end].text == "," and ws[end + 1].low in PREPOSITIONS:
            who = ctx.resolve(ws[h].start, ws[end - 1].end)  # "Sam Altman, dal canto suo:" (no verb at all)
            return attributed(who, colon, "{d} before the colon, headline style")
        if (h == 0 and end >= 2 and ws[0].cap and end + 1 < len(ws) and ws[end].text == "," and len(ws) - end <= 5
                and ctx.text[ctx.text.rfind("\n", 0, ws[0].start) + 1:ws[0].start].strip() == ""):
            who = ctx.resolve(ws[0].start, ws[end - 1].end)  # a headline "Anna Verdi, la conferenza:"
            return attributed(who, colon, "{d} before the colon, headline style")
        if all(w.low in ADVERBS or w.low in ("e", "ed", "ma", "poco", "dopo", ",") for w in ws):
            who = ctx.inherit(ctx.text[ws[0].start:colon + 1], ws[0].start)  # "E poco dopo:"
            return attributed(who, colon, pro_drop=True)
        j = skip_apposition(ws, end)
        if end > h and verb_at(ws, j):
            who = ctx.resolve(ws[h].start, ws[end - 1].end)  # "Elon Musk non ci sta:"
            return attributed(who, colon, '{d}, subject of "{cue}" before the colon', ws[j].start, ws[-1].end)
        v = len(ws)  # "con un messaggio in inglese:": look for the clause's subject below
    cue_start, cue_end = cue_span(ws, v)
    who = subject_before(ctx, ws, v, pro_drop=False)
    if who:
        rule = ('{d} before "{cue}:"' if cue_end == ws[-1].end else '{d}, subject of "{cue}" before the colon'
                ) if v < len(ws) else "{d}, subject of the clause before the colon"
        return attributed(who, colon, rule, cue_start, cue_end)
    who = _subject_after(ctx, ws, v)
    if who:
        return attributed(who, colon, '{d}, subject after "{cue}" before the colon', cue_start, cue_end)
    who = subject_before(ctx, ws, v)
    if not who:
        return message_owner(ctx, ws) or _opening(ctx, ws, v, colon)
    rule, cue, last, pos = who.how  # pro-drop "Ha poi aggiunto:"
    return attributed(Speaker(who.name, (rule, f"{cue}:" if cue_end == ws[-1].end else cue, last, pos)), colon)


def _main_clause(ws: Sequence[Word]) -> Sequence[Word]:
    """`L'imprenditore ha comunicato che la sua azienda farà ricorso:` -> the words before the complementizer.

    A `che` right after a speech verb group opens its content: the clause before it holds the
    speaker. A relative `, che` after a noun ("Musk, che su X ha scritto:") is left alone.
    """
    for n in range(1, len(ws)):
        if ws[n].low == "che" and ws[n - 1].text != ",":
            g = n - 1
            while g > 0 and (ws[g].low in ADVERBS or ws[g].low in PREPOSITIONS or not ws[g].cap and ws[g].alpha
                             and ws[g].low not in SPEECH_VERBS and ws[g].low not in AUXILIARIES and g > n - 4):
                g -= 1
            if ws[g].low in SPEECH_VERBS and not ws[g].cap:
                return ws[:n]
    return ws


def _opening(ctx: SpeakerContext, ws: Sequence[Word], v: int, colon: int) -> Attribution | None:
    """The subject the clause opens with, past adverbials (`Sul suo profilo, Rossi ha commentato un
    articolo che presentava il piano con due parole:`), or pro-drop after them (`Durante il vertice ha
    annunciato:`)."""
    who, pro_drop = opening_subject(ctx, ws)
    if pro_drop:
        cue_start, cue_end = cue_span(ws, v)
        return attributed(ctx.inherit(ctx.text[cue_start:cue_end] + ":", ws[0].start), colon, pro_drop=True)
    return attributed(who, colon, "{d}, subject the clause opens with, before the colon") if who else None


_BULLETS = frozenset("-–—•*·.;…")  # list bullets, and the stop of a sentence glued to this one


def _label(ctx: SpeakerContext, ws: Sequence[Word], colon: int) -> Attribution | None:
    """`Rossi: «…»` as a line of its own (an interview label, a list item, a headline): one
    capitalised word that is not a function word, a heading or an all-capitals label. An untracked
    word counts only in a list item (`- Rossi: «…»`): a bare `Milano: «…»` may be a place."""
    line_start = ctx.text.rfind("\n", 0, ws[0].start) + 1
    lead = ctx.text[line_start:ws[0].start]
    if len(ws) != 1 or lead.strip(" -–—•*·\t") or not ws[0].cap:
        return None
    w = ws[0]
    if w.low in FUNCTION_WORDS or w.low in FURNITURE or w.text.isupper() or w.low in SPEECH_NOUNS:
        return None
    who = ctx.resolve(w.start, w.end)
    if who is None and lead.strip(" \t"):
        who = Speaker(w.text, ("", w.text, "", 0))
    return attributed(who, colon, "{d} before the colon, headline style") if who else None


def _drop_parenthesis(ws: Sequence[Word]) -> Sequence[Word]:
    """"Sam Altman (OpenAI):" -> "Sam Altman"."""
    if len(ws) > 2 and ws[-1].text == ")":
        for n in range(len(ws) - 2, 0, -1):
            if ws[n].text == "(":
                return ws[:n]
    return ws


def _speech_noun_owner(ctx: SpeakerContext, ws: Sequence[Word]) -> Attribution | None:
    """`la replica di NP:` / `Il commento di NP:` where NP runs up to the colon."""
    for n in range(len(ws) - 2, -1, -1):
        if ws[n].low in SPEECH_NOUNS and (n == 0 or ws[n - 1].low in ARTICLES | {"dura", "secca", "pronta"}):
            if ws[n + 1].low not in ("di", "del", "dello", "della", "dell", "dei", "degli"):
                return None
            rest = ws[n + 2:]
            if rest and not any(is_stop(w) and w.low not in ("di", "del", "della", "dell") for w in rest):
                who = ctx.resolve(rest[0].start, rest[-1].end)
                if who is None:
                    return None
                return attributed(who, rest[-1].end, '{d}, owner of "{cue}" before the colon',
                                  ws[max(n - 1, 0)].start, ws[n].end)
            return None
    return None


def _subject_after(ctx: SpeakerContext, ws: Sequence[Word], v: int) -> Speaker | None:
    """Verb-first clauses: `Sottolinea Sutskever:`, `Lo ha confermato a Wired un portavoce di xAI:`."""
    if v >= len(ws) or v > 0 and ws[v - 1].low in ("che", "cui"):
        return None  # "un articolo che presentava il piano:": a relative clause, its object is no speaker
    g = v + 1 if v == 0 and ws[v].cap and ws[v].low in SPEECH_VERBS else verb_group(ws, v)
    if g == v:
        return None
    k = skip_adjuncts(ws, skip_adverbs(ws, g, 1, clitics=False))
    end = np_forward(ws, k)
    rest = skip_adjuncts(ws, end)
    if rest + 1 < len(ws) and ws[rest].text == "," and all(w.alpha and (not is_stop(w) or w.low in _DI)
                                                              for w in ws[rest + 1:]):
        rest = len(ws)  # "A Rossi ha risposto Anna Verdi, ministra della Salute:": a closing apposition
    if end == k or rest != len(ws):
        return None
    return ctx.resolve(ws[k].start, ws[end - 1].end)
