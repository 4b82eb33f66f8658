"""Speech and event verbs as surface forms: generated morph-it forms plus hand additions.

The morph-it table misses newer verbs (twittare) and lists some participles under another lemma
(aggiunto), so those are added here by hand.
"""

from __future__ import annotations

from monitor.nlp.lexicon import wordset
from monitor.nlp.verbs_data import EVENT_FORMS, SPEECH_FORMS

_HAND_SPEECH = wordset("""
twittato twittata twitta twittano twittò twittava twittando aggiunto aggiunta aggiunge aggiungono
aggiunse postato postata postava postò scritto detto risposto scherzato chiosato chiosa chiosò
""")

SPEECH_VERBS: frozenset[str] = SPEECH_FORMS | _HAND_SPEECH
EVENT_VERBS: frozenset[str] = EVENT_FORMS | _HAND_SPEECH

# "far sapere", "rendere noto": the second word completes the speech verb.
MULTIWORD_SPEECH = {"fatto": "sapere", "reso": "noto", "fa": "sapere", "fanno": "sapere", "rende": "noto",
                    "rendono": "noto", "faceva": "sapere", "fece": "sapere"}


def is_speech_verb(word: str) -> bool:
    return word.lower() in SPEECH_VERBS


def is_event_verb(word: str) -> bool:
    return word.lower() in EVENT_VERBS
