"""Who a sentence is about: the subject of its main verb, or the owner of a speech noun.

Pro-drop verbs (`«…», ha detto`) take the person the text was last talking about, which is not
always the last speaker: `È arrivato il commento di Mira Murati. «…», ha detto` is Murati's, and
`Musk ha poi approfittato … . “…”, ha detto` is Musk's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.nlp.grammar import Word, np_forward, skip_adjuncts, skip_adverbs, verb_group, words
from monitor.nlp.lexicon import ADVERBS, ARTICLES, AUXILIARIES, PREPOSITIONS, TIME_NOUNS, wordset
from monitor.nlp.speaker_words import Speaker
from monitor.nlp.speakers import SpeakerContext
from monitor.nlp.verbs import EVENT_VERBS, SPEECH_VERBS

_SPEECH_NOUN = re.compile(
    r"\b(?:commento|commenti|parole|dichiarazion[ei]|intervento|replica|risposta|posizione|messaggio"
    r"|post|tweet|reazione|affondo|monito|appello|voce|opinione|punto di vista)"
    r"\s+(?:di|del|della|dell['’])\s*(?=[A-Z])")
# A finite verb of any kind: 3rd-person endings, used only right after a subject noun phrase.
_FINITE = re.compile(r"[a-zà-ÿ]+(?:a|e|ò|ì|à|ava|eva|iva|ano|ono|avano|evano|ivano|ebbe|ebbero|erà|irà)$")


def speech_noun_owner(ctx: SpeakerContext, start: int, end: int, masked: str) -> Speaker | None:
    """`il commento di Mira Murati` -> "Mira Murati"."""
    m = ctx.first_match(_SPEECH_NOUN, start, end)
    if not m:
        return None
    ws = words(masked, m.end(), end)
    np_end = np_forward(ws, 0)
    return ctx.resolve(ws[0].start, ws[np_end - 1].end) if np_end else None


def verb_at(ws: Sequence[Word], j: int) -> bool:
    """A finite verb group starts at ws[j] (after adverbs and clitics)."""
    k = skip_adverbs(ws, j, 1)
    if k >= len(ws) or ws[k].cap or not ws[k].alpha:
        return False
    low = ws[k].low
    if low in AUXILIARIES:
        return True
    # short finite forms ("sta", "va", "fa") only after a clitic or "non": "Musk non ci sta"
    return low in EVENT_VERBS or low in SPEECH_VERBS or bool(_FINITE.match(low)) and (len(low) > 3 or k > j + 1)


def skip_apposition(ws: Sequence[Word], j: int) -> int:
    """Skip `, il CEO di OpenAI,` or `, che …,` between a subject and its verb."""
    if j < len(ws) and ws[j].text == ",":
        for k in range(j + 1, min(len(ws), j + 15)):
            if ws[k].text == ",":
                return k + 1
    return j


def sentence_subject(ctx: SpeakerContext, start: int, end: int, masked: str) -> tuple[Speaker | None, int]:
    """(resolved subject, its start offset) when the sentence opens with subject + verb."""
    ws = words(masked, start, end)
    i = skip_openers(ws)  # "Nel suo racconto, Rossi spiega …": past the opening adverbials
    if i >= len(ws) or ws[i].low in PREPOSITIONS:
        return None, -1
    np_end = np_forward(ws, i)
    if np_end == i or not verb_at(ws, skip_apposition(ws, np_end)):
        return None, -1
    return ctx.resolve(ws[i].start, ws[np_end - 1].end), ws[i].start


_LEADERS = frozenset(("e", "ed", "ma", "poi", "anche", "intanto", "invece", "eppure", "quindi", "così", "però", "lì",
                      "là", "qui", "qua", "insomma", "inoltre", "anzi"))


def skip_openers(ws: Sequence[Word], i: int = 0) -> int:
    """Skip what opens a clause before its subject: conjunctions and adverbs, prepositional and time
    phrases (`Durante il vertice`, `Sul suo blog,`, `Subito dopo,`) and gerund clauses
    (`Intervenendo al convegno,`). Returns the index of the first word of the subject or verb."""
    while i < len(ws):
        w = ws[i]
        if w.low in _LEADERS or w.low in ADVERBS:
            i += 1
        elif w.low in PREPOSITIONS or w.low.endswith(("ando", "endo")) and (not w.cap or _opening_gerund(ws, i)) \
                or w.low in TIME_NOUNS:
            cap_gerund = w.cap and w.low not in PREPOSITIONS and w.low not in TIME_NOUNS
            comma = next((k for k in range(i + 1, min(len(ws), i + 16)) if ws[k].text == ","), -1)
            if (comma > i + 10 or cap_gerund) and any(ws[n].low in AUXILIARIES or ws[n].low in SPEECH_VERBS
                                                 for n in range(i, comma)):
                comma = -1  # a long opener is an adverbial only without a verb in it
            if cap_gerund and comma < 0:
                return i
            if comma > 0:
                i = comma + 1  # an adverbial closed by a comma
                continue
            k = skip_adjuncts(ws, i)
            if k == i:
                return i
            i = k
        elif w.text == ",":
            i += 1
        else:
            return i
    return i


def _opening_gerund(ws: Sequence[Word], i: int) -> bool:
    """`Tornando ai conti …,` opening a sentence: a capitalised gerund followed by a lower-case word
    (not `Armando Rossi`)."""
    return i == 0 and len(ws) > 2 and ws[1].alpha and not ws[1].cap


def opening_subject(ctx: SpeakerContext, ws: Sequence[Word]) -> tuple[Speaker | None, bool]:
    """(subject, pro_drop) of a clause: the noun phrase after its openers when a finite verb follows
    (across an apposition or an adjunct: `Rossi dopo il vertice ringrazia:`); pro_drop is True when
    the openers run straight into the verb (`Nel corso dell'evento ha promesso:`)."""
    i = skip_openers(ws)
    if i >= len(ws) and ws and ws[0].low in PREPOSITIONS:
        return None, True  # only a topic before the colon ("Sulla legge di bilancio:"): the current speaker
    k = skip_adverbs(ws, i, 1)
    if i < len(ws) and ws[i].low not in ARTICLES and verb_group(ws, k) > k:
        return None, True  # straight into a speech verb group: pro-drop
    end = np_forward(ws, i)
    if end == i or not (ws[i].cap or ws[i].low in ARTICLES):
        return None, False
    j = skip_apposition(ws, end)
    if not verb_at(ws, j) and _verb_after_adjunct(ws, j) < 0:
        return None, False
    return ctx.resolve(ws[i].start, ws[end - 1].end), False


def _verb_after_adjunct(ws: Sequence[Word], j: int) -> int:
    """Index of a finite verb right after a short prepositional adjunct at ws[j] (`dopo la partita
    ringrazia`), else -1. A word after an article or preposition is a noun ("la partita")."""
    if j >= len(ws) or ws[j].low not in PREPOSITIONS:
        return -1
    for k in range(j + 2, min(len(ws), j + 6)):
        if not ws[k].alpha:
            return -1
        prev = ws[k - 1].low
        if ws[k].low not in ARTICLES and prev not in ARTICLES and prev not in PREPOSITIONS and verb_at(ws, k):
            return k
    return -1


def speech_subject(ctx: SpeakerContext, start: int, end: int) -> Speaker | None:
    """The subject of a sentence whose main verb is a speech verb (`Rossi ha risposto alle critiche.`)."""
    ws = words(ctx.masked, start, end)
    i = skip_openers(ws)
    np_end = np_forward(ws, i)
    if np_end == i or not (ws[i].cap or ws[i].low in ARTICLES):
        return None
    k = skip_adverbs(ws, skip_apposition(ws, np_end), 1)
    g = verb_group(ws, k)
    if g == k or ws[g - 1].low.startswith(("chied", "chies", "domand")):
        return None  # "Rossi ha chiesto a Bianchi …": the quotation after it is the answer, not Rossi's
    return ctx.resolve(ws[i].start, ws[np_end - 1].end)


# Verbs that put someone on stage to speak without being verbs of saying: "è intervenuto", "ha
# parlato", "si è rivolto ai cronisti", "ha respinto le accuse". They introduce only a quotation
# that is the whole next sentence.
_ON_STAGE = wordset("""
intervenuto intervenuta intervenuti intervenute interviene intervengono intervenne
parlato parla parlano parlò rivolto rivolta rivolti rivolte rivolge rivolgono rivolse
""")
_REBUTTING = wordset("respinto respinta respinti respinge respingono respinse")
_STAGE_STEMS = ("interv", "parl", "rivol", "respin")
_CRITICISM = wordset("critiche critica accuse accusa obiezioni polemiche attacchi")


def stage_subject(ctx: SpeakerContext, start: int, end: int) -> Speaker | None:
    """The subject of `S è intervenuto …`, `S ha parlato …`, `S si è rivolto a …`, `S ha respinto le
    accuse …`: the speaker of a quotation-only sentence right after it."""
    sentence = ctx.masked[start:end]
    if not any(stem in sentence for stem in _STAGE_STEMS):
        return None  # most sentences: no such verb, no need to read them word by word
    ws = words(ctx.masked, start, end)
    i = skip_openers(ws)
    np_end = np_forward(ws, i)
    if np_end == i or not (ws[i].cap or ws[i].low in ARTICLES):
        return None
    np_end = next((n for n in range(i + 2, np_end) if ws[n].low in _ON_STAGE or ws[n].low in _REBUTTING), np_end)
    k = skip_adverbs(ws, skip_apposition(ws, np_end), 1)
    if k < len(ws) and ws[k].low in AUXILIARIES:
        k = skip_adverbs(ws, k + 1, 1)
    if k >= len(ws) or ws[k].cap:
        return None
    if ws[k].low in _REBUTTING:
        if not any(w.low in _CRITICISM for w in ws[k + 1:k + 4]):
            return None  # "ha respinto la proposta": a decision, not a reply
    elif ws[k].low not in _ON_STAGE:
        return None
    who = ctx.resolve(ws[i].start, ws[np_end - 1].end)
    if who is None or ctx.other_person(ws[k].end, end, who.name):
        return None  # "Rossi ha parlato con Anna Verdi. «…»": either may speak
    return who
