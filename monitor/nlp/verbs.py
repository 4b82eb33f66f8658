"""Speech and event verbs as surface forms: generated morph-it forms plus hand additions.

The generated forms live in `data/speech_forms.txt` and `data/event_forms.txt` (one form a line,
`#` comments), written by `tools/gen_verbs.py` and read once at import. The morph-it table misses
newer verbs (twittare) and lists some participles under another lemma (aggiunto), so those are
added here by hand.
"""

from __future__ import annotations

from importlib import resources

from monitor.nlp.lexicon import wordset


def load_forms(name: str) -> frozenset[str]:
    """The forms listed in the package data file `name` (blank lines and `#` comments skipped)."""
    text = (resources.files("monitor.nlp") / "data" / name).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


SPEECH_FORMS = load_forms("speech_forms.txt")
EVENT_FORMS = load_forms("event_forms.txt")

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
