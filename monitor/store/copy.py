"""Copy a SQLite state into another store (`monitor store migrate`): PostgreSQL, or SQLite.

The source is opened read-only (a `mode=ro` URI) and read in one snapshot, so a daemon still
running on it does no harm (stop it anyway: what it writes after the snapshot is not copied).
A source at an older schema version is upgraded in a temporary copy (SQLite's backup API), never
in place. The target is opened (and its schema created) as a Store; one that already holds a row
in any table is refused before anything is written to it.

Every table of the schema is copied in foreign-key order, by column name, in batches, keeping the
ids (claims: SQLite's implicit rowid into the `rowid` column PostgreSQL gives them), in ONE target
transaction that also moves the identity sequences past the copied ids and verifies, before it
commits, each table's row count and a checksum of key columns (the outbox's Message-IDs and
bytes, the articles' keys, the feeds' validators) against the source snapshot. Any difference
rolls everything back: the target is either a full, verified copy or as it was.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.errors import StateError
from monitor.store.db import Connection, Store
from monitor.store.schema import MIGRATIONS

# Every table of the schema, parents before children (article_sources → articles, feeds;
# digest_marks and alerts → articles, outbox). A test checks the list against the schema.
TABLES = ("feeds", "articles", "article_sources", "mentions", "claims", "tombstones", "outbox",
          "digest_marks", "digest_runs", "alerts", "digest_slots")
# SQLite's full-text index (v7) is rebuilt by the target itself (PostgreSQL: a generated column;
# SQLite: the triggers), so it is not copied.
_DERIVED_PREFIX = ("sqlite_", "article_fts")
# Tables whose rows have no id of their own: SQLite's implicit rowid is copied (PostgreSQL's
# `rowid` identity column; SQLite's rowid) so their order and identity stay.
_ROWID_TABLES = ("claims",)
# Columns whose checksum must match besides the counts: what a daemon relies on to not poll,
# analyse or send anything twice.
CHECKSUMS: dict[str, tuple[str, ...]] = {
    "feeds": ("id", "config_url", "etag", "last_modified", "next_check_at"),
    "articles": ("id", "guid_key", "url_key", "fp_key", "content_hash", "status"),
    "outbox": ("id", "message_id", "status", "raw"),
    "claims": ("rowid", "article_id", "text", "score"),
    "mentions": ("article_id", "entity", "start", "end"),
    "digest_marks": ("digest", "article_id", "outbox_id"),
    "alerts": ("article_id", "entity", "outbox_id", "state"),
}
BATCH = 1000

Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in the table


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int


@dataclass
class CopyReport:
    source: str
    target: str
    tables: list[TableCount] = field(default_factory=list)
    checksums: list[str] = field(default_factory=list)  # the tables whose checksum matched
    upgraded_from: int | None = None  # the source's schema version, if older than this monitor's
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.target for t in self.tables)


def copy_store(source: str | Path, target: str, *, password: str | None = None,
               progress: Progress | None = None, batch: int = BATCH) -> CopyReport:
    """Copy the SQLite state `source` (a path or `sqlite:PATH`) into `target` (a postgresql://
    URL, its password given apart, or `sqlite:PATH`). StateError, with nothing written to the
    target, when the source cannot be read, the target cannot be opened or already holds data,
    or the copy does not verify."""
    started = time.monotonic()
    src_path = _source_path(source)
    with ExitStack() as stack:
        src, upgraded_from = _open_source(src_path, stack)
        _check_tables(src, src_path)
        _refuse_data(target, password)
        store = _open_target(target, password)
        stack.callback(store.close)
        report = CopyReport(source=f"SQLite {src_path}", target=store.describe, upgraded_from=upgraded_from)
        src.execute("BEGIN")  # one read snapshot for the copy and the verification
        stack.callback(src.execute, "ROLLBACK")
        errors = _db_errors(store)
        try:
            with store.transaction() as db:
                if (held := _tables_with_rows(db, TABLES)):
                    raise StateError(_holds_data(store.describe, held))
                for table in TABLES:
                    _copy_table(src, db, store, table, batch, progress)
                if store.backend == "postgresql":
                    _reset_identities(db)
                _verify(src, db, report)
        except errors as exc:
            raise StateError(f"copying into {store.describe} failed, nothing was written: "
                             f"{_first_line(exc)}") from None
    report.seconds = time.monotonic() - started
    return report


def _source_path(source: str | Path) -> Path:
    if isinstance(source, str):
        if source.startswith(("postgresql://", "postgres://")):
            raise StateError("the source must be a SQLite state file (sqlite:PATH or a path); "
                             "copying from PostgreSQL is not supported")
        source = source.removeprefix("sqlite:")
    return Path(source)


def _open_ro(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StateError(f"no SQLite state at {path}")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                             check_same_thread=False, timeout=10)
        check = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StateError(f"cannot read the SQLite state {path}: {exc}") from None
    if check != "ok":
        db.close()
        raise StateError(f"the SQLite state {path} is damaged ({check}); nothing copied")
    return db


def _open_source(path: Path, stack: ExitStack) -> tuple[sqlite3.Connection, int | None]:
    """The source, read-only, at this monitor's schema version (older: upgraded in a temp copy)."""
    db = _open_ro(path)
    stack.callback(db.close)
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == len(MIGRATIONS):
        return db, None
    if version > len(MIGRATIONS):
        raise StateError(f"the SQLite state {path} has schema version {version}, newer than this "
                         f"monitor ({len(MIGRATIONS)}); upgrade monitor")
    # An older state (a daemon of a previous release last wrote it): upgrade a copy, not the file.
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="monitor-migrate-")))
    upgraded = folder / "source.sqlite3"
    copy = sqlite3.connect(upgraded)
    try:
        db.backup(copy)
    finally:
        copy.close()
    Store(upgraded).close()  # runs the migrations
    again = _open_ro(upgraded)
    stack.callback(again.close)
    return again, version


