"""Who a sentence is about: the subject of its main verb, or the owner of a speech noun.

Pro-drop verbs (`«…», ha detto`) take the person the text was last talking about, which is not
always the last speaker: `È arrivato il commento di Mira Murati. «…», ha detto` is Murati's, and
`Musk ha poi approfittato … . “…”, ha detto` is Musk's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.nlp.grammar import Word, np_forward, skip_adverbs, words
from monitor.nlp.lexicon import AUXILIARIES, PREPOSITIONS
from monitor.nlp.speakers import Speaker, SpeakerContext
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
    i = 0
    while i < len(ws) and ws[i].low in ("e", "ed", "ma", "intanto", "poi", "anche", "invece"):
        i += 1
    if i >= len(ws) or ws[i].low in PREPOSITIONS:
        return None, -1
    np_end = np_forward(ws, i)
    if np_end == i or not verb_at(ws, skip_apposition(ws, np_end)):
        return None, -1
    return ctx.resolve(ws[i].start, ws[np_end - 1].end), ws[i].start
