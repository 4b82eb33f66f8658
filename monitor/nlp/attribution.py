"""Find who said a quotation: after it, before it (colon), around it, or by continuation.

The shapes, most frequent first in Italian news: `«…», ha scritto Musk su X` (verb, subject),
`«…», Musk ha detto`, pro-drop `«…», ha detto` (the last speaker), `Altman ha dichiarato: «…»`,
headline style `Musk: «…»`, and `«…», ha detto S, «…»` where both halves are S's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.nlp.grammar import (
    Word,
    is_stop,
    np_backward,
    np_forward,
    skip_adjuncts,
    skip_adverbs,
    verb_group,
    words,
)
from monitor.nlp.lexicon import ADVERBS, ARTICLES, AUXILIARIES, PREPOSITIONS, SPEECH_NOUNS, TIME_NOUNS
from monitor.nlp.speakers import NO_HOW, How, Speaker, SpeakerContext, describe
from monitor.nlp.subjects import skip_apposition, verb_at
from monitor.nlp.verbs import SPEECH_VERBS

# Participles, gerunds and infinitives are not finite: "per commentare" has no subject of its own.
_NON_FINITE = ("ato", "uto", "ito", "tto", "sto", "ndo", "are", "ere", "ire")
_PARTICIPLE = ("ato", "ata", "ati", "ate", "uto", "uta", "iti", "ito", "ita", "ando", "endo")


@dataclass(frozen=True)
class Attribution:
    speaker: str | None
    end: int  # where the attribution clause ends (char offset), for split quotes
    rule: str = "{d}"  # how it was found, a template: {d} the speaker's `describe`, {cue} the cue words
    cue_start: int = 0
    cue_end: int = 0
    how: How = NO_HOW
    pro_drop: bool = False  # a verb with no subject of its own: the speaker, if any, was inherited

    def why(self, text: str) -> str:
        """The human explanation, built only when a claim is made."""
        return self.rule.format(d=describe(self.how), cue=text[self.cue_start:self.cue_end])


def attributed(who: Speaker | None, end: int, rule: str = "{d}", cue_start: int = 0, cue_end: int = 0,
               pro_drop: bool = False) -> Attribution:
    """An Attribution to the resolved speaker `who` (None: no speaker), keeping how it was found."""
    if who is None:
        return Attribution(None, end, rule, cue_start, cue_end, pro_drop=pro_drop)
    return Attribution(who.name, end, rule, cue_start, cue_end, who.how, pro_drop or who.inherited)


_AFTER_VERB = '{d}, subject of "{cue}" after the quote'


_DASHES = (",", "—", "–", "-")


def after(ctx: SpeakerContext, start: int, limit: int, comma_optional: bool = False) -> Attribution | None:
    """`«…», ha scritto Musk su X` / `«…», Musk ha detto` / pro-drop `«…», ha detto`.

    With `comma_optional` (the quotation opens its clause) `«…» ha dichiarato S` counts too.
    """
    ws = words(ctx.masked, start, limit)
    if not ws:
        return None
    i = 1 if ws[0].text in _DASHES else 0
    if i == 0 and not (comma_optional and verb_group(ws, 0) > 0):
        return None
    if i < len(ws) and ws[i].low == "come":
        i += 1  # «…», come ha spiegato S a Repubblica
    reads = _reads(ctx, ws, i) or _noun_after(ctx, ws, i)
    if reads is not None:
        return reads
    vg = verb_group(ws, i)
    if vg > i:
        source = _from_organisation(ctx, ws, vg)
        if source is not None:
            return source
        k = skip_adjuncts(ws, skip_adverbs(ws, vg, 1, clitics=False))
        end = np_forward(ws, k)
        if end > k:
            who = ctx.resolve(ws[k].start, ws[end - 1].end)
            return attributed(who, ws[end - 1].end, _AFTER_VERB, ws[i].start, ws[vg - 1].end)
        # pro-drop only when nothing that could be a subject follows the verb
        if not _clause_ends(ws, k):
            return Attribution(None, ws[vg - 1].end)
        who = ctx.inherit(ctx.text[ws[i].start:ws[vg - 1].end], ws[i].start)
        return attributed(who, ws[vg - 1].end, "{d} after the quote", pro_drop=True)
    end = np_forward(ws, i)
    if end > i:
        k = skip_adverbs(ws, end, 1)
        vg = verb_group(ws, k)
        if vg > k:
            who = ctx.resolve(ws[i].start, ws[end - 1].end)
            return attributed(who, ws[vg - 1].end, _AFTER_VERB, ws[k].start, ws[vg - 1].end)
    return None


def _clause_ends(ws: Sequence[Word], k: int) -> bool:
    """No subject can start at ws[k]: no article and no capitalised word there."""
    return k >= len(ws) or not ws[k].alpha or not ws[k].cap and ws[k].low not in ARTICLES


def _from_organisation(ctx: SpeakerContext, ws: Sequence[Word], k: int) -> Attribution | None:
    """`«…», fanno sapere da OpenAI`: a tracked organisation as the source."""
    if k + 1 < len(ws) and ws[k].low in ("da", "dal", "dall", "dalla", "dallo"):
        end = np_forward(ws, k + 1)
        who = ctx.resolve(ws[k + 1].start, ws[end - 1].end) if end > k + 1 else None
        if who is not None and ctx.kinds.get(who.name) == "organization":
            return attributed(who, ws[end - 1].end, '{d}, source after "{cue}"', ws[0].start, ws[k].end)
    return None


def _noun_after(ctx: SpeakerContext, ws: Sequence[Word], i: int) -> Attribution | None:
    """`«…», è stato il commento di Musk` / `«…», la replica di OpenAI`."""
    if i < len(ws) and ws[i].low in ("è", "era", "fu"):
        i = i + 2 if i + 1 < len(ws) and ws[i + 1].low in ("stato", "stata") else i + 1
    if not (i + 3 < len(ws) and ws[i].low in ARTICLES and ws[i + 1].low in SPEECH_NOUNS
            and ws[i + 2].low in ("di", "del", "dello", "della", "dell")):
        return None
    end = np_forward(ws, i + 3)
    if end == i + 3:
        return None
    who = ctx.resolve(ws[i + 3].start, ws[end - 1].end)
    return attributed(who, ws[end - 1].end, '{d}, owner of "{cue}" after the quote', ws[i].start, ws[i + 2].end)


def _reads(ctx: SpeakerContext, ws: Sequence[Word], i: int) -> Attribution | None:
    """`«…», si legge nel comunicato di OpenAI`: the owner of the document speaks."""
    if not (i + 2 < len(ws) and ws[i].low == "si" and ws[i + 1].low in ("legge", "leggeva", "leggono")):
        return None
    for n in range(i + 2, min(len(ws) - 1, i + 6)):
        if ws[n].low in ("di", "del", "dello", "della", "dell", "dei", "degli"):
            end = np_forward(ws, n + 1)
            if end > n + 1:
                who = ctx.resolve(ws[n + 1].start, ws[end - 1].end)
                return attributed(who, ws[end - 1].end, '{d}, owner of the document after "{cue}"',
                                  ws[i].start, ws[i + 1].end)
        if not ws[n].alpha:
            break
    return Attribution(None, ws[i + 1].end)


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
    if not ws:
        return None
    owner = _speech_noun_owner(ctx, ws)
    if owner is not None:
        return owner  # "Dura la replica del commissario Thierry Breton:"
    ws = _drop_parenthesis(ws)
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
        if all(w.low in ADVERBS or w.low in ("e", "ed", "ma", "poco", "dopo", ",") for w in ws):
            who = ctx.inherit(ctx.text[ws[0].start:colon + 1], ws[0].start)  # "E poco dopo:"
            return attributed(who, colon, pro_drop=True)
        j = skip_apposition(ws, end)
        if end > h and verb_at(ws, j):
            who = ctx.resolve(ws[h].start, ws[end - 1].end)  # "Elon Musk non ci sta:"
            return attributed(who, colon, '{d}, subject of "{cue}" before the colon', ws[j].start, ws[-1].end)
        v = len(ws)  # "con un messaggio in inglese:": look for the clause's subject below
    cue_start, cue_end = _cue(ws, v)
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
        return None
    rule, cue, last, pos = who.how  # pro-drop "Ha poi aggiunto:"
    return attributed(Speaker(who.name, (rule, f"{cue}:" if cue_end == ws[-1].end else cue, last, pos)), colon)


def _cue(ws: Sequence[Word], v: int) -> tuple[int, int]:
    """Offsets of the verb group at ws[v] ("ha poi aggiunto", "ha tagliato corto"), else of the clause."""
    if v >= len(ws):
        v = 0
    end = verb_group(ws, v)
    if end <= v:
        end = v + 1
        while end < min(len(ws), v + 5) and ws[end].alpha:
            end += 1  # not a speech verb: its first few words, up to a comma
    return ws[v].start, ws[end - 1].end


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
    if v >= len(ws):
        return None
    g = v + 1 if v == 0 and ws[v].cap and ws[v].low in SPEECH_VERBS else verb_group(ws, v)
    if g == v:
        return None
    k = skip_adjuncts(ws, skip_adverbs(ws, g, 1, clitics=False))
    end = np_forward(ws, k)
    if end == k or skip_adjuncts(ws, end) != len(ws):
        return None
    return ctx.resolve(ws[k].start, ws[end - 1].end)


def subject_before(ctx: SpeakerContext, ws: Sequence[Word], v: int, pro_drop: bool = True) -> Speaker | None:
    """Subject of the verb at ws[v]: the noun phrase right before it, across appositions.

    With no subject of its own the verb inherits the last speaker, unless `pro_drop` is False.
    """
    j = skip_adverbs(ws, v - 1, -1)
    if j < 0:
        return _inherit(ctx, ws, v) if pro_drop else None
    if ws[j].text != ",":
        start = np_backward(ws, j + 1)
        if start <= j:
            if start > 0 and ws[start - 1].low in PREPOSITIONS and not _time_adverbial(ws, start - 1):
                return None  # "in risposta a Sutskever ha" : a complement, not a subject
            return ctx.resolve(ws[start].start, ws[j].end)
        if ws[j].low == "che" and j >= 2 and ws[j - 1].text == ",":
            start = np_backward(ws, j - 1)  # "Elon Musk, che su X ha postato:"
            return ctx.resolve(ws[start].start, ws[j - 2].end) if start < j - 1 else None
        return _inherit(ctx, ws, v) if pro_drop and _no_subject(_segments(ws[:j + 1])) else None
    segments = _segments(ws[:j])
    first = segments[0]
    if _is_np(first):
        if len(segments) > 1 and _is_np(segments[1]) and not first[0].cap and segments[1][0].cap:
            first = segments[1]  # "Il presidente dell'OpenAI, Greg Brockman, ha ricordato"
        return ctx.resolve(first[0].start, first[-1].end)
    return _inherit(ctx, ws, v) if pro_drop and _no_subject(segments) else None


def _inherit(ctx: SpeakerContext, ws: Sequence[Word], v: int) -> Speaker | None:
    start, end = _cue(ws, v)
    return ctx.inherit(ctx.text[start:end], start)


def _segments(ws: Sequence[Word]) -> list[list[Word]]:
    out: list[list[Word]] = [[]]
    for w in ws:
        if w.text == ",":
            out.append([])
        else:
            out[-1].append(w)
    return [s for s in out if s] or [[]]


def _is_np(seg: Sequence[Word]) -> bool:
    return bool(seg) and seg[0].low not in PREPOSITIONS and seg[0].low not in ADVERBS and (
        np_forward(seg, 0) == len(seg))


def _no_subject(segments: list[list[Word]]) -> bool:
    """Only adverbials, prepositional phrases, participles and relative clauses: a pro-drop verb."""
    for seg in segments:
        if not seg:
            continue
        low = seg[0].low
        if not (low in PREPOSITIONS or low in ADVERBS or low in ("che", "cui", "e", "ed", "ma", "poco")
                or low.endswith(_PARTICIPLE)):
            return False
    return True


def _time_adverbial(ws: Sequence[Word], p: int) -> bool:
    """"Poche ore dopo", "due giorni fa": a time adverbial, not a preposition governing a name."""
    return ws[p].low in ("dopo", "prima", "fa") and p > 0 and ws[p - 1].low in TIME_NOUNS
