"""The PostgreSQL side of the store's dialect seam (psycopg 3, imported only when configured).

The store's modules write one SQL text for both engines, in SQLite's spelling with `?`
parameters. `PgConnection` gives them the part of sqlite3.Connection they use (execute,
executemany, rows readable by position and by name) and rewrites the few spellings that differ
(`INSERT OR IGNORE` → `ON CONFLICT DO NOTHING`, `COLLATE NOCASE` → `lower()`). Parameters are
bound on the client, each `?` replaced by its value as an SQL literal: like SQLite, a `?`
compared with NULL or used in a CASE needs no declared type.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from monitor.errors import StateError

if TYPE_CHECKING:
    import psycopg

# Every write transaction takes this lock first, so writers run one at a time as under SQLite's
# BEGIN IMMEDIATE: the checks each transaction makes before writing (is this article known, is
# this alert still owed, is this slot free) hold until it commits, across every daemon. Writes
# are short (ms); the long parts (fetching, parsing, NLP, SMTP) run outside any transaction.
WRITE_LOCK = 0x6D6F6E69  # "moni"


def begin_sql(serial: bool, keys: list[str]) -> str:
    """BEGIN and the transaction's locks, as one text: the write lock exclusive (serial), or
    shared plus one lock per key, taken in a fixed (sorted) order so two transactions never
    wait on each other in a circle."""
    if not serial:
        return "BEGIN"
    if not keys:
        return f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
    numbers = sorted({_key_lock(k) for k in keys})
    return (f"BEGIN; SELECT pg_advisory_xact_lock_shared({WRITE_LOCK}); "
            f"SELECT pg_advisory_xact_lock(k) FROM unnest(ARRAY[{','.join(map(str, numbers))}]::bigint[]) "
            "WITH ORDINALITY AS t(k, n) ORDER BY n")


def _key_lock(key: str) -> int:
    """A key's lock number: 64 bits of its hash (a collision only serialises two transactions)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


class Row(tuple[Any, ...]):
    """A result row readable as row[0] and row["name"], like sqlite3.Row."""

    __slots__ = ()
    names: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


@lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "names": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: Any) -> Any:
    names = tuple(c.name for c in cursor.description or ())
    cls = _row_class(names)
    return lambda values: cls(values)


# The one row group of `INSERT … VALUES (?, …)`, to repeat for a multi-row insert.
_VALUES = re.compile(r"^\s*INSERT (?:OR IGNORE )?INTO [^;]*? VALUES\s*(\([?,\s]+\))", re.IGNORECASE | re.DOTALL)
_ROWS_PER_INSERT = 500
_INSERT_IGNORE = re.compile(r"^\s*INSERT OR IGNORE INTO", re.IGNORECASE)
_NOCASE = re.compile(r"([\w.]+) COLLATE NOCASE")
_RETURNING = re.compile(r"\sRETURNING\s", re.IGNORECASE)


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """SQLite's spelling → PostgreSQL's, for the statements the store writes (`?` stays)."""
    if _INSERT_IGNORE.match(sql):
        sql = _INSERT_IGNORE.sub("INSERT INTO", sql, count=1)
        found = _RETURNING.search(sql)
        at = found.start() if found else len(sql)
        sql = f"{sql[:at]} ON CONFLICT DO NOTHING{sql[at:]}"
    return _NOCASE.sub(r"lower(\1)", sql)


@lru_cache(maxsize=1024)
def _template(sql: str) -> list[str]:
    """The translated statement split at its `?` parameters, for _render to join with values."""
    return translate(sql).split("?")


