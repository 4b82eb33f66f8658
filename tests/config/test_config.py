"""Config loading: typed objects, and one clear message per mistake naming file and key."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config.load import load_config
from monitor.config.types import DEFAULT_ENTITIES
from monitor.errors import EX_CONFIG, ConfigError

ROOT = Path(__file__).resolve().parents[2]

GOOD_MAIN = """
[general]
entities_file = "entities.toml"
state_dir = "state"

[smtp]
host = "mail.example.org"
tls = "starttls"
username = "monitor"

[[digest]]
name = "mattina"
schedule = "0 8 * * *"
recipients = ["a@example.org"]
actors = ["elon_musk"]

[[feeds]]
url = "https://www.example.it/feed/"
"""


def write(tmp_path: Path, main: str, entities: str | None = None) -> Path:
    (tmp_path / "config.toml").write_text(main, encoding="utf-8")
    if entities is None:
        shutil.copy(DEFAULT_ENTITIES, tmp_path / "entities.toml")
    else:
        (tmp_path / "entities.toml").write_text(entities, encoding="utf-8")
    return tmp_path / "config.toml"


def test_good_config_becomes_typed_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    config = load_config(write(tmp_path, GOOD_MAIN))
    assert [e.id for e in config.entities] == ["openai", "sam_altman", "elon_musk", "ilya_sutskever", "xai"]
    assert config.timezone.key == "Europe/Rome"
    assert config.digests[0].actors == ("elon_musk",)
    assert config.feeds[0].name == "www.example.it"
    assert config.polling.interval_minutes == 15.0
    assert config.database == tmp_path / "state" / "monitor.sqlite3"


def test_state_directory_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "sd"))
    assert load_config(write(tmp_path, GOOD_MAIN)).state_dir == tmp_path / "sd"


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    config = load_config(ROOT / "config.example.toml")
    assert {e.id for e in config.entities} == {"openai", "sam_altman", "elon_musk", "ilya_sutskever", "xai"}
    assert len(config.feeds) >= 10
    assert all(f.url.startswith("https://") for f in config.feeds)


ENTITY = '[[entity]]\nid = "x"\nname = "X"\nkind = "person"\naliases = ["X"]\n'


@pytest.mark.parametrize(("main", "entities", "key", "reason"), [
    (GOOD_MAIN.replace('name = "mattina"\n', ""), None, "digest[0].name", "missing required key"),
    (GOOD_MAIN.replace('host = "mail', 'hots = "mail'), None, "smtp.hots", "unknown key"),
    (GOOD_MAIN + "\n[polling]\ninterval_minutes = \"often\"\n", None, "polling.interval_minutes",
     "must be float, not a string"),
    (GOOD_MAIN, ENTITY.replace('["X"]', "[]"), "entity[0].aliases", "must list at least one alias"),
    (GOOD_MAIN.replace('"entities.toml"', '"missing.toml"'), None, "general.entities_file", "file not found"),
    (GOOD_MAIN + "\n[polling]\ninterval_minutes = 2\n", None, "polling.interval_minutes", "at least 5"),
    (GOOD_MAIN.replace('"0 8 * * *"', '"every morning"'), None, "digest[0].schedule", "not a cron"),
    (GOOD_MAIN.replace('actors = ["elon_musk"]', 'actors = ["elon"]'), None, "digest[0].actors[0]",
     "unknown entity id 'elon'"),
    (GOOD_MAIN.replace('username = "monitor"', 'username = "m"\npassword = "hunter2"'), None,
     "smtp.password", "never lives in the TOML"),
    (GOOD_MAIN.replace('tls = "starttls"', 'tls = "none"'), None, "smtp.tls", "never sent without TLS"),
    (GOOD_MAIN.replace("https://www.example.it/feed/", "ftp://x/feed"), None, "feeds[0].url", "http(s) URL"),
    (GOOD_MAIN, ENTITY + ENTITY, "entity[1].id", "duplicate entity id"),
    (GOOD_MAIN, ENTITY.replace('kind = "person"', 'kind = "robot"'), "entity[0].kind", "must be one of"),
    (GOOD_MAIN, ENTITY + 'alais = ["y"]\n', "entity[0].alais", "unknown key"),
    (GOOD_MAIN + "\n[general]\n", None, "", "invalid TOML"),
    (GOOD_MAIN.replace('["a@example.org"]', '["not-an-address"]'), None, "digest[0].recipients[0]",
     "not an email address"),
])
def test_each_mistake_has_its_own_message(tmp_path: Path, main: str, entities: str | None,
                                          key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, main, entities if entities is None else entities))
    assert info.value.key == key
    assert reason in info.value.reason
    assert str(info.value).startswith(info.value.file)


def test_entities_error_names_the_entities_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, GOOD_MAIN, ENTITY.replace('["X"]', "[]")))
    assert info.value.file.endswith("entities.toml")


@pytest.mark.parametrize("command", ["check", "run", "once"])
def test_bad_config_exits_78_with_the_key(tmp_path: Path, command: str) -> None:
    path = write(tmp_path, GOOD_MAIN.replace('host = "mail', 'hots = "mail'))
    proc = subprocess.run([sys.executable, "-m", "monitor", command, "--config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == EX_CONFIG
    assert "smtp.hots" in proc.stderr and "unknown key" in proc.stderr


def test_check_prints_a_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, GOOD_MAIN)
    proc = subprocess.run([sys.executable, "-m", "monitor", "check", "--config", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "elon_musk" in proc.stdout and "https://www.example.it/feed/" in proc.stdout


def test_password_comes_from_env_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(write(tmp_path, GOOD_MAIN))
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", "from-env")
    assert config.smtp.password() == "from-env"
    secret = tmp_path / "cred"
    secret.write_text("from-file\n")
    main = GOOD_MAIN.replace('username = "monitor"', f'username = "monitor"\npassword_file = "{secret}"')
    assert load_config(write(tmp_path, main)).smtp.password() == "from-file"
