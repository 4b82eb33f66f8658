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


def test_unset_entities_file_with_entities_toml_beside_the_config_uses_it(tmp_path: Path) -> None:
    """The long-standing default stays: configs written for it keep their own entities."""
    (tmp_path / "entities.toml").write_text('[[entity]]\nid = "y"\nname = "Y"\naliases = ["Y"]\n',
                                            encoding="utf-8")
    (tmp_path / "config.toml").write_text('[general]\nentities_file = ""\nstate_dir = "s"\n', encoding="utf-8")
    config = load_config(tmp_path / "config.toml")
    assert config.entities_path == tmp_path / "entities.toml" and [e.id for e in config.entities] == ["y"]


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


# -- monitor feeds import ------------------------------------------------------------------------

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>Le mie fonti</title></head><body>
<outline text="Tecnologia">
  <outline type="rss" text="HDblog" title="HDblog" xmlUrl="https://www.hdblog.it/feed/"/>
  <outline type="rss" text="Fonte &amp; &quot;Nuova&quot;" xmlUrl="https://nuova.example/rss?a=1&amp;b=2"/>
</outline>
<outline type="rss" text="Altra" xmlUrl="https://altra.example/feed"/>
</body></opml>
"""


def test_feeds_import_writes_into_the_config_keeping_it_and_reports_what_is_there(tmp_path: Path) -> None:
    assert run_monitor("init", tmp_path).returncode == 0
    config = tmp_path / "config.toml"
    # The admin's own touch: a comment and an odd spacing that a re-render would lose.
    original = config.read_text(encoding="utf-8").replace(
        'name = "HDblog"', 'name   =   "HDblog"   # la prima fonte')
    config.write_text(original, encoding="utf-8")
    opml = tmp_path / "list.opml"
    opml.write_text(OPML, encoding="utf-8")
    env = {"STATE_DIRECTORY": str(tmp_path / "state")}

    dry = run_monitor("feeds", "import", opml, "-c", config, "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert config.read_text(encoding="utf-8") == original  # nothing written
    assert "already present: HDblog <https://www.hdblog.it/feed/>" in dry.stdout
    assert "would add 2 feeds" in dry.stdout and 'url = "https://altra.example/feed"' in dry.stdout

    done = run_monitor("feeds", "import", opml, "-c", config, env=env)
    assert done.returncode == 0, done.stderr
    assert "already present: HDblog <https://www.hdblog.it/feed/>" in done.stdout
    assert f"added 2 feeds to {config}:" in done.stdout
    written = config.read_text(encoding="utf-8")
    assert written.startswith(original.rstrip("\n"))  # every byte the admin wrote is kept
    assert 'name   =   "HDblog"   # la prima fonte' in written
    feeds = load_config(config).feeds
    assert [(f.url, f.name) for f in feeds[-2:]] == [
        ("https://nuova.example/rss?a=1&b=2", 'Fonte & "Nuova"'), ("https://altra.example/feed", "Altra")]
    assert len(feeds) == 13

    again = run_monitor("feeds", "import", opml, "-c", config, env=env)
    assert again.returncode == 0, again.stderr
    assert config.read_text(encoding="utf-8") == written
    assert "already present: Altra <https://altra.example/feed>" in again.stdout
    assert f"nothing to add to {config} (3 feeds in the OPML file)" in again.stdout


def test_feeds_import_into_a_missing_config_is_a_config_error(tmp_path: Path) -> None:
    opml = tmp_path / "list.opml"
    opml.write_text(OPML, encoding="utf-8")
    result = run_monitor("feeds", "import", opml, "-c", tmp_path / "absent.toml")
    assert result.returncode == 78 and "absent.toml" in result.stderr, result.stderr
    assert not (tmp_path / "absent.toml").exists()
