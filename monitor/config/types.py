"""The typed configuration: plain frozen dataclasses, built once by monitor.config.load."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from monitor.config.channels import ChannelConfig
from monitor.errors import ConfigError

DEFAULT_ENTITIES = Path(__file__).parent.parent / "data" / "entities.toml"
DEFAULT_USER_AGENT = "monitor/0.1 (feed reader; Italian tech press watcher)"
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
    roles: tuple[str, ...] = ()  # "CEO di OpenAI": a role that names this actor when no other fits
    descriptions: tuple[str, ...] = ()  # "colosso di San Francisco": likewise, for any description


# full_text: True = always fetch the article page, False = never, "auto" = only for entries
# that may name a tracked actor and whose feed text is short (monitor/service/pipeline.py).
FullText = bool | Literal["auto"]


@dataclass(frozen=True)
class FeedConfig:
    url: str
    name: str
    interval_minutes: float | None = None
    full_text: FullText = "auto"
    # Extra request headers a site demands (a User-Agent, a cookie), sent to the feed's host only.
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProxyConfig:
    """The HTTP(S) proxy every request goes through; the credentials stay out of `url` and out
    of every repr, log line and error message."""

    url: str  # scheme://host:port, no credentials
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class PollingConfig:
    interval_minutes: float = 15.0
    concurrency: int = 8
    timeout_seconds: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    backfill_hours: float = 24.0
    user_agent: str = DEFAULT_USER_AGENT
    jitter: float = 0.1
    parse_workers: int = 0
    proxy: ProxyConfig | None = None


@dataclass(frozen=True)
class NlpConfig:
    model: str = ""
    relevance_threshold: float = 1.0
    key_claims: int = 3
    rescan_days: float = 7.0


def read_secret(file: str, variable: str, key: str) -> str | None:
    """A secret from the named file (a systemd credential, say), else from the environment
    variable; `key` names the file's setting in errors."""
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(file, key, str(exc)) from exc
    return os.environ.get(variable) or None


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
        return read_secret(self.password_file, self.password_env, "smtp.password_file")

    def password_source(self) -> str:
        """Where the password is read from, for messages that tell the operator what to set."""
        if self.password_file:
            return f"the file {self.password_file} (smtp.password_file)"
        return f"the environment variable {self.password_env} (smtp.password_env)"

    def missing_password(self) -> str | None:
        """Why a login is impossible for want of a password, or None (no login, or one is readable).

        Checked before any connection so the operator reads "no password", never a login failure."""
        if not self.username:
            return None
        try:
            readable = bool(self.password())
        except ConfigError as exc:
            return f"no SMTP password available for {self.username!r}: cannot read {self.password_source()}: {exc.reason}"
        if readable:
            return None
        return f"no SMTP password available for {self.username!r}: set {self.password_source()}"


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
    # An alert fires only when the actor is a main subject of the story: salience at least this
    # (2.0: named in the title, or speaking or named again in the lead), not for a passing mention.
    min_salience: float = 2.0


@dataclass(frozen=True)
class WebConfig:
    """`monitor web`: where the console listens and, off loopback, the bearer token's file."""

    listen: str = "127.0.0.1:8080"
    token_file: str = ""


@dataclass(frozen=True)
class StoreConfig:
    """Where the state lives: the SQLite file in state_dir (url empty), another SQLite file
    (`sqlite:PATH`) or a PostgreSQL database shared by several daemons (`postgresql://…`, the
    password from password_env / password_file, never in the TOML)."""

    url: str = ""
    password_env: str = "MONITOR_STORE_PASSWORD"
    password_file: str = ""
    # How long a daemon holds a feed it polls (or a message it sends): a daemon that dies
    # mid-poll gives its feeds back to the others after this long.
    lease_seconds: float = 300.0

    @property
    def backend(self) -> Literal["sqlite", "postgresql"]:
        return "postgresql" if self.url.startswith(("postgresql://", "postgres://")) else "sqlite"

    def password(self) -> str | None:
        """The database password from the named file or the environment (None: none needed)."""
        return read_secret(self.password_file, self.password_env, "store.password_file")


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
    web: WebConfig = field(default_factory=WebConfig)
    channels: tuple[ChannelConfig, ...] = ()
    store: StoreConfig = field(default_factory=StoreConfig)

    @property
    def database(self) -> Path:
        """The SQLite file (unused when store.url names PostgreSQL)."""
        if self.store.url.startswith("sqlite:"):
            return Path(self.store.url.removeprefix("sqlite:"))
        return self.state_dir / "monitor.sqlite3"

    @property
    def store_target(self) -> str:
        """The state store for messages and comparisons: the SQLite path or the PostgreSQL URL."""
        return self.store.url if self.store.backend == "postgresql" else str(self.database)
