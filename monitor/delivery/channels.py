"""Posting to chat and webhook channels through Apprise, and sorting its failures.

Apprise's notify() only answers True or False; the HTTP status of a failure reaches the caller
solely through Apprise's log records ("Failed to send JSON POST notification: Internal Server
Error, error=500." and the like; "A Connection error occurred ..." when nothing answered).
A post therefore runs with a handler on Apprise's logger and the records decide:

* accepted (notify() True) → sent;
* an HTTP 4xx other than 408, 425 and 429 → permanent: the service refused this request (a
  revoked webhook, a bad token, a malformed body) and sending it again changes nothing;
* a 5xx, 408, 425, 429, a connection or timeout error, or a failure without any status → temporary:
  retried with the mail backoff, which dead-letters after two days anyway;
* a URL Apprise cannot read → permanent.

Apprise's own records never propagate to monitor's log (a plugin may log the webhook URL, which
is the secret); monitor logs its own line with the channel's name and the status only.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Literal

import apprise

# A failure's status, as Apprise's plugins write it ("..., error=500.").
_STATUS = re.compile(r"error=(\d{3})\b")
_CONNECTION = re.compile(r"connection error|timed? ?out|socket exception|ssl", re.IGNORECASE)
_TEMPORARY_4XX = frozenset({408, 425, 429})
# What every post leaves for the title and separator in services that join title and body.
_TITLE_ROOM = 260

_apprise_log = logging.getLogger("apprise")
_apprise_log.propagate = False  # see the module docstring: its records may hold the URL
_capture_lock = threading.Lock()  # one capture at a time, so records go to the post they belong to
_posting = threading.Event()


class _WhilePosting(logging.Filter):
    """Drops the HTTP library's records made while a post is under way (in Apprise's own worker
    threads too): urllib3 logs each request's path, and a webhook's path is its secret (Slack,
    Teams, Discord). monitor itself fetches with another HTTP library, so nothing else is lost."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _posting.is_set()


for _name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
    logging.getLogger(_name).addFilter(_WhilePosting())

Flavour = Literal["slack", "markdown"]


@dataclass(frozen=True)
class PostResult:
    ok: bool
    permanent: bool = False
    reason: str = ""  # status and Apprise's verdict, never the URL


@dataclass(frozen=True)
class Target:
    """What rendering needs to know about a channel's service."""

    service: str
    flavour: Flavour
    max_chars: int


def describe(url: str) -> Target | None:
    """The service behind an Apprise URL and the size its posts must fit; None if not a valid URL.

    Nothing is sent: this is what `monitor check --channels` runs.
    """
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return None
    service = str(plugin.service_name)
    flavour: Flavour = "slack" if service.lower() == "slack" else "markdown"
    limit = int(plugin.body_maxlen)
    if not plugin.title_maxlen:  # the title goes into the body there
        limit -= _TITLE_ROOM
    return Target(service=service, flavour=flavour, max_chars=max(limit, 200))


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a plugin's malformed log call must not fail the post
            self.messages.append(str(record.msg))


def post(url: str, title: str, body: str, timeout: float = 30.0) -> PostResult:
    """Send one post (blocking: call it from a thread). Never raises for a failed delivery."""
    notifier = apprise.Apprise()
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return PostResult(False, permanent=True, reason="not a valid Apprise URL")
    # Apprise waits 4 s for an answer by default; a slow webhook gets the mail session's time.
    plugin.socket_read_timeout = timeout
    notifier.add(plugin)
    records = _Records()
    with _capture_lock:
        level = _apprise_log.level
        _apprise_log.addHandler(records)
        _apprise_log.setLevel(logging.WARNING)  # failures are warnings; no costly debug payload dumps
        _posting.set()
        try:
            ok = notifier.notify(body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN)
        except Exception as exc:  # a plugin bug: retry later rather than lose the post
            return PostResult(False, reason=f"Apprise failed: {type(exc).__name__}")
        finally:
            _posting.clear()
            _apprise_log.removeHandler(records)
            _apprise_log.setLevel(level)
    if ok:
        return PostResult(True)
    return classify(records.messages)


def classify(messages: list[str]) -> PostResult:
    """Temporary or permanent, from what Apprise logged about a failed post (see the docstring)."""
    codes = [int(m) for message in messages for m in _STATUS.findall(message)]
    if codes:
        code = codes[-1]
        permanent = 400 <= code < 500 and code not in _TEMPORARY_4XX
        return PostResult(False, permanent=permanent, reason=f"HTTP {code}")
    if any(_CONNECTION.search(m) for m in messages):
        return PostResult(False, reason="connection failed")
    return PostResult(False, reason="the service did not accept the post (no status reported)")
