"""The tracked-entities file: `[[entity]]` tables with id, name, kind, aliases, exclusions."""

from __future__ import annotations

from pathlib import Path

from monitor.config.toml_table import Table, choice, read_toml
from monitor.config.types import Alias, EntityConfig
from monitor.errors import ConfigError


def load_entities(path: Path, referrer: tuple[str, str] | None = None) -> tuple[EntityConfig, ...]:
    """Read the tracked-entities file: `[[entity]]` tables with id, name, kind, aliases."""
    data = read_toml(path, referrer[1] if referrer else "", referrer[0] if referrer else str(path))
    root = Table(str(path), "", data)
    entities: list[EntityConfig] = []
    ids: set[str] = set()
    for t in root.tables("entity"):
        entity_id = t.text("id", required=True, empty=False)
        if not entity_id.replace("_", "").isalnum() or not entity_id.islower():
            raise t.error("id", f"must be lower-case letters, digits and _; got {entity_id!r}")
        if entity_id in ids:
            raise t.error("id", f"duplicate entity id {entity_id!r}")
        ids.add(entity_id)
        entities.append(EntityConfig(
            id=entity_id,
            name=t.text("name", required=True, empty=False),
            kind=choice(t, "kind", ("person", "organization"), "person"),  # type: ignore[arg-type]
            aliases=_aliases(t),
            exclude=t.strings("exclude"),
            alert=t.get("alert", bool, False),
            roles=t.strings("roles"),
            descriptions=t.strings("descriptions"),
        ))
        t.done()
    root.done()
    if not entities:
        raise ConfigError(str(path), "entity", "no tracked entities: add at least one [[entity]]")
    return tuple(entities)


def _aliases(t: Table) -> tuple[Alias, ...]:
    raw = t.get("aliases", list, None, required=True)
    if not raw:
        raise t.error("aliases", "must list at least one alias")
    aliases = []
    for i, item in enumerate(raw):
        key = f"{t.key('aliases')}[{i}]"
        if isinstance(item, str):
            item = {"text": item}
        sub = Table(t.file, key, item)
        aliases.append(Alias(text=sub.text("text", required=True, empty=False),
                             case_sensitive=sub.get("case_sensitive", bool, True)))
        sub.done()
    return tuple(aliases)
