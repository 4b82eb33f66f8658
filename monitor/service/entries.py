"""A feed's entries into the store: the store looks up and applies, the pure decider decides."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from monitor.ingest.decide import Backfill, decide_entries
from monitor.models import Entry, EntryDecision, KnownArticles
from monitor.store import articles
from monitor.store.db import Connection, Store


def record_feed_entries(store: Store, feed_id: int, entries: Sequence[Entry], *, now: datetime,
                        first_poll: bool, backfill_hours: float,
                        may_mention: Sequence[bool] | None = None,
                        then: Callable[[Connection], None] | None = None) -> articles.Recorded:
    """Record entries and say which articles need (re-)analysis.

    On a feed's first poll only entries published inside the backfill window are analysed; the
    rest are kept as backlog so they never come back as new. A new entry that `may_mention`
    rules out (the alias prefilter found no alias) is stored as analysed with an empty result,
    exactly what its analysis would have written, without the round trip. `then` writes more
    in the same transaction (the poll's success).
    """
    backfill = Backfill(first_poll=first_poll, cutoff=now - timedelta(hours=backfill_hours))

    def decide(known: KnownArticles) -> list[EntryDecision]:
        return decide_entries(entries, known, backfill, may_mention)

    return articles.record_entries(store, feed_id, entries, now=now, decide=decide, then=then)


def upsert_entries(store: Store, feed_id: int, entries: Sequence[Entry], *, now: datetime,
                   first_poll: bool, backfill_hours: float) -> list[int]:
    """Record entries; the ids of the articles that need (re-)analysis, in feed order."""
    return record_feed_entries(store, feed_id, entries, now=now, first_poll=first_poll,
                               backfill_hours=backfill_hours).to_analyse
