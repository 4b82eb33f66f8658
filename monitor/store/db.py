"""SQLite state (WAL): feeds, articles, mentions, claims, digests marks and the outbox.

One connection, used from the event loop thread only. Every write that must be atomic runs
inside `transaction()`; times are stored as UTC unix seconds (REAL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from monitor.errors import StateError
from monitor.store.schema import MIGRATIONS


def ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


class Store:
    """The database handle; feed, article and outbox operations live in mixin-free helpers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = _open(path)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT; rolled back on any exception so no half-written state stays."""
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

    def write(self, sql: str, params: tuple[object, ...]) -> None:
        """One statement, atomic on its own (no BEGIN/COMMIT round trip); errors as in transaction()."""
        try:
            self.db.execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise StateError(_explain(self.path, exc)) from None

    def schema_version(self) -> int:
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
