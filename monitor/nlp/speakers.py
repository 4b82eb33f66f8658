"""Turn a speaker noun phrase into a speaker: a tracked id, or the name/description as written.

Resolution order: a tracked name (`Musk`), a spokesperson or statement of a tracked company
(`un portavoce di OpenAI`), a role tied to a person by an earlier apposition (`lo scienziato capo
di OpenAI, Ilya Sutskever`), a bare definite role (`il manager`) meaning the person the text was
just talking about, else the words as written. `l'avvocato di Musk` is not Musk.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cached_property

from monitor.nlp.actors import Found
from monitor.nlp.depparse import Parse
from monitor.nlp.grammar import Word, is_platform, words
from monitor.nlp.lexicon import (
    ANAPHOR_ORG,
    ANAPHOR_PERSON,
    ARTICLES,
    FUNCTION_WORDS,
    FURNITURE,
    PERSON_NOUNS,
    PREPOSITIONS,
    ROLE_NOUNS,
    SPEECH_NOUNS,
    SPOKES_NOUNS,
)
from monitor.nlp.speaker_words import (
    AGENT_WORDS,
    APPOSITION,
    ARTICLE_FIRST,
    BARE_APPOSITION,
    CAP_NAME,
    DEFINITE,
    DI_WORDS,
    FULL_NAME,
    INTERVIEWED_BY,
    MIDCAP,
    NOT_BEFORE_NAME,
    PREV_WORD,
    ROLE_KEY_DROP,
    TITLE_BEFORE,
    Speaker,
    definite_role,
    full_name,
    role_key,
)


@dataclass
class SpeakerContext:
    """What an article has established so far: mentions, appositions, the last speaker."""

    text: str
    mentions: list[Found]
    kinds: dict[str, str]
    appositions: dict[str, str] = field(default_factory=dict)
    roles_of: dict[str, set[str]] = field(default_factory=dict)  # person -> role keys seen with them
    last_speaker: str | None = None
    last_speaker_at: int = 0  # where the last speaker was noted: names after it compete with them
    last_person: tuple[str, int] | None = None  # (person, offset) the text last talked about
    masked: str = ""  # the text with quotations blanked (same offsets); set by extract_claims
    short_names: frozenset[str] = frozenset()  # tracked first names and surnames (ambiguous alone)
    person_ents: list[tuple[int, int]] = field(default_factory=list)  # PER spans from a spaCy model
    parse: Parse | None = None  # dependency evidence, when the model has a parser (see depparse)
    actor_roles: dict[str, frozenset[str]] = field(default_factory=dict)  # from the entities file
    apposition_at: dict[str, tuple[str, int]] = field(default_factory=dict)  # role key -> (name, offset)
    _hits: dict[re.Pattern[str], tuple[list[int], list[re.Match[str]]]] = field(default_factory=dict)
    _titles_learned: bool = False
    _surname_at: dict[str, int] = field(default_factory=dict)  # where a full name ending in a word first ends

    def note(self, speaker: str | None, pos: int) -> None:
        """Remember who the text is talking about, for pro-drop verbs and role anaphora."""
        if not speaker:
            return
        self.last_speaker = speaker
        self.last_speaker_at = pos
        if self.kinds.get(speaker) == "person" or full_name(speaker) or self._named_surname(speaker, pos):
            self.last_person = (speaker, pos)

    def _named_surname(self, word: str, pos: int) -> bool:
        """"Rossi" after "Mario Rossi" was written: an untracked surname is a person (not "Apple")."""
        if word in self.kinds or " " in word or not word[:1].isupper():
            return False
        at = self._surname_at.get(word)
        if at is None:
            at = self._surname_at[word] = next(
                (m.end() for m in re.finditer(rf"\b([A-ZÀ-Ý][a-zà-ÿ]+)[ \u00a0]+{re.escape(word)}\b", self.text)
                 if m.group(1).lower() not in FUNCTION_WORDS), len(self.text) + 1)
        return at <= pos

    def first_match(self, regex: re.Pattern[str], start: int, end: int, needs: str = "") -> re.Match[str] | None:
        """The first match of `regex` in masked[start:end]: the whole text is searched once per regex.

        `needs`: a string every match contains; a text without it is not searched at all.
        """
        hits = self._hits.get(regex)
        if hits is None:
            found = list(regex.finditer(self.masked)) if needs in self.masked else []
            hits = self._hits[regex] = ([m.start() for m in found], found)
        i = bisect_left(hits[0], start)
        return hits[1][i] if i < len(hits[1]) and hits[1][i].end() <= end else None

    @cached_property
    def midcaps(self) -> set[str]:
        """Capitalised words seen inside a sentence (after a lower-case word, a comma or another
        capitalised word): names. "Buona" or "Inevitabile" capitalised only at a sentence start are not."""
        return set(MIDCAP.findall(self.text))

    def learn_appositions(self) -> None:
        """Roles tied to a name: `il CEO di OpenAI, Sam Altman` and `la presidente della Regione Anna
        Rossi`. A role tied to two different people in one article is tied to none (precision first)."""
        clashes: set[str] = set()
        matches = sorted([*APPOSITION.finditer(self.text), *BARE_APPOSITION.finditer(self.text)],
                         key=lambda m: m.start())
        for m in matches:
            name_start, name_end = m.span(2)
            tracked = [f.entity for f in self.mentions if name_start <= f.start < name_end]
            person = tracked[0] if tracked else m.group(2)
            key = role_key(m.group(1))
            if key in clashes or self.appositions.get(key, person) != person:
                clashes.add(key)
                self.appositions.pop(key, None)
                continue
            self.appositions[key] = person
            self.apposition_at.setdefault(key, (m.group(2), m.start()))
            self.roles_of.setdefault(person, set()).add(key)

    def _learn_titles(self) -> None:
        """`la giudice Anna Verdi`, `l'allenatore Marco Neri`: a person noun right before a full name makes
        a later bare `la giudice` that person (not a role: `roles_of` is left alone). Read once, the first
        time a bare person noun needs resolving (most articles never do)."""
        self._titles_learned = True
        clashes: set[str] = set()
        for m in CAP_NAME.finditer(self.text):
            name_start, name_end = m.span()
            if name_start < 2 or not self.text[name_start - 2].isalpha() or not self.text[name_start - 2].islower():
                continue  # "… la giudice Anna Verdi": a lower-case noun right before the name
            title = TITLE_BEFORE.search(self.text, max(0, name_start - 40), name_start)
            if title is None:
                continue
            noun = title.group(1).lower()
            if noun not in ANAPHOR_PERSON or noun in ("stesso", "stessa"):
                continue
            tracked = [f.entity for f in self.mentions if name_start <= f.start < name_end]
            person = tracked[0] if tracked else m.group()
            if noun in clashes or self.appositions.get(noun, person) != person:
                clashes.add(noun)
                self.appositions.pop(noun, None)
                continue
            self.appositions[noun] = person
            self.apposition_at.setdefault(noun, (m.group(), title.start()))

    def _anaphor(self, np_text: str, head: str, n_words: int, pos: int) -> Speaker | None:
        """`la studentessa`, `lo stesso`, `l'azienda` after a quote: the last speaker, when it is of the
        right kind (a person for a person noun, a tracked organisation for a company noun), was noted
        within a few sentences, and nobody else who could speak was named since (precision first)."""
        speaker = self.last_speaker
        if not speaker or n_words > 4 or pos - self.last_speaker_at > 900 or not DEFINITE.match(np_text):
            return None
        if head in ANAPHOR_PERSON:
            fits = (self.kinds.get(speaker) == "person" or full_name(speaker)
                    or speaker not in self.kinds and speaker in self.midcaps)  # "Claudia", named mid-sentence
        elif head in ANAPHOR_ORG:
            orgs = {f.entity for f in self.mentions if self.kinds.get(f.entity) == "organization"}
            fits = orgs == {speaker}  # the only tracked organisation in the article
        else:
            return None
        if not fits or self.other_person(self.last_speaker_at, pos, speaker):
            return None
        return Speaker(speaker, ("anaphor", np_text, speaker, 0))

    def _other_bearer(self, surname: str, pos: int) -> str | None:
        """The one untracked full name ending in `surname` written before `pos` ("Kimbal Musk")."""
        names = {m.group(0) for m in re.finditer(rf"\b[A-ZÀ-Ý][a-zà-ÿ]+[ \u00a0]+{re.escape(surname)}\b", self.text[:pos])
                 if not any(f.start <= m.start() < f.end for f in self.mentions)}
        names = {n for n in names if n.split()[0].lower() not in FUNCTION_WORDS}
        if any(f.start < pos and self.text[f.start:f.end].endswith(surname) for f in self.mentions):
            return None  # the tracked bearer was named too: the bare surname stays ambiguous
        return names.pop() if len(names) == 1 else None

    def _actors_by_role(self, key: str) -> list[str]:
        """The tracked actors named in this article whose entities-file roles or descriptions fit
        `key` ("patron di tesla e spacex" fits "patron di tesla"). Only one is evidence."""
        if " " not in key or not self.actor_roles:
            return []  # a bare noun ("ceo", "società") fits too many
        parts = key.split()
        prefixes = {" ".join(parts[:n]) for n in range(2, len(parts) + 1)}
        return [actor for actor, keys in self.actor_roles.items() if actor in self.present and keys & prefixes]

    def _own_company(self, key: str, pos: int) -> str:
        """"ceo di società" -> "ceo di openai" when the article names exactly one tracked organisation
        and no other name was written just before: "l'amministratore delegato della società" is that
        company's."""
        head, _, org = key.rpartition(" di ")
        if not head or org not in ANAPHOR_ORG:
            return key
        orgs = {f.entity for f in self.mentions if self.kinds.get(f.entity) == "organization"}
        if len(orgs) != 1:
            return key
        for m in MIDCAP.finditer(self.masked, max(0, pos - 300), pos):
            if not any(f.start <= m.start() < f.end for f in self.mentions) and not self._after_preposition(m.start()):
                return key  # "Acme e Beta trattano. Il fondatore della società": which one?
        org_id = orgs.pop()
        names = {role_key(self.text[f.start:f.end]) for f in self.mentions if f.entity == org_id}
        return f"{head} di {names.pop()}" if len(names) == 1 else key

    @cached_property
    def mention_starts(self) -> list[int]:
        return [f.start for f in self.mentions]  # mentions come sorted by start

    @cached_property
    def present(self) -> frozenset[str]:
        """The tracked actors named in the article."""
        return frozenset(f.entity for f in self.mentions)

    def _fits_role(self, person: str, key: str, pos: int) -> bool:
        """Can `person` be "il <key>" ("ceo di microsoft")? Not if tied to another role; an untracked
        person only if the organisation was named before (the story is about it)."""
        roles = self.roles_of.get(person)
        if roles and key not in roles:
            return False
        if person in self.kinds:
            return True
        org = key.split(" di ")[-1]
        if org in self.text[:pos].lower().replace("’", "'"):
            return True
        # "Anna Verdi incontra i sindaci. «…», assicura la presidente della Regione": the only
        # person the article has named so far, unless the entities file knows who holds roles there
        return org not in self.known_orgs and not self.other_person(0, pos, person)

    @cached_property
    def known_orgs(self) -> frozenset[str]:
        """Organisations the entities file gives roles in ("openai" from "ceo di openai")."""
        return frozenset(key.rpartition(" di ")[2] for keys in self.actor_roles.values() for key in keys)

    def recent_person(self, pos: int, window: int = 700) -> str | None:
        """The person the text talked about last before `pos`, if recent enough."""
        if self.last_person is not None and self.last_person[1] < pos:
            return self.last_person[0] if pos - self.last_person[1] <= window else None
        for f in reversed(self.mentions):
            if f.start < pos and self.kinds.get(f.entity) == "person":
                return f.entity if pos - f.start <= window else None
        return None

    def _trailing_name(self, start: int, end: int, ws: list[Word], inside: list[Found]) -> str | None:
        """The person a role phrase ends with: "l'amministratore delegato di Microsoft Satya Nadella"."""
        np_end = start + len(self.text[start:end].rstrip(" ,"))
        for s, e in self.person_ents:
            if start < s and e == np_end:
                return next((f.entity for f in inside if f.start >= s and self.kinds.get(f.entity) == "person"),
                            self.text[s:e])
        for f in inside:
            if f.end == np_end and f.start > start and self.kinds.get(f.entity) == "person":
                before = self.text[start:f.start].split()
                if before and before[-1].lower().rstrip("'’") not in DI_WORDS | AGENT_WORDS:
                    return f.entity  # "il fondatore di xAI Elon Musk"; not "l'avvocato di Musk"
        run = 0
        while run < len(ws) and ws[len(ws) - 1 - run].cap:
            run += 1
        if run >= 3 and len(ws) > run and not ws[0].cap and ws[len(ws) - run - 1].low in DI_WORDS:
            name = self.text[start + ws[-2].start:np_end]  # the last two capitalised words
            self.roles_of.setdefault(name, set()).add(role_key(self.text[start:start + ws[-2].start]))
            return name
        return None

    def inherit(self, cue: str, pos: int | None = None) -> Speaker | None:
        """The last speaker, for a pro-drop verb (`cue`, at `pos`) with no subject of its own.

        None when another person was named between the last speaker and `pos`: the pro-drop verb
        may be theirs (precision first).
        """
        speaker = self.last_speaker
        if not speaker or pos is not None and self.other_person(self.last_speaker_at, pos, speaker):
            return None
        return Speaker(speaker, ("inherit", cue, speaker, 0))

    def other_person(self, start: int, end: int, speaker: str | None) -> bool:
        """Is a person other than `speaker` named as a possible subject in masked[start:end]?

        Tracked people, PER spans and untracked two-word names ("collega Jan Leike"); not after a
        preposition ("il corteggiamento di Ilya Sutskever", "alla New York University"): a complement.
        """
        for f in self.mentions:
            if (start <= f.start < end and f.entity != speaker and self.kinds.get(f.entity) == "person"
                    and not self.masked[f.start].isspace() and not self._after_preposition(f.start)):
                return True  # a name inside a quotation is blanked in `masked`: it does not count
        said = speaker or ""
        for s, e in self.person_ents:
            if (start <= s < end and self.text[s:e] not in said and not self._after_preposition(s)
                    and not self._interviewer(s)):
                return True
        for m in FULL_NAME.finditer(self.masked, start, end):
            name = m.group(2)
            if name in said or said in name or m.group("prev").lower().rstrip("'’") in NOT_BEFORE_NAME:
                continue
            if self._interviewer(m.start(2)):
                continue  # untracked names only: a tracked person after "intervistato da" still competes
            if any(f.start < m.end(2) and m.start(2) < f.end for f in self.mentions):
                continue  # a tracked actor: counted above when it is a person
            return True
        return False

    def _after_preposition(self, pos: int) -> bool:
        m = PREV_WORD.search(self.masked, max(0, pos - 20), pos)
        return m is not None and m.group(1).lower() in NOT_BEFORE_NAME

    def _interviewer(self, pos: int) -> bool:
        """"intervistato da Le Monde", "contattata dal Financial Times": an outlet, not a rival speaker."""
        return INTERVIEWED_BY.search(self.masked, max(0, pos - 40), pos) is not None

    def resolve(self, start: int, end: int) -> Speaker | None:
        """The speaker the noun phrase text[start:end] names, with how it was found, or None."""
        np_text = self.text[start:end].strip(" ,")
        if not np_text or is_platform(np_text) or np_text.lower() in FURNITURE:
            return None
        found = self._resolve(start, end, np_text)
        if found is None:
            return None
        return found if isinstance(found, Speaker) else Speaker(found, ("", np_text, "", 0))

    def _resolve(self, start: int, end: int, np_text: str) -> Speaker | str | None:
        i = bisect_left(self.mention_starts, start)
        inside = [f for f in self.mentions[i:bisect_left(self.mention_starts, end)] if f.end <= end]
        bare = ROLE_KEY_DROP.sub("", np_text)
        for f in inside:
            if self.text[f.start:f.end] == bare:
                return f.entity
        ws = [w for w in words(np_text) if w.low not in ARTICLES]
        if len(ws) == 1 and ws[0].text in self.short_names and not inside:
            # a bare tracked surname that names someone else here: the relative named in full before
            # ("Kimbal Musk … ha detto Musk"), else ambiguous
            other = self._other_bearer(ws[0].text, start)
            return Speaker(other, ("bearer", np_text, other, 0)) if other else None
        named = self._trailing_name(start, end, ws, inside)
        if named:
            return named
        head = ws[0].low if ws else ""
        if head in SPEECH_NOUNS and len(ws) > 2 and ws[1].low in DI_WORDS:
            # "la replica di Anna Verdi, ministra della Salute": the owner of the words speaks
            lead = len(self.text[start:end]) - len(self.text[start:end].lstrip(" ,"))
            return self.resolve(start + lead + ws[2].start, end)
        orgs = [f for f in inside if self.kinds.get(f.entity) == "organization"]
        if orgs and head in SPOKES_NOUNS:
            return Speaker(orgs[-1].entity, ("spokes", np_text, orgs[-1].entity, 0))
        key = role_key(np_text)
        if not self._titles_learned and key in ANAPHOR_PERSON:
            self._learn_titles()
        if key in self.appositions:
            name, pos = self.apposition_at[key]
            return Speaker(self.appositions[key], ("apposition", np_text, name, pos))
        fits = self._actors_by_role(self._own_company(key, start))
        if len(fits) == 1:
            return Speaker(fits[0], ("role", np_text, fits[0], 0))
        if fits:
            return None  # "il cofondatore di OpenAI" with two cofounders in the article: no speaker
        if (definite_role(np_text, head) and len(f" {key}".split(" di ")[-1].split()) == 1
                and not any(self.kinds.get(f.entity) == "person" for f in inside)):
            # "«…», ha detto l'amministratore delegato di Microsoft" right after "Satya Nadella ha …"
            person = self.recent_person(start, window=400)
            if person and self._fits_role(person, key, start):
                return Speaker(person, ("recent", np_text, person, 0))
            # "il CEO di Acme" is a description worth keeping; "il CEO", "il ceo del gruppo" name no one
            return np_text if any(w.cap for w in ws[1:]) else None
        if not any(w.cap for w in ws):
            if head in ROLE_NOUNS and len(ws) <= 3 and not inside:
                person = self.recent_person(start)
                return Speaker(person, ("recent", np_text, person, 0)) if person else None
            anaphor = self._anaphor(np_text, head, len(ws), start)
            if anaphor is not None:
                return anaphor
            return np_text if head in PERSON_NOUNS | SPOKES_NOUNS and len(ws) >= 2 else None
        names = [w for w in ws if w.cap]
        if (ws[0].cap and len(ws) == 1 and not inside and ws[0].text not in self.midcaps
                and not ARTICLE_FIRST.match(np_text)):  # "L'Antitrust": an article makes it a name
            return None  # a capitalised word only at a sentence start is not evidence of a name
        if (ws and not ws[0].cap and names and names[0] is ws[-len(names)] and "di" not in key.split()
                and not any(w.low in PREPOSITIONS for w in ws[:-len(names)])):
            return np_text[names[0].start:]  # "il dottorando Marco Ferri" -> "Marco Ferri"
        return np_text
