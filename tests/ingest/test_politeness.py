"""Scheduling of the next poll: floor, stretch by ttl/max-age, backoff, Retry-After, jitter."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.ingest.politeness import interleave_hosts, next_check, parse_retry_after
from monitor.models import NO_HINTS, FetchResult, ServerHints

NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
DAY = 24 * 3600


def delay(*, interval: float = 15, result: FetchResult | None = None, ttl: int | None = None,
          failures: int = 0, retry_after: float | None = None, jitter: float = 0.0, seed: int = 1) -> float:
    hints = replace(result.hints if result else NO_HINTS, ttl_minutes=ttl, retry_after=retry_after)
    when = next_check(NOW, interval_minutes=interval, hints=hints, failures=failures,
                      rng=random.Random(seed), jitter=jitter)
    return (when - NOW).total_seconds()


def ok(max_age: float | None = None) -> FetchResult:
    return FetchResult(url="http://x/f", status=200, body=b"", headers={}, hints=ServerHints(max_age=max_age))


def test_success_uses_the_interval() -> None:
    assert delay(interval=15, result=ok()) == 15 * 60


def test_interval_floor_is_five_minutes() -> None:
    assert delay(interval=1, result=ok()) == 5 * 60
    assert delay(interval=0, result=None) == 5 * 60


@pytest.mark.parametrize(("ttl", "max_age", "expected"), [
    (60, None, 60 * 60),  # ttl stretches
    (None, 7200, 7200),  # max-age stretches
    (60, 7200, 7200),  # the longer of the two
    (5, 60, 15 * 60),  # never shortened below the interval
    (100_000, None, DAY),  # stretch capped at 24 h
    (None, 10 * DAY, DAY),
    (0, 0, 15 * 60),
])
def test_success_stretch(ttl: int | None, max_age: float | None, expected: float) -> None:
    assert delay(interval=15, result=ok(max_age), ttl=ttl) == expected


def test_long_configured_interval_is_kept() -> None:
    assert delay(interval=48 * 60, result=ok()) == 48 * 3600


def test_jitter_stays_within_the_fraction_and_varies() -> None:
    values = {delay(interval=60, result=ok(), jitter=0.1, seed=s) for s in range(50)}
    assert all(0.9 * 3600 <= v <= 1.1 * 3600 for v in values)
    assert len(values) > 40


def test_jitter_is_deterministic_for_a_seed() -> None:
    assert delay(jitter=0.1, seed=7) == delay(jitter=0.1, seed=7)


def test_jitter_never_goes_below_the_floor() -> None:
    assert all(delay(interval=5, jitter=0.5, seed=s) >= 300 for s in range(50))


def test_backoff_is_exponential_and_capped_never_abandoned() -> None:
    delays = [delay(interval=15, failures=n) for n in range(1, 12)]
    assert delays[:4] == [15 * 60, 30 * 60, 60 * 60, 120 * 60]
    assert delays == sorted(delays)
    assert max(delays) == DAY
    # thousands of failures later: still scheduled, still at most a day away
    assert delay(interval=15, failures=10_000) == DAY


def test_backoff_with_jitter_stays_capped_near_a_day() -> None:
    assert delay(interval=15, failures=50, jitter=0.1) <= 1.1 * DAY


def test_retry_after_wins_over_backoff() -> None:
    assert delay(interval=15, failures=5, retry_after=3600) == 3600


def test_short_retry_after_does_not_poll_faster_than_the_interval() -> None:
    assert delay(interval=15, failures=1, retry_after=10) == 15 * 60


def test_retry_after_capped_at_a_day() -> None:
    assert delay(interval=15, failures=1, retry_after=30 * DAY) == DAY


def test_retry_after_jitter_only_lengthens() -> None:
    assert all(delay(failures=1, retry_after=7200, jitter=0.2, seed=s) >= 7200 for s in range(30))


def test_result_is_aware_and_after_now() -> None:
    when = next_check(NOW, interval_minutes=15, hints=NO_HINTS, failures=0, rng=random.Random(0))
    assert when.tzinfo is not None
    assert when > NOW


@pytest.mark.parametrize(("value", "expected"), [
    ("120", 120.0),
    (" 0 ", 0.0),
    ("Mon, 03 Mar 2025 09:00:00 GMT", 3600.0),
    ("Mon, 03 Mar 2025 07:00:00 GMT", 0.0),  # in the past
    ("Monday, 03-Mar-25 09:00:00 GMT", 3600.0),  # obsolete RFC 850 form
    ("Mon Mar  3 09:00:00 2025", 3600.0),  # asctime form
    ("-5", None),
    ("1.5", None),
    ("soon", None),
    ("", None),
    (None, None),
])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_date_relative_to_now() -> None:
    later = NOW + timedelta(minutes=30)
    assert parse_retry_after("Mon, 03 Mar 2025 09:00:00 GMT", later) == 1800


@pytest.mark.parametrize(("urls", "expected"), [
    ([], []),
    (["http://a/1", "http://a/2", "http://a/3", "http://b/1", "http://c/1"], [0, 3, 4, 1, 2]),
    (["http://a/1", "https://A:8443/2", "http://b/1", "http://b/2"], [0, 2, 1, 3]),  # host, not port or case
    (["http://a/1", "http://b/1", "http://c/1"], [0, 1, 2]),
])
def test_feeds_start_one_host_at_a_time(urls: list[str], expected: list[int]) -> None:
    assert interleave_hosts(urls) == expected
