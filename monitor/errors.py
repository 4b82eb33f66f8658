"""One exception tree, split by what the caller does next.

- ConfigError: a human must fix a file and restart (exit status 78, EX_CONFIG).
- TransientError: try again later (network down, 4xx SMTP reply, timeouts).
- PermanentError: give up on this item and report it (410 Gone, 5xx SMTP reply, not a feed).
"""

from __future__ import annotations

import signal

from monitor.models import NO_HINTS, ServerHints

EX_CONFIG = 78


class StopRequested(BaseException):
    """SIGTERM or SIGINT during start-up, before the daemon's event loop handles them. Not a
    MonitorError and, like KeyboardInterrupt, a BaseException: no `except Exception` on the way
    takes a stop for a failure."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def raise_stop(signum: int, frame: object) -> None:
    """Signal handler for start-up: the stop arrives as StopRequested wherever start-up is."""
    raise StopRequested(signum)


def stop_exit_code(signum: int | None) -> int:
    """SIGTERM (systemctl stop) is a normal end: 0. Ctrl-C (SIGINT) exits 130, as shells expect."""
    return 130 if signum == signal.SIGINT else 0


class MonitorError(Exception):
    """Base of every error monitor raises on purpose."""


class ConfigError(MonitorError):
    """The configuration is invalid; the message names the file, the key path and the reason."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        self.file = file
        self.key = key
        self.reason = reason
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {reason}")


class StateError(MonitorError):
    """The state directory or database cannot be used; the message says how to recover."""


class TransientError(MonitorError):
    """Worth retrying later."""


class PermanentError(MonitorError):
    """Retrying will not help; report and give up on this item."""


class FetchError(TransientError):
    """A feed could not be fetched this time (network, timeout, 5xx, 429); `hints` carries a
    Retry-After for politeness."""

    def __init__(self, message: str, hints: ServerHints = NO_HINTS) -> None:
        super().__init__(message)
        self.hints = hints


class FeedGoneError(PermanentError):
    """The feed answered 410 Gone: it is disabled until an operator re-enables it."""

    hints = ServerHints(gone=True)


class NotAFeedError(PermanentError):
    """The response is not a feed (an HTML page, junk bytes, an empty body)."""


class TooLargeError(FetchError):
    """The body exceeds the configured cap (after decompression)."""


class SmtpTemporaryError(TransientError):
    """A 4xx reply, a timeout or a dropped connection: the message stays queued."""


class SmtpPermanentError(PermanentError):
    """A 5xx reply for the message: it is dead-lettered and reported."""


class SmtpAuthError(PermanentError):
    """Authentication failed (535): sending stops until the operator fixes the credentials."""
