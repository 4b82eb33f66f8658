"""`monitor feeds import FILE.opml -c CONFIG`: the OPML's feeds appended to the config file itself.

tomlkit reads the document and quotes the new values; the file is kept byte for byte, so the
admin's comments, order and layout stay as they were, and only new `[[feeds]]` tables are
appended at the end. Feeds the config already has are reported, never added twice. The result is validated as `monitor check` would before it replaces the file, and
the replacement is atomic (a temporary file beside it, then a rename), so a crash or an invalid
result leaves the old config untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Table

from monitor.config.load import load_config
from monitor.errors import ConfigError


@dataclass(frozen=True)
class ImportPlan:
    text: str  # the config as it would be written
    added: list[tuple[str, str]]  # (url, name) appended
    present: list[tuple[str, str]]  # (url, name in the config) already there


def plan_import(config_path: Path, found: list[tuple[str, str]]) -> ImportPlan:
    """The config text with the new feeds appended, and what was added or already present."""
    try:
        original = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(config_path), "", "file not found (`monitor init DIR` writes one)") from None
    except OSError as exc:
        raise ConfigError(str(config_path), "", f"cannot read: {exc.strerror}") from None
    try:
        doc = tomlkit.parse(original)
    except TOMLKitError as exc:
        raise ConfigError(str(config_path), "", f"not valid TOML: {exc}") from None
    feeds = doc.get("feeds")
    if feeds is not None and not isinstance(feeds, AoT):
        raise ConfigError(str(config_path), "feeds", "must be an array of [[feeds]] tables")
    existing = {str(t.get("url", "")): str(t.get("name", "") or t.get("url", "")) for t in (feeds or [])}
    added: list[tuple[str, str]] = []
    present: list[tuple[str, str]] = []
    for url, title in found:
        if url in existing:
            present.append((url, existing[url]))
        else:
            existing[url] = title or url
            added.append((url, title or url))
    if not added:
        return ImportPlan(original, added, present)
    # Appended after the file's last line, one blank line apart, rather than re-rendered: every
    # byte the admin wrote stays where it was ([[feeds]] tables may follow any other table).
    text = original.rstrip("\n") + "\n\n" + _tables_toml(added) + "\n"
    return ImportPlan(text, added, present)


def added_toml(plan: ImportPlan) -> str:
    """The [[feeds]] tables the import appends, as TOML (what --dry-run shows)."""
    return _tables_toml(plan.added)


def _tables_toml(feeds: list[tuple[str, str]]) -> str:
    """[[feeds]] tables, one blank line apart; tomlkit quotes and escapes the values."""
    parts = []
    for url, name in feeds:
        table: Table = tomlkit.table()
        table.add("url", url)
        table.add("name", name)
        doc = tomlkit.document()
        aot = tomlkit.aot()
        aot.append(table)
        doc.add("feeds", aot)
        parts.append(tomlkit.dumps(doc).strip())
    return "\n\n".join(parts)


def write_config(config_path: Path, text: str) -> None:
    """Validate `text` as the config at `config_path`, then replace the file atomically."""
    fd, temp = tempfile.mkstemp(prefix=f".{config_path.name}.", suffix=".toml", dir=config_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        shutil.copymode(config_path, temp)  # an admin's 0640 stays 0640
        load_config(temp)  # relative paths resolve as for the real file: same folder
        os.replace(temp, config_path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
