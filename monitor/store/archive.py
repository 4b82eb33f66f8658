"""Read-only queries over the archive for the web console (search is in store/search.py): actor timelines,
claims by and about an actor, one story's evidence and deliveries, feed health, sent mail.

`Archive` opens the database read-only (SQLite: `mode=ro`; PostgreSQL: every transaction read
only): it never migrates, never takes a write lock and is safe beside a running daemon. It is a Store, so the store's own read helpers
(`articles.load_stories`, `feeds.feed_health`, `outbox.outbox_summary`) work on it unchanged.
Each thread gets its own connection (a web server answers from a thread pool).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.config.types import StoreConfig
from monitor.errors import StateError
from monitor.models import ANALYZED, Claim
from monitor.store.db import Connection, Store
from monitor.store.pg import PgConnection, safe_url  # psycopg itself is imported only when used
from monitor.store.schema import MIGRATIONS

if TYPE_CHECKING:
    import psycopg

MMAP_BYTES = 1 << 30
WHEN_SQL = "COALESCE(a.published_at, a.first_seen_at)"  # the expression of the articles_when index


class Archive(Store):
    """The state database, read-only, one connection per thread.

    `target` as for Store: a SQLite path (or `sqlite:PATH`) or a postgresql:// URL (its password
    given apart)."""

    def __init__(self, target: Path | str, *, password: str | None = None) -> None:
        # Not super().__init__(): that creates the folder and migrates the schema.
        if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
            self.backend = "postgresql"
            self.path = Path(safe_url(target))  # only ever shown
            self.url = target
        else:
            self.backend = "sqlite"
            self.path = Path(target.removeprefix("sqlite:") if isinstance(target, str) else target)
            self.url = f"sqlite:{self.path}"
        self._password = password
        self._local = threading.local()
        self._open().close()  # fail at start-up, not on the first request

    def _open(self) -> Connection:
        if self.backend == "postgresql":
            return open_pg_read_only(self.url, self._password)
        return open_read_only(self.path)

    @property
    def db(self) -> Connection:  # type: ignore[override]
        conn: Connection | None = getattr(self._local, "db", None)
        if conn is None:
            conn = self._open()
            self._local.db = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "db", None)
        if conn is not None:
            conn.close()
            self._local.db = None


def open_archive(store: StoreConfig, sqlite_path: Path) -> Archive:
    """The configured store, read-only: PostgreSQL when store.url names it, else the SQLite file."""
    if store.backend == "postgresql":
        return Archive(store.url, password=store.password())
    return Archive(sqlite_path)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; the schema must be the one this monitor writes (never migrated here)."""
    if not path.exists():
        raise StateError(f"the state database {path} does not exist yet: run the daemon "
                         "(or `monitor once`) with this config first")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10,
                             check_same_thread=False)
        db.row_factory = sqlite3.Row
        # Pages read through the OS's mapping instead of copied into SQLite's small cache: a
        # search touches thousands of pages of a large archive. Safe for a reader.
        db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        raise StateError(f"cannot read the state database {path}: {exc}") from None
    if version != len(MIGRATIONS):
        db.close()
        raise _other_version(f"the state database {path}", version, len(MIGRATIONS))
    return db


class _ReadOnlyPg(PgConnection):
    """A PgConnection whose session refuses writes (set again on every reconnection)."""

    def _connect(self) -> psycopg.Connection[Any]:
        conn = super()._connect()
        conn.execute("SET default_transaction_read_only = on")
        return conn


def open_pg_read_only(url: str, password: str | None) -> Connection:
    """A PostgreSQL connection whose every transaction is read only; the schema must be the one
    this monitor writes (never migrated here)."""
    import psycopg

    from monitor.store.schema_pg import PG_MIGRATIONS

    name = safe_url(url)
    try:
        db = _ReadOnlyPg(url, password)
    except StateError as exc:
        if "does not exist" in str(exc):
            raise StateError(f"the PostgreSQL database {name} does not exist yet: create it, then run the "
                             "daemon (or `monitor once`) with this config first") from None
        raise
    try:
        row = db.execute("SELECT version FROM monitor_schema").fetchone()
    except psycopg.errors.UndefinedTable:
        row = None
    except psycopg.Error as exc:
        db.close()
        raise StateError(f"cannot read the PostgreSQL store {name}: {exc}") from None
    if row is None:
        db.close()
        raise StateError(f"the PostgreSQL store {name} holds no monitor state yet: run the daemon "
                         "(or `monitor once`) with this config first")
    version = int(row[0])
    if version != len(PG_MIGRATIONS):
        db.close()
        raise _other_version(f"the PostgreSQL store {name}", version, len(PG_MIGRATIONS))
    return db


