"""Articles in the store: identity, first-poll backfill, updates, analysis results, pruning."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from monitor.models import (
    ANALYZED,
    BACKLOG,
    PENDING,
    Analysis,
    Claim,
    Entry,
    EntryDecision,
    KnownArticle,
    KnownArticles,
    Mention,
    StoredArticle,
    entry_keys,
)
from monitor.store.db import Connection, Store, dt, later, later_many, ts
from monitor.store.outbox import owe_alerts

_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit


@dataclass(frozen=True)
class Recorded:
    to_analyse: list[int]  # new or changed articles, in feed order
    quiet: list[int]  # new articles stored as analysed already: they cannot name a tracked actor
    backlog: list[int] = field(default_factory=list)  # new, older than a first poll's backfill window
    texts: dict[int, tuple[str, str]] = field(default_factory=dict)  # to_analyse's (title, text) as stored


Decide = Callable[[KnownArticles], Sequence[EntryDecision]]


def record_entries(store: Store, feed_id: int, entries: Sequence[Entry], *, now: datetime,
                   decide: Decide, then: Callable[[Connection], None] | None = None) -> Recorded:
    """Look up the articles the entries may be, let `decide` (the pure entry decider, given by
    the caller) say what each entry is, and apply that in one transaction; `then` writes more in
    the same transaction (the feed's new validators: never stored without these entries)."""
    todo: list[int] = []
    quiet: list[int] = []
    backlog: list[int] = []
    texts: dict[int, tuple[str, str]] = {}
    sources: list[tuple[int, int, str | None, float | None]] = []
    all_keys = [entry_keys(entry) for entry in entries]
    # Scoped to the entries' keys: another daemon recording other articles runs beside this
    # one; one recording an entry with one of these keys waits, then sees it known.
    with store.transaction(keys=[k for keys in all_keys for k in keys if k]) as db:
        rows, tombstoned = _lookup(db, all_keys)
        known = KnownArticles(rows=rows, tombstoned=tombstoned)
        decisions = list(decide(known))
        # New articles get their ids first and go in as one statement (a row is a round trip
        # on PostgreSQL); the decider refers to them by -(entry index + 1).
        inserts = [d for d in decisions if d.action == "insert"]
        fresh = iter(_reserve_ids(store, db, len(inserts)))
        created: dict[int, int] = {-(d.entry + 1): next(fresh) for d in inserts}
        later_many(
            db, "INSERT INTO articles (id, guid_key, url_key, fp_key, url, title, text, published_at, "
            "first_seen_at, content_hash, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(created[-(d.entry + 1)], *all_keys[d.entry], entries[d.entry].url, entries[d.entry].title,
              entries[d.entry].text, ts(entries[d.entry].published), ts(now), entries[d.entry].content_hash,
              d.status or PENDING) for d in inserts])
        for decision in decisions:
            entry, keys = entries[decision.entry], all_keys[decision.entry]
            if decision.action == "skip":
                continue
            if decision.action == "insert":
                article_id = created[-(decision.entry + 1)]
                if decision.status == ANALYZED:
                    quiet.append(article_id)
                elif decision.status == PENDING:
                    todo.append(article_id)
                    texts[article_id] = (entry.title, entry.text)
                elif decision.status == BACKLOG:
                    backlog.append(article_id)
            else:
                article_id = created.get(decision.article or 0, decision.article or 0)
                _update(db, article_id, entry, keys, decision, now)
                if decision.status == PENDING:  # _update wrote the entry's title and text
                    todo.append(article_id)
                    texts[article_id] = (entry.title, entry.text)
            sources.append((article_id, feed_id, entry.url, ts(now)))
        later_many(db, "INSERT OR IGNORE INTO article_sources (article_id, feed_id, link, seen_at) "
                   "VALUES (?, ?, ?, ?)", sources)
        if then is not None:
            then(db)
    return Recorded(todo, quiet, backlog, texts)


_KEY_COLUMNS = ("guid_key", "url_key", "fp_key")


