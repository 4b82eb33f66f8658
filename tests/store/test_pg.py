"""The PostgreSQL seam writes values into statements itself: every value must come back as sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from monitor.store.pg import PgConnection, translate

VALUES: list[Any] = [
    None, 0, 7, -1, -(2**40), 2**62, 1.5, -2.25, -0.0, 1e-300, 1.7e9 + 0.123456,
    True, False, "", "l'OpenAI", "''", "a\\b", "\\x41", "--", "/* x */", "; DROP TABLE t; --",
    "«Sono preoccupato», ha scritto", "tab\tnew\nline", "emoji 🚀 and ü", "?", "%s %% %(x)s",
    b"", b"\x00\xff'\\", float("inf"), float("-inf"),
]


@pytest.fixture
def conn(pg_url: str) -> Iterator[PgConnection]:
    db = PgConnection(pg_url, None)
    try:
        yield db
    finally:
        db.close()


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_value_written_into_a_statement_comes_back_unchanged(conn: PgConnection, value: Any) -> None:
    got = conn.execute("SELECT ?", (value,)).fetchone()[0]
    if isinstance(value, bytes):
        assert bytes(got) == value
    elif isinstance(value, float):  # a literal number is NUMERIC, as with psycopg's own quoting
        assert float(got) == value
    else:
        assert got == value and type(got) is type(value)


@pytest.mark.parametrize(("sql", "params", "expected"), [
    ("SELECT 5 - ?", (-1,), 6),  # must not turn into "5 --1", a comment
    ("SELECT 2.5 - ?", (-0.5,), 3.0),
    ("SELECT ? || ?", ("it's", " fine"), "it's fine"),
    ("SELECT CASE WHEN ? IS NULL THEN 'none' ELSE 'some' END", (None,), "none"),
    ("SELECT COUNT(*) FROM (VALUES (1), (2)) AS v(n) WHERE n IN (?, ?)", (1, 2), 2),
])
def test_values_take_their_place_in_expressions(conn: PgConnection, sql: str, params: tuple[Any, ...],
                                                 expected: Any) -> None:
    assert conn.execute(sql, params).fetchone()[0] == expected


def test_a_pending_write_travels_with_the_next_read(conn: PgConnection) -> None:
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    conn.later("BEGIN")
    conn.later_many("INSERT INTO t (id, body) VALUES (?, ?)", [(1, "a'b"), (2, "c?d")])
    rows = conn.execute("SELECT id, body FROM t ORDER BY id").fetchall()
    conn.execute("COMMIT")
    assert [(r["id"], r["body"]) for r in rows] == [(1, "a'b"), (2, "c?d")]


def test_a_text_with_a_nul_is_refused_not_cut(conn: PgConnection) -> None:
    import psycopg

    with pytest.raises(psycopg.DataError):
        conn.execute("SELECT ?", ("before\x00after",))


def test_a_wrong_number_of_values_is_an_error_before_anything_is_sent(conn: PgConnection) -> None:
    with pytest.raises(TypeError, match="2 parameters, 1 values"):
        conn.execute("SELECT ?, ?", (1,))


@pytest.mark.parametrize(("sqlite", "postgresql"), [
    ("INSERT OR IGNORE INTO t (a) VALUES (?)", "INSERT INTO t (a) VALUES (?) ON CONFLICT DO NOTHING"),
    ("INSERT OR IGNORE INTO t (a) VALUES (?) RETURNING id",
     "INSERT INTO t (a) VALUES (?) ON CONFLICT DO NOTHING RETURNING id"),
    ("SELECT 1 FROM t ORDER BY name COLLATE NOCASE", "SELECT 1 FROM t ORDER BY lower(name)"),
    ("SELECT '50%' FROM t WHERE a = ?", "SELECT '50%' FROM t WHERE a = ?"),
])
def test_sqlite_spellings_become_postgresql_ones(sqlite: str, postgresql: str) -> None:
    assert translate(sqlite) == postgresql


def test_strings_and_bytes_are_written_plainly_on_a_standard_server(conn: PgConnection) -> None:
    # standard_conforming_strings is on by default: doubling quotes is the whole escaping, no
    # per-value trip through psycopg's general quoting (a measured cost on large feeds).
    assert conn._render("SELECT ?, ?, ?", ("a\\b", "l'IA", b"\x01\xff")) == \
        "SELECT 'a\\b', 'l''IA', '\\x01ff'::bytea"
