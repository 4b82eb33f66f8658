"""The entry decider: new, backlog, quiet, changed, pruned and repeated entries, on plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.ingest.decide import Backfill, decide_entries
from monitor.models import ANALYZED, BACKLOG, PENDING, Entry, EntryDecision, KnownArticle, KnownArticles

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
LATER_POLL = Backfill(first_poll=False, cutoff=NOW - timedelta(hours=24))
FIRST_POLL = Backfill(first_poll=True, cutoff=NOW - timedelta(hours=24))


def entry(key: str, *, url: str | None = None, published: datetime | None = NOW, digest: str = "h1") -> Entry:
    return Entry(key=key, title="Titolo", text="Testo", url=url, published=published, content_hash=digest)


def stored(id_: int, *, guid: str | None = None, url: str | None = None, fp: str | None = None,
           status: str = ANALYZED, digest: str = "h1") -> KnownArticle:
    return KnownArticle(id_, guid, url, fp, status, digest)


NONE = KnownArticles(rows=(), tombstoned=frozenset())
OLD = NOW - timedelta(days=3)

CASES = [
    # (why, entries, known, backfill, may_mention, expected)
    ("a new entry on a later poll is analysed",
     [entry("guid:a")], NONE, LATER_POLL, None,
     [EntryDecision(0, "insert", status=PENDING)]),
    ("first poll: inside the backfill window it is analysed, older or undated it is backlog",
     [entry("guid:a"), entry("guid:b", published=OLD), entry("guid:c", published=None)], NONE, FIRST_POLL, None,
     [EntryDecision(0, "insert", status=PENDING), EntryDecision(1, "insert", status=BACKLOG),
      EntryDecision(2, "insert", status=BACKLOG)]),
    ("the prefilter rules an entry out: stored as analysed, no NLP",
     [entry("guid:a"), entry("guid:b")], NONE, LATER_POLL, [False, True],
     [EntryDecision(0, "insert", status=ANALYZED), EntryDecision(1, "insert", status=PENDING)]),
    ("backlog stays backlog even when the prefilter rules it out",
     [entry("guid:a", published=OLD)], NONE, FIRST_POLL, [False],
     [EntryDecision(0, "insert", status=BACKLOG)]),
    ("a pruned key never comes back",
     [entry("guid:a")], KnownArticles(rows=(), tombstoned=frozenset({"guid:a"})), LATER_POLL, None,
     [EntryDecision(0, "skip")]),
    ("a pruned URL is enough to skip",
     [entry("guid:new", url="https://e.it/a")], KnownArticles(rows=(), tombstoned=frozenset({"url:https://e.it/a"})),
     LATER_POLL, None, [EntryDecision(0, "skip")]),
    ("an unchanged known entry is only seen again",
     [entry("guid:a")], KnownArticles((stored(7, guid="guid:a"),), frozenset()), LATER_POLL, None,
     [EntryDecision(0, "update", article=7)]),
    ("a known entry whose text changed is analysed again",
     [entry("guid:a", digest="h2")], KnownArticles((stored(7, guid="guid:a"),), frozenset()), LATER_POLL, None,
     [EntryDecision(0, "update", article=7, status=PENDING)]),
    ("a changed backlog entry stays backlog",
     [entry("guid:a", digest="h2")], KnownArticles((stored(7, guid="guid:a", status=BACKLOG),), frozenset()),
     LATER_POLL, None, [EntryDecision(0, "update", article=7, status=BACKLOG)]),
    ("an entry with no content hash is never 'changed'",
     [entry("guid:a", digest="")], KnownArticles((stored(7, guid="guid:a"),), frozenset()), LATER_POLL, None,
     [EntryDecision(0, "update", article=7)]),
    ("a GUID that changes while the URL stays is the same article, and takes the new GUID",
     [entry("guid:b", url="https://e.it/a")],
     KnownArticles((stored(7, guid="guid:a", url="url:https://e.it/a"),), frozenset()), LATER_POLL, None,
     [EntryDecision(0, "update", article=7, set_guid=True)]),
    ("the new GUID is not taken when another article holds it",
     [entry("guid:b", url="https://e.it/a")],
     KnownArticles((stored(7, guid="guid:a", url="url:https://e.it/a"), stored(8, guid="guid:b")), frozenset()),
     LATER_POLL, None, [EntryDecision(0, "update", article=8)]),
    ("an article known by fingerprint takes the entry's URL",
     [entry("fp:x", url="https://e.it/a")], KnownArticles((stored(7, fp="fp:x"),), frozenset()), LATER_POLL, None,
     [EntryDecision(0, "update", article=7, set_url=True)]),
    ("rows sharing a fingerprint: the oldest article is the one",
     [entry("fp:x")], KnownArticles((stored(9, fp="fp:x"), stored(4, fp="fp:x")), frozenset()), LATER_POLL, None,
     [EntryDecision(0, "update", article=4)]),
    ("an entry repeated in one feed is one article, seen twice",
     [entry("guid:a"), entry("guid:a")], NONE, LATER_POLL, None,
     [EntryDecision(0, "insert", status=PENDING), EntryDecision(1, "update", article=-1)]),
    ("a repeat with other text updates the article the batch created",
     [entry("guid:a"), entry("guid:a", digest="h2")], NONE, LATER_POLL, None,
     [EntryDecision(0, "insert", status=PENDING), EntryDecision(1, "update", article=-1, status=PENDING)]),
    ("a repeat sees the status its first copy decided (backlog)",
     [entry("guid:a", published=OLD), entry("guid:a", published=OLD, digest="h2")], NONE, FIRST_POLL, None,
     [EntryDecision(0, "insert", status=BACKLOG), EntryDecision(1, "update", article=-1, status=BACKLOG)]),
    ("an article that took a new GUID earlier in the batch is found by it",
     [entry("guid:b", url="https://e.it/a"), entry("guid:b", digest="h2")],
     KnownArticles((stored(7, guid="guid:a", url="url:https://e.it/a"),), frozenset()), LATER_POLL, None,
     [EntryDecision(0, "update", article=7, set_guid=True), EntryDecision(1, "update", article=7, status=PENDING)]),
]


@pytest.mark.parametrize(("why", "entries", "known", "backfill", "may_mention", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_decide_entries(why: str, entries: list[Entry], known: KnownArticles, backfill: Backfill,
                        may_mention: list[bool] | None, expected: list[EntryDecision]) -> None:
    assert decide_entries(entries, known, backfill, may_mention) == expected, why


def test_the_old_guid_is_free_after_an_article_takes_a_new_one() -> None:
    # Article 7 moves from guid:a to guid:b; a later entry with guid:a is then a new article.
    known = KnownArticles((stored(7, guid="guid:a", url="url:https://e.it/a"),), frozenset())
    decisions = decide_entries([entry("guid:b", url="https://e.it/a"), entry("guid:a")], known, LATER_POLL)
    assert decisions[1] == EntryDecision(1, "insert", status=PENDING)
