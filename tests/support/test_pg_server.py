"""The throwaway PostgreSQL server of tests/support/pg.py and the fixtures pg_server / pg_url."""

from __future__ import annotations

import psycopg
import pytest

from support.pg import PgServer, find_bindir


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables "
                            "WHERE table_schema = 'public' ORDER BY table_name").fetchall()
    return [name for (name,) in rows]


def test_server_accepts_connections_on_loopback(pg_server: PgServer) -> None:
    with psycopg.connect(pg_server.url("postgres")) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        encoding = conn.execute("SHOW server_encoding").fetchone()
    assert version is not None and int(version[0]) >= 130000
    assert encoding == ("UTF8",)
    assert pg_server.url("x").endswith(f"@127.0.0.1:{pg_server.port}/x") or not pg_server.owned


def test_fresh_databases_are_empty_and_isolated(pg_server: PgServer, pg_url: str) -> None:
    other = pg_server.create_database()
    assert other != pg_url
    assert _tables(pg_url) == [] and _tables(other) == []
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, title text)")
        conn.execute("INSERT INTO items VALUES (1, 'Perché sì')")
    assert _tables(pg_url) == ["items"]
    assert _tables(other) == []
    pg_server.drop_database(other)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(other).close()


def test_restart_cuts_connections_and_keeps_data(pg_server: PgServer, pg_url: str) -> None:
    if not pg_server.owned:
        pytest.skip("MONITOR_TEST_PG_URL: the server is not ours to restart")
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, title text)")
        conn.execute("INSERT INTO items VALUES (1, 'città')")
    held = psycopg.connect(pg_url, autocommit=True)
    try:
        pg_server.restart()
        # What the store will meet mid-cycle: the old connection is dead, a new one works.
        with pytest.raises(psycopg.OperationalError):
            held.execute("SELECT 1")
    finally:
        held.close()
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT id, title FROM items").fetchall() == [(1, "città")]


def test_stop_and_start(pg_server: PgServer, pg_url: str) -> None:
    if not pg_server.owned:
        pytest.skip("MONITOR_TEST_PG_URL: the server is not ours to stop")
    pg_server.stop()
    try:
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(pg_url, connect_timeout=2).close()
    finally:
        pg_server.start()
    assert _tables(pg_url) == []


def test_external_server_creates_and_drops_but_never_restarts(pg_server: PgServer) -> None:
    # The MONITOR_TEST_PG_URL path, exercised against the session's own server.
    external = PgServer.external(pg_server.admin_url)
    url = external.create_database()
    assert _tables(url) == []
    with pytest.raises(pytest.skip.Exception):
        external.restart()
    external.close()  # drops what it created, leaves the server running
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url).close()
    with psycopg.connect(pg_server.url("postgres")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_find_bindir_finds_the_server_binaries(pg_server: PgServer) -> None:
    if not pg_server.owned:
        pytest.skip("MONITOR_TEST_PG_URL: binaries not needed")
    bindir = find_bindir()
    assert bindir is not None and (bindir / "initdb").is_file()