def _lookup(db: Connection, all_keys: Sequence[tuple[str | None, ...]],
            ) -> tuple[tuple[KnownArticle, ...], frozenset[str]]:
    """Every stored article holding one of the keys, and the keys of pruned articles among them:
    one query for a feed's entries (each key column's IN list on its own index, the tombstones
    beside them), not one per entry, per column or per table."""
    rows: dict[int, KnownArticle] = {}
    tombstoned: set[str] = set()
    columns = [sorted({k for keys in all_keys if (k := keys[n])}) for n in range(len(_KEY_COLUMNS))]
    wanted = sorted({k for keys in all_keys for k in keys if k})
    for start in range(0, len(wanted), _CHUNK):
        chunks = [(column, values[start:start + _CHUNK]) for column, values in zip(_KEY_COLUMNS, columns, strict=True)
                  if values[start:start + _CHUNK]]
        where = " OR ".join(f"{column} IN ({','.join('?' * len(chunk))})" for column, chunk in chunks) or "0 = 1"
        dead = wanted[start:start + _CHUNK]
        query = (f"SELECT 'a' AS kind, id, guid_key, url_key, fp_key, status, content_hash FROM articles WHERE {where} "
                 "UNION ALL SELECT 't', NULL, key, NULL, NULL, NULL, NULL FROM tombstones "
                 f"WHERE key IN ({','.join('?' * len(dead))})")
        for r in db.execute(query, [v for _, chunk in chunks for v in chunk] + dead):
            if r["kind"] == "t":
                tombstoned.add(r["guid_key"])
            else:
                rows[r["id"]] = KnownArticle(r["id"], r["guid_key"], r["url_key"], r["fp_key"], r["status"],
                                             r["content_hash"])
    return tuple(rows.values()), frozenset(tombstoned)


_ID_BLOCK = 100  # ids taken from PostgreSQL's sequence at a time


def _reserve_ids(store: Store, db: Connection, n: int) -> list[int]:
    """Ids for n new articles, inside the (serial) transaction that inserts them."""
    if n == 0:
        return []
    if store.backend == "postgresql":
        # From a block this daemon took from the sequence (one round trip per ~10 feeds instead
        # of one per feed). A sequence is outside transactions: a rollback only leaves a gap.
        # Each daemon's ids grow with time; two daemons' blocks interleave.
        spare = store.spare_ids
        if len(spare) < n:
            spare += [r[0] for r in db.execute(
                "SELECT nextval(pg_get_serial_sequence('articles', 'id')) FROM generate_series(1, ?)",
                (max(n - len(spare), _ID_BLOCK),))]
        taken = spare[:n]
        del spare[:n]
        return taken
    # SQLite gives a new row max(id) + 1 (no AUTOINCREMENT); the write lock keeps it ours.
    top = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM articles").fetchone()[0])
    return list(range(top + 1, top + n + 1))


def _update(db: Connection, article_id: int, entry: Entry, keys: tuple[str | None, ...],
            decision: EntryDecision, now: datetime) -> None:
    guid_key, url_key, _ = keys
    if decision.set_guid:
        later(db, "UPDATE articles SET guid_key = ? WHERE id = ?", (guid_key, article_id))
    if decision.set_url:
        later(db, "UPDATE articles SET url_key = ?, url = ? WHERE id = ?", (url_key, entry.url, article_id))
    if decision.status is not None:
        later(db, "UPDATE articles SET title = ?, text = ?, content_hash = ?, updated_at = ?, status = ? "
                  "WHERE id = ?", (entry.title, entry.text, entry.content_hash, ts(now), decision.status,
                                   article_id))


def article_text(store: Store, article_id: int) -> tuple[str, str]:
    row = store.db.execute("SELECT title, text FROM articles WHERE id = ?", (article_id,)).fetchone()
    return (row["title"], row["text"]) if row else ("", "")


def article_texts(store: Store, article_ids: Sequence[int]) -> list[tuple[int, str, str]]:
    """(id, title, text) for each of these articles that exists, in the order given."""
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(article_ids), 500):
        chunk = article_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for r in store.db.execute(f"SELECT id, title, text FROM articles WHERE id IN ({marks})", chunk):
            found[r["id"]] = (r["title"], r["text"])
    return [(i, *found.get(i, ("", ""))) for i in article_ids]


def pending_articles(store: Store) -> list[int]:
    """Articles recorded but not analysed yet (e.g. after a crash between the two steps)."""
    rows = store.db.execute("SELECT id FROM articles WHERE status = ? ORDER BY id", (PENDING,))
    return [r["id"] for r in rows]


