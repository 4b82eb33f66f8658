"""`monitor check --smtp --feeds`: log in to the SMTP server and fetch each feed once."""

from __future__ import annotations

import asyncio

from monitor.config import Config
from monitor.errors import MonitorError


async def run_checks(config: Config, *, smtp: bool, feeds: bool) -> int:
    failures = 0
    if smtp:
        failures += await _check_smtp(config)
    if feeds:
        failures += await _check_feeds(config)
    print("all checks passed" if not failures else f"{failures} check(s) failed")
    return 0 if not failures else 1


async def _check_smtp(config: Config) -> int:
    from monitor.mail import check_login

    try:
        await check_login(config.smtp, config.smtp.password())
    except MonitorError as exc:
        print(f"smtp  FAIL {config.smtp.host}:{config.smtp.port}: {exc}")
        return 1
    print(f"smtp  ok   {config.smtp.host}:{config.smtp.port} ({config.smtp.tls})")
    return 0


async def _check_feeds(config: Config) -> int:
    from monitor.fetch import Fetcher
    from monitor.parse import parse_feed
    from monitor.pipeline import utc_now

    fetcher = Fetcher(config.polling)

    async def one(url: str) -> str | None:
        try:
            result = await fetcher.fetch(url)
            parsed = await asyncio.to_thread(parse_feed, result.body, result.headers, result.url, utc_now())
        except MonitorError as exc:
            return str(exc)
        print(f"feed  ok   {url}: {len(parsed.entries)} entries"
              + (f" (tolerated: {parsed.problem})" if parsed.problem else ""))
        return None

    try:
        errors = await asyncio.gather(*(one(f.url) for f in config.feeds))
    finally:
        await fetcher.aclose()
    for feed, error in zip(config.feeds, errors, strict=True):
        if error:
            print(f"feed  FAIL {feed.url}: {error}")
    return sum(1 for e in errors if e)