def _check_tables(src: sqlite3.Connection, path: Path) -> None:
    """Every table of the schema, and no other: a table this monitor does not know would be lost."""
    names = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    names = {n for n in names if not n.startswith(_DERIVED_PREFIX)}
    if missing := [t for t in TABLES if t not in names]:
        raise StateError(f"{path} lacks the table(s) {', '.join(missing)}: is it a monitor state?")
    if unknown := sorted(names - set(TABLES)):
        raise StateError(f"{path} has table(s) {', '.join(unknown)} that this monitor does not know; "
                         "nothing copied (a newer monitor's state? upgrade monitor)")


def _refuse_data(target: str, password: str | None) -> None:
    """Before the target's schema is created or upgraded: refuse it if any table holds a row."""
    if target.startswith(("postgresql://", "postgres://")):
        from monitor.store.pg import PgConnection, safe_url

        pg = PgConnection(target, password)
        try:
            present = [t for t in TABLES if pg.execute("SELECT to_regclass(?) IS NOT NULL", (t,)).fetchone() == (True,)]
            held = _tables_with_rows(pg, present)
        finally:
            pg.close()
        if held:
            raise StateError(_holds_data(f"PostgreSQL {safe_url(target)}", held))
        return
    path = Path(target.removeprefix("sqlite:"))
    if not path.exists():
        return
    db = _open_ro(path)
    try:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        held = _tables_with_rows(db, [t for t in TABLES if t in names])
    finally:
        db.close()
    if held:
        raise StateError(_holds_data(f"SQLite {path}", held))


def _open_target(target: str, password: str | None) -> Store:
    """The target Store, its schema created or brought to the newest version."""
    if not target.startswith(("postgresql://", "postgres://")):
        return Store(target)
    import psycopg

    from monitor.store.pg import safe_url

    try:
        return Store(target, password=password)
    except psycopg.Error as exc:  # e.g. a role that may not create tables
        raise StateError(f"cannot create the schema in the PostgreSQL store {safe_url(target)}: "
                         f"{_first_line(exc)}") from None


def _tables_with_rows(db: Connection, tables: Sequence[str]) -> list[str]:
    return [t for t in tables if db.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is not None]


def _holds_data(target: str, tables: Sequence[str]) -> str:
    return (f"the target {target} already holds data (rows in {', '.join(tables)}); nothing was written. "
            "Copy into an empty database (or drop and recreate this one if its data is not needed).")


