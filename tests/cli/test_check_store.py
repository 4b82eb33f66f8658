"""`monitor check --store`: reach the configured store and read its schema version, writing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.world import write_config

from monitor.cli.checks import run_checks
from monitor.config.load import load_config
from monitor.store.db import Store
from monitor.store.schema import MIGRATIONS


def config_with(tmp_path: Path, store: str = "") -> Path:
    extra = f'\n[store]\nurl = "{store}"\n' if store else ""
    return write_config(tmp_path, [("http://127.0.0.1:9/f.xml", "Fonte")], smtp_port=2525, extra=extra)


async def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = await run_checks(load_config(path), smtp=False, feeds=False, store=True)
    return status, next(line for line in capsys.readouterr().out.splitlines() if line.startswith("store"))


async def test_a_sqlite_state_not_created_yet_is_fine_and_stays_uncreated(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    path = config_with(tmp_path, f"sqlite:{tmp_path / 'state.sqlite3'}")
    status, line = await check(path, capsys)
    assert status == 0 and line.startswith("store ok") and "not created yet" in line
    assert not (tmp_path / "state.sqlite3").exists()
    Store(tmp_path / "state.sqlite3").close()
    status, line = await check(path, capsys)
    assert status == 0 and line.endswith(f"(schema version {len(MIGRATIONS)})")


async def test_postgresql_is_logged_in_to_and_its_schema_read(
        tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = config_with(tmp_path, pg_url)
    status, line = await check(path, capsys)
    assert status == 0 and "no tables yet" in line  # an empty database: nothing was created
    status, line = await check(path, capsys)
    assert "no tables yet" in line
    Store(pg_url).close()
    status, line = await check(path, capsys)
    assert status == 0 and line == f"store ok   PostgreSQL {pg_url} (logged in, schema version {len(MIGRATIONS)})"


async def test_an_unreachable_postgresql_fails_the_check_naming_the_url(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://monitor@127.0.0.1:9/monitor"  # nothing listens on port 9
    status, line = await check(config_with(tmp_path, url), capsys)
    assert status == 1
    assert line.startswith(f"store FAIL cannot connect to the PostgreSQL store {url}")
