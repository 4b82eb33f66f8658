"""Compile tracked-entity aliases into one regular expression, and classify each alias.

Matching is done on characters, not tokens: Italian glues articles and prepositions to names
with an apostrophe (`dell'OpenAI`, `all’xAI`), and the mention must be the name alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from monitor.config.types import EntityConfig

AliasKind = Literal["full", "surname", "first"]

# A name starts after a non-word character (an apostrophe or hyphen is fine: dell'OpenAI,
# Microsoft-OpenAI) and ends before one; "OpenAI.com" or "x.AI" inside "X.AI" do not count.
_BEFORE = r"(?<![\w@/.])"
_AFTER = r"(?![\w@]|\.\w)"


@dataclass(frozen=True)
class AliasInfo:
    entity: str
    text: str
    kind: AliasKind
    case_sensitive: bool
    person: bool


@dataclass(frozen=True)
class PersonNames:
    """The parts of a tracked person's name that the resolution rules need."""

    entity: str
    first: str
    last: str
    excludes: tuple[str, ...]
    full: str = ""


def _alias_regex(text: str) -> str:
    """Words may be separated by any run of spaces; both apostrophes are accepted."""
    parts = [re.escape(p) for p in text.split()]
    body = r"\s+".join(parts)
    return body.replace("'", "['’]").replace("’", "['’]")


def alias_kind(entity: EntityConfig, alias: str) -> AliasKind:
    words = entity.name.split()
    if entity.kind != "person" or len(words) < 2 or len(alias.split()) != 1:
        return "full"
    if alias == words[-1]:
        return "surname"
    if alias == words[0]:
        return "first"
    return "full"


class AliasTable:
    """All aliases of all entities, compiled into one alternation (longest alias first)."""

    def __init__(self, entities: Sequence[EntityConfig]) -> None:
        self.infos: list[AliasInfo] = []
        self.persons: dict[str, PersonNames] = {}
        for ent in entities:
            names = {a.text: a.case_sensitive for a in ent.aliases}
            names.setdefault(ent.name, True)
            for text, cs in names.items():
                kind = alias_kind(ent, text)
                self.infos.append(AliasInfo(ent.id, text, kind, cs, ent.kind == "person"))
            words = ent.name.split()
            if ent.kind == "person" and len(words) >= 2:
                self.persons[ent.id] = PersonNames(ent.id, words[0], words[-1], tuple(ent.exclude), ent.name)
        self.infos.sort(key=lambda a: (-len(a.text), a.text))
        groups = []
        for i, info in enumerate(self.infos):
            pattern = _alias_regex(info.text)
            if not info.case_sensitive:
                pattern = f"(?i:{pattern})"
            groups.append(f"(?P<a{i}>{pattern})")
        # A look-ahead on the possible first letters lets the engine skip most positions cheaply.
        firsts = {c for info in self.infos for t in [info.text[:1]]
                  for c in ((t, t.lower(), t.upper()) if not info.case_sensitive else (t,))}
        head = "(?=[" + "".join(re.escape(c) for c in sorted(firsts)) + "])" if firsts else ""
        self.regex = re.compile(head + _BEFORE + "(?:" + "|".join(groups) + ")" + _AFTER) if groups else None
        # All-capitals lines (headlines) lose the case that tells "xAI" from "XAI": matched apart.
        self.caps_regex = re.compile(_BEFORE + "(?:" + "|".join(groups) + ")" + _AFTER, re.I) if groups else None
        excludes = sorted({x for e in entities for x in e.exclude}, key=len, reverse=True)
        exclude_body = "(?:" + "|".join(_alias_regex(x) for x in excludes) + ")"
        exclude_head = "(?=[" + "".join(sorted({re.escape(x[0]) for x in excludes})) + "])"
        self.exclude_regex = re.compile(exclude_head + _BEFORE + exclude_body + _AFTER) if excludes else None
        self.caps_exclude_regex = re.compile(_BEFORE + exclude_body + _AFTER, re.I) if excludes else None
        self.entity_kind = {e.id: e.kind for e in entities}

    def find(self, text: str, start: int = 0, end: int | None = None,
             caps: bool = False) -> list[tuple[AliasInfo, int, int]]:
        """Every alias occurrence, leftmost-longest, without any context check (any case if `caps`)."""
        regex = self.caps_regex if caps else self.regex
        if regex is None:
            return []
        out = []
        for m in regex.finditer(text, start, len(text) if end is None else end):
            group = m.lastgroup
            assert group is not None
            out.append((self.infos[int(group[1:])], m.start(), m.end()))
        return out

    def excluded_spans(self, text: str) -> list[tuple[int, int]]:
        if self.exclude_regex is None:
            return []
        return [(m.start(), m.end()) for m in self.exclude_regex.finditer(text)]
