"""Find who said a quotation: after it, around it, or by continuation (before a colon: see colon.py).

The shapes, most frequent first in Italian news: `«…», ha scritto Musk su X` (verb, subject),
`«…», Musk ha detto`, pro-drop `«…», ha detto` (the last speaker), `Altman ha dichiarato: «…»`,
headline style `Musk: «…»`, and `«…», ha detto S, «…»` where both halves are S's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.nlp.grammar import (
    Word,
    np_backward,
    np_forward,
    skip_adjuncts,
    skip_adverbs,
    verb_group,
    words,
)
from monitor.nlp.lexicon import (
    ADVERBS,
    ARTICLES,
    PREPOSITIONS,
    SPEECH_NOUNS,
    SPOKES_NOUNS,
    TIME_NOUNS,
)
from monitor.nlp.speaker_words import NO_HOW, How, Speaker, describe
from monitor.nlp.speakers import SpeakerContext
from monitor.nlp.verbs import SPEECH_VERBS

# Participles and gerunds open no clause with a subject of their own.
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
_OBJECT_CLITICS = frozenset(("lo", "la", "l"))


def after(ctx: SpeakerContext, start: int, limit: int, comma_optional: bool = False) -> Attribution | None:
    """`«…», ha scritto Musk su X` / `«…», Musk ha detto` / pro-drop `«…», ha detto`.

    With `comma_optional` (the quotation opens its clause) `«…» ha dichiarato S` counts too.
    """
    ws = words(ctx.masked, start, limit)
    if not ws:
        return None
    i = 1 if ws[0].text in _DASHES else 0
    if ws[0].text in (":", ".") and len(ws) > 2 and ws[1].low in _OBJECT_CLITICS | {"ha", "hanno"} | SPEECH_VERBS:
        i = 1  # «…»: lo afferma S / «…». ha commentato S (a lower-case verb: the same sentence)
    if i == 0 and not (comma_optional and verb_group(ws, 0) > 0):
        return None
    if i < len(ws) and ws[i].low == "come":
        i += 1  # «…», come ha spiegato S a Repubblica
    if i + 1 < len(ws) and ws[i].low in _OBJECT_CLITICS and verb_group(ws, i + 1) > i + 1:
        i += 1  # «…», lo ha detto S: the clitic is the quotation
    reads = _reads(ctx, ws, i) or _noun_after(ctx, ws, i)
    if reads is not None:
        return reads
    vg = verb_group(ws, i)
    if vg > i and _governs_che(ws, vg):
        return Attribution(None, ws[vg - 1].end)  # «…», ha detto che …: the verb reports something else
    if vg > i:
        source = _from_organisation(ctx, ws, vg)
        if source is not None:
            return source
        k = skip_adjuncts(ws, skip_adverbs(ws, vg, 1, clitics=False))
        end = np_forward(ws, k)
        if end > k:
            who = ctx.resolve(ws[k].start, ws[end - 1].end)
            return attributed(who, ws[end - 1].end, _AFTER_VERB, ws[i].start, ws[vg - 1].end)
        if k + 1 < len(ws) and ws[k].low in ("lo", "la") and ws[k + 1].low in ("stesso", "stessa"):
            who = ctx.resolve(ws[k].start, ws[k + 1].end)  # "ha aggiunto lo stesso": the last speaker
            return attributed(who, ws[k + 1].end, _AFTER_VERB, ws[i].start, ws[vg - 1].end)
        adjunct = ws[skip_adverbs(ws, vg, 1, clitics=False):k]
        if sum(w.cap for w in adjunct) >= 3:
            # "ha detto a Radio Uno Anna Verdi, portavoce di Acme": outlet and name glued in one run of
            # capitals. Where the name starts is unclear: the apposition after it, else no speaker.
            return attributed(_apposition_source(ctx, ws, k), ws[vg - 1].end, '{d} after "{cue}"',
                              ws[i].start, ws[vg - 1].end)
        # pro-drop only when nothing that could be a subject follows the verb
        if not _clause_ends(ws, k) or _plural(ws[i]) and ctx.kinds.get(ctx.last_speaker or "") != "organization":
            return Attribution(None, ws[vg - 1].end)  # "hanno commentato": not the last person's words
        who = ctx.inherit(ctx.text[ws[i].start:ws[vg - 1].end], ws[i].start)
        return attributed(who, ws[vg - 1].end, "{d} after the quote", pro_drop=True)
    end = np_forward(ws, i)
    if end > i:
        k = skip_adverbs(ws, end, 1)
        vg = verb_group(ws, k)
        if vg > k and _governs_che(ws, vg):
            return Attribution(None, ws[vg - 1].end)  # «…», Musk ha detto che …: not this quote's verb
        if vg > k:
            who = ctx.resolve(ws[i].start, ws[end - 1].end)
            return attributed(who, ws[vg - 1].end, _AFTER_VERB, ws[k].start, ws[vg - 1].end)
    return None


def _apposition_source(ctx: SpeakerContext, ws: Sequence[Word], k: int) -> Speaker | None:
    """`, portavoce di OpenAI` after the speaker: the organisation a spokesperson speaks for."""
    if k + 3 < len(ws) and ws[k].text == "," and ws[k + 1].low in SPOKES_NOUNS:
        end = np_forward(ws, k + 3) if ws[k + 2].low in ("di", "del", "della", "dell") else k + 3
        who = ctx.resolve(ws[k + 1].start, ws[end - 1].end) if end > k + 3 else None
        return who if who is not None and ctx.kinds.get(who.name) == "organization" else None
    return None


def _plural(w: Word) -> bool:
    """A third-person plural verb or auxiliary ("hanno", "commentano", "dissero")."""
    return w.low in ("hanno", "avevano", "avrebbero", "sono", "erano") or w.low.endswith(("ano", "ono", "ero"))


def _governs_che(ws: Sequence[Word], vg: int) -> bool:
    """The verb group ending at ws[vg] introduces a `che` clause of its own (after adjuncts)."""
    k = skip_adjuncts(ws, skip_adverbs(ws, vg, 1, clitics=False))
    return k < len(ws) and ws[k].low == "che"


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


def cue_span(ws: Sequence[Word], v: int) -> tuple[int, int]:
    """Offsets of the verb group at ws[v] ("ha poi aggiunto", "ha tagliato corto"), else of the clause."""
    if v >= len(ws):
        v = 0
    end = verb_group(ws, v)
    if end <= v:
        end = v + 1
        while end < min(len(ws), v + 5) and ws[end].alpha:
            end += 1  # not a speech verb: its first few words, up to a comma
    return ws[v].start, ws[end - 1].end


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
                # "in risposta a Sutskever ha": a complement, not a subject; but "il fondatore e ad di
                # OpenAI Sam Altman ha": the role's organisation, then the name
                return _name_after_role(ctx, ws, start, j)
            return ctx.resolve(ws[start].start, ws[j].end)
        if ws[j].low == "che" and j >= 2 and ws[j - 1].text == ",":
            start = np_backward(ws, j - 1)  # "Elon Musk, che su X ha postato:"
            return ctx.resolve(ws[start].start, ws[j - 2].end) if start < j - 1 else None
        return _inherit(ctx, ws, v) if pro_drop and _no_subject(_segments(ws[:j + 1])) else None
    segments = _segments(ws[:j])
    first = segments[0]
    if _is_np(first):
        if len(segments) > 1 and _is_np(segments[1]) and (not first[0].cap or first[0].low in ARTICLES) and (
                segments[1][0].cap):
            first = segments[1]  # "Il presidente dell'OpenAI, Greg Brockman, ha ricordato"
        return ctx.resolve(first[0].start, first[-1].end)
    last = segments[-1]
    if len(segments) > 1 and len(last) >= 2 and all(w.cap and w.alpha for w in last) and (
            first[0].low in ARTICLES):
        return ctx.resolve(last[0].start, last[-1].end)  # "Il commissario per la privacy, Anna Verdi, ha"
    return _inherit(ctx, ws, v) if pro_drop and _no_subject(segments) else None


def _name_after_role(ctx: SpeakerContext, ws: Sequence[Word], start: int, j: int) -> Speaker | None:
    """The person closing `di <Org> <Name>` right before the verb: a tracked person's mention, or the
    last two of three or more capitalised words."""
    if ws[start - 1].low not in ("di", "del", "della", "dell", "dello", "dei", "degli", "delle"):
        return None
    for f in ctx.mentions:
        if f.end == ws[j].end and f.start > ws[start].start and ctx.kinds.get(f.entity) == "person":
            return ctx.resolve(f.start, f.end)
    caps = ws[start:j + 1]
    if len(caps) >= 3 and all(w.cap and w.alpha for w in caps):
        return ctx.resolve(caps[-2].start, caps[-1].end)
    return None


def _inherit(ctx: SpeakerContext, ws: Sequence[Word], v: int) -> Speaker | None:
    start, end = cue_span(ws, v)
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