Normaliser = Callable[[str], str]


def save_analysis(store: Store, article_id: int, analysis: Analysis, norm: Normaliser = str.casefold) -> set[str]:
    """Replace the article's mentions and claims; return the entities that newly appear in it."""
    return save_analyses(store, [(article_id, analysis)], norm)[article_id]


# Which entities of a freshly stored analysis are owed an alert, given those newly in the article.
AlertRule = Callable[[Analysis, set[str]], Sequence[str]]
# An analysis ranked again given the normalised claim texts other articles already carry.
Rerank = Callable[[Analysis, set[str]], Analysis]


def save_analyses(store: Store, results: Sequence[tuple[int, Analysis]],
                  norm: Normaliser = str.casefold, *, alerts: AlertRule | None = None,
                  now: datetime | None = None, rerank: Rerank | None = None) -> dict[int, set[str]]:
    """save_analysis for many articles in one transaction (one commit per feed, not per article).

    `norm` gives each claim the normalised text by which other outlets' copies are recognised.
    `rerank`, given the claims another article already carries, ranks an analysis again before
    it is stored (news first). `alerts` decides, in the same transaction, which alerts the
    results owe: a crash after the commit leaves them owed (queued on restart), never forgotten.
    """
    # Scoped to these articles: another daemon saving other articles' analyses runs beside it.
    with store.transaction(keys=[f"article:{article_id}" for article_id, _ in results]) as db:
        before, seen = _before_and_seen(db, results, norm if rerank is not None else None)
        if rerank is not None:
            results = [(i, _reranked(a, seen.get(i, set()), rerank)) for i, a in results]
        if len({article_id for article_id, _ in results}) != len(results):
            # The same article twice: saved in order, each save seeing the one before it.
            newly = {article_id: _save_one(db, article_id, analysis, norm) for article_id, analysis in results}
        else:
            newly = _save_many(db, results, norm, before)
        if alerts is not None and now is not None:
            owe_alerts(db, [(article_id, entity) for article_id, analysis in results
                            for entity in alerts(analysis, newly[article_id])], now)
        return newly


def _reranked(analysis: Analysis, seen: set[str], rerank: Rerank) -> Analysis:
    return rerank(analysis, seen) if seen else analysis


_PROBE = "SELECT 'p', ?, ? WHERE EXISTS (SELECT 1 FROM claims WHERE norm = ? AND article_id != ?)"


