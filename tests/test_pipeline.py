"""The orchestrator in-process, over real loopback HTTP and SMTP and a real SQLite file."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ingest_server import Route, serve
from smtp_server import SmtpServer

from monitor import pipeline
from monitor import store_articles as articles
from monitor.config import DEFAULT_ENTITIES, Alias, EntityConfig, load_config
from monitor.service import open_runtime

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Fonte</title><link>https://fonte.example/</link>
{items}
</channel></rss>"""
ITEM = """<item><title>{title}</title><link>https://fonte.example/{guid}</link><guid>{guid}</guid>
<pubDate>{date}</pubDate><description>{body}</description></item>"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


RECENT = "Wed, 25 Nov 2026 08:00:00 +0100"


def feed(*items: tuple[str, str, str, str]) -> bytes:
    return RSS.format(items="".join(ITEM.format(guid=g, title=t, body=b, date=d) for g, t, b, d in items)).encode()


def subjects(smtp: SmtpServer) -> list[str]:
    return [str(email.message_from_bytes(m.raw, policy=email.policy.default)["Subject"]) for m in smtp.messages]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, dict[str, Route], SmtpServer]]:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    routes: dict[str, Route] = {}
    with serve({"/feed.xml": lambda req: routes["/feed.xml"]}) as http, SmtpServer() as smtp:
        shutil.copy(DEFAULT_ENTITIES, tmp_path / "entities.toml")
        (tmp_path / "config.toml").write_text(f"""
[general]
state_dir = "state"
[polling]
backfill_hours = 48
[smtp]
host = "127.0.0.1"
port = {smtp.port}
tls = "none"
sender = "monitor@localhost"
[[digest]]
name = "mattina"
schedule = "0 8 * * *"
recipients = ["redazione@example.com"]
[[feeds]]
url = "{http.url('/feed.xml')}"
name = "Fonte"
""")
        yield tmp_path / "config.toml", routes, smtp


NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def test_backfill_window_and_no_duplicate_digest(world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    config_path, routes, smtp = world
    routes["/feed.xml"] = Route(body=feed(
        ("a1", "Altman e OpenAI", "«Siamo pronti», ha detto Altman ai giornalisti.", RECENT),
        ("a2", "Vecchia storia su Altman", "Altman ha parlato a lungo.", "Mon, 16 Nov 2026 08:00:00 +0100")))
    rt = open_runtime(load_config(config_path))
    rt.clock = Clock(NOW)
    try:
        outcomes = await pipeline.poll_feeds(rt, force=True)
        assert [o.new_articles for o in outcomes] == [1]  # the 9-day-old item is backlog, not news
        digest = rt.config.digests[0]
        assert pipeline.run_digest(rt, digest) is not None
        assert await pipeline.flush_outbox(rt) == 1
        assert pipeline.run_digest(rt, digest) is None  # nothing new: no second mail
        assert await pipeline.flush_outbox(rt) == 0
    finally:
        await rt.fetcher.aclose()
        rt.store.close()
    assert len(subjects(smtp)) == 1, subjects(smtp)
    (received,) = smtp.messages
    text = email.message_from_bytes(received.raw, policy=email.policy.default).get_body(("plain",))
    assert text is not None and "Siamo pronti" in text.get_content()
    assert "Vecchia storia" not in text.get_content()


async def test_reload_with_new_entity_rescans_recent_articles(
        world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    config_path, routes, smtp = world
    routes["/feed.xml"] = Route(body=feed(
        ("n1", "Microsoft e OpenAI", "Satya Nadella ha incontrato i vertici di OpenAI a Redmond. "
         "«Lavoriamo insieme da anni», ha detto Nadella.", RECENT)))
    rt = open_runtime(load_config(config_path))
    rt.clock = Clock(NOW)
    try:
        await pipeline.poll_feeds(rt, force=True)
        pipeline.run_digest(rt, rt.config.digests[0])
        await pipeline.flush_outbox(rt)
        nadella = EntityConfig(id="satya_nadella", name="Satya Nadella", kind="person",
                               aliases=(Alias("Satya Nadella"), Alias("Nadella")))
        rt.set_config(replace(rt.config, entities=(*rt.config.entities, nadella)))
        assert await pipeline.rescan(rt, {"satya_nadella"}) == 1
        stories = articles.stories_for_digest(rt.store, "mattina", (), 1.0, NOW - timedelta(days=7))
        assert [s.earlier for s in stories] == [True]
        assert "satya_nadella" in {m.entity for m in stories[0].mentions}
        pipeline.run_digest(rt, rt.config.digests[0])
        await pipeline.flush_outbox(rt)
    finally:
        await rt.fetcher.aclose()
        rt.store.close()
    assert len(smtp.messages) == 2
    text = email.message_from_bytes(smtp.messages[1].raw, policy=email.policy.default).get_body(("plain",))
    assert text is not None and "copertura precedente" in text.get_content()


async def test_parsing_in_worker_processes_gives_the_same_articles(
        world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    config_path, routes, _ = world
    config_path.write_text(config_path.read_text().replace("backfill_hours = 48", "backfill_hours = 48\nparse_workers = 2"))
    routes["/feed.xml"] = Route(body=feed(
        ("p1", "Altman a Milano", "«Siamo pronti», ha detto Altman.", RECENT),
        ("p2", "Un visore nuovo", "Costa poco.", RECENT)))
    rt = open_runtime(load_config(config_path))
    rt.clock = Clock(NOW)
    try:
        assert rt.parse_pool is not None
        (outcome,) = await pipeline.poll_feeds(rt, force=True)
        assert outcome.status == "new" and outcome.new_articles == 2
        stories = articles.stories_for_digest(rt.store, "mattina", (), 1.0, NOW - timedelta(days=7))
        assert [s.title for s in stories] == ["Altman a Milano"]
    finally:
        await rt.aclose()
