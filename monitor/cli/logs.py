"""Log lines: one event per line, and on a terminal a time stamp in the configured time zone.

Logging starts before the config is read, so lines are stamped in UTC (and say so) until a
command has loaded its config and called `use_zone`; from then on they carry the config's time
zone, the one digests and `monitor status` show, with its name (`CET`, `CEST`).
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime, tzinfo

_zone: tzinfo = UTC


def use_zone(zone: tzinfo) -> None:
    global _zone
    _zone = zone


class OneLineFormatter(logging.Formatter):
    """One event, one line: a multi-line SMTP reply must not lose its level under journald."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r\n", " | ").replace("\n", " | ").replace("\r", " | ")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        when = datetime.fromtimestamp(record.created, _zone)
        return f"{when:%Y-%m-%d %H:%M:%S},{int(record.msecs):03d} {when.tzname() or _zone}"


def setup_logging(level: str) -> None:
    # journald adds its own timestamps; a terminal gets them from us.
    fmt = "%(levelname)s %(message)s" if os.environ.get("JOURNAL_STREAM") else \
        "%(asctime)s %(levelname)s %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in ("apscheduler", "pyreqwest", "mail.log", "aiosmtplib", "spacy", "tzlocal"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