def _before_and_seen(db: Connection, results: Sequence[tuple[int, Analysis]], norm: Normaliser | None,
                     ) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Each article's entities as stored, and (with `norm`) which of its claims' normalised texts
    another article already carries: one statement for a feed's articles (a statement is a round
    trip on PostgreSQL). A probe per text stops at the first copy (EXISTS): a widely quoted
    sentence can have thousands of rows."""
    ids = [article_id for article_id, _ in results]
    probes = [(article_id, n) for article_id, a in results if norm is not None
              for n in sorted({norm(c.text) for c in a.claims})]
    before: dict[int, set[str]] = {}
    seen: dict[int, set[str]] = {}
    for step in range(max(-(-len(ids) // 500), -(-len(probes) // 100))):
        chunk, tried = ids[step * 500:(step + 1) * 500], probes[step * 100:(step + 1) * 100]
        parts = [f"SELECT 'e', id, entities FROM articles WHERE id IN ({','.join('?' * len(chunk))})"] if chunk else []
        parts += [_PROBE] * len(tried)
        args = [*chunk, *(v for article_id, n in tried for v in (article_id, n, n, article_id))]
        for kind, article_id, value in db.execute(" UNION ALL ".join(parts), args):
            if kind == "e":
                before[article_id] = set(json.loads(value))
            else:
                seen.setdefault(article_id, set()).add(value)
    return before, seen


def _save_many(db: Connection, results: Sequence[tuple[int, Analysis]], norm: Normaliser,
               before: dict[int, set[str]]) -> dict[int, set[str]]:
    """_save_one for distinct articles, a handful of statements for the lot instead of six each."""
    ids = [article_id for article_id, _ in results]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        later(db, f"DELETE FROM mentions WHERE article_id IN ({marks})", chunk)
        later(db, f"DELETE FROM claims WHERE article_id IN ({marks})", chunk)
    mentions, claims = [], []
    for article_id, analysis in results:
        mentions += [(article_id, m.entity, m.text, m.start, m.end, int(m.in_title)) for m in analysis.mentions]
        ranks = {id(c): i for i, c in enumerate(analysis.key_claims)}
        ordered = list(analysis.key_claims) + [c for c in analysis.claims if c not in analysis.key_claims]
        claims += [(article_id, ranks.get(id(c)), c.kind, c.speaker, c.subject, c.text, c.start, c.end,
                    c.sentence, c.score, int(c.unconfirmed), norm(c.text)) for c in ordered]
    later_many(
        db, "INSERT INTO mentions (article_id, entity, surface, start, \"end\", in_title) VALUES (?,?,?,?,?,?)",
        mentions)
    later_many(
        db, "INSERT INTO claims (article_id, rank, kind, speaker, subject, text, start, \"end\", sentence, "
        "score, unconfirmed, norm) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", claims)
    later_many(db, "UPDATE articles SET status = ?, entities = ?, salience = ? WHERE id = ?",
               [(ANALYZED, json.dumps(list(a.entities)), json.dumps(a.salience), article_id)
                for article_id, a in results])
    return {article_id: set(a.entities) - before.get(article_id, set()) for article_id, a in results}


def _save_one(db: Connection, article_id: int, analysis: Analysis, norm: Normaliser) -> set[str]:
    """Replace one article's mentions and claims; return the entities that newly appear in it."""
    row = db.execute("SELECT entities FROM articles WHERE id = ?", (article_id,)).fetchone()
    before = set(json.loads(row["entities"])) if row else set()
    db.execute("DELETE FROM mentions WHERE article_id = ?", (article_id,))
    db.execute("DELETE FROM claims WHERE article_id = ?", (article_id,))
    db.executemany(
        "INSERT INTO mentions (article_id, entity, surface, start, \"end\", in_title) VALUES (?,?,?,?,?,?)",
        [(article_id, m.entity, m.text, m.start, m.end, int(m.in_title)) for m in analysis.mentions])
    ranks = {id(c): i for i, c in enumerate(analysis.key_claims)}
    ordered = list(analysis.key_claims) + [c for c in analysis.claims if c not in analysis.key_claims]
    db.executemany(
        "INSERT INTO claims (article_id, rank, kind, speaker, subject, text, start, \"end\", sentence, "
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


def backlog_articles(store: Store, since: datetime, feed_ids: Sequence[int] | None = None) -> list[int]:
    """Backlog articles published (or, undated, first seen) since `since`, oldest first; only
    those a feed in `feed_ids` carried, when given."""
    query = ("SELECT id FROM articles WHERE status = ? AND COALESCE(published_at, first_seen_at) >= ?")
    args: list[object] = [BACKLOG, ts(since)]
    if feed_ids is not None:
        query += f" AND id IN (SELECT article_id FROM article_sources WHERE feed_id IN ({','.join('?' * len(feed_ids))}))"
        args += list(feed_ids)
    rows = store.db.execute(query + " ORDER BY COALESCE(published_at, first_seen_at), id", args)
    return [r["id"] for r in rows]


def mark_earlier_coverage(store: Store, article_ids: Sequence[int], now: datetime) -> None:
    """Articles a digest shows as earlier coverage (a backfill; a re-scan marks its own)."""
    with store.transaction() as db:
        db.executemany("UPDATE articles SET rescanned_at = ? WHERE id = ?", [(ts(now), i) for i in article_ids])


def backlog_counts(store: Store) -> dict[int, int]:
    """Backlog articles per feed id (an article several feeds carried counts for each)."""
    rows = store.db.execute(
        "SELECT s.feed_id, COUNT(DISTINCT a.id) AS n FROM articles a JOIN article_sources s "
        "ON s.article_id = a.id WHERE a.status = ? GROUP BY s.feed_id", (BACKLOG,))
    return {r["feed_id"]: r["n"] for r in rows}


def relevant_entities(salience: dict[str, float], threshold: float) -> list[str]:
    return [e for e, score in salience.items() if score >= threshold]


def load_story(store: Store, article_id: int) -> StoredArticle:
    return load_stories(store, [article_id])[0]


def load_stories(store: Store, article_ids: Sequence[int], text_chars: int | None = None,
                 claims: bool = True) -> list[StoredArticle]:
    """Articles with their outlets, mentions and key claims, in the order given (batched reads).

    `text_chars` keeps only the start of each text and `claims=False` leaves the key claims out:
    a digest weighs thousands of candidates on their leads and needs all of the few it shows.
    """
    stories: dict[int, StoredArticle] = {}
    for start in range(0, len(article_ids), _CHUNK):
        chunk = list(article_ids[start:start + _CHUNK])
        stories.update(_load_chunk(store.db, chunk, text_chars, claims))
    return [stories[i] for i in article_ids]


def _load_chunk(db: Connection, ids: list[int], text_chars: int | None,
                with_claims: bool) -> dict[int, StoredArticle]:
    marks = ",".join("?" * len(ids))
    text_column = f"substr(text, 1, {int(text_chars)})" if text_chars is not None else "text"
    outlets: dict[int, list[str]] = {i: [] for i in ids}
    for r in db.execute("SELECT s.article_id, f.name FROM article_sources s JOIN feeds f ON f.id = s.feed_id "
                        f"WHERE s.article_id IN ({marks}) ORDER BY s.seen_at, f.id", ids):
        outlets[r["article_id"]].append(r["name"])
    mentions: dict[int, list[Mention]] = {i: [] for i in ids}
    for r in db.execute(f"SELECT * FROM mentions WHERE article_id IN ({marks}) ORDER BY in_title, start", ids):
        mentions[r["article_id"]].append(Mention(entity=r["entity"], text=r["surface"], start=r["start"],
                                                 end=r["end"], in_title=bool(r["in_title"])))
    claims: dict[int, list[Claim]] = {i: [] for i in ids}
    for r in db.execute(f"SELECT * FROM claims WHERE article_id IN ({marks}) AND rank IS NOT NULL "
                        "ORDER BY rank", ids) if with_claims else ():
        claims[r["article_id"]].append(Claim(
            kind=r["kind"], speaker=r["speaker"], text=r["text"], start=r["start"], end=r["end"],
            sentence=r["sentence"], score=r["score"], unconfirmed=bool(r["unconfirmed"]), subject=r["subject"]))
    return {row["id"]: StoredArticle(
        id=row["id"], url=row["url"], title=row["title"], text=row["body"],
        published=dt(row["published_at"]), first_seen=dt(row["first_seen_at"]) or datetime.min,
        outlets=tuple(outlets[row["id"]]), mentions=tuple(mentions[row["id"]]),
        key_claims=tuple(claims[row["id"]]), salience=json.loads(row["salience"]),
        alerted=row["alerted_entities"] != "[]", earlier=row["rescanned_at"] is not None)
        for row in db.execute(f"SELECT id, url, title, {text_column} AS body, published_at, first_seen_at, "
                              "salience, alerted_entities, rescanned_at FROM articles "
                              f"WHERE id IN ({marks})", ids)}


def stories_for_digest(store: Store, digest: str, actors: Sequence[str], threshold: float,
                       since: datetime, text_chars: int | None = None,
                       claims: bool = True) -> list[StoredArticle]:
    """Analysed, relevant articles this digest has not covered yet, oldest first."""
    rows = store.db.execute(
        # Most articles name no actor at all ('{}'): leave them in SQLite instead of decoding
        # their JSON on every digest run.
        # Earlier coverage (a re-scan or a backfill: rescanned_at) counts from when it was
        # brought back, however long ago the article was first seen.
        "SELECT id, salience FROM articles WHERE status = ? AND (first_seen_at >= ? OR rescanned_at >= ?) "
        "AND salience != '{}' AND id NOT IN "
        "(SELECT article_id FROM digest_marks WHERE digest = ?) ORDER BY COALESCE(published_at, "
        "first_seen_at), id", (ANALYZED, ts(since), ts(since), digest)).fetchall()
    wanted = set(actors)
    ids = [r["id"] for r in rows
           if (hits := relevant_entities(json.loads(r["salience"]), threshold))
           and (not wanted or wanted.intersection(hits))]
    return load_stories(store, ids, text_chars, claims)


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
