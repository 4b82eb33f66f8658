"""[store] (issue 20): where the state lives, validated once with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_config import GOOD_MAIN, write

from monitor.config.load import load_config
from monitor.errors import ConfigError


def with_store(tmp_path: Path, table: str) -> Path:
    return write(tmp_path, GOOD_MAIN.replace("[smtp]", f"[store]\n{table}\n\n[smtp]"))


def test_no_store_table_keeps_the_sqlite_file_in_the_state_directory(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    config = load_config(write(tmp_path, GOOD_MAIN))
    assert config.store.backend == "sqlite" and config.database == tmp_path / "state" / "monitor.sqlite3"
    assert config.store_target == str(config.database)


def test_a_relative_sqlite_url_is_read_from_the_config_folder(tmp_path: Path) -> None:
    config = load_config(with_store(tmp_path, 'url = "sqlite:dati/stato.sqlite3"'))
    assert config.store.backend == "sqlite" and config.database == tmp_path / "dati" / "stato.sqlite3"


def test_a_postgresql_url_selects_the_shared_store_and_its_password_source(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "store-password"
    secret.write_text("s3greto\n", encoding="utf-8")
    config = load_config(with_store(tmp_path, 'url = "postgresql://monitor@db.example:5432/monitor"\n'
                                              f'password_file = "{secret}"\nlease_seconds = 60'))
    assert config.store.backend == "postgresql" and config.store.lease_seconds == 60
    assert config.store.password() == "s3greto" and config.store_target.startswith("postgresql://monitor@")
    monkeypatch.setenv("MONITOR_STORE_PASSWORD", "dall-ambiente")
    env = load_config(with_store(tmp_path, 'url = "postgres://monitor@db.example/monitor"'))
    assert env.store.backend == "postgresql" and env.store.password() == "dall-ambiente"


@pytest.mark.parametrize("table, key, words", [
    ('url = "postgresql://monitor:s3greto@db.example/monitor"', "store.url", "never lives in the TOML"),
    ('password = "s3greto"', "store.password", "never lives in the TOML"),
    ('url = "mysql://db.example/monitor"', "store.url", "unknown store"),
    ('url = "postgresql:///monitor"', "store.url", "no host"),
    ('url = "sqlite:"', "store.url", "needs a file path"),
    ("lease_seconds = 1", "store.lease_seconds", ""),
    ('bogus = 1', "store.bogus", "unknown key"),
])
def test_each_store_mistake_names_its_key(tmp_path: Path, table: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(with_store(tmp_path, table))
    assert key in str(error.value) and words in str(error.value)
    assert "s3greto" not in str(error.value)
