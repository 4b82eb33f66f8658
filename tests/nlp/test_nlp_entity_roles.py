"""Issue 16: the optional `roles` and `descriptions` keys of the entities file, read and validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.entities import load_entities
from monitor.config.types import DEFAULT_ENTITIES
from monitor.errors import ConfigError

BASE = '[[entity]]\nid = "anna"\nname = "Anna Verdi"\naliases = ["Anna Verdi"]\n'


@pytest.mark.parametrize(("extra", "roles", "descriptions"), [
    ("", (), ()),  # both optional
    ('roles = ["CEO di Acme"]\ndescriptions = ["manager di Torino"]\n', ("CEO di Acme",), ("manager di Torino",)),
])
def test_roles_and_descriptions_read(tmp_path: Path, extra: str, roles: tuple[str, ...],
                                     descriptions: tuple[str, ...]) -> None:
    path = tmp_path / "entities.toml"
    path.write_text(BASE + extra, encoding="utf-8")
    (entity,) = load_entities(path)
    assert (entity.roles, entity.descriptions) == (roles, descriptions)


@pytest.mark.parametrize(("extra", "key"), [
    ('roles = "CEO di Acme"\n', "roles"),  # a list, not a string
    ('roles = [""]\n', "roles[0]"),  # no empty entries
    ("descriptions = [3]\n", "descriptions[0]"),
])
def test_roles_and_descriptions_validated(tmp_path: Path, extra: str, key: str) -> None:
    path = tmp_path / "entities.toml"
    path.write_text(BASE + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_entities(path)
    assert key in str(err.value)


def test_default_file_has_roles_and_the_public_handle() -> None:
    entities = {e.id: e for e in load_entities(DEFAULT_ENTITIES)}
    assert "CEO di OpenAI" in entities["sam_altman"].roles
    assert "@sama" in [a.text for a in entities["sam_altman"].aliases]
    assert "patron di Tesla" in entities["elon_musk"].roles


@pytest.mark.parametrize(("phrase", "key", "why"), [
    ("l'amministratore delegato della Regione", "amministratore delegato di regione",
     "`del` inside `delegato` is no preposition"),
    ("Il fondatore della società", "fondatore di società", "`della` is one preposition, not `del` + `la`"),
    ("lo scienziato capo dell’OpenAI", "scienziato capo di openai", "an elided `dell’` too"),
])
def test_role_key(phrase: str, key: str, why: str) -> None:
    from monitor.nlp.speaker_words import role_key
    assert role_key(phrase) == key, why
