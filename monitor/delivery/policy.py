"""When to retry a message the SMTP server did not take. Pure: the caller passes `now`."""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_DELAY = timedelta(minutes=5)
MAX_DELAY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=2)


def next_attempt(attempts: int, first_attempt: datetime, now: datetime) -> datetime | None:
    """The time of the next try after `attempts` failed ones; None once it is time to give up.

    Delays double from 5 minutes up to 1 hour. Two days after the first attempt the message is
    dead-lettered and reported (None); the last retry is pulled in to that deadline rather than
    skipped, so a relay that comes back in time still gets the message.
    """
    deadline = first_attempt + GIVE_UP_AFTER
    if now >= deadline:
        return None
    if attempts <= 0:
        return now
    # Cap the exponent: 5 min * 2**4 = 80 min already exceeds the 1 h cap.
    delay = min(FIRST_DELAY * 2 ** min(attempts - 1, 5), MAX_DELAY)
    return min(now + delay, deadline)
