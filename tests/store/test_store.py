"""The SQLite store on real files: identity, backfill, updates, tombstones, outbox atomicity."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from monitor.config.types import FeedConfig
from monitor.errors import StateError
from monitor.ingest.politeness import clock_went_back_after
from monitor.models import Analysis, Claim, Entry, Mention, OutgoingMessage
from monitor.service.entries import record_feed_entries, upsert_entries
from monitor.store import articles, feeds, outbox
from monitor.store.db import Store
from monitor.store.schema import MIGRATIONS

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The same tests on both backends: a SQLite file, and a fresh PostgreSQL database."""
    target = request.getfixturevalue("pg_url") if request.param == "postgresql" else tmp_path / "state" / "monitor.sqlite3"
    s = Store(target)
    feeds.sync_feeds(s, [FeedConfig("https://a.example/feed", "A"), FeedConfig("https://b.example/feed", "B")])
    return s


def entry(key: str, url: str | None = None, title: str = "Titolo", text: str = "Testo",
          published: datetime | None = NOW, digest: str = "h1") -> Entry:
    return Entry(key=key, title=title, text=text, url=url, published=published, content_hash=digest)


def ids(store: Store) -> dict[str, int]:
    return {f.name: f.id for f in feeds.active_feeds(store)}


def test_schema_is_versioned_and_wal(store: Store) -> None:
    assert store.schema_version() == len(MIGRATIONS)
    if store.backend == "sqlite":
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_keeps_feed_state(store: Store, tmp_path: Path) -> None:
    fid = ids(store)["A"]
    feeds.record_success(store, fid, now=NOW, next_check=NOW + timedelta(minutes=15),
                         etag='W/"abc"', last_modified="Wed, 25 Nov 2026 08:00:00 GMT", new_url=None)
    store.close()
    again = Store(store.url)
    state = next(f for f in feeds.active_feeds(again) if f.id == fid)
    assert state.etag == 'W/"abc"' and state.last_modified == "Wed, 25 Nov 2026 08:00:00 GMT"
    assert state.next_check == NOW + timedelta(minutes=15)
    assert feeds.due_feeds(again, NOW, horizon=clock_went_back_after(NOW)) and all(f.id != fid for f in feeds.due_feeds(again, NOW, horizon=clock_went_back_after(NOW)))


def test_first_poll_backfills_only_recent_entries(store: Store) -> None:
    old = entry("guid:old", published=NOW - timedelta(days=3))
    new = entry("guid:new", published=NOW - timedelta(hours=2))
    undated = entry("guid:undated", published=None)
    todo = upsert_entries(store, ids(store)["A"], [old, new, undated], now=NOW,
                                   first_poll=True, backfill_hours=24)
    assert len(todo) == 1
    assert articles.article_text(store, todo[0])[0] == "Titolo"
    # The old ones are recorded: a later poll does not bring them back as new.
    assert upsert_entries(store, ids(store)["A"], [old, undated], now=NOW, first_poll=False,
                                   backfill_hours=24) == []


def test_changed_guid_with_same_url_is_the_same_article(store: Store) -> None:
    fid = ids(store)["A"]
    first = upsert_entries(store, fid, [entry("guid:1", url="https://a.example/x")], now=NOW,
                                    first_poll=False, backfill_hours=24)
    again = upsert_entries(store, fid, [entry("guid:2", url="https://a.example/x")], now=NOW,
                                    first_poll=False, backfill_hours=24)
    assert len(first) == 1 and again == []
    assert store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 1


def test_same_article_in_two_feeds_is_stored_once_with_both_sources(store: Store) -> None:
    e = entry("url:https://news.example/x", url="https://news.example/x")
    upsert_entries(store, ids(store)["A"], [e], now=NOW, first_poll=False, backfill_hours=24)
    upsert_entries(store, ids(store)["B"], [e], now=NOW, first_poll=False, backfill_hours=24)
    (article_id,) = [r[0] for r in store.db.execute("SELECT id FROM articles")]
    assert articles.load_story(store, article_id).outlets == ("A", "B")


def test_updated_text_is_analysed_again_and_only_new_actors_count(store: Store) -> None:
    fid = ids(store)["A"]
    (aid,) = upsert_entries(store, fid, [entry("guid:u")], now=NOW, first_poll=False,
                                     backfill_hours=24)
    musk = Mention("elon_musk", "Musk", 0, 4)
    assert articles.save_analysis(store, aid, Analysis(("elon_musk",), (musk,), ())) == {"elon_musk"}
    assert upsert_entries(store, fid, [entry("guid:u")], now=NOW, first_poll=False,
                                   backfill_hours=24) == []
    assert upsert_entries(store, fid, [entry("guid:u", digest="h2", text="Testo nuovo")], now=NOW,
                                   first_poll=False, backfill_hours=24) == [aid]
    both = Analysis(("elon_musk", "openai"), (musk, Mention("openai", "OpenAI", 5, 11)), ())
    assert articles.save_analysis(store, aid, both) == {"openai"}


def quote(text: str, speaker: str = "sam_altman") -> Claim:
    return Claim("quote", speaker, text, 0, len(text), text, 1.0)