def _db_errors(store: Store) -> tuple[type[Exception], ...]:
    if store.backend == "postgresql":
        import psycopg

        return (psycopg.Error, sqlite3.Error)
    return (sqlite3.Error,)


def _source_columns(src: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in src.execute(f"PRAGMA table_info({table})")]


def _target_columns(db: Connection, store: Store, table: str) -> set[str]:
    if store.backend == "postgresql":
        # Generated columns (articles.search) are computed by the target, never written.
        rows = db.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                          "current_schema() AND table_name = ? AND is_generated = 'NEVER'", (table,))
        return {r[0] for r in rows}
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def _copy_table(src: sqlite3.Connection, db: Connection, store: Store, table: str, batch: int,
                progress: Progress | None) -> None:
    columns = _source_columns(src, table)
    if not columns:
        raise StateError(f"the source has no table {table}; is it a monitor state?")
    unknown = [c for c in columns if c not in _target_columns(db, store, table)]
    if unknown:
        raise StateError(f"the source's {table} has column(s) {', '.join(unknown)} that the target "
                         f"{store.describe} lacks; both must be at schema version {len(MIGRATIONS)}")
    if table in _ROWID_TABLES:
        columns = ["rowid", *columns]
    names = _quoted(columns)
    total = int(src.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    done = 0
    if progress:
        progress(table, 0, total)
    batches = _batches(src, f"SELECT {names} FROM {table} ORDER BY rowid", batch)
    if store.backend == "postgresql":
        # COPY: a row per INSERT (or a multi-row INSERT bound on the client) is ~5x slower.
        from monitor.store.pg import PgConnection

        assert isinstance(db, PgConnection)
        with db.conn.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for rows in batches:
                for row in rows:
                    copy.write_row(row)
                done += len(rows)
                if progress:
                    progress(table, done, total)
        return
    insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    for rows in batches:
        db.executemany(insert, rows)
        done += len(rows)
        if progress:
            progress(table, done, total)


def _quoted(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)  # `end` is reserved in PostgreSQL


def _batches(src: sqlite3.Connection, sql: str, size: int) -> Iterator[list[tuple[Any, ...]]]:
    cursor = src.execute(sql)
    while rows := cursor.fetchmany(size):
        yield rows


def _reset_identities(db: Connection) -> None:
    """Each identity sequence past the largest copied id, so a new row never takes a copied id."""
    rows = db.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
                      "current_schema() AND is_identity = 'YES'").fetchall()
    for table, column in rows:
        db.execute(f'SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX("{column}") FROM {table}), 0) + 1, '
                   "false)", (table, column))


def _verify(src: sqlite3.Connection, db: Connection, report: CopyReport) -> None:
    """Inside the copy's transaction: counts and checksums equal, or StateError (rolled back)."""
    for table in TABLES:
        count = TableCount(table, int(src.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]),
                           int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]))
        report.tables.append(count)
        if count.source != count.target:
            raise StateError(f"{table}: {count.source} rows in the source but {count.target} in the copy; "
                             "rolled back, nothing was written")
    for table, columns in CHECKSUMS.items():
        sql = f"SELECT {_quoted(columns)} FROM {table}"
        if _checksum(src.execute(sql)) != _checksum(_stream(db, sql)):
            raise StateError(f"{table}: the copy's {', '.join(columns)} differ from the source's; "
                             "rolled back, nothing was written")
        report.checksums.append(table)


def _stream(db: Connection, sql: str) -> Iterator[Any]:
    """The rows of a query a batch at a time (the outbox's bytes can be large): on PostgreSQL
    through a server-side cursor, which a plain execute would fetch whole."""
    from monitor.store.pg import PgConnection

    if not isinstance(db, PgConnection):
        yield from db.execute(sql)
        return
    with db.conn.cursor(name="monitor_copy_verify") as cursor:
        cursor.itersize = BATCH
        cursor.execute(sql)
        yield from cursor


def _checksum(rows: Any) -> int:
    """Independent of the row order (the engines sort text by different collations)."""
    total = 0
    for row in rows:
        line = repr(tuple(_canonical(v) for v in row)).encode()
        total = (total + int.from_bytes(hashlib.sha256(line).digest())) % (1 << 256)
    return total


def _canonical(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a time SQLite kept as an integer reads back the same
    return value


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
