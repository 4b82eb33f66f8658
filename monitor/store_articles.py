"""Articles in the store: identity, first-poll backfill, updates, analysis results, pruning."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from monitor.models import Analysis, Claim, Entry, Mention, StoredArticle
from monitor.store import Store, dt, ts

PENDING, ANALYZED, BACKLOG = "pending", "analyzed", "backlog"


def _keys(entry: Entry) -> tuple[str | None, str | None, str | None]:
    guid_key = entry.key if entry.key.startswith("guid:") else None
    url_key = f"url:{entry.url}" if entry.url else None
    fp_key = entry.key if entry.key.startswith("fp:") else None
    return guid_key, url_key, fp_key


def _find(db: sqlite3.Connection, guid_key: str | None, url_key: str | None,
          fp_key: str | None) -> sqlite3.Row | None:
    # A GUID that changes while the URL stays the same is the same article, so the URL is
    # consulted even when a GUID exists.
    for column, key in (("guid_key", guid_key), ("url_key", url_key), ("fp_key", fp_key)):
        if key:
            row = db.execute(f"SELECT * FROM articles WHERE {column} = ?", (key,)).fetchone()
            if row is not None:
                return row  # type: ignore[no-any-return]
    return None


def _tombstoned(db: sqlite3.Connection, keys: Iterable[str | None]) -> bool:
    present = [k for k in keys if k]
    marks = ",".join("?" * len(present))
    return bool(present) and db.execute(
        f"SELECT 1 FROM tombstones WHERE key IN ({marks}) LIMIT 1", present).fetchone() is not None


def upsert_entries(store: Store, feed_id: int, entries: Sequence[Entry], *, now: datetime,
                   first_poll: bool, backfill_hours: float) -> list[int]:
    """Record entries; return the ids of articles that need (re-)analysis, in feed order.

    On a feed's first poll only entries published inside the backfill window are analysed;
    the rest are recorded as backlog so they never come back as new.
    """
    cutoff = now - timedelta(hours=backfill_hours)
    todo: list[int] = []
    with store.transaction() as db:
        for entry in entries:
            keys = _keys(entry)
            if _tombstoned(db, keys):
                continue
            row = _find(db, *keys)
            if row is None:
                fresh = not first_poll or (entry.published is not None and entry.published >= cutoff)
                article_id = _insert(db, entry, keys, now, PENDING if fresh else BACKLOG)
                if fresh:
                    todo.append(article_id)
            else:
                article_id = row["id"]
                if _update(db, row, entry, keys, now):
                    todo.append(article_id)
            db.execute("INSERT OR IGNORE INTO article_sources (article_id, feed_id, link, seen_at) "
                       "VALUES (?, ?, ?, ?)", (article_id, feed_id, entry.url, ts(now)))
    return todo


def _insert(db: sqlite3.Connection, entry: Entry, keys: tuple[str | None, ...], now: datetime,
            status: str) -> int:
    cur = db.execute(
        "INSERT INTO articles (guid_key, url_key, fp_key, url, title, text, published_at, "
        "first_seen_at, content_hash, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*keys, entry.url, entry.title, entry.text, ts(entry.published), ts(now),
         entry.content_hash, status))
    return int(cur.lastrowid or 0)


def _update(db: sqlite3.Connection, row: sqlite3.Row, entry: Entry, keys: tuple[str | None, ...],
            now: datetime) -> bool:
    """Apply a changed entry; True when its text changed and it must be analysed again."""
    guid_key, url_key, _ = keys
    if guid_key and row["guid_key"] != guid_key:
        taken = db.execute("SELECT 1 FROM articles WHERE guid_key = ?", (guid_key,)).fetchone()
        if not taken:
            db.execute("UPDATE articles SET guid_key = ? WHERE id = ?", (guid_key, row["id"]))
    if url_key and row["url_key"] is None:
        db.execute("UPDATE articles SET url_key = ?, url = ? WHERE id = ? AND NOT EXISTS "
                   "(SELECT 1 FROM articles WHERE url_key = ?)", (url_key, entry.url, row["id"], url_key))
    if not entry.content_hash or entry.content_hash == row["content_hash"]:
        return False
    status = row["status"] if row["status"] == BACKLOG else PENDING
    db.execute("UPDATE articles SET title = ?, text = ?, content_hash = ?, updated_at = ?, status = ? "
               "WHERE id = ?", (entry.title, entry.text, entry.content_hash, ts(now), status, row["id"]))
    return status == PENDING


def article_text(store: Store, article_id: int) -> tuple[str, str]:
    row = store.db.execute("SELECT title, text FROM articles WHERE id = ?", (article_id,)).fetchone()
    return (row["title"], row["text"]) if row else ("", "")


def pending_articles(store: Store) -> list[int]:
    """Articles recorded but not analysed yet (e.g. after a crash between the two steps)."""
    rows = store.db.execute("SELECT id FROM articles WHERE status = ? ORDER BY id", (PENDING,))
    return [r["id"] for r in rows]


Normaliser = Callable[[str], str]


def save_analysis(store: Store, article_id: int, analysis: Analysis, norm: Normaliser = str.casefold) -> set[str]:
    """Replace the article's mentions and claims; return the entities that newly appear in it."""
    return save_analyses(store, [(article_id, analysis)], norm)[article_id]


