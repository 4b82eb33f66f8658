"""TOML configuration → typed, validated objects. Parsed once; every error names file and key."""

from __future__ import annotations

import importlib.util
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.errors import ConfigError

T = TypeVar("T")
DEFAULT_ENTITIES = Path(__file__).parent / "data" / "entities.toml"
DEFAULT_USER_AGENT = "monitor/0.1 (+https://github.com/monitor-it/monitor; Italian tech press watcher)"
TlsMode = Literal["implicit", "starttls", "none"]


@dataclass(frozen=True)
class Alias:
    text: str
    case_sensitive: bool = True


@dataclass(frozen=True)
class EntityConfig:
    id: str
    name: str
    kind: Literal["person", "organization"]
    aliases: tuple[Alias, ...]
    exclude: tuple[str, ...] = ()
    alert: bool = False


@dataclass(frozen=True)
class FeedConfig:
    url: str
    name: str
    interval_minutes: float | None = None
    full_text: bool = False


@dataclass(frozen=True)
class PollingConfig:
    interval_minutes: float = 15.0
    concurrency: int = 8
    timeout_seconds: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    backfill_hours: float = 24.0
    user_agent: str = DEFAULT_USER_AGENT
    jitter: float = 0.1


@dataclass(frozen=True)
class NlpConfig:
    model: str = ""
    relevance_threshold: float = 1.0
    key_claims: int = 3
    rescan_days: float = 7.0


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 587
    tls: TlsMode = "starttls"
    username: str = ""
    password_env: str = "MONITOR_SMTP_PASSWORD"
    password_file: str = ""
    sender: str = "monitor@localhost"
    timeout_seconds: float = 30.0

    def password(self) -> str | None:
        """The password from the environment or the named file, never from the TOML."""
        if self.password_file:
            try:
                return Path(self.password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(self.password_file, "smtp.password_file", str(exc)) from exc
        return os.environ.get(self.password_env) or None


@dataclass(frozen=True)
class DigestConfig:
    name: str
    schedule: str
    recipients: tuple[str, ...]
    actors: tuple[str, ...] = ()
    send_empty: bool = False
    max_stories: int = 40
    max_per_section: int = 8


@dataclass(frozen=True)
class AlertConfig:
    recipients: tuple[str, ...] = ()
    max_per_hour: int = 4
    quiet_start: str = ""
    quiet_end: str = ""


@dataclass(frozen=True)
class Config:
    path: Path
    entities_path: Path
    state_dir: Path
    timezone: ZoneInfo
    language: Literal["it", "en"]
    templates_dir: Path | None
    health_after_hours: float
    polling: PollingConfig
    nlp: NlpConfig
    smtp: SmtpConfig
    alerts: AlertConfig
    digests: tuple[DigestConfig, ...]
    feeds: tuple[FeedConfig, ...]
    entities: tuple[EntityConfig, ...] = field(default=())

    @property
    def database(self) -> Path:
        return self.state_dir / "monitor.sqlite3"


class _Table:
    """A TOML table being read: typed getters, and unknown keys reported at the end."""

    def __init__(self, file: str, prefix: str, data: Any) -> None:
        self.file = file
        self.prefix = prefix
        if not isinstance(data, dict):
            raise ConfigError(file, prefix or "(top level)", f"must be a table, not {_type(data)}")
        self.data: dict[str, Any] = data
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, reason: str) -> ConfigError:
        return ConfigError(self.file, self.key(name), reason)

    def get(self, name: str, kind: type[T], default: T | None = None, required: bool = False) -> T:
        self.seen.add(name)
        if name not in self.data:
            if required:
                raise self.error(name, "missing required key")
            return default  # type: ignore[return-value]
        value = self.data[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.error(name, f"must be {kind.__name__}, not {_type(value)}")
        return value  # type: ignore[no-any-return]

    def text(self, name: str, default: str = "", required: bool = False, empty: bool = True) -> str:
        value = self.get(name, str, default, required).strip()
        if not empty and not value:
            raise self.error(name, "must not be empty")
        return value

    def number(self, name: str, default: float, low: float, high: float | None = None) -> float:
        value = self.get(name, float, default)
        if value < low or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise self.error(name, f"must be {bound}, got {value:g}")
        return value

    def strings(self, name: str, required: bool = False) -> tuple[str, ...]:
        values = self.get(name, list, [], required)
        for i, v in enumerate(values):
            if not isinstance(v, str) or not v.strip():
                raise ConfigError(self.file, f"{self.key(name)}[{i}]", "must be a non-empty string")
        return tuple(v.strip() for v in values)

    def table(self, name: str) -> _Table:
        return _Table(self.file, self.key(name), self.get(name, dict, {}))

    def tables(self, name: str) -> Iterator[_Table]:
        for i, item in enumerate(self.get(name, list, [])):
            yield _Table(self.file, f"{self.key(name)}[{i}]", item)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise self.error(unknown[0], "unknown key (check the spelling)")


def _type(value: object) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def _read_toml(path: Path, key: str, referrer: str) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(referrer, key, f"file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"invalid TOML: {exc}") from None


def load_config(path: str | Path) -> Config:
    """Read and validate the main config and the entities file it names."""
    path = Path(path).resolve()
    root = _Table(str(path), "", _read_toml(path, "", str(path)))
    general = root.table("general")
    entities_name = general.text("entities_file", "entities.toml", empty=False)
    entities_path = (path.parent / entities_name).resolve()
    state_dir = _state_dir(general.text("state_dir"), path.parent)
    templates = general.text("templates_dir")
    config = Config(
        path=path,
        entities_path=entities_path,
        state_dir=state_dir,
        timezone=_zone(general),
        language=_choice(general, "language", ("it", "en"), "it"),  # type: ignore[arg-type]
        templates_dir=(path.parent / templates).resolve() if templates else None,
        health_after_hours=general.number("health_after_hours", 6.0, 0.0),
        polling=_polling(root.table("polling")),
        nlp=_nlp(root.table("nlp")),
        smtp=_smtp(root.table("smtp")),
        alerts=_alerts(root.table("alerts")),
        digests=tuple(_digest(t) for t in root.tables("digest")),
        feeds=_feeds(root),
        entities=load_entities(entities_path, referrer=(str(path), "general.entities_file")),
    )
    general.done()
    root.done()
    _check_references(config, str(path))
    return config


def _state_dir(configured: str, base: Path) -> Path:
    if os.environ.get("STATE_DIRECTORY"):
        # systemd may pass several colon-separated directories; the first is ours.
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    if configured:
        return (base / configured).resolve()
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "monitor"


def _zone(table: _Table) -> ZoneInfo:
    name = table.text("timezone", "Europe/Rome", empty=False)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise table.error("timezone", f"unknown time zone {name!r}") from None


def _choice(table: _Table, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = table.text(name, default)
    if value not in allowed:
        raise table.error(name, f"must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _polling(t: _Table) -> PollingConfig:
    result = PollingConfig(
        interval_minutes=t.number("interval_minutes", 15.0, 5.0),
        concurrency=int(t.number("concurrency", 8, 1, 256)),
        timeout_seconds=t.number("timeout_seconds", 30.0, 1.0, 600.0),
        max_body_bytes=int(t.number("max_body_bytes", 10 * 1024 * 1024, 1024)),
        backfill_hours=t.number("backfill_hours", 24.0, 0.0),
        user_agent=t.text("user_agent", DEFAULT_USER_AGENT, empty=False),
        jitter=t.number("jitter", 0.1, 0.0, 0.5),
    )
    t.done()
    return result


def _nlp(t: _Table) -> NlpConfig:
    result = NlpConfig(
        model=t.text("model"),
        relevance_threshold=t.number("relevance_threshold", 1.0, 0.0),
        key_claims=int(t.number("key_claims", 3, 0, 20)),
        rescan_days=t.number("rescan_days", 7.0, 0.0, 365.0),
    )
    t.done()
    return result


def _smtp(t: _Table) -> SmtpConfig:
    tls = _choice(t, "tls", ("implicit", "starttls", "none"), "starttls")
    result = SmtpConfig(
        host=t.text("host", "localhost", empty=False),
        port=int(t.number("port", 465 if tls == "implicit" else 587, 1, 65535)),
        tls=tls,  # type: ignore[arg-type]
        username=t.text("username"),
        password_env=t.text("password_env", "MONITOR_SMTP_PASSWORD", empty=False),
        password_file=t.text("password_file"),
        sender=_address(t, "sender", "monitor@localhost"),
        timeout_seconds=t.number("timeout_seconds", 30.0, 1.0, 600.0),
    )
    if "password" in t.data:
        raise t.error("password", "the SMTP password never lives in the TOML: use "
                      "password_env or password_file (e.g. a systemd credential)")
    if result.tls == "none" and result.username:
        raise t.error("tls", "authentication is never sent without TLS; use starttls or implicit")
    t.done()
    return result


def _address(t: _Table, name: str, default: str) -> str:
    value = t.text(name, default, empty=False)
    if "@" not in value or any(c in value for c in "\r\n<> ,"):
        raise t.error(name, f"not an email address: {value!r}")
    return value


def _alerts(t: _Table) -> AlertConfig:
    quiet = t.text("quiet_hours")
    start = end = ""
    if quiet:
        start, _, end = quiet.partition("-")
        if not (_is_hhmm(start) and _is_hhmm(end)):
            raise t.error("quiet_hours", f"must look like \"23:00-07:00\"; got {quiet!r}")
    result = AlertConfig(
        recipients=tuple(_addresses(t, "recipients")),
        max_per_hour=int(t.number("max_per_hour", 4, 0, 1000)),
        quiet_start=start,
        quiet_end=end,
    )
    t.done()
    return result


def _is_hhmm(value: str) -> bool:
    hh, _, mm = value.partition(":")
    return hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60 and len(mm) == 2


def _addresses(t: _Table, name: str, required: bool = False) -> list[str]:
    values = t.strings(name, required)
    for i, v in enumerate(values):
        if "@" not in v or any(c in v for c in "\r\n<> ,"):
            raise ConfigError(t.file, f"{t.key(name)}[{i}]", f"not an email address: {v!r}")
    return list(values)


def _digest(t: _Table) -> DigestConfig:
    from apscheduler.triggers.cron import CronTrigger

    schedule = t.text("schedule", required=True, empty=False)
    try:
        CronTrigger.from_crontab(schedule)
    except ValueError as exc:
        raise t.error("schedule", f"not a cron expression ({exc}): {schedule!r}") from None
    recipients = _addresses(t, "recipients", required=True)
    if not recipients:
        raise t.error("recipients", "must list at least one address")
    result = DigestConfig(
        name=t.text("name", required=True, empty=False),
        schedule=schedule,
        recipients=tuple(recipients),
        actors=t.strings("actors"),
        send_empty=t.get("send_empty", bool, False),
        max_stories=int(t.number("max_stories", 40, 1, 1000)),
        max_per_section=int(t.number("max_per_section", 8, 1, 1000)),
    )
    t.done()
    return result


def _feeds(root: _Table) -> tuple[FeedConfig, ...]:
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for t in root.tables("feeds"):
        url = t.text("url", required=True, empty=False)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise t.error("url", f"must be an http(s) URL; got {url!r}")
        if url in seen:
            raise t.error("url", f"duplicate feed {url!r}")
        seen.add(url)
        interval = t.get("interval_minutes", float, None)
        if interval is not None and interval < 5:
            raise t.error("interval_minutes", f"must be at least 5 (politeness floor); got {interval:g}")
        full_text = t.get("full_text", bool, False)
        if full_text and importlib.util.find_spec("trafilatura") is None:
            raise t.error("full_text", "needs the fulltext extra: pip install 'monitor[fulltext]'")
        feeds.append(FeedConfig(url=url, name=t.text("name", parts.hostname),
                                interval_minutes=interval, full_text=full_text))
        t.done()
    return tuple(feeds)


def load_entities(path: Path, referrer: tuple[str, str] | None = None) -> tuple[EntityConfig, ...]:
    """Read the tracked-entities file: `[[entity]]` tables with id, name, kind, aliases."""
    data = _read_toml(path, referrer[1] if referrer else "", referrer[0] if referrer else str(path))
    root = _Table(str(path), "", data)
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
            kind=_choice(t, "kind", ("person", "organization"), "person"),  # type: ignore[arg-type]
            aliases=_aliases(t),
            exclude=t.strings("exclude"),
            alert=t.get("alert", bool, False),
        ))
        t.done()
    root.done()
    if not entities:
        raise ConfigError(str(path), "entity", "no tracked entities: add at least one [[entity]]")
    return tuple(entities)


def _aliases(t: _Table) -> tuple[Alias, ...]:
    raw = t.get("aliases", list, None, required=True)
    if not raw:
        raise t.error("aliases", "must list at least one alias")
    aliases = []
    for i, item in enumerate(raw):
        key = f"{t.key('aliases')}[{i}]"
        if isinstance(item, str):
            item = {"text": item}
        sub = _Table(t.file, key, item)
        aliases.append(Alias(text=sub.text("text", required=True, empty=False),
                             case_sensitive=sub.get("case_sensitive", bool, True)))
        sub.done()
    return tuple(aliases)


def _check_references(config: Config, file: str) -> None:
    ids = {e.id for e in config.entities}
    names = set()
    for i, d in enumerate(config.digests):
        if d.name in names:
            raise ConfigError(file, f"digest[{i}].name", f"duplicate digest name {d.name!r}")
        names.add(d.name)
        for j, actor in enumerate(d.actors):
            if actor not in ids:
                raise ConfigError(file, f"digest[{i}].actors[{j}]",
                                  f"unknown entity id {actor!r} (known: {', '.join(sorted(ids))})")
