"""`monitor store migrate` in a real process: a SQLite state copied into a fresh PostgreSQL
database, the report printed; a second run refused with one clear line; no password shown."""

from __future__ import annotations

import hashlib
from pathlib import Path

from support.sample_state import NOW, build_state
from test_cli import run_monitor

from monitor.store import outbox
from monitor.store.db import Store

SECRET = "parola-segreta-123"


def test_store_migrate_copies_verifies_and_refuses_a_second_time(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "state" / "monitor.sqlite3"
    build_state(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    env = {"MONITOR_STORE_PASSWORD": SECRET}
    done = run_monitor("store", "migrate", "--from", f"sqlite:{path}", "--to", pg_url, env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"source: SQLite {path}" in lines and f"target: PostgreSQL {pg_url}" in lines
    assert any(line.split() == ["articles", "3", "3"] for line in lines)
    assert any(line.split() == ["outbox", "2", "2"] for line in lines)
    assert any(line.startswith("verified: 11 tables with equal row counts") for line in lines)
    assert SECRET not in done.stdout + done.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    store = Store(pg_url)
    assert [r.message_id for r in outbox.due_messages(store, NOW)] == ["<allerta-1@esempio.it>"]
    store.close()

    again = run_monitor("store", "migrate", "--from", str(path), "--to", pg_url, env=env)
    assert again.returncode == 73 and again.stdout == ""
    (line,) = again.stderr.splitlines()
    assert line.startswith(f"monitor: state error: the target PostgreSQL {pg_url} already holds data (rows in feeds")
    assert SECRET not in line