def test_a_quote_another_article_carries_is_handed_to_rerank_with_the_save(store: Store) -> None:
    fid = ids(store)["A"]
    first, second = upsert_entries(store, fid, [entry("guid:r1"), entry("guid:r2")], now=NOW, first_poll=False,
                                   backfill_hours=24)
    old, new = quote("Il Futuro è aperto"), quote("Apriremo a Milano")
    articles.save_analyses(store, [(first, Analysis(("sam_altman",), (), (old,), {}, (old,)))])
    asked: list[set[str]] = []

    def rerank(analysis: Analysis, seen: set[str]) -> Analysis:
        asked.append(seen)
        return replace(analysis, key_claims=tuple(c for c in analysis.claims if c.text.casefold() not in seen))

    # Saved again as well: its own copy of the quote does not count as published elsewhere.
    articles.save_analyses(store, [(first, Analysis(("sam_altman",), (), (old,), {}, (old,))),
                                   (second, Analysis(("sam_altman",), (), (old, new), {}, (old, new)))],
                           rerank=rerank)
    assert asked == [{"il futuro è aperto"}]
    assert [c.text for c in articles.load_story(store, second).key_claims] == ["Apriremo a Milano"]
    assert [c.text for c in articles.load_story(store, first).key_claims] == ["Il Futuro è aperto"]


def test_a_feeds_success_is_written_with_its_entries_or_not_at_all(store: Store) -> None:
    fid = ids(store)["A"]
    success = feeds.PollSuccess(fid, NOW, NOW + timedelta(minutes=15), '"v2"', None)

    def broken(db: object) -> None:
        success.write_in(db)  # type: ignore[arg-type]
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        record_feed_entries(store, fid, [entry("guid:t")], now=NOW, first_poll=False, backfill_hours=24, then=broken)
    assert store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0
    assert next(f for f in feeds.active_feeds(store) if f.id == fid).etag is None
    recorded = record_feed_entries(store, fid, [entry("guid:t", title="T", text="Corpo")], now=NOW,
                                   first_poll=False, backfill_hours=24, then=success.write_in)
    assert recorded.texts == {recorded.to_analyse[0]: ("T", "Corpo")}
    assert next(f for f in feeds.active_feeds(store) if f.id == fid).etag == '"v2"'


def test_pruned_articles_never_return(store: Store) -> None:
    fid = ids(store)["A"]
    e = entry("guid:p", url="https://a.example/p")
    upsert_entries(store, fid, [e], now=NOW, first_poll=False, backfill_hours=24)
    assert articles.prune(store, now=NOW, older_than=NOW + timedelta(seconds=1)) == 1
    assert upsert_entries(store, fid, [e], now=NOW, first_poll=False, backfill_hours=24) == []


def message(mid: str = "<1@x>") -> OutgoingMessage:
    return OutgoingMessage(message_id=mid, sender="m@x", recipients=("a@x",), raw=b"raw bytes\r\n",
                           subject="s")


def test_outbox_row_and_marks_commit_together(store: Store) -> None:
    fid = ids(store)["A"]
    (aid,) = upsert_entries(store, fid, [entry("guid:o")], now=NOW, first_poll=False,
                                     backfill_hours=24)
    articles.save_analysis(store, aid, Analysis(("openai",), (), (), {"openai": 3.0}))
    assert [s.id for s in articles.stories_for_digest(store, "d", (), 1.0, NOW - timedelta(days=1))] == [aid]
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation)):  # the same Message-ID twice: nothing written
        outbox.enqueue(store, message(), kind="digest", digest="d", article_ids=[aid], now=NOW)
        outbox.enqueue(store, message(), kind="digest", digest="other", article_ids=[aid], now=NOW)
    assert articles.stories_for_digest(store, "d", (), 1.0, NOW - timedelta(days=1)) == []
    assert [s.id for s in articles.stories_for_digest(store, "other", (), 1.0, NOW - timedelta(days=1))] == [aid]
    (row,) = outbox.due_messages(store, NOW)
    assert row.raw == b"raw bytes\r\n" and row.message_id == "<1@x>"
    outbox.mark_sent(store, row.id, NOW, {})
    assert outbox.due_messages(store, NOW) == []


def test_corrupt_database_says_how_to_recover(tmp_path: Path) -> None:
    path = tmp_path / "monitor.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="mv .*monitor.sqlite3.broken"):
        Store(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_state_directory_is_a_clear_error(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(StateError, match="writable"):
        Store(ro / "monitor.sqlite3")


def test_old_database_is_migrated_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0] + ";\nPRAGMA user_version = 1;")
    db.execute("INSERT INTO feeds (config_url, url, name, etag) VALUES ('u', 'u', 'Old', '\"e1\"')")
    db.commit()
    db.close()
    store = Store(path)
    assert store.schema_version() == len(MIGRATIONS)
    (state,) = feeds.active_feeds(store)
    assert state.name == "Old" and state.etag == '"e1"' and state.ttl_minutes is None


def test_database_from_a_newer_monitor_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StateError, match="newer than this monitor"):
        Store(path)
