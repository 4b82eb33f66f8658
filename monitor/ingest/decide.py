"""Which of a feed's entries are new, backlog, changed or gone for good: a pure decision.

The store looks up the articles that hold any of the batch's identity keys, hands them here as
plain values, and applies what comes back in the same transaction. Nothing here reads a clock or
a database, so every rule is a table-driven test away.

Rules:
- an entry whose key was pruned (a tombstone) is skipped, so old stories never return as new;
- identity is looked up by GUID, then URL, then content fingerprint: a GUID that changes while
  the URL stays is the same article;
- a new entry on a feed's first poll is analysed only when published inside the backfill window,
  otherwise it is kept as backlog; one the alias prefilter rules out is stored as analysed;
- a known entry whose text changed is analysed again (backlog stays backlog); a known article
  without a GUID or URL key takes the entry's when no other article holds it;
- an entry repeated in one batch sees what the earlier copy decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from monitor.models import (
    ANALYZED,
    BACKLOG,
    PENDING,
    Entry,
    EntryDecision,
    KnownArticle,
    KnownArticles,
    entry_keys,
)

KEY_COLUMNS = ("guid_key", "url_key", "fp_key")


@dataclass(frozen=True)
class Backfill:
    """On a feed's first poll, only entries published at or after `cutoff` are analysed."""

    first_poll: bool
    cutoff: datetime

    def fresh(self, entry: Entry) -> bool:
        return not self.first_poll or (entry.published is not None and entry.published >= self.cutoff)


class _View:
    """The articles as the batch has left them so far: stored ones plus the batch's own writes.

    A batch-created article is known by a negative reference, -(index of its entry + 1).
    """

    def __init__(self, known: KnownArticles) -> None:
        self.index: dict[str, dict[str, KnownArticle]] = {c: {} for c in KEY_COLUMNS}
        # Several stored rows may share a fingerprint: the lowest id wins, as in the store.
        for row in sorted(known.rows, key=lambda r: r.id):
            self._add(row)

    def _add(self, row: KnownArticle) -> None:
        for column in KEY_COLUMNS:
            key = getattr(row, column)
            if key is not None:
                self.index[column].setdefault(key, row)

    def find(self, keys: tuple[str | None, ...]) -> KnownArticle | None:
        for column, key in zip(KEY_COLUMNS, keys, strict=True):
            if key and key in self.index[column]:
                return self.index[column][key]
        return None

    def taken(self, column: str, key: str) -> bool:
        return key in self.index[column]

    def put(self, old: KnownArticle | None, new: KnownArticle) -> None:
        if old is not None:
            for column in KEY_COLUMNS:
                key = getattr(old, column)
                if key is not None and self.index[column].get(key) is old:
                    del self.index[column][key]
        # A changed article keeps its place in front of rows sharing its fingerprint.
        for column in KEY_COLUMNS:
            key = getattr(new, column)
            if key is not None and (key not in self.index[column] or self.index[column][key].id == new.id):
                self.index[column][key] = new


def decide_entries(entries: Sequence[Entry], known: KnownArticles, backfill: Backfill,
                   may_mention: Sequence[bool] | None = None) -> list[EntryDecision]:
    """One decision per entry, in feed order (see the module docstring for the rules)."""
    view = _View(known)
    decisions: list[EntryDecision] = []
    for n, entry in enumerate(entries):
        keys = entry_keys(entry)
        if any(k in known.tombstoned for k in keys if k):
            decisions.append(EntryDecision(entry=n, action="skip"))
            continue
        row = view.find(keys)
        decision, after = _new(n, entry, keys, backfill, may_mention) if row is None else _known(
            n, entry, keys, row, view)
        view.put(row, after)
        decisions.append(decision)
    return decisions


def _new(n: int, entry: Entry, keys: tuple[str | None, str | None, str | None], backfill: Backfill,
         may_mention: Sequence[bool] | None) -> tuple[EntryDecision, KnownArticle]:
    fresh = backfill.fresh(entry)
    silent = fresh and may_mention is not None and not may_mention[n]
    status = ANALYZED if silent else PENDING if fresh else BACKLOG
    guid_key, url_key, fp_key = keys
    created = KnownArticle(-(n + 1), guid_key, url_key, fp_key, status=status, content_hash=entry.content_hash)
    return EntryDecision(entry=n, action="insert", status=status), created


def _known(n: int, entry: Entry, keys: tuple[str | None, str | None, str | None], row: KnownArticle,
           view: _View) -> tuple[EntryDecision, KnownArticle]:
    guid_key, url_key, _ = keys
    set_guid = bool(guid_key and row.guid_key != guid_key and not view.taken("guid_key", guid_key))
    set_url = bool(url_key and row.url_key is None and not view.taken("url_key", url_key))
    after = replace(row, guid_key=guid_key if set_guid else row.guid_key,
                    url_key=url_key if set_url else row.url_key)
    status = None
    if entry.content_hash and entry.content_hash != row.content_hash:
        status = BACKLOG if row.status == BACKLOG else PENDING
        after = replace(after, status=status, content_hash=entry.content_hash)
    return EntryDecision(entry=n, action="update", article=row.id, status=status,
                         set_guid=set_guid, set_url=set_url), after
