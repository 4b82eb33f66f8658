"""Resolve alias occurrences into mentions of tracked actors, one sense per article.

A surname or first name alone is ambiguous: `Musk` may be Kimbal, `Sam` may be Bankman-Fried.
Each short alias is decided by the closest preceding "introduction" of a person who carries that
name (the tracked full name, or another full name); with none before it, by the first one after.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.nlp.aliases import AliasInfo, AliasTable, PersonNames
from monitor.nlp.lexicon import FUNCTION_WORDS
from monitor.nlp.verbs import EVENT_VERBS, SPEECH_VERBS

_NAME = r"[A-ZÀ-Ý][a-zà-ÿA-Z]+(?:-[A-ZÀ-Ý][a-zà-ÿA-Z]+)*"
_PREV_NAME = re.compile(rf"(?<![\w'’])({_NAME})[ \u00a0]$")
_NEXT_NAME = re.compile(rf"^[ \u00a0]({_NAME})(?![\w'’])")
_ELISION = re.compile(r"(?<![\w'’])\w+['’]$")


@dataclass(frozen=True)
class Found:
    entity: str
    start: int
    end: int
    why: str = field(default="", compare=False)  # evidence for the match, for humans


@dataclass(frozen=True)
class _Other:
    """Someone else who shares a tracked first name or surname (Kimbal Musk, Sam Bankman-Fried)."""

    first: str
    last: str
    start: int


def _name_like(word: str, table: AliasTable) -> bool:
    """A capitalised word that can be a given name or surname, not "Secondo" or "CEO"."""
    low = word.lower()
    if word.isupper() or low in FUNCTION_WORDS or low in SPEECH_VERBS or low in EVENT_VERBS:
        return False  # "Secondo Musk", "Scrive Musk": sentence-initial words, not first names
    return not any(word == info.text for info in table.infos)


def _other_person(text: str, info: AliasInfo, start: int, end: int, table: AliasTable,
                  names: PersonNames) -> _Other | None:
    """The other person this first name or surname belongs to, if a name is glued to it."""
    if info.kind == "surname":
        m = _PREV_NAME.search(text, max(0, start - 40), start)
        if m and not misspelt(m.group(1), names.first) and _name_like(m.group(1), table):
            return _Other(m.group(1), info.text, m.start(1))
    elif info.kind == "first":
        m = _NEXT_NAME.match(text[end:end + 40])
        if m and not misspelt(m.group(1), names.last) and _name_like(m.group(1), table):
            return _Other(info.text, m.group(1), start)
    return None


def misspelt(word: str, name: str) -> bool:
    """`word` is `name` or a one-letter slip of it ("Alttman", "Altnan", "Marghertia"): same first
    letter, one letter added, dropped or changed (two for names of eight letters or more)."""
    if word == name:
        return True
    if len(name) < 4 or word[:1] != name[:1] or abs(len(word) - len(name)) > 2:
        return False
    return _distance(word.lower(), name.lower()) <= (2 if len(name) >= 8 else 1)


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (short names only)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _misspelt_full(text: str, info: AliasInfo, start: int, end: int, names: PersonNames) -> int:
    """End of "Sam Altnan" when a tracked first name is followed by a slip of the surname, else 0."""
    if info.kind != "first":
        return 0
    m = _NEXT_NAME.match(text[end:end + 40])
    if m and m.group(1) != names.last and misspelt(m.group(1), names.last):
        return end + m.end(1)
    return 0


def _inside_person(text: str, info: AliasInfo, start: int, end: int, persons: Sequence[tuple[int, int]],
                   names: PersonNames) -> _Other | None:
    """A model's PER span around the alias that is someone else's name."""
    for ps, pe in persons:
        if ps <= start and end <= pe and (ps, pe) != (start, end):
            words = text[ps:pe].split()
            if " ".join(words) == names.full or len(words) < 2:
                return None
            if info.kind == "surname":
                return _Other(words[0], info.text, ps)
            return _Other(info.text, words[-1], ps)
    return None


def _decide(pos: int, events: list[tuple[int, bool]]) -> bool:
    """True when the person introduced closest before `pos` (else first after) is the tracked one."""
    before = [e for e in events if e[0] < pos]
    if before:
        return max(before)[1]
    return min(events)[1] if events else False


def _ambiguous(kind: str) -> bool:
    return kind in ("surname", "first")


def resolve(text: str, table: AliasTable, offset: int = 0,
            persons: Sequence[tuple[int, int]] = ()) -> list[Found]:
    """Mentions of tracked entities in `text` (a whole article), in text order.

    `offset` is where the body starts (after a title): evidence positions are body offsets.
    `persons` are PER spans from a statistical model: a first name or surname inside a longer
    PER span ("Steven J. Musk") belongs to that other person.
    """
    excluded = table.excluded_spans(text)
    others: list[_Other] = []
    for s, e in excluded:
        words = text[s:e].split()
        others.append(_Other(words[0], words[-1], s))
    candidates: list[tuple[AliasInfo, int, int]] = []
    for info, s, e in table.find(text):
        if any(s < xe and xs < e for xs, xe in excluded):
            continue
        if not info.case_sensitive and _acronym_clash(info.text, text[s:e]):
            continue
        names = table.persons.get(info.entity)
        slip_end = _misspelt_full(text, info, s, e, names) if names else 0
        if names and slip_end:
            candidates.append((AliasInfo(info.entity, names.full, "full", True, True), s, slip_end))
            continue  # "Sam Altnan": the tracked person, misspelt
        other = _other_person(text, info, s, e, table, names) if names else None
        if other is None and names and _ambiguous(info.kind):
            other = _inside_person(text, info, s, e, persons, names)
        if other is not None:
            others.append(other)
            continue
        candidates.append((info, s, e))
    found = _keep_unambiguous(text, candidates, others, table, offset)
    return _caps_lines(text, table, found, offset) if _CAPS_HINT.search(text) else found


_CAPS_HINT = re.compile(r"[A-Z]{4}")
_QUOTED = re.compile(r"[«“\"][^»”\"\n]*[»”\"]?")
_LINE = re.compile(r"[^\n]+")


def _caps_lines(text: str, table: AliasTable, found: list[Found], offset: int) -> list[Found]:
    """Add mentions in all-capitals lines (headlines): "ELON MUSK CONTRO OPENAI".

    Case is lost there, so a one-word alias ("MUSK", "XAI" beside explainable AI) counts only when
    the article names the same actor in normal case; a name of two or more words always counts.
    """
    named = {f.entity for f in found}
    extra: list[Found] = []
    for line in _LINE.finditer(text):
        body = line.group()
        bare = _QUOTED.sub(" ", body)  # "IL CAPO DI ACME ANNA VERDI: «Non vendiamo»": the quote keeps its case
        if bare != bare.upper() or sum(c.isalpha() for c in body) < 6:
            continue
        s0, e0 = line.span()
        excluded = ([m.span() for m in table.caps_exclude_regex.finditer(text, s0, e0)]
                    if table.caps_exclude_regex else [])
        for info, s, e in table.find(text, s0, e0, caps=True):
            if any(s < xe and xs < e for xs, xe in excluded + [(f.start, f.end) for f in found]):
                continue
            if len(info.text.split()) > 1 or info.entity in named:
                why = "a full name" if len(info.text.split()) > 1 else "the actor is named elsewhere in normal case"
                extra.append(Found(info.entity, s, e, f'alias "{info.text}" in an all-capitals line ({why})'))
    return sorted(found + extra, key=lambda f: f.start) if extra else found


def _acronym_clash(alias: str, surface: str) -> bool:
    """`XAI` (explainable AI) is not `xAI`: an all-capitals form of a mixed-case alias."""
    return surface.isupper() and not alias.isupper() and len(surface.replace(".", "")) <= 4


def _keep_unambiguous(text: str, candidates: list[tuple[AliasInfo, int, int]], others: list[_Other],
                      table: AliasTable, offset: int) -> list[Found]:
    full = [(s, info.entity) for info, s, _ in candidates if not _ambiguous(info.kind)]
    kept: list[Found] = []
    surname_kept: list[tuple[int, str]] = []
    for info, s, e in candidates:
        names = table.persons.get(info.entity)
        if info.kind == "surname" and names:
            events = [(p, True) for p, ent in full if ent == info.entity]
            events += [(o.start, False) for o in others if o.last == names.last]
            if not any(not t for _, t in events) or _decide(s, events):
                seen = [p for p, t in events if t]
                why = (f"full name seen {_where(min(seen, key=lambda p: abs(p - s)), offset)}" if seen
                       else f"no other {names.last} introduced")
                kept.append(Found(info.entity, s, e, f'{_alias(text, info, s)} (surname of {names.full}; {why})'))
                surname_kept.append((s, info.entity))
        elif info.kind != "first":
            kept.append(Found(info.entity, s, e, _alias(text, info, s)))
    for info, s, e in candidates:
        names = table.persons.get(info.entity)
        if info.kind != "first" or names is None:
            continue
        tracked = [p for p, ent in full + surname_kept if ent == info.entity]
        rivals = _other_events(text, others, names.first)
        if not any(ent == info.entity for _, ent in full):
            # a first name alone needs the full name somewhere in the article, or a relative of the
            # tracked person named ("Kimbal Musk … il fratello Elon") and nobody else with that first name
            if not rivals and any(o.last == names.last for o in others):
                kept.append(Found(info.entity, s, e, f'first name "{info.text}" in an article about the '
                                                     f'{names.last} family, no other {info.text} named'))
            continue
        events = [(p, True) for p in tracked] + rivals
        if _decide(s, events):
            near = min((p for p, ent in full if ent == info.entity), key=lambda p: abs(p - s))
            kept.append(Found(info.entity, s, e, f'first name "{info.text}" with full name "{names.full}" '
                                                 f'{_where(near, offset)}'))
    kept.sort(key=lambda f: f.start)
    return kept


def _alias(text: str, info: AliasInfo, s: int) -> str:
    """'alias "OpenAI"', plus the elided article or preposition glued to it, if any."""
    m = _ELISION.search(text, max(0, s - 12), s)
    found = text[s:s + len(info.text)] if not info.case_sensitive else info.text
    out = f'alias "{info.text}"' + (f' as "{found}"' if found != info.text else "")
    return out + (f' after elision "{m.group(0)}"' if m else "")


def _where(pos: int, offset: int) -> str:
    return "in the title" if pos < offset else f"at {pos - offset}"


def _other_events(text: str, others: list[_Other], first: str) -> list[tuple[int, bool]]:
    """Where another person with this first name is named: full name, then surname alone."""
    events: list[tuple[int, bool]] = []
    for o in others:
        if o.first != first:
            continue
        events.append((o.start, False))
        for m in re.finditer(rf"(?<![\w]){re.escape(o.last)}(?![\w])", text):
            events.append((m.start(), False))
    return events
