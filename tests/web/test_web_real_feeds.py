"""Every console page over a state built from the real Italian feeds in ../shared/real-feeds."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import httpx
import lxml.html
import pytest
from test_web_pages import assert_inert
from web_state import REAL_FEEDS, State, build_from_files

from monitor.store.archive import Archive
from monitor.web.app import build_app

pytestmark = pytest.mark.skipif(not REAL_FEEDS.is_dir(), reason=f"{REAL_FEEDS} is not there")


@pytest.fixture
def real_state(tmp_path: Path) -> State:
    return build_from_files(tmp_path, sorted(REAL_FEEDS.glob("*.xml")))


async def test_every_page_works_on_real_feeds(real_state: State) -> None:
    state = real_state
    with sqlite3.connect(state.database) as db:
        stories = [r[0] for r in db.execute("SELECT id FROM articles ORDER BY id")]
        words = [r[0].split()[0] for r in db.execute("SELECT title FROM articles WHERE title != '' LIMIT 5")]
        messages = [r[0] for r in db.execute("SELECT id FROM outbox")]
    assert len(stories) > 30
    archive = Archive(state.database)
    app = build_app(state.config, archive)
    paths = ["/", "/feeds", "/digests", "/entities/test", *(f"/stories/{i}" for i in stories),
             *(f"/search?q={quote(w)}" for w in words), *(f"/actors/{e.id}" for e in state.config.entities),
             *(f"/digests/{m}" for m in messages)]
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            for path in paths:
                response = await client.get(path)
                assert response.status_code == 200, path
                assert_inert(lxml.html.fromstring(response.text), path)
            feeds = (await client.get("/api/feeds")).json()["feeds"]
            assert len(feeds) == len(list(REAL_FEEDS.glob("*.xml")))
            assert sum(f["articles"] for f in feeds) >= len(stories)
            for word in words:
                assert "hits" in (await client.get(f"/api/search?q={quote(word)}")).json()
    finally:
        archive.close()
