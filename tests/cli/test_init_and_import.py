"""A newcomer's set-up: the example config copied anywhere, `monitor init DIR`, and
`monitor feeds import` writing into the config file itself (real `monitor` processes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_cli import run_monitor

from monitor.config.load import load_config
from monitor.config.types import DEFAULT_ENTITIES

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_IDS = {"openai", "sam_altman", "elon_musk", "ilya_sutskever", "xai"}


# -- the example config outside the repository -------------------------------------------------


def test_example_config_copied_out_of_the_repository_loads(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """It used to name "monitor/data/entities.toml", relative to the copy: file not found."""
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    copy = tmp_path / "elsewhere" / "config.toml"
    copy.parent.mkdir()
    shutil.copyfile(ROOT / "config.example.toml", copy)
    config = load_config(copy)
    assert config.entities_path == DEFAULT_ENTITIES
    assert {e.id for e in config.entities} == DEFAULT_IDS


def test_unset_entities_file_means_the_bundled_entities(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[general]\nstate_dir = "state"\n', encoding="utf-8")
    config = load_config(tmp_path / "config.toml")
    assert config.entities_path == DEFAULT_ENTITIES and {e.id for e in config.entities} == DEFAULT_IDS


def test_a_named_entities_file_is_still_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('[[entity]]\nid = "x"\nname = "X"\naliases = ["X"]\n', encoding="utf-8")
    (tmp_path / "config.toml").write_text('[general]\nentities_file = "mine.toml"\nstate_dir = "s"\n',
                                          encoding="utf-8")
    assert [e.id for e in load_config(tmp_path / "config.toml").entities] == ["x"]


# -- monitor init --------------------------------------------------------------------------------


def test_init_writes_a_config_and_entities_that_check_accepts(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    result = run_monitor("init", folder)
    assert result.returncode == 0, result.stderr
    config, entities = folder / "config.toml", folder / "entities.toml"
    assert f"wrote {config}" in result.stdout and f"wrote {entities}" in result.stdout
    text = config.read_text(encoding="utf-8")
    assert text.startswith("# monitor") and text.count("\n#") > 50  # the documented example
    assert 'entities_file = "entities.toml"' in text
    assert entities.read_bytes() == DEFAULT_ENTITIES.read_bytes()
    # The entities file it points at is the copy to edit, not the bundled one.
    entities.write_text(entities.read_text(encoding="utf-8").replace('name = "OpenAI"', 'name = "Open AI Inc"'),
                        encoding="utf-8")
    checked = run_monitor("check", "-c", config, env={"STATE_DIRECTORY": str(tmp_path / "state")})
    assert checked.returncode == 0, checked.stderr
    assert f"entities:  {entities} (5)" in checked.stdout and "Open AI Inc" in checked.stdout


def test_init_never_overwrites_and_names_what_is_there(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("# mine\n", encoding="utf-8")
    result = run_monitor("init", tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path / 'config.toml'} already exists" in result.stderr and "nothing written" in result.stderr
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == "# mine\n"
    assert not (tmp_path / "entities.toml").exists()
