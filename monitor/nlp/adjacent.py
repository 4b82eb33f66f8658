"""Speakers found outside the quotation's own clause: inside its marks, or in the adjacent sentence.

Two shapes of Italian news:
  * a speech verb inserted between dashes inside the marks: `«Io – prosegue – non credo…»`,
    `«Non ha senso – ha detto Mario Rossi – è assurdo»` (one quotation, the inserted verb's subject);
  * a sentence that is only a quotation, attributed by the sentence right after it:
    `«…». Lo ha detto Rossi.`, `«…». Così il ministro alla fine del vertice.`,
    `«…». Queste le parole di Rossi.`, `«…». Il partito commenta così la notizia.`
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.nlp.attribution import Attribution, attributed
from monitor.nlp.grammar import Word, is_stop, np_forward, skip_adjuncts, skip_adverbs, verb_group, words
from monitor.nlp.lexicon import ARTICLES, AUXILIARIES, wordset
from monitor.nlp.quotemarks import Quote
from monitor.nlp.speakers import SpeakerContext
from monitor.nlp.verbs import SPEECH_VERBS

# ` – prosegue – `, ` - ha aggiunto Mario Rossi, senatore - `: a dash, a short aside, a dash (or the end).
_INSERT = re.compile(r"\s[–—-]\s*([^–—«»“”\"\n]{3,140}?)\s*(?:[–—]|\s-|-\s|,?\s*$)")
_CLITIC_OBJECT = frozenset(("lo", "la", "l", "li", "le"))
_PAROLE = frozenset(("parole", "dichiarazioni", "frasi", "affermazioni"))
_DI_WORDS = frozenset(("d", "di", "del", "della", "dell", "dei", "degli", "delle", "dello"))
# Verbs that characterise what was just quoted: "La Lega bolla così la proposta".
_JUDGING = wordset("bolla bollano bollato liquida liquidano liquidato motiva motivano motivato descrive descrivono "
                   "descritto saluta salutano salutato sintetizza sintetizzano sintetizzato")


def inserted(ctx: SpeakerContext, q: Quote) -> Attribution | None:
    """The speaker of a speech verb inserted between dashes inside the quotation's marks."""
    for m in _INSERT.finditer(ctx.text, q.start, q.end):
        ws = words(ctx.text, m.start(1), m.end(1))
        g = verb_group(ws, 0)
        if g == 0:
            continue
        k = skip_adjuncts(ws, skip_adverbs(ws, g, 1, clitics=False))
        end = np_forward(ws, k)
        while end > k + 1 and ws[end - 1].low.endswith(("ando", "endo")) and not ws[end - 1].cap:
            end -= 1  # "– sottolinea la Rossi aggiungendo –": the gerund is not part of the name
        cue = (ws[0].start, ws[g - 1].end)
        if end > k:
            who = ctx.resolve(ws[k].start, ws[end - 1].end)
            return attributed(who, q.end, '{d}, subject of "{cue}" inserted inside the quote', *cue)
        if k < len(ws) and ws[k].alpha:
            return None  # more words than a verb: not an inserted attribution we can read
        who = ctx.inherit(ctx.text[cue[0]:cue[1]], q.start)
        return attributed(who, q.end, "{d}, inserted inside the quote", pro_drop=True)
    return None


def headline_comma(ctx: SpeakerContext, start: int, q: Quote) -> Attribution | None:
    """`Altman, «Non vendiamo»` as a headline: a line that is only a name and a comma before the quote."""
    line_start = ctx.text.rfind("\n", 0, q.outer_start) + 1
    ws = words(ctx.masked, max(start, line_start), q.outer_start)
    if len(ws) < 2 or ws[-1].text != "," or ctx.text[line_start:ws[0].start].strip():
        return None
    end = np_forward(ws, 0)
    if end != len(ws) - 1 or not all(w.cap for w in ws[:end]):
        return None
    who = ctx.resolve(ws[0].start, ws[end - 1].end)
    if who is None or len(ws[:end]) < 2 and who.name not in ctx.kinds:
        return None  # one capitalised word is a name only when it is a tracked actor
    return attributed(who, q.outer_start, "{d} before the quote, headline style")


_MESSAGE_NOUNS = frozenset(("messaggio", "comunicato", "nota", "post", "lettera", "avviso", "email", "mail",
                            "tweet", "dichiarazione", "annuncio"))


def message_owner(ctx: SpeakerContext, ws: Sequence[Word]) -> Attribution | None:
    """`una nota di Acme che chiarisce …`, `un avviso da parte dello staff di Acme che precisa:`: the
    tracked actor whose message the relative speech verb introduces."""
    for r in range(2, len(ws) - 1):
        if ws[r].low != "che" or verb_group(ws, r + 1) == r + 1:
            continue
        m = next((n for n in range(r - 1, max(-1, r - 10), -1) if ws[n].low in _MESSAGE_NOUNS), -1)
        if m < 0 or ws[m + 1].low not in _DI_WORDS | {"da"}:
            continue
        if any(w.low in AUXILIARIES or w.low in SPEECH_VERBS for w in ws[:m]):
            return None  # "Rossi ha commentato un tweet di Acme che presentava …": Rossi's clause
        names = [f for f in ctx.mentions if ws[m].end <= f.start and f.end <= ws[r].start]
        if len({f.entity for f in names}) == 1:
            who = ctx.resolve(names[-1].start, names[-1].end)
            return attributed(who, ws[r].start, '{d}, owner of the message that "{cue}"', ws[r].start,
                              ws[verb_group(ws, r + 1) - 1].end)
    return None


