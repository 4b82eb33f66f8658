"""Retry schedule for unsent outbox messages: doubling from 5 minutes, capped at 1 hour, 2-day limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.delivery.policy import next_attempt

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("attempts", "elapsed", "expected_delay"),
    [
        (0, timedelta(0), timedelta(0)),  # never tried: now
        (1, timedelta(0), 5 * MIN),
        (2, 5 * MIN, 10 * MIN),
        (3, 15 * MIN, 20 * MIN),
        (4, 35 * MIN, 40 * MIN),
        (5, 75 * MIN, 60 * MIN),  # 80 min capped at 1 h
        (6, timedelta(hours=3), 60 * MIN),
        (500, timedelta(hours=30), 60 * MIN),  # huge counts do not overflow
        (40, timedelta(days=2) - 10 * MIN, 10 * MIN),  # pulled in to the 2-day deadline
    ],
)
def test_backoff_table(attempts: int, elapsed: timedelta, expected_delay: timedelta) -> None:
    now = T0 + elapsed
    assert next_attempt(attempts, T0, now) == now + expected_delay


@pytest.mark.parametrize("elapsed", [timedelta(days=2), timedelta(days=2, seconds=1), timedelta(days=30)])
def test_gives_up_after_two_days(elapsed: timedelta) -> None:
    assert next_attempt(7, T0, T0 + elapsed) is None


@given(attempts=st.integers(min_value=1, max_value=10_000),
       elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
def test_never_past_deadline_and_never_too_soon(attempts: int, elapsed: timedelta) -> None:
    now = T0 + elapsed
    when = next_attempt(attempts, T0, now)
    if elapsed >= timedelta(days=2):
        assert when is None
    else:
        assert when is not None
        assert now < when <= T0 + timedelta(days=2)
        assert when - now <= timedelta(hours=1)
