"""Fault suite: make the shared test support (tests/support/: servers, state fixtures) importable."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


# Imported after the path set-up above.
from collections.abc import AsyncIterator, Iterator  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import pytest  # noqa: E402
from fault_support import Feed  # noqa: E402
from support.ingest_server import IngestServer, serve  # noqa: E402
from support.smtp_server import SmtpServer  # noqa: E402
from support.world import Clock  # noqa: E402

T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def feed() -> Iterator[tuple[Feed, IngestServer]]:
    """One loopback feed whose items a test adds between polls."""
    f = Feed()
    with serve({"/feed.xml": f.route}) as server:
        yield f, server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def clock() -> AsyncIterator[Clock]:
    yield Clock(T0)
