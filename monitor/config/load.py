"""TOML configuration → typed, validated objects. Parsed once; every error names file and key."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.config.channels import check_channel_digests, load_channels
from monitor.config.entities import load_entities
from monitor.config.toml_table import Table, choice, read_toml, type_name
from monitor.config.types import (
    DEFAULT_ENTITIES,
    DEFAULT_USER_AGENT,
    AlertConfig,
    Config,
    DigestConfig,
    FeedConfig,
    FullText,
    NlpConfig,
    PollingConfig,
    ProxyConfig,
    SmtpConfig,
    StoreConfig,
    WebConfig,
)
from monitor.errors import ConfigError

__all__ = ["load_config"]


def load_config(path: str | Path) -> Config:
    """Read and validate the main config and the entities file it names."""
    path = Path(path).resolve()
    root = Table(str(path), "", read_toml(path, "", str(path)))
    general = root.table("general")
    entities_path = _entities_path(general.text("entities_file"), path.parent)
    state_dir = _state_dir(general.text("state_dir"), path.parent)
    templates = general.text("templates_dir")
    config = Config(
        path=path,
        entities_path=entities_path,
        state_dir=state_dir,
        timezone=_zone(general),
        language=choice(general, "language", ("it", "en"), "it"),  # type: ignore[arg-type]
        templates_dir=(path.parent / templates).resolve() if templates else None,
        health_after_hours=general.number("health_after_hours", 6.0, 0.0),
        polling=_polling(root.table("polling")),
        nlp=_nlp(root.table("nlp")),
        smtp=_smtp(root.table("smtp")),
        alerts=_alerts(root.table("alerts")),
        digests=tuple(_digest(t) for t in root.tables("digest")),
        feeds=_feeds(root),
        entities=load_entities(entities_path, referrer=(str(path), "general.entities_file")),
        web=_web(root.table("web"), path.parent),
        channels=load_channels(root, path.parent),
        store=_store(root.table("store"), path.parent),
    )
    general.done()
    root.done()
    _check_references(config, str(path))
    check_channel_digests(config.channels, {d.name for d in config.digests}, str(path))
    return config


def _entities_path(configured: str, base: Path) -> Path:
    """The named file (relative to the config); unset or empty, entities.toml beside the config
    when there is one (the long-standing default), else the entities bundled with monitor, so a
    config copied anywhere still loads."""
    if configured:
        return (base / configured).resolve()
    beside = base / "entities.toml"
    return beside.resolve() if beside.is_file() else DEFAULT_ENTITIES


def _state_dir(configured: str, base: Path) -> Path:
    if os.environ.get("STATE_DIRECTORY"):
        # systemd may pass several colon-separated directories; the first is ours.
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    if configured:
        return (base / configured).resolve()
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "monitor"


def _zone(table: Table) -> ZoneInfo:
    name = table.text("timezone", "Europe/Rome", empty=False)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise table.error("timezone", f"unknown time zone {name!r}") from None


def _polling(t: Table) -> PollingConfig:
    result = PollingConfig(
        interval_minutes=t.number("interval_minutes", 15.0, 5.0),
        concurrency=int(t.number("concurrency", 8, 1, 256)),
        timeout_seconds=t.number("timeout_seconds", 30.0, 1.0, 600.0),
        max_body_bytes=int(t.number("max_body_bytes", 10 * 1024 * 1024, 1024)),
        backfill_hours=t.number("backfill_hours", 24.0, 0.0),
        user_agent=t.text("user_agent", DEFAULT_USER_AGENT, empty=False),
        jitter=t.number("jitter", 0.1, 0.0, 0.5),
        parse_workers=int(t.number("parse_workers", 0, 0, 64)),
        proxy=_proxy(t),
    )
    t.done()
    return result


def _proxy(t: Table) -> ProxyConfig | None:
    """polling.proxy, or the URL in the variable polling.proxy_env names (which wins when set).

    The proxy's credentials may only come from the environment; no error message repeats a
    proxy URL, so none can leak them.
    """
    url, key = t.text("proxy"), "proxy"
    variable = t.text("proxy_env")
    if variable and os.environ.get(variable, "").strip():
        url, key = os.environ[variable].strip(), "proxy_env"
    if not url:
        return None
    where = f"${variable}" if key == "proxy_env" else "the proxy URL"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise t.error(key, f"{where} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise t.error(key, f"{where} must be an http:// or https:// URL with a host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise t.error(key, f"{where} must be scheme://host:port only, without a path")
    if parts.password is not None and key == "proxy":
        raise t.error(key, "the proxy password never lives in the TOML: put the whole URL in an "
                           "environment variable and name it with polling.proxy_env")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return ProxyConfig(url=f"{parts.scheme}://{host}" + (f":{port}" if port else ""),
                       username=unquote(parts.username or ""), password=unquote(parts.password or ""))


# RFC 9110 token characters: what a header name may be made of.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Headers monitor sets itself (framing, conditional GET, decompression, proxying): a feed's
# table may not change them, or conditional GET and the body cap would stop working.
_MANAGED_HEADERS = frozenset({
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer",
    "upgrade", "accept-encoding", "if-none-match", "if-modified-since", "proxy-authorization",
    "proxy-connection",
})


def _headers(feed: Table) -> tuple[tuple[str, str], ...]:
    """A feed's `headers = { "User-Agent" = "...", "Cookie" = "..." }`, checked name by name."""
    t = feed.table("headers")
    headers: list[tuple[str, str]] = []
    for name in t.data:
        value = t.text(name, required=True, empty=False)
        if not _HEADER_NAME.fullmatch(name):
            raise t.error(name, "not a valid HTTP header name")
        if name.lower() in _MANAGED_HEADERS:
            raise t.error(name, "monitor sets this header itself; it cannot be configured")
        if not (value.isascii() and value.isprintable()):
            raise t.error(name, "a header value must be one line of printable ASCII characters")
        if name.lower() in (seen.lower() for seen, _ in headers):
            raise t.error(name, "the same header twice (header names ignore case)")
        headers.append((name, value))
    t.done()
    return tuple(headers)


