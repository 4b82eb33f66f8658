"""The console on a real socket: loopback by default, a token anywhere else, Host checked."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import psycopg
import pytest
from web_server import running
from web_state import State

from monitor.config.types import StoreConfig, WebConfig
from monitor.errors import ConfigError, StateError
from monitor.store.archive import Archive, open_archive
from monitor.store.db import Store
from monitor.web.app import build_app
from monitor.web.server import resolve_listen

TOKEN = "s3cret-token-0123456789abcdef"


def test_served_over_a_real_socket_with_the_host_checked(state: State) -> None:
    archive = Archive(state.target)
    try:
        with running(build_app(state.config, archive)) as base:
            front = httpx.get(base + "/")
            assert front.status_code == 200 and "Latest stories" in front.text
            assert "script-src 'none'" in front.headers["content-security-policy"]
            results = httpx.get(base + "/api/search", params={"q": "aperta"}).json()
            assert len(results["hits"]) == 2
            # A page elsewhere whose name was rebound to 127.0.0.1 sends its own Host: refused.
            rebound = httpx.get(base + "/api/search?q=aperta", headers={"Host": "evil.example:8080"})
            assert rebound.status_code == 421 and "hits" not in rebound.text
            assert httpx.get(base + "/", headers={"Host": "localhost:8080"}).status_code == 200
    finally:
        archive.close()


def test_off_loopback_every_request_needs_the_token(state: State) -> None:
    archive = Archive(state.target)
    try:
        app = build_app(state.config, archive, token=TOKEN, loopback_only=False)
        with running(app) as base, httpx.Client(base_url=base) as client:
            bare = client.get("/api/search?q=aperta")
            assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Bearer")
            assert client.get("/api/search?q=aperta", headers={"Authorization": "Bearer wrong"}).status_code == 401
            ok = client.get("/api/search?q=aperta", headers={"Authorization": f"Bearer {TOKEN}"})
            assert ok.status_code == 200 and len(ok.json()["hits"]) == 2
            # A browser is sent to the sign-in form, and the form sets a session cookie.
            browser = client.get("/feeds", headers={"Accept": "text/html"})
            assert browser.status_code == 303 and browser.headers["location"] == "/login"
            assert client.post("/login", data={"token": "nope"}).status_code == 401
            signed = client.post("/login", data={"token": TOKEN})
            assert signed.status_code == 303
            cookie = signed.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
            assert TOKEN not in cookie
            assert client.get("/feeds", headers={"Accept": "text/html"}).status_code == 200
    finally:
        archive.close()


def test_listening_off_loopback_without_a_token_file_is_refused(state: State, tmp_path: Path) -> None:
    assert resolve_listen(state.config, None).host == "127.0.0.1"
    assert resolve_listen(state.config, "[::1]:9000").port == 9000
    with pytest.raises(ConfigError, match="web.token_file"):
        resolve_listen(state.config, "0.0.0.0:8080")
    token = tmp_path / "token"
    token.write_text("short\n")
    with pytest.raises(ConfigError, match="shorter than"):
        resolve_listen(replace(state.config, web=WebConfig("0.0.0.0:8080", str(token))), None)
    token.write_text(TOKEN + "\n")
    listen = resolve_listen(replace(state.config, web=WebConfig("0.0.0.0:8080", str(token))), None)
    assert (listen.host, listen.port, listen.token) == ("0.0.0.0", 8080, TOKEN)
    with pytest.raises(ConfigError, match="127.0.0.1:8080"):
        resolve_listen(state.config, "8080")


def test_the_command_says_why_it_will_not_listen_on_a_public_address(state: State) -> None:
    done = subprocess.run([sys.executable, "-m", "monitor", "web", "-c", str(state.config_path),
                           "--listen", "0.0.0.0:8080"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 78
    assert "web.token_file" in done.stderr and "ssh -L 8080:127.0.0.1:8080" in done.stderr


def test_an_older_schema_is_not_migrated_by_the_console(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE feeds (id INTEGER PRIMARY KEY)")
        db.execute("PRAGMA user_version = 4")
    with pytest.raises(StateError, match="restart the daemon"):
        Archive(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 4
    with pytest.raises(StateError, match="does not exist yet"):
        Archive(tmp_path / "missing.sqlite3")


def test_on_postgresql_the_console_reads_only_and_never_migrates(pg_url: str) -> None:
    with pytest.raises(StateError, match="holds no monitor state yet: run the daemon"):
        Archive(pg_url)  # an empty database
    with pytest.raises(StateError, match="does not exist yet"):
        Archive(pg_url.rsplit("/", 1)[0] + "/nessuna_base")
    Store(pg_url).close()  # the daemon's store creates the schema
    archive = Archive(pg_url)
    assert archive.backend == "postgresql"
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        archive.db.execute("INSERT INTO digest_runs (digest, last_run_at) VALUES ('mattina', 0)")
    archive.close()
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("UPDATE monitor_schema SET version = 4")
    with pytest.raises(StateError, match="schema version 4, this monitor expects .*restart the daemon"):
        Archive(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as db:
        assert db.execute("SELECT version FROM monitor_schema").fetchone() == (4,)
        db.execute("UPDATE monitor_schema SET version = 99")
    with pytest.raises(StateError, match="upgrade monitor"):
        Archive(pg_url)


def test_open_archive_follows_the_store_config(pg_url: str, tmp_path: Path) -> None:
    Store(pg_url).close()
    archive = open_archive(StoreConfig(url=pg_url), tmp_path / "unused.sqlite3")
    assert archive.backend == "postgresql" and archive.url == pg_url
    archive.close()
    Store(tmp_path / "state.sqlite3").close()
    local = open_archive(StoreConfig(), tmp_path / "state.sqlite3")
    assert local.backend == "sqlite" and local.path == tmp_path / "state.sqlite3"
    local.close()
