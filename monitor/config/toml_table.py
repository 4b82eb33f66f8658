"""A TOML table being validated: typed getters, key paths for errors, unknown keys refused."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from monitor.errors import ConfigError

T = TypeVar("T")


class Table:
    """A TOML table being read: typed getters, and unknown keys reported at the end."""

    def __init__(self, file: str, prefix: str, data: Any) -> None:
        self.file = file
        self.prefix = prefix
        if not isinstance(data, dict):
            raise ConfigError(file, prefix or "(top level)", f"must be a table, not {type_name(data)}")
        self.data: dict[str, Any] = data
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, reason: str) -> ConfigError:
        return ConfigError(self.file, self.key(name), reason)

    def get(self, name: str, kind: type[T], default: T | None = None, *, required: bool = False) -> T:
        self.seen.add(name)
        if name not in self.data:
            if required:
                raise self.error(name, "missing required key")
            return default  # type: ignore[return-value]
        value = self.data[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.error(name, f"must be {kind.__name__}, not {type_name(value)}")
        return value  # type: ignore[no-any-return]

    def text(self, name: str, default: str = "", *, required: bool = False, empty: bool = True) -> str:
        value = self.get(name, str, default, required=required).strip()
        if "\x00" in value:
            raise self.error(name, "must not contain a NUL character")
        if not empty and not value:
            raise self.error(name, "must not be empty")
        return value

    def number(self, name: str, default: float, low: float, high: float | None = None) -> float:
        value = self.get(name, float, default)
        if not math.isfinite(value):
            raise self.error(name, f"must be a finite number, got {value}")
        if value < low or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise self.error(name, f"must be {bound}, got {value:g}")
        return value

    def strings(self, name: str, *, required: bool = False) -> tuple[str, ...]:
        values = self.get(name, list, [], required=required)
        for i, v in enumerate(values):
            if not isinstance(v, str) or not v.strip():
                raise ConfigError(self.file, f"{self.key(name)}[{i}]", "must be a non-empty string")
        return tuple(v.strip() for v in values)

    def table(self, name: str) -> Table:
        return Table(self.file, self.key(name), self.get(name, dict, {}))

    def tables(self, name: str) -> Iterator[Table]:
        for i, item in enumerate(self.get(name, list, [])):
            yield Table(self.file, f"{self.key(name)}[{i}]", item)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise self.error(unknown[0], "unknown key (check the spelling)")


def type_name(value: object) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def read_toml(path: Path, key: str, referrer: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(referrer, key, f"file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"invalid TOML: {exc}") from None


def choice(table: Table, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = table.text(name, default)
    if value not in allowed:
        raise table.error(name, f"must be one of {', '.join(allowed)}; got {value!r}")
    return value