def _nlp(t: Table) -> NlpConfig:
    result = NlpConfig(
        model=t.text("model"),
        relevance_threshold=t.number("relevance_threshold", 1.0, 0.0),
        key_claims=int(t.number("key_claims", 3, 0, 20)),
        rescan_days=t.number("rescan_days", 7.0, 0.0, 365.0),
    )
    t.done()
    return result


def _web(t: Table, base: Path) -> WebConfig:
    token_file = t.text("token_file")
    result = WebConfig(listen=t.text("listen", "127.0.0.1:8080", empty=False),
                       token_file=str((base / token_file).resolve()) if token_file else "")
    t.done()
    return result


def _store(t: Table, base: Path) -> StoreConfig:
    url = t.text("url").strip()
    if url.startswith("sqlite:"):
        file = url.removeprefix("sqlite:").removeprefix("//")
        if not file:
            raise t.error("url", "sqlite: needs a file path, e.g. sqlite:/var/lib/monitor/monitor.sqlite3")
        url = "sqlite:" + str((base / file).resolve())
    elif url.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(url)
        if parts.password is not None:
            raise t.error("url", "the database password never lives in the TOML: remove it from the URL "
                          "and use password_env or password_file (e.g. a systemd credential)")
        if not parts.hostname and "host=" not in parts.query:
            raise t.error("url", f"no host in {url!r}: e.g. postgresql://monitor@db.example:5432/monitor")
    elif url:
        raise t.error("url", f"unknown store {url!r}: leave it empty (SQLite in state_dir), "
                      "or use sqlite:PATH or postgresql://user@host:port/database")
    result = StoreConfig(url=url, password_env=t.text("password_env", "MONITOR_STORE_PASSWORD", empty=False),
                         password_file=t.text("password_file"),
                         lease_seconds=t.number("lease_seconds", 300.0, 5.0, 86400.0))
    if "password" in t.data:
        raise t.error("password", "the database password never lives in the TOML: use "
                      "password_env or password_file (e.g. a systemd credential)")
    t.done()
    return result


def _smtp(t: Table) -> SmtpConfig:
    tls = choice(t, "tls", ("implicit", "starttls", "none"), "starttls")
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


def _address(t: Table, name: str, default: str) -> str:
    value = t.text(name, default, empty=False)
    if "@" not in value or any(c in value for c in "\r\n<> ,"):
        raise t.error(name, f"not an email address: {value!r}")
    return value


def _alerts(t: Table) -> AlertConfig:
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
        min_salience=t.number("min_salience", 2.0, 0.0),
    )
    t.done()
    return result


def _is_hhmm(value: str) -> bool:
    hh, _, mm = value.partition(":")
    return hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60 and len(mm) == 2


def _addresses(t: Table, name: str, *, required: bool = False) -> list[str]:
    values = t.strings(name, required=required)
    for i, v in enumerate(values):
        if "@" not in v or any(c in v for c in "\r\n<> ,"):
            raise ConfigError(t.file, f"{t.key(name)}[{i}]", f"not an email address: {v!r}")
    return list(values)


def _digest(t: Table) -> DigestConfig:
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


def _feeds(root: Table) -> tuple[FeedConfig, ...]:
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
        if interval is not None:
            interval = t.number("interval_minutes", interval, 0.0)
        if interval is not None and interval < 5:
            raise t.error("interval_minutes", f"must be at least 5 (politeness floor); got {interval:g}")
        full_text = _full_text(t)
        if full_text is True and importlib.util.find_spec("trafilatura") is None:
            raise t.error("full_text", "needs trafilatura, a dependency of monitor: reinstall monitor")
        feeds.append(FeedConfig(url=url, name=t.text("name", parts.hostname),
                                interval_minutes=interval, full_text=full_text, headers=_headers(t)))
        t.done()
    return tuple(feeds)


def _full_text(t: Table) -> FullText:
    """full_text: true (every page), false (none) or "auto" (the default: see ingest.fulltext)."""
    value = t.data.get("full_text", "auto")
    t.seen.add("full_text")
    if isinstance(value, bool) or value == "auto":
        return value  # type: ignore[no-any-return]
    raise t.error("full_text", f'must be true, false or "auto", not {type_name(value)}'
                  + (f" {value!r}" if isinstance(value, str) else ""))


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