def _other_version(store: str, version: int, expected: int) -> StateError:
    """A reader never migrates: say who must (the daemon, or a newer monitor)."""
    return StateError(f"{store} has schema version {version}, this monitor expects {expected}: "
                      + ("upgrade monitor" if version > expected else
                         "restart the daemon (or run `monitor once`) to migrate it"))


def _indexed_by(archive: Store, index: str) -> str:
    """SQLite's index hint (its planner needs it here); PostgreSQL chooses on its own."""
    return f"INDEXED BY {index}" if archive.backend == "sqlite" else ""


def mention_times(archive: Store, entity: str, since: float) -> list[tuple[int, float]]:
    """(article id, publication time) of every article naming the actor since `since`."""
    # Written as IN (…) on the (id, time) index: SQLite then looks the actor's articles up by id
    # without reading their rows; as a join it walked every article of the period by date.
    rows = archive.db.execute(
        f"SELECT a.id, {WHEN_SQL} AS t FROM articles a {_indexed_by(archive, 'articles_id_when')} WHERE a.id IN "
        f"(SELECT DISTINCT article_id FROM mentions WHERE entity = ?) AND {WHEN_SQL} >= ?", (entity, since))
    return [(r["id"], r["t"]) for r in rows]


@dataclass(frozen=True)
class ClaimRow:
    """A claim with the article it comes from."""

    claim: Claim
    article_id: int
    title: str
    when: float


def _claim_rows(rows: Sequence[Any]) -> list[ClaimRow]:
    return [ClaimRow(Claim(kind=r["kind"], speaker=r["speaker"], text=r["text"], start=r["start"], end=r["end"],
                           sentence=r["sentence"], score=r["score"], unconfirmed=bool(r["unconfirmed"]),
                           subject=r["subject"]), r["article_id"], r["title"], r["t"]) for r in rows]


_CLAIM_COLUMNS = (f"c.kind, c.speaker, c.subject, c.text, c.start, c.\"end\", c.sentence, c.score, c.unconfirmed, "
                  f"c.article_id, a.title, {WHEN_SQL} AS t")


def claims_by(archive: Store, speaker: str, limit: int = 20) -> list[ClaimRow]:
    """The actor's latest claims as speaker (newest stored articles first: claims_speaker index order)."""
    rows = archive.db.execute(
        f"SELECT {_CLAIM_COLUMNS} FROM claims c JOIN articles a ON a.id = c.article_id "
        "WHERE c.speaker = ? ORDER BY c.article_id DESC, c.start LIMIT ?", (speaker, limit)).fetchall()
    return _claim_rows(rows)