def save_analyses(store: Store, results: Sequence[tuple[int, Analysis]],
                  norm: Normaliser = str.casefold) -> dict[int, set[str]]:
    """save_analysis for many articles in one transaction (one commit per feed, not per article).

    `norm` gives each claim the normalised text by which other outlets' copies are recognised.
    """
    with store.transaction() as db:
        return {article_id: _save_one(db, article_id, analysis, norm) for article_id, analysis in results}


def published_elsewhere(store: Store, norms: Iterable[str], article_id: int) -> set[str]:
    """Which of these normalised claim texts another article already carries."""
    wanted = sorted(set(norms))
    marks = ",".join("?" * len(wanted))
    rows = store.db.execute(f"SELECT DISTINCT norm FROM claims WHERE norm IN ({marks}) AND article_id != ?",
                            (*wanted, article_id)) if wanted else []
    return {r["norm"] for r in rows}


def _save_one(db: sqlite3.Connection, article_id: int, analysis: Analysis, norm: Normaliser) -> set[str]:
    """Replace one article's mentions and claims; return the entities that newly appear in it."""
    row = db.execute("SELECT entities FROM articles WHERE id = ?", (article_id,)).fetchone()
    before = set(json.loads(row["entities"])) if row else set()
    db.execute("DELETE FROM mentions WHERE article_id = ?", (article_id,))
    db.execute("DELETE FROM claims WHERE article_id = ?", (article_id,))
    db.executemany(
        "INSERT INTO mentions (article_id, entity, surface, start, end, in_title) VALUES (?,?,?,?,?,?)",
        [(article_id, m.entity, m.text, m.start, m.end, int(m.in_title)) for m in analysis.mentions])
    ranks = {id(c): i for i, c in enumerate(analysis.key_claims)}
    ordered = list(analysis.key_claims) + [c for c in analysis.claims if c not in analysis.key_claims]
    db.executemany(
        "INSERT INTO claims (article_id, rank, kind, speaker, subject, text, start, end, sentence, "
        "score, unconfirmed, norm) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [(article_id, ranks.get(id(c)), c.kind, c.speaker, c.subject, c.text, c.start, c.end,
          c.sentence, c.score, int(c.unconfirmed), norm(c.text)) for c in ordered])
    db.execute("UPDATE articles SET status = ?, entities = ?, salience = ? WHERE id = ?",
               (ANALYZED, json.dumps(list(analysis.entities)), json.dumps(analysis.salience),
                article_id))
    return set(analysis.entities) - before


def set_text(store: Store, article_id: int, text: str) -> None:
    """Replace the feed's text with the article page's full text (before analysis)."""
    with store.transaction() as db:
        db.execute("UPDATE articles SET text = ? WHERE id = ?", (text, article_id))


