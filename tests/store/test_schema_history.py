"""One schema history on both engines (issue 20): every version of MIGRATIONS has its PostgreSQL
twin, a database stopped at any version is carried to the newest keeping its rows, and both
engines end with the same tables and columns (PostgreSQL's own extras named below)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from monitor.errors import StateError
from monitor.store import feeds
from monitor.store.db import Store
from monitor.store.schema import MIGRATIONS
from monitor.store.schema_pg import PG_MIGRATIONS

# Columns only PostgreSQL has: claims.rowid stands for SQLite's implicit rowid, articles.search
# for the FTS5 index (a virtual table on SQLite), monitor_schema for PRAGMA user_version.
PG_ONLY = {("claims", "rowid"), ("articles", "search")}


def test_both_engines_have_every_version() -> None:
    assert len(PG_MIGRATIONS) == len(MIGRATIONS)


def _stop_sqlite_at(path: Path, version: int) -> None:
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        for statement in script.split(";\n"):
            if statement.strip():
                db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute("INSERT INTO feeds (config_url, url, name, etag) VALUES ('u', 'u', 'Vecchia', '\"e1\"')")
    db.commit()
    db.close()


def _stop_pg_at(url: str, version: int) -> None:
    with psycopg.connect(url, autocommit=True) as db:
        for script in PG_MIGRATIONS[:version]:
            for statement in script.split(";\n"):
                if statement.strip():
                    db.execute(statement)
        db.execute("CREATE TABLE monitor_schema (version INTEGER NOT NULL)")
        db.execute("INSERT INTO monitor_schema VALUES (%s)", (version,))
        db.execute("INSERT INTO feeds (config_url, url, name, etag) VALUES ('u', 'u', 'Vecchia', '\"e1\"')")


@pytest.mark.parametrize("version", range(1, len(MIGRATIONS) + 1))
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_store_stopped_at_any_version_is_migrated_keeping_its_rows(
        engine: str, version: int, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if engine == "sqlite":
        target: str | Path = tmp_path / "state.sqlite3"
        _stop_sqlite_at(Path(target), version)
    else:
        target = request.getfixturevalue("pg_url")
        _stop_pg_at(str(target), version)
    store = Store(target)
    assert store.schema_version() == len(MIGRATIONS)
    (state,) = feeds.active_feeds(store)
    assert state.name == "Vecchia" and state.etag == '"e1"'
    store.close()


def _sqlite_columns(path: Path) -> set[tuple[str, str]]:
    db = sqlite3.connect(path)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'article_fts%' AND name NOT LIKE 'sqlite_%'")]
    return {(t, r[1]) for t in tables for r in db.execute(f"PRAGMA table_info({t})")}


def test_both_engines_end_with_the_same_tables_and_columns(tmp_path: Path, pg_url: str) -> None:
    Store(tmp_path / "state.sqlite3").close()
    Store(pg_url).close()
    with psycopg.connect(pg_url) as db:
        pg = {(t, c) for t, c in db.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name != 'monitor_schema'")}
    assert pg - PG_ONLY == _sqlite_columns(tmp_path / "state.sqlite3")


def test_a_store_from_a_newer_monitor_is_refused_on_postgresql(pg_url: str) -> None:
    Store(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("UPDATE monitor_schema SET version = %s", (len(MIGRATIONS) + 1,))
    with pytest.raises(StateError, match="newer than this monitor"):
        Store(pg_url)


def test_two_daemons_starting_together_on_an_empty_database_migrate_it_once(pg_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: Store(pg_url), range(4)))
    assert {s.schema_version() for s in stores} == {len(MIGRATIONS)}
    for s in stores:
        s.close()
