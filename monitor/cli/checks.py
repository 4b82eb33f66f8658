"""`monitor check --smtp --feeds --store`: log in to the SMTP server, fetch each feed once, reach
the state store.

One line per check, `smtp`/`feed`/`store`, `ok`/`FAIL`, what was checked and why it failed; the exit
status is 1 when anything failed. The password is never printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

from monitor.config.types import Config, FeedConfig
from monitor.errors import MonitorError, StateError
from monitor.models import plural

CERT_HINT = ("the server's certificate is not trusted; for a private CA point SSL_CERT_FILE at its "
             "PEM file")


async def run_checks(config: Config, *, smtp: bool, feeds: bool, channels: bool = False,
                     store: bool = False) -> int:
    failures = 0
    if store:
        failures += _check_store(config)
    if channels:
        from monitor.cli.channels import check_channels

        failures += check_channels(config)
    if smtp:
        failures += await _check_smtp(config)
    if feeds:
        failures += await _check_feeds(config)
    print("all checks passed" if not failures else f"{plural(failures, 'check', 'checks')} failed")
    return 0 if not failures else 1


def _check_store(config: Config) -> int:
    """Reach the store and read its schema version; nothing is created, migrated or written."""
    try:
        found = _store_version(config)
    except MonitorError as exc:
        print(f"store FAIL {exc}")
        return 1
    print(f"store ok   {found}")
    return 0


def _store_version(config: Config) -> str:
    if config.store.backend == "postgresql":
        import psycopg

        from monitor.store.pg import PgConnection, first_line, safe_url

        where = f"PostgreSQL {safe_url(config.store.url)}"
        pg = PgConnection(config.store.url, config.store.password())  # a StateError names the URL
        try:
            row = pg.execute("SELECT version FROM monitor_schema").fetchone()
        except psycopg.errors.UndefinedTable:
            return f"{where} (logged in; no tables yet: the first start creates them)"
        except psycopg.Error as exc:
            raise StateError(f"{where}: {first_line(exc)}") from None
        finally:
            pg.close()
        return f"{where} (logged in, schema version {row[0] if row else '?'})"
    path = config.database
    if not path.exists():
        return f"SQLite {path} (not created yet: the first start creates it)"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error as exc:
        raise StateError(f"SQLite {path}: {exc}") from None
    return f"SQLite {path} (schema version {version})"


def _reason(error: str, *prefixes: str) -> str:
    """The error without the URL or server it already names (the line starts with it)."""
    for prefix in prefixes:
        if error.startswith(prefix):
            rest = error[len(prefix):].lstrip(": ")
            return rest.removeprefix("is ") if rest.startswith("is not ") else rest or error
    return error


async def _check_smtp(config: Config) -> int:
    from monitor.delivery.smtp import check_login

    where = f"{config.smtp.host}:{config.smtp.port}"
    try:
        await check_login(config.smtp, config.smtp.password())
    except MonitorError as exc:
        reason = _reason(str(exc), f"SMTP {where}")
        if "CERTIFICATE_VERIFY_FAILED" in reason:
            reason += f" ({CERT_HINT})"
        print(f"smtp  FAIL {where}: {reason}")
        return 1
    login = f", logged in as {config.smtp.username}" if config.smtp.username else ", no login configured"
    print(f"smtp  ok   {where} ({config.smtp.tls}{login})")
    return 0


async def _check_feeds(config: Config) -> int:
    from monitor.ingest.fetch import Fetcher
    from monitor.ingest.parse import parse_feed, reading_problem
    from monitor.service.pipeline import utc_now

    fetcher = Fetcher(config.polling, clock=utc_now)

    async def one(feed: FeedConfig) -> tuple[bool, str]:
        try:
            result = await fetcher.fetch(feed.url, site_headers=feed.headers)
            parsed = await asyncio.to_thread(parse_feed, result.body, result.headers, result.url, utc_now())
        except MonitorError as exc:
            return False, _reason(str(exc), feed.url)
        except Exception as exc:  # a diagnostic must report, not crash, whatever a feed does
            return False, f"unexpected {type(exc).__name__}: {exc}"
        note = f" (tolerated: {parsed.problem})" if parsed.problem else ""
        if (problem := reading_problem(parsed)) is not None:
            note = f" (problem: {problem})"  # answers, but with nothing to read: not silently ok
        moved = f" (moved permanently to {result.hints.moved_to})" if result.hints.moved_to else ""
        return True, f"{plural(len(parsed.entries), 'entry', 'entries')}{note}{moved}"

    try:
        outcomes = await asyncio.gather(*(one(f) for f in config.feeds))
    finally:
        await fetcher.aclose()
    for feed, (ok, detail) in zip(config.feeds, outcomes, strict=True):
        print(f"feed  {'ok  ' if ok else 'FAIL'} {feed.url}: {detail}")
    return sum(1 for ok, _ in outcomes if not ok)