def recent_analyzed(store: Store, since: datetime) -> list[int]:
    rows = store.db.execute("SELECT id FROM articles WHERE status = ? AND first_seen_at >= ? ORDER BY id",
                            (ANALYZED, ts(since)))
    return [r["id"] for r in rows]


def reopen_for_digests(store: Store, article_id: int, digests: Sequence[str], now: datetime) -> None:
    """A re-scan found a new actor: the article goes to these digests again, as earlier coverage."""
    with store.transaction() as db:
        db.execute("UPDATE articles SET rescanned_at = ? WHERE id = ?", (ts(now), article_id))
        db.executemany("DELETE FROM digest_marks WHERE digest = ? AND article_id = ?",
                       [(d, article_id) for d in digests])


def relevant_entities(salience: dict[str, float], threshold: float) -> list[str]:
    return [e for e, score in salience.items() if score >= threshold]


def load_story(store: Store, article_id: int) -> StoredArticle:
    db = store.db
    row = db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
    outlets = tuple(r["name"] for r in db.execute(
        "SELECT f.name FROM article_sources s JOIN feeds f ON f.id = s.feed_id "
        "WHERE s.article_id = ? ORDER BY s.seen_at, f.id", (article_id,)))
    mentions = tuple(Mention(entity=r["entity"], text=r["surface"], start=r["start"], end=r["end"],
                             in_title=bool(r["in_title"])) for r in db.execute(
        "SELECT * FROM mentions WHERE article_id = ? ORDER BY in_title, start", (article_id,)))
    claims = tuple(Claim(kind=r["kind"], speaker=r["speaker"], text=r["text"], start=r["start"],
                         end=r["end"], sentence=r["sentence"], score=r["score"],
                         unconfirmed=bool(r["unconfirmed"]), subject=r["subject"]) for r in db.execute(
        "SELECT * FROM claims WHERE article_id = ? AND rank IS NOT NULL ORDER BY rank", (article_id,)))
    return StoredArticle(
        id=row["id"], url=row["url"], title=row["title"], text=row["text"],
        published=dt(row["published_at"]), first_seen=dt(row["first_seen_at"]) or datetime.min,
        outlets=outlets, mentions=mentions, key_claims=claims,
        salience=json.loads(row["salience"]), alerted=row["alerted_entities"] != "[]",
        earlier=row["rescanned_at"] is not None)


def stories_for_digest(store: Store, digest: str, actors: Sequence[str], threshold: float,
                       since: datetime) -> list[StoredArticle]:
    """Analysed, relevant articles this digest has not covered yet, oldest first."""
    rows = store.db.execute(
        "SELECT id, salience FROM articles WHERE status = ? AND first_seen_at >= ? AND id NOT IN "
        "(SELECT article_id FROM digest_marks WHERE digest = ?) ORDER BY COALESCE(published_at, "
        "first_seen_at), id", (ANALYZED, ts(since), digest)).fetchall()
    wanted = set(actors)
    ids = [r["id"] for r in rows
           if (hits := relevant_entities(json.loads(r["salience"]), threshold))
           and (not wanted or wanted.intersection(hits))]
    return [load_story(store, i) for i in ids]


def prune(store: Store, *, now: datetime, older_than: datetime) -> int:
    """Delete old articles, leaving tombstones so they never return as new."""
    with store.transaction() as db:
        rows = db.execute("SELECT id, guid_key, url_key, fp_key FROM articles WHERE first_seen_at < ?",
                          (ts(older_than),)).fetchall()
        for r in rows:
            for key in (r["guid_key"], r["url_key"], r["fp_key"]):
                if key:
                    db.execute("INSERT OR IGNORE INTO tombstones (key, pruned_at) VALUES (?, ?)", (key, ts(now)))
            db.execute("DELETE FROM digest_marks WHERE article_id = ?", (r["id"],))
            db.execute("DELETE FROM alerts WHERE article_id = ?", (r["id"],))
            db.execute("DELETE FROM articles WHERE id = ?", (r["id"],))
    return len(rows)
