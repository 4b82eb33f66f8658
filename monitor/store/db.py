"""The state store: feeds, articles, mentions, claims, digest marks and the outbox, in SQLite
(WAL, the embedded default) or PostgreSQL (shared by several daemons).

One connection, used from the event loop thread only. Every write that must be atomic runs
inside `transaction()`; times are stored as UTC unix seconds. The modules of this package write
one SQL text for both engines (SQLite's spelling; monitor/store/pg.py translates): which engine
runs is known here and nowhere above the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from monitor.config.types import StoreConfig
from monitor.errors import StateError
from monitor.store.schema import MIGRATIONS

if TYPE_CHECKING:
    from monitor.store.pg import PgConnection

Backend = Literal["sqlite", "postgresql"]


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the store's modules use of a connection: sqlite3's, or pg.PgConnection."""

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, seq: Iterable[Sequence[Any]], /) -> Any: ...
    def close(self) -> None: ...


def ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def later(db: Connection, sql: str, params: Sequence[Any] = ()) -> None:
    """A write inside a transaction whose result nobody reads (no rowcount, no RETURNING): on
    PostgreSQL it travels with the transaction's next statement or its COMMIT (one round trip
    for many writes); on SQLite it runs now, as SQLite costs no round trip."""
    defer = getattr(db, "later", None)
    if defer is not None:
        defer(sql, params)
    else:
        db.execute(sql, params)


def later_many(db: Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """executemany, deferred like later()."""
    defer = getattr(db, "later_many", None)
    if defer is not None:
        defer(sql, rows)
    else:
        db.executemany(sql, rows)


def open_store(config: StoreConfig, sqlite_path: Path) -> Store:
    """The configured store: PostgreSQL when store.url names it, else the SQLite file."""
    if config.backend == "postgresql":
        return Store(config.url, password=config.password())
    return Store(sqlite_path)


class Store:
    """The database handle; feed, article and outbox operations live in mixin-free helpers.

    `target` is a SQLite file path (or `sqlite:PATH`) or a postgresql:// URL (its password given
    apart); `url` names it back in the same form, so `Store(store.url)` opens the same store."""

    db: Connection

    def __init__(self, target: Path | str, *, password: str | None = None) -> None:
        self.spare_ids: list[int] = []  # article ids taken from PostgreSQL's sequence, not used yet
        if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
            from monitor.store.pg import PgConnection, migrate_pg, safe_url

            self.backend: Backend = "postgresql"
            self.path = Path(safe_url(target))  # only ever shown, as the store's name
            self.url = target
            pg = PgConnection(target, password)
            try:
                migrate_pg(pg)
            except BaseException:
                pg.close()
                raise
            self.db = pg
        else:
            self.backend = "sqlite"
            self.path = Path(target.removeprefix("sqlite:") if isinstance(target, str) else target)
            self.url = f"sqlite:{self.path}"
            self.db = _open(self.path)

    @property
    def describe(self) -> str:
        """The engine and where it is, for logs, status and sd_notify (never a password)."""
        if self.backend == "postgresql":
            from monitor.store.pg import safe_url

            return f"PostgreSQL {safe_url(self.url)}"  # not self.path: a Path folds the URL's "//"
        return f"SQLite {self.path}"

    @property
    def engine(self) -> str:
        """The engine's name for one-line status (systemd's STATUS=)."""
        return "PostgreSQL (shared)" if self.backend == "postgresql" else "SQLite"

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self, *, serial: bool = True, keys: Iterable[str] = ()) -> Iterator[Connection]:
        """BEGIN … COMMIT; rolled back on any exception so no half-written state stays.

        Serial (the default): no other writer of this store, in any process, runs at the same
        time (SQLite: BEGIN IMMEDIATE; PostgreSQL: the write lock, an advisory lock, held
        exclusively). With `keys` (article keys or ids) a PostgreSQL transaction holds the write
        lock shared and a lock per key instead: transactions about other articles (another
        daemon's feeds) run beside it, every serial one still waits. A transaction that locks
        its own rows (FOR UPDATE SKIP LOCKED) passes serial=False.
        """
        if self.backend == "postgresql":
            with self._pg_transaction(serial, sorted(set(keys))) as db:
                yield db
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
            yield self.db
            self.db.execute("COMMIT")
        except BaseException as exc:
            if self.db.in_transaction:  # SQLite may have rolled back already (disk full)
                self.db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise StateError(_explain(self.path, exc)) from None
            raise

    @contextmanager
    def _pg_transaction(self, serial: bool, keys: list[str]) -> Iterator[Connection]:
        from monitor.store.pg import begin_sql

        # BEGIN and the locks wait for the transaction's first statement and go with it (one
        # round trip): on PostgreSQL a transaction's cost is its round trips.
        pg = cast("PgConnection", self.db)
        pg.later(begin_sql(serial, keys))  # sent with the transaction's first statement
        try:
            yield self.db
            pg.execute("COMMIT")
        except BaseException:
            pg.rollback()
            raise

    def write(self, sql: str, params: tuple[object, ...], *, returning: bool = False) -> list[Any]:
        """One statement, atomic on its own (no BEGIN/COMMIT round trip); errors as in transaction().
        With `returning` (a statement with RETURNING), the rows it returns."""
        try:
            cursor = self.db.execute(sql, params)
            return list(cursor.fetchall()) if returning else []
        except sqlite3.OperationalError as exc:
            raise StateError(_explain(self.path, exc)) from None

    def schema_version(self) -> int:
        if self.backend == "postgresql":
            return int(self.db.execute("SELECT version FROM monitor_schema").fetchone()[0])
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])


def _open(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create the state directory {path.parent}: {exc.strerror}. "
                         "Set general.state_dir or $STATE_DIRECTORY to a writable folder.") from None
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode never corrupts and survives a crash of the process; a power cut can
        # undo the last commits, which only repeats a fetch or a send (same Message-ID).
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(check)
        _migrate(db)
    except sqlite3.DatabaseError as exc:
        raise StateError(_explain(path, exc)) from None
    return db


def _explain(path: Path, exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "newer than this monitor" in text:
        return f"the state database {path}: {text}"
    if "readonly" in text or "unable to open" in text:
        return (f"cannot write the state database {path}: {text}. Check that the state directory "
                "is writable by the monitor user and that the disk is not full.")
    if "disk is full" in text or "database or disk is full" in text:
        return f"the disk holding {path} is full: free space, then restart monitor."
    return (f"the state database {path} is damaged ({text}). To recover: stop monitor, move the file "
            f"aside (mv {path} {path}.broken) and start again; feeds are re-polled and only items in "
            "the backfill window are analysed again.")


def _migrate(db: sqlite3.Connection) -> None:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise sqlite3.DatabaseError(
            f"schema version {version} is newer than this monitor ({len(MIGRATIONS)}); upgrade monitor")
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in script.split(";\n"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