def claims_about(archive: Store, entity: str, limit: int = 20) -> list[ClaimRow]:
    """Claims by others about the actor: its id is the claim's subject, or the claim's words name
    it. Each source is read newest first and stops after `limit` (index order), then merged."""
    db = archive.db
    by_subject = db.execute(
        "SELECT rowid, article_id FROM claims WHERE subject = ? AND (speaker IS NULL OR speaker != ?) "
        "ORDER BY article_id DESC LIMIT ?", (entity, entity, limit)).fetchall()
    naming = db.execute(
        "SELECT c.rowid, c.article_id FROM mentions m JOIN claims c ON c.article_id = m.article_id "
        "AND m.start >= c.start AND m.end <= c.end WHERE m.entity = ? AND m.in_title = 0 "
        "AND (c.speaker IS NULL OR c.speaker != ?) ORDER BY m.article_id DESC LIMIT ?",
        (entity, entity, limit * 3)).fetchall()
    newest = sorted({r[0]: r[1] for r in [*by_subject, *naming]}.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    if not newest:
        return []
    marks = ",".join("?" * len(newest))
    rows = db.execute(f"SELECT {_CLAIM_COLUMNS} FROM claims c JOIN articles a ON a.id = c.article_id "
                      f"WHERE c.rowid IN ({marks}) ORDER BY c.article_id DESC, c.start",
                      [rowid for rowid, _ in newest]).fetchall()
    return _claim_rows(rows)


def named_with(archive: Store, entity: str, article_ids: Sequence[int], limit: int = 10) -> list[tuple[str, int]]:
    """The actors most often named in the same articles (how many articles), most first."""
    counts: dict[str, int] = {}
    ordered = sorted(article_ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for r in archive.db.execute(f"SELECT entity, COUNT(DISTINCT article_id) AS n FROM mentions "
                                    f"WHERE article_id IN ({marks}) AND entity != ? GROUP BY entity",
                                    (*chunk, entity)):
            counts[r["entity"]] = counts.get(r["entity"], 0) + r["n"]
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


# ---------------------------------------------------------------------------------------------
# Stories


def relevant_articles(archive: Store, since: float, *, actor: str = "", outlet: int | None = None,
                      limit: int = 400) -> list[int]:
    """Analysed articles naming a tracked actor since `since`, newest first (for the front page)."""
    where = ["a.status = ?", "a.salience != '{}'", f"{WHEN_SQL} >= ?"]
    params: list[object] = [ANALYZED, since]
    if actor:
        where.append("EXISTS (SELECT 1 FROM mentions m WHERE m.article_id = a.id AND m.entity = ?)")
        params.append(actor)
    if outlet is not None:
        where.append("EXISTS (SELECT 1 FROM article_sources s WHERE s.article_id = a.id AND s.feed_id = ?)")
        params.append(outlet)
    rows = archive.db.execute(f"SELECT a.id, {WHEN_SQL} AS t FROM articles a WHERE {' AND '.join(where)} "
                              "ORDER BY t DESC LIMIT ?", (*params, limit))
    return [r["id"] for r in rows]


def latest_relevant(archive: Store) -> float | None:
    """When the newest analysed article naming a tracked actor was published (or first seen)."""
    row = archive.db.execute(f"SELECT MAX({WHEN_SQL}) FROM articles a WHERE a.status = ? AND a.salience != '{{}}'",
                             (ANALYZED,)).fetchone()
    return row[0] if row else None


def all_claims(archive: Store, article_id: int) -> list[Claim]:
    """Every claim of the article (the digest keeps only the ranked ones), in text order."""
    rows = archive.db.execute("SELECT * FROM claims WHERE article_id = ? ORDER BY start", (article_id,))
    return [Claim(kind=r["kind"], speaker=r["speaker"], text=r["text"], start=r["start"], end=r["end"],
                  sentence=r["sentence"], score=r["score"], unconfirmed=bool(r["unconfirmed"]),
                  subject=r["subject"]) for r in rows]


def exists(archive: Store, article_id: int) -> bool:
    return archive.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None


def same_story_candidates(archive: Store, article_id: int, window_hours: float = 48, limit: int = 300) -> list[int]:
    """Articles that may report the same event: sharing a claim's words anywhere, or sharing an
    actor within `window_hours` (the caller decides which are the same story)."""
    db = archive.db
    found = [r[0] for r in db.execute(
        "SELECT DISTINCT c2.article_id FROM claims c JOIN claims c2 ON c2.norm = c.norm "
        "AND c2.article_id != c.article_id WHERE c.article_id = ? LIMIT ?", (article_id, limit))]
    row = db.execute(f"SELECT {WHEN_SQL} FROM articles a WHERE a.id = ?", (article_id,)).fetchone()
    if row is None:
        return found
    when, window = row[0], window_hours * 3600
    found += [r[0] for r in db.execute(
        f"SELECT DISTINCT a.id FROM mentions m JOIN mentions m2 ON m2.entity = m.entity "
        f"JOIN articles a ON a.id = m2.article_id WHERE m.article_id = ? AND a.id != ? "
        f"AND {WHEN_SQL} BETWEEN ? AND ? LIMIT ?", (article_id, article_id, when - window, when + window, limit))]
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Delivery:
    outbox_id: int
    kind: str  # digest | alert
    name: str  # the digest's name or the alerted entity
    subject: str
    status: str
    created: float
    sent: float | None


def deliveries(archive: Store, article_id: int) -> list[Delivery]:
    """The digests and alerts this article went out in (or is queued for)."""
    rows = archive.db.execute(
        "SELECT o.id, o.kind, d.digest AS name, o.subject, o.status, o.created_at, o.sent_at "
        "FROM digest_marks d JOIN outbox o ON o.id = d.outbox_id WHERE d.article_id = ? UNION ALL "
        "SELECT o.id, o.kind, al.entity AS name, o.subject, o.status, o.created_at, o.sent_at "
        "FROM alerts al JOIN outbox o ON o.id = al.outbox_id WHERE al.article_id = ? ORDER BY 6",
        (article_id, article_id))
    return [Delivery(r["id"], r["kind"], r["name"], r["subject"], r["status"], r["created_at"], r["sent_at"])
            for r in rows]


# ---------------------------------------------------------------------------------------------
# Feeds and mail


@dataclass(frozen=True)
class FeedRow:
    id: int
    name: str
    url: str
    health: str  # ok | failing | disabled | new
    consecutive_failures: int
    last_poll: float | None
    last_success: float | None
    next_poll: float | None
    failing_since: float | None
    last_error: str | None
    disabled_reason: str | None
    articles: int = 0
    pending: int = 0  # stored, waiting for analysis
    backlog: int = 0  # first-poll backlog, kept unanalysed
    last_article: float | None = None


def feed_rows(archive: Store) -> list[FeedRow]:
    """Every active feed's health (as `monitor status` reads it) and what it brought."""
    db = archive.db
    counts = {r["feed_id"]: r for r in db.execute(
        "SELECT s.feed_id, COUNT(*) AS n, SUM(CASE WHEN a.status = 'pending' THEN 1 ELSE 0 END) AS pending, "
        "SUM(CASE WHEN a.status = 'backlog' THEN 1 ELSE 0 END) AS backlog, MAX(a.first_seen_at) AS last FROM article_sources s "
        "JOIN articles a ON a.id = s.article_id GROUP BY s.feed_id")}
    rows: list[FeedRow] = []
    for r in db.execute("SELECT * FROM feeds WHERE active = 1 ORDER BY name COLLATE NOCASE, id"):
        health = ("disabled" if r["disabled_reason"] else "failing" if r["consecutive_failures"]
                  else "ok" if r["last_polled_at"] is not None else "new")
        c = counts.get(r["id"])
        rows.append(FeedRow(
            id=r["id"], name=r["name"], url=r["url"], health=health,
            consecutive_failures=r["consecutive_failures"], last_poll=r["last_polled_at"],
            last_success=r["last_success_at"], next_poll=r["next_check_at"], failing_since=r["failing_since"],
            last_error=r["last_error"], disabled_reason=r["disabled_reason"],
            articles=c["n"] if c else 0, pending=(c["pending"] or 0) if c else 0,
            backlog=(c["backlog"] or 0) if c else 0, last_article=c["last"] if c else None))
    return rows


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    digest: str | None
    subject: str
    recipients: int
    status: str
    created: float
    sent: float | None
    articles: int = 0
    entities: tuple[str, ...] = field(default=())


def messages(archive: Store, limit: int = 50, offset: int = 0) -> list[Message]:
    """Digests and alerts in the outbox, newest first (sent, pending and failed); mail only:
    a channel's post is a copy of the same news in Markdown."""
    concat = "group_concat(DISTINCT al.entity)" if archive.backend == "sqlite" else \
        "string_agg(DISTINCT al.entity, ',')"
    rows = archive.db.execute(
        "SELECT o.id, o.kind, o.digest, o.subject, o.recipients, o.status, o.created_at, o.sent_at, "
        "(SELECT COUNT(*) FROM digest_marks d WHERE d.outbox_id = o.id) + "
        "(SELECT COUNT(*) FROM alerts al WHERE al.outbox_id = o.id) AS n, "
        f"(SELECT {concat} FROM alerts al WHERE al.outbox_id = o.id) AS entities "
        "FROM outbox o WHERE o.channel IS NULL ORDER BY o.id DESC LIMIT ? OFFSET ?", (limit, offset))
    return [Message(r["id"], r["kind"], r["digest"], r["subject"], len(json.loads(r["recipients"])), r["status"],
                    r["created_at"], r["sent_at"], r["n"], tuple((r["entities"] or "").split(",")) if r["entities"]
                    else ()) for r in rows]


def message_raw(archive: Store, outbox_id: int) -> bytes | None:
    row = archive.db.execute("SELECT raw FROM outbox WHERE id = ? AND channel IS NULL", (outbox_id,)).fetchone()
    return bytes(row[0]) if row else None


def outlets(archive: Store) -> list[tuple[int, str]]:
    """(feed id, name) of every feed, active or not, for the outlet filter."""
    return [(r["id"], r["name"]) for r in archive.db.execute(
        "SELECT id, name FROM feeds ORDER BY name COLLATE NOCASE, id")]
