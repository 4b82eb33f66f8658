"""The console's tests share one state built by the real pipeline (see web_state.py) and one
application over it (its NLP pipeline is built once, on the first page that needs it).

`state` is built twice, on each backend (a SQLite file, a PostgreSQL database), so every test
using it or the app runs on both; `sqlite_state` is the SQLite one alone (browser tests)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

sys.path.insert(0, str(Path(__file__).parent))

from web_state import State, build_state  # noqa: E402

from monitor.store.archive import Archive  # noqa: E402
from monitor.web.app import build_app  # noqa: E402

BASE = "http://127.0.0.1:8080"


@pytest.fixture(scope="session")
def sqlite_state(tmp_path_factory: pytest.TempPathFactory) -> State:
    return build_state(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def state(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[State]:
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_state")
        return
    server = request.getfixturevalue("pg_server")
    url = server.create_database()
    yield build_state(tmp_path_factory.mktemp("web-pg"), store_url=url)
    server.drop_database(url)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `-m "not postgresql"` leaves out the PostgreSQL half (its server is asked for at run time).
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("state") == "postgresql":
            item.add_marker(pytest.mark.postgresql)


@pytest.fixture(scope="session")
def app(state: State) -> Iterator[Starlette]:
    archive = Archive(state.target)
    yield build_app(state.config, archive)
    archive.close()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        yield c
