"""The parse worker analyses a feed's recent entries that may name an actor right where it
parsed them; the daemon's own thread never does (it must not load spaCy)."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

from support.world import feed

from monitor.config.entities import load_entities
from monitor.config.types import DEFAULT_ENTITIES
from monitor.nlp.prefilter import AliasPrefilter
from monitor.service.workers import AnalyseAhead, parse_and_screen, warm_worker

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ENTITIES = tuple(load_entities(DEFAULT_ENTITIES))
SPEC = (ENTITIES, "", 3)
BODY = feed(
    ("new", "Altman a Milano", "«Siamo pronti», ha detto Sam Altman.", "Wed, 25 Nov 2026 11:00:00 +0100"),
    ("old", "Musk e xAI", "«Andiamo avanti», ha scritto Elon Musk su X.", "Mon, 23 Nov 2026 09:00:00 +0100"),
    ("quiet", "Un visore nuovo", "Costa poco.", "Wed, 25 Nov 2026 11:30:00 +0100"),
)
AHEAD = AnalyseAhead(SPEC, since=NOW - timedelta(hours=12))


def _run(pool: ProcessPoolExecutor | None) -> tuple[object, ...]:
    args = (BODY, {"content-type": "application/rss+xml"}, "http://x/feed.xml", NOW, AliasPrefilter(ENTITIES), AHEAD)
    if pool is None:
        return parse_and_screen(*args)
    return pool.submit(parse_and_screen, *args).result(timeout=120)


def test_worker_analyses_recent_entries_that_may_name_an_actor() -> None:
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=warm_worker, initargs=(SPEC,))
    try:
        parsed, screen, ready = _run(pool)
    finally:
        pool.shutdown()
    assert screen == (True, True, False)
    # Only the recent entry naming someone: the old one is left to the store's decision.
    assert [title for title, _ in ready] == ["Altman a Milano"]  # type: ignore[attr-defined]
    (analysis,) = ready.values()  # type: ignore[attr-defined]
    assert [c.speaker for c in analysis.claims if c.kind == "quote"] == ["sam_altman"]


def test_the_daemon_thread_only_parses_and_screens() -> None:
    parsed, screen, ready = asyncio.run(asyncio.to_thread(_run, None))
    assert screen == (True, True, False) and ready == {}
