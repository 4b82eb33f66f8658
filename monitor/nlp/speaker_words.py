"""The words of speaker resolution: the patterns that find names, roles and appositions in an
article, the key a role is compared by, and the result (`Speaker`: who, and how it was found)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from monitor.nlp.lexicon import ARTICLES, ROLE_NOUNS, wordset

DEFINITE = re.compile(r"(?:il|lo|la|l['’])\s*[a-zà-ÿ]", re.I)

# Two or more capitalised words after a lower-case word: an untracked full name ("collega Jan Leike").
FULL_NAME = re.compile(
    r"(?<![\w'’])(?P<prev>[a-zà-ÿ]+['’]?)[ \u00a0]+([A-ZÀ-Ý][a-zà-ÿ]+[ \u00a0]+[A-ZÀ-Ý][a-zà-ÿ]+)(?![\w'’-]|[ \u00a0]+[A-ZÀ-Ý])")
PREV_WORD = re.compile(r"([a-zà-ÿ]+)['’]?[ \u00a0]*\Z", re.I)
# Before a name these make it a complement, not a new subject: "il commento di Mira Murati", "alla New
# York University", "a San Francisco". Not "con"/"da"/"per": "un accordo con Satya Nadella" brings a rival in.
NOT_BEFORE_NAME = ARTICLES | wordset("""
d di del dello della dei degli delle dell a ad al allo alla ai agli alle all in nel nello nella nei negli
nelle nell su sul sullo sulla sui sugli sulle sull
""")
# An interview's agent: the outlet (or journalist) who asked, never the one who answers.
INTERVIEWED_BY = re.compile(r"\b(?:intervistat|interpellat|contattat|sentit|raggiunt)[oaie][ \u00a0]+"
                             r"(?:da|dal|dallo|dalla|dai|dagli|dalle|dall['’])[ \u00a0]*\Z", re.I)
# Overlapping ("Marco Neri" gives both); the look-ahead on a capital first makes other positions fail fast.
MIDCAP = re.compile(r"(?=[A-ZÀ-Ý])(?<=[\w,;:)»”][ \u00a0])([A-ZÀ-Ý][\w’'-]*)")
ARTICLE_FIRST = re.compile(r"(?:il|lo|la|l['’]|i|gli|le)\s*[A-Z]", re.I)
# "la startup fondata da Elon Musk": a participle's agent, not the speaker.
AGENT_WORDS = frozenset("da dal dallo dalla dai dagli dalle dall".split())
DI_WORDS = frozenset("di del dello della dei degli delle dell".split())
ROLE_KEY_DROP = re.compile(r"^(?:(?:il|lo|la|i|gli|le|un|uno|una)\b|l['’]|un['’])\s*", re.I)  # not "Ilya"
APPOSITION = re.compile(  # the look-ahead on the first letters skips other positions fast (30 % less time)
    r"(?=[IiLlUu])\b(?:[Ii]l|[Ll]o|[Ll]a|[Ll]['’]|[Uu]n|[Uu]na)\s*"
    r"((?:[a-zà-ÿ]+\s+){0,4}(?:di|del|della|dei|degli|delle|dell['’])\s*[A-Z][\w.]*)"
    r"\s*,\s*([A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)+)")

# Without a comma the organisation is one word and the name exactly two: "la presidente della Regione
# Anna Rossi" (a longer run of capitals is ambiguous: where does the organisation end?).
BARE_APPOSITION = re.compile(
    r"(?=[IiLl])\b(?:[Ii]l|[Ll]o|[Ll]a|[Ll]['’])\s*"
    r"((?:[a-zà-ÿ]+\s+){0,4}(?:di|del|della|dei|degli|delle|dell['’])\s*[A-Z][\w.]*)"
    r"[ \u00a0]+([A-ZÀ-Ý][a-zà-ÿ’'-]+[ \u00a0]+[A-ZÀ-Ý][a-zà-ÿ’'-]+)(?![\w’'-]|[ \u00a0]+[A-ZÀ-Ý])")


# A full name (two or three capitalised words), then the person noun and article before it, read backwards.
CAP_NAME = re.compile(r"[A-ZÀ-Ý][a-zà-ÿ]+(?:[ \u00a0]+[A-ZÀ-Ý][a-zà-ÿ]+){1,2}(?![\w'’-])")
TITLE_BEFORE = re.compile(r"(?<![\w'’])(?:[Ii]l|[Ll]o|[Ll]a|[Ll]['’]|(?:de|a|da|ne|su)(?:l|llo|lla|ll['’]))[ \u00a0]*"
                           r"([a-zà-ÿ]+)[ \u00a0]+\Z")


def full_name(text: str) -> bool:
    """"Satya Nadella": two or more capitalised words and nothing else."""
    parts = text.split()
    return len(parts) >= 2 and all(p[:1].isupper() for p in parts)


def definite_role(np_text: str, head: str) -> bool:
    """'il presidente di Microsoft', 'l’amministratore delegato di X': a role under a definite article."""
    return head in ROLE_NOUNS and bool(re.match(r"(?:il|lo|la|l['’])\s*[a-z]", np_text, re.I))


@lru_cache(maxsize=4096)  # the same noun phrases come back sentence after sentence
def role_key(text: str) -> str:
    """'lo scienziato capo dell’OpenAI' -> 'scienziato capo di openai'."""
    text = ROLE_KEY_DROP.sub("", text.strip()).lower().replace("’", "'")
    text = re.sub(r"\b(?:(?:del|dello|della|dei|degli|delle)\b|dell')\s*", "di ", text)  # not "delegato"
    return " ".join(text.split())


How = tuple[str, str, str, int]  # (rule, noun phrase or cue, person, offset): see `describe`
NO_HOW: How = ("", "", "", 0)


@dataclass(frozen=True)
class Speaker:
    """A resolved speaker (tracked id, name or description) and how it was found, for `why`."""

    name: str
    how: How = NO_HOW

    def describe(self) -> str:
        return describe(self.how)

    @property
    def inherited(self) -> bool:
        return self.how[0] == "inherit"


def describe(how: How) -> str:
    """Human words for how a speaker was found: 'speaker "Musk"', 'role "…" tied to X by apposition at 412'."""
    rule, np_text, person, pos = how
    if rule == "apposition":
        return f'role "{np_text}" tied to {person} by apposition at {pos}'
    if rule == "recent":
        return f'role "{np_text}" taken as {person}, the person just mentioned'
    if rule == "bearer":
        return f'"{np_text}" is {person}, the only other {np_text} named in the article'
    if rule == "anaphor":
        return f'"{np_text}" refers back to the last speaker {person}'
    if rule == "role":
        return f'"{np_text}" fits {person}, the only actor in the article with that role'
    if rule == "spokes":
        return f'"{np_text}" speaks for {person}'
    if rule == "inherit":
        return f'pro-drop "{np_text}" inherits the last speaker {person}'
    return f'speaker "{np_text}"'
