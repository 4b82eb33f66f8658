"""Shared fixtures. pytest puts this folder on sys.path, so `support` (tests/support/) is importable
from every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from support.pg import PgServer, PgUnavailable
from support.world import world

__all__ = ["pg_server", "pg_url", "world"]

PG_FIXTURES = {"pg_server", "pg_url"}


def _on_ci() -> bool:
    """CI (as CI services set it), or MONITOR_REQUIRE_POSTGRESQL (set by .ci/run itself)."""
    return any(os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")
               for name in ("CI", "MONITOR_REQUIRE_POSTGRESQL"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test that needs the server is selectable with `-m postgresql` / `-m "not postgresql"`
    # without having to remember the marker.
    for item in items:
        if PG_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgresql)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One real PostgreSQL server for the session (tests/support/pg.py), or MONITOR_TEST_PG_URL's.

    Without PostgreSQL binaries the tests skip on a developer machine but fail on CI (CI set),
    so a broken CI image cannot silently skip the whole PostgreSQL store.
    """
    try:
        server = PgServer.from_env()
    except PgUnavailable as exc:
        if _on_ci():
            pytest.fail(f"CI is set but PostgreSQL is unavailable: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL unavailable ({exc}); install Debian's `postgresql` package")
    with server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database for this test; dropped afterwards (open connections are cut)."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)
