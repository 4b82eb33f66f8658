"""When to poll a feed next. Pure functions: the caller passes `now`, and a seeded RNG for jitter."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from monitor.models import ServerHints

FLOOR_MINUTES = 5.0  # never poll a feed more often than this, whatever the config or server says
CAP_SECONDS = 24 * 3600.0  # never wait longer than this: a failing feed is retried at least daily
MAX_BACKOFF_EXPONENT = 16  # 2**16 intervals is far beyond the cap; avoids float overflow


def clock_went_back_after(now: datetime) -> datetime:
    """A stored next check later than this is further away than any schedule allows: the clock
    went back since it was stored, so the feed is due now."""
    return now + timedelta(seconds=2 * CAP_SECONDS)


def next_check(
    now: datetime,
    *,
    interval_minutes: float,
    hints: ServerHints,
    failures: int,
    rng: random.Random,
    jitter: float = 0.1,
) -> datetime:
    """The time of the next poll.

    Success (`failures == 0`): the configured interval (at least the 5-minute floor), stretched
    but never shortened by the feed's RSS <ttl> and the server's max-age/Expires, the stretch
    capped at 24 h; then ± `jitter` so feeds configured alike do not poll in lock-step.

    Failure (`failures >= 1`): the server's Retry-After when given (but never sooner than the
    normal interval: a short Retry-After is not an invitation to poll faster), else exponential
    backoff from the interval (interval × 2^(failures-1)); both capped at 24 h. A feed is never
    abandoned: even after many failures it is retried daily. Jitter only lengthens a
    Retry-After wait, so we never come back before the server asked.
    """
    base = max(float(interval_minutes), FLOOR_MINUTES) * 60.0
    if failures <= 0:
        stretch = 0.0
        if hints.ttl_minutes is not None and hints.ttl_minutes > 0:
            stretch = hints.ttl_minutes * 60.0
        if hints.max_age is not None and hints.max_age > 0:
            stretch = max(stretch, hints.max_age)
        delay = max(base, min(stretch, CAP_SECONDS))
        delay *= 1.0 + rng.uniform(-jitter, jitter)
    elif hints.retry_after is not None and hints.retry_after >= 0:
        delay = min(max(hints.retry_after, base), CAP_SECONDS)
        delay *= 1.0 + rng.uniform(0.0, jitter)
    else:
        exponent = min(failures - 1, MAX_BACKOFF_EXPONENT)
        delay = min(base * 2.0**exponent, CAP_SECONDS)
        delay *= 1.0 + rng.uniform(-jitter, jitter)
    # Jitter may shave a little off, but never below the politeness floor.
    delay = max(delay, FLOOR_MINUTES * 60.0)
    return now + timedelta(seconds=delay)


def http_date(value: str) -> datetime | None:
    """An HTTP-date as an aware datetime, or None when it is not one."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    # An HTTP-date is always GMT; "-0000" parses as naive.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from `now`: either delta-seconds or an HTTP-date (RFC 9110 §10.2.3).

    A date in the past gives 0. Anything unparseable gives None (the caller falls back to backoff).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(int(value))
    when = http_date(value)
    if when is None:
        return None
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def host_key(url: str) -> str:
    """What politeness counts as one server: the host name alone (http and https, or two ports,
    are still one publisher's server)."""
    return (urlsplit(url).hostname or "").lower()


def interleave_hosts(urls: Sequence[str]) -> list[int]:
    """Indices of `urls` in the order to start them: one per host in turn, first seen first.

    The fetcher allows one request per host, and the poller holds only a few feeds at a time;
    in the order given, a run of feeds on one host would take every place and wait in line.
    """
    by_host: dict[str, list[int]] = {}
    for i, url in enumerate(urls):
        by_host.setdefault(host_key(url), []).append(i)
    queues = list(by_host.values())
    order: list[int] = []
    for turn in range(max((len(q) for q in queues), default=0)):
        order += [q[turn] for q in queues if turn < len(q)]
    return order