def safe_url(url: str) -> str:
    """The URL for messages and status: never a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    netloc += f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=netloc))


class PgConnection:
    """One psycopg connection in autocommit mode; transactions are opened explicitly (BEGIN),
    as the SQLite side does. A lost connection (a server restart) raises StateError once and is
    reopened by the next statement: the caller's unit of work is retried at its next tick."""

    def __init__(self, url: str, password: str | None) -> None:
        self.url, self._password = url, password
        self._conn: psycopg.Connection[Any] | None = None
        self._pending: list[str] = []
        self._mogrifier: psycopg.ClientCursor[Any] | None = None
        self._plain_strings = False
        self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg

        try:
            conn = psycopg.connect(self.url, password=self._password, autocommit=True, connect_timeout=10,
                                   cursor_factory=psycopg.ClientCursor, row_factory=_row_factory,
                                   application_name="monitor")
        except psycopg.Error as exc:
            raise StateError(f"cannot connect to the PostgreSQL store {safe_url(self.url)}: "
                             f"{first_line(exc)}. Check store.url, the password (store.password_env / "
                             "store.password_file) and that the server accepts connections.") from None
        self._conn = conn
        # A backslash in a string literal is a plain character (the default since PostgreSQL
        # 9.1): doubling the quotes is then the whole escaping (_literal).
        self._plain_strings = conn.info.parameter_status("standard_conforming_strings") == "on"
        return conn

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            return self._connect()
        return self._conn

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self._pending) or self._conn is not None and not self._conn.closed and \
            self._conn.info.transaction_status != TransactionStatus.IDLE

    # Statements whose result nobody reads (BEGIN and its locks, the writes of a transaction)
    # wait here and travel with the next statement that is read, or with COMMIT: one round trip
    # instead of one each. Client-side binding renders each with its values; the simple query
    # protocol takes them as one text. An error in one surfaces at that next statement, inside
    # the same transaction, which then rolls back as any failed transaction does.

    def later(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._pending.append(self._render(sql, tuple(params)))

    def later_many(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        self._pending.extend(self._render(text, values) for text, values in _statements(sql, seq))

    def rollback(self) -> None:
        """End a failed transaction: unsent statements are dropped, a begun one rolled back."""
        self._pending.clear()
        if self.in_transaction:
            self.execute("ROLLBACK")

    def _render(self, sql: str, values: tuple[Any, ...]) -> str:
        """The statement with its values written in as SQL literals (client-side binding)."""
        if not values:
            return translate(sql)
        parts = _template(sql)
        if len(parts) != len(values) + 1:
            raise TypeError(f"the statement has {len(parts) - 1} parameters, {len(values)} values given")
        out = [parts[0]]
        for value, part in zip(values, parts[1:], strict=True):
            out.append(self._literal(value))
            out.append(part)
        return "".join(out)

    def _literal(self, value: Any) -> str:
        # The store binds a handful of types; these are written here (a str is most of a
        # statement's bytes, and psycopg's general path costs ~5x as much). Anything else, or a
        # string on a server without standard_conforming_strings, goes through psycopg.
        kind = type(value)
        if value is None:
            return "NULL"
        if kind is str and self._plain_strings and "\0" not in value:
            return "'" + value.replace("'", "''") + "'"
        if kind is int or kind is float and math.isfinite(value):
            text = repr(value)
            return f"({text})" if text[0] == "-" else text  # "x - -1" must not become a comment
        if kind is bool:
            return "true" if value else "false"
        if kind is bytes and self._plain_strings:
            return f"'\\x{value.hex()}'::bytea"
        if self._mogrifier is None or self._mogrifier.connection is not self.conn:
            import psycopg

            self._mogrifier = psycopg.ClientCursor(self.conn)
        return self._mogrifier.mogrify("%s", (value,))

    def execute(self, sql: str, params: Sequence[Any] | None = ()) -> psycopg.ClientCursor[Any]:
        text = "; ".join([*self._pending, self._render(sql, tuple(params or ()))])
        self._pending.clear()
        return self._run(lambda c: _last_result(c.execute(text)))

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> None:
        statements = _statements(sql, seq)
        if statements:
            self._pending.extend(self._render(text, values) for text, values in statements[:-1])
            self.execute(*statements[-1])

    def _run(self, call: Any) -> Any:
        import psycopg

        try:
            return call(self.conn)
        except psycopg.OperationalError as exc:
            if self._conn is not None and self._conn.closed or _connection_lost(exc):
                self.drop()
                raise StateError(f"lost the connection to the PostgreSQL store {safe_url(self.url)} "
                                 f"({first_line(exc)}); the work is retried after reconnecting") from None
            raise

    def drop(self) -> None:
        self._pending.clear()
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def close(self) -> None:
        self.drop()

# Held (session level) while the schema is checked and migrated: two daemons starting at once on
# an empty database must not both create the tables.
MIGRATE_LOCK = 0x6D6F6E6D  # "monm"


def migrate_pg(db: PgConnection) -> None:
    """Bring the database to the newest schema (PG_MIGRATIONS), one transaction per version."""
    from monitor.store.schema_pg import PG_MIGRATIONS

    db.execute("SELECT pg_advisory_lock(?)", (MIGRATE_LOCK,))
    try:
        db.execute("CREATE TABLE IF NOT EXISTS monitor_schema (version INTEGER NOT NULL)")
        row = db.execute("SELECT version FROM monitor_schema").fetchone()
        if row is None:
            db.execute("INSERT INTO monitor_schema (version) VALUES (0)")
        version = int(row[0]) if row else 0
        if version > len(PG_MIGRATIONS):
            raise StateError(f"the PostgreSQL store {safe_url(db.url)} has schema version {version}, newer "
                             f"than this monitor ({len(PG_MIGRATIONS)}); upgrade monitor")
        for number, script in enumerate(PG_MIGRATIONS[version:], start=version + 1):
            db.execute("BEGIN")
            try:
                for statement in script.split(";\n"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("UPDATE monitor_schema SET version = ?", (number,))
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
    finally:
        if db._conn is not None and not db._conn.closed:
            db.execute("SELECT pg_advisory_unlock(?)", (MIGRATE_LOCK,))


def _statements(sql: str, seq: Iterable[Sequence[Any]]) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements an executemany amounts to: an INSERT of one row per parameter set becomes
    one statement per 500 rows (a statement is a round trip on PostgreSQL, nothing on SQLite);
    not with RETURNING (callers read one row per set) nor DO UPDATE (one statement may not
    update a row twice). Anything else: one statement per set."""
    rows = [tuple(r) for r in seq]
    upper = sql.upper()
    values = _VALUES.search(sql)
    if values is None or " RETURNING " in upper or "DO UPDATE" in upper:
        return [(sql, row) for row in rows]
    group, head, tail = values.group(1), sql[:values.start(1)], sql[values.end(1):]
    return [(head + ", ".join([group] * len(chunk)) + tail, tuple(v for row in chunk for v in row))
            for chunk in (rows[i:i + _ROWS_PER_INSERT] for i in range(0, len(rows), _ROWS_PER_INSERT))]


def _last_result(cursor: Any) -> Any:
    """After several statements in one text, the cursor on the last one's result."""
    while cursor.nextset():
        pass
    return cursor


def _connection_lost(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("connection", "shutting down", "consuming input failed"))


def first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