def next_sentence(ctx: SpeakerContext, start: int, end: int) -> Attribution | None:
    """The speaker a sentence gives to the quotation-only sentence right before it."""
    ws = words(ctx.masked, start, end)
    if not ws:
        return None
    return _clitic_said(ctx, ws) or _cosi(ctx, ws) or _words_of(ctx, ws) or _verb_cosi(ctx, ws)


def _clitic_said(ctx: SpeakerContext, ws: Sequence[Word]) -> Attribution | None:
    """`Lo ha detto Rossi`, `L'ha scritto il ministro su X`, `…, lo annuncia Rossi`: the quote is the
    object (a clitic opening the sentence or a clause after a comma)."""
    c = next((n for n in range(len(ws) - 1) if ws[n].low in _CLITIC_OBJECT and (n == 0 or ws[n - 1].text == ",")
              and verb_group(ws, n + 1) > n + 1), -1)
    if c < 0:
        return None
    ws = ws[c:]
    g = verb_group(ws, 1)
    k = skip_adjuncts(ws, skip_adverbs(ws, g, 1, clitics=False))
    end = np_forward(ws, k)
    if end == k:
        return None
    who = ctx.resolve(ws[k].start, ws[end - 1].end)
    return attributed(who, ws[end - 1].end, '{d}, subject of "{cue}" in the adjacent sentence', ws[0].start,
                      ws[g - 1].end)


def _cosi(ctx: SpeakerContext, ws: Sequence[Word]) -> Attribution | None:
    """`Così Rossi al termine del vertice.`, `Così il ministro ha commentato la notizia.`"""
    if ws[0].low != "così" or len(ws) < 2:
        return None
    end = np_forward(ws, 1)
    if end == 1 or not (ws[1].cap or ws[1].low in ARTICLES):
        return None
    k = skip_adverbs(ws, end, 1)
    clause = next((n for n in range(end, len(ws)) if ws[n].low in ("che", "cui") or ws[n].text == ","), len(ws))
    if verb_group(ws, k) == k and any(w.low in AUXILIARIES for w in ws[end:clause]):
        return None  # "Così il governo ha deciso di rinviare": "così" means "thus", not an attribution
    who = ctx.resolve(ws[1].start, ws[end - 1].end)
    return attributed(who, ws[end - 1].end, '{d} after "{cue}" in the adjacent sentence', ws[0].start, ws[0].end)


def _words_of(ctx: SpeakerContext, ws: Sequence[Word]) -> Attribution | None:
    """`Queste le parole di Rossi.`, `Sono queste le dichiarazioni del ministro.`"""
    i = 1 if ws[0].low in ("sono", "ecco") else 0
    if i < len(ws) and ws[i].low in ("queste", "così"):
        i += 1
    if i < len(ws) and ws[i].low in ("le", "sono"):
        i += 1
    if not (i + 2 < len(ws) and ws[i].low in _PAROLE and ws[i + 1].low in ("di", "del", "della", "dell", "dello")):
        return None
    if i == 0:
        return None  # "Parole di …" alone is a heading, not an attribution
    end = np_forward(ws, i + 2)
    if end == i + 2:
        return None
    who = ctx.resolve(ws[i + 2].start, ws[end - 1].end)
    return attributed(who, ws[end - 1].end, '{d}, owner of "{cue}" in the adjacent sentence', ws[0].start,
                      ws[i + 1].end)


def _verb_cosi(ctx: SpeakerContext, ws: Sequence[Word]) -> Attribution | None:
    """`Il partito commenta così la notizia.`, `Rossi ha risposto così alle critiche.`: subject, a verb of
    saying or judging, così."""
    c = next((n for n in range(2, min(len(ws), 9)) if ws[n].low == "così"), -1)
    if c < 0 or not (ws[0].cap or ws[0].low in ARTICLES):
        return None
    v = c - 1
    if ws[v].low not in SPEECH_VERBS and ws[v].low not in _JUDGING:
        return None  # "Il governo ha deciso così": not a way of saying
    start = v - 1 if ws[v - 1].low in AUXILIARIES else v
    start = skip_adverbs(ws, start - 1, -1) + 1
    if start < 1 or any(is_stop(w) and w.low not in _DI_WORDS for w in ws[:start]):
        return None
    who = ctx.resolve(ws[0].start, ws[start - 1].end)
    return attributed(who, ws[start - 1].end, '{d}, subject of "{cue}" in the adjacent sentence', ws[start].start,
                      ws[c].end)
