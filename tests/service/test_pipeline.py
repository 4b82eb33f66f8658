"""The orchestrator in-process, over real loopback HTTP and SMTP and a real SQLite file."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.ingest_server import Route
from support.smtp_server import SmtpServer
from support.world import RECENT, Clock, feed, running, subjects

from monitor.config.types import Alias, EntityConfig
from monitor.models import StoredArticle
from monitor.service import pipeline
from monitor.store import articles

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def test_backfill_window_and_no_duplicate_digest(world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    config_path, routes, smtp = world
    routes["/feed.xml"] = Route(body=feed(
        ("a1", "Altman e OpenAI", "«Siamo pronti», ha detto Altman ai giornalisti.", RECENT),
        ("a2", "Vecchia storia su Altman", "Altman ha parlato a lungo.", "Mon, 16 Nov 2026 08:00:00 +0100")))
    async with running(config_path, Clock(NOW)) as rt:
        outcomes = await pipeline.poll_feeds(rt, force=True)
        assert [o.new_articles for o in outcomes] == [1]  # the 9-day-old item is backlog, not news
        digest = rt.config.digests[0]
        assert pipeline.run_digest(rt, digest) is not None
        assert await pipeline.flush_outbox(rt) == 1
        assert pipeline.run_digest(rt, digest) is None  # nothing new: no second mail
        assert await pipeline.flush_outbox(rt) == 0
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
    async with running(config_path, Clock(NOW)) as rt:
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
    assert len(smtp.messages) == 2
    text = email.message_from_bytes(smtp.messages[1].raw, policy=email.policy.default).get_body(("plain",))
    assert text is not None and "copertura precedente" in text.get_content()


@pytest.mark.parametrize("workers", [1, 2])
async def test_parsing_in_worker_processes_gives_the_same_articles(
        world: tuple[Path, dict[str, Route], SmtpServer], workers: int) -> None:
    config_path, routes, _ = world
    config_path.write_text(config_path.read_text().replace(
        "backfill_hours = 48", f"backfill_hours = 48\nparse_workers = {workers}"))
    routes["/feed.xml"] = Route(body=feed(
        ("p1", "Altman a Milano", "«Siamo pronti», ha detto Altman.", RECENT),
        ("p2", "Un visore nuovo", "Costa poco.", RECENT)))
    async with running(config_path, Clock(NOW)) as rt:
        assert rt.parse_pool is not None
        (outcome,) = await pipeline.poll_feeds(rt, force=True)
        assert outcome.status == "new" and outcome.new_articles == 2
        stories = articles.stories_for_digest(rt.store, "mattina", (), 1.0, NOW - timedelta(days=7))
        assert [s.title for s in stories] == ["Altman a Milano"]
        assert rt.analyzer is None  # the workers analysed: the daemon never loaded spaCy


async def test_analysis_where_the_feed_was_parsed_stores_what_the_daemon_would(
        world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    """A worker analyses the entries it parsed; the stored result is the same as when the daemon
    analyses them itself, then a second poll analyses only what changed."""
    config_path, routes, _ = world
    items = [("p1", "Altman a Milano", "«Siamo pronti», ha detto Sam Altman ai giornalisti.", RECENT),
             ("p2", "Musk e xAI", "Secondo Elon Musk, xAI crescerà ancora.", RECENT),
             ("p3", "Un visore nuovo", "Costa poco.", RECENT)]
    routes["/feed.xml"] = Route(body=feed(*items))
    stored = {}
    base = config_path.read_text()
    for workers in (0, 1):
        config_path.write_text(base.replace('state_dir = "state"', f'state_dir = "state{workers}"').replace(
            "backfill_hours = 48", f"backfill_hours = 48\nparse_workers = {workers}"))
        async with running(config_path, Clock(NOW)) as rt:
            await pipeline.poll_feeds(rt, force=True)
            items[1] = ("p2", "Musk e xAI", "Secondo Elon Musk, xAI crescerà ancora molto.", RECENT)
            routes["/feed.xml"] = Route(body=feed(*items))
            await pipeline.poll_feeds(rt, force=True)  # p2 changed: analysed again, the others kept
            items[1] = ("p2", "Musk e xAI", "Secondo Elon Musk, xAI crescerà ancora.", RECENT)
            routes["/feed.xml"] = Route(body=feed(*items))
            stories = articles.stories_for_digest(rt.store, "mattina", (), 1.0, NOW - timedelta(days=7))
            stored[workers] = [(s.title, s.text, s.mentions, s.key_claims, s.salience) for s in stories]
    assert [title for title, *_ in stored[1]] == ["Altman a Milano", "Musk e xAI"]
    assert "molto" in stored[1][1][1]
    assert stored[1] == stored[0]


FULL_PAGE = """<html><head><title>Pagina</title></head><body><nav>Menu Home Contatti</nav>
<article><h1>Altman a Torino</h1>
<p>Sam Altman ha visitato ieri il Politecnico di Torino incontrando studenti e docenti.</p>
<p>«L'Italia ha talenti straordinari e li vogliamo qui», ha detto Altman durante l'incontro,
che è durato più di due ore e si è concluso con una lunga sessione di domande.</p>
<p>Il rettore ha ringraziato l'ospite e annunciato nuove borse di studio per la ricerca.</p>
</article><footer>Copyright</footer></body></html>"""


async def _full_text_story(world: tuple[Path, dict[str, Route], SmtpServer], title: str,
                           summary: str) -> StoredArticle:
    """Poll a full-text feed whose one item links to FULL_PAGE; the story the digest would show."""
    pytest.importorskip("trafilatura")
    config_path, routes, _ = world
    config_path.write_text(config_path.read_text().replace('name = "Fonte"', 'name = "Fonte"\nfull_text = true'))
    base = routes["base"].body.decode()
    routes["/page.html"] = Route(body=FULL_PAGE.encode(), headers={"Content-Type": "text/html; charset=utf-8"})
    rss = RSS_ONE.format(link=f"{base}page.html", date=RECENT, title=title, summary=summary)
    routes["/feed.xml"] = Route(body=rss.encode())
    async with running(config_path, Clock(NOW)) as rt:
        await pipeline.poll_feeds(rt, force=True)
        (story,) = articles.stories_for_digest(rt.store, "mattina", (), 1.0, NOW - timedelta(days=7))
    return story


async def test_full_text_replaces_the_feed_summary(world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    story = await _full_text_story(world, "Altman a Torino", "Breve: Sam Altman in visita.")
    assert "talenti straordinari" in story.text
    assert [c.speaker for c in story.key_claims if c.kind == "quote"] == ["sam_altman"]


RSS_ONE = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>F</title>
<item><title>{title}</title><link>{link}</link><guid>ft1</guid><pubDate>{date}</pubDate>
<description>{summary}</description></item></channel></rss>"""


async def test_quote_already_published_elsewhere_is_not_a_key_claim(
        world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    config_path, routes, _ = world
    config_path.write_text(config_path.read_text() + "\n[nlp]\nkey_claims = 1\n")
    first = ("q1", "Altman a Roma", "«Il futuro è aperto», ha detto Sam Altman a Roma.", RECENT)
    second = ("q2", "Altman ancora", "«Il futuro è aperto», ha ripetuto Sam Altman. "
              "«Apriremo un ufficio a Milano», ha aggiunto Altman.", RECENT)
    async with running(config_path, Clock(NOW)) as rt:
        routes["/feed.xml"] = Route(body=feed(first))
        await pipeline.poll_feeds(rt, force=True)
        routes["/feed.xml"] = Route(body=feed(first, second))
        await pipeline.poll_feeds(rt, force=True)
        stories = articles.stories_for_digest(rt.store, "mattina", (), 1.0, NOW - timedelta(days=7))
    key = {s.title: [c.text for c in s.key_claims] for s in stories}
    assert key["Altman a Roma"] == ["Il futuro è aperto"]
    assert key["Altman ancora"] == ["Apriremo un ufficio a Milano"]


async def test_digest_snippet_comes_from_deep_in_a_long_article(
        world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    # Candidates are weighed on their leads; the stories shown still get their whole text.
    config_path, routes, smtp = world
    filler = " ".join(f"Il mercato dei semiconduttori è cresciuto nel trimestre numero {i}." for i in range(40))
    body = f"{filler} Secondo Sam Altman la nuova piattaforma arriverà in Italia entro l'estate."
    routes["/feed.xml"] = Route(body=feed(("long1", "Mercati e intelligenza artificiale", body, RECENT)))
    async with running(config_path, Clock(NOW)) as rt:
        await pipeline.poll_feeds(rt, force=True)
        assert pipeline.run_digest(rt, rt.config.digests[0]) is not None
        assert await pipeline.flush_outbox(rt) == 1
    (received,) = smtp.messages
    text = email.message_from_bytes(received.raw, policy=email.policy.default).get_body(("plain",))
    assert text is not None
    shown = " ".join(text.get_content().split())
    assert "arriverà in Italia entro l'estate" in shown
    assert "trimestre numero 0." not in shown  # the snippet is the mention's sentence, not the lead


async def test_articles_naming_nobody_are_stored_analysed_and_found_by_a_later_rescan(
        world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    """Screened out at parse time, they are still counted, stored as analysed and rescanned."""
    config_path, routes, _ = world
    routes["/feed.xml"] = Route(body=feed(
        ("q1", "Microsoft a Redmond", "«Lavoriamo insieme da anni», ha detto Satya Nadella.", RECENT),
        ("q2", "Musk e xAI", "«Siamo pronti», ha detto Elon Musk ai giornalisti.", RECENT)))
    async with running(config_path, Clock(NOW)) as rt:
        outcomes = await pipeline.poll_feeds(rt, force=True)
        assert [o.new_articles for o in outcomes] == [2]
        assert articles.pending_articles(rt.store) == []
        stories = articles.stories_for_digest(rt.store, "mattina", (), 1.0, NOW - timedelta(days=7))
        assert [s.title for s in stories] == ["Musk e xAI"]
        nadella = EntityConfig(id="satya_nadella", name="Satya Nadella", kind="person",
                               aliases=(Alias("Satya Nadella"), Alias("Nadella")))
        rt.set_config(replace(rt.config, entities=(*rt.config.entities, nadella)))
        assert await pipeline.rescan(rt, {"satya_nadella"}) == 1
        stories = articles.stories_for_digest(rt.store, "mattina", (), 1.0, NOW - timedelta(days=7))
        assert sorted(s.title for s in stories) == ["Microsoft a Redmond", "Musk e xAI"]


async def test_full_text_feed_is_analysed_even_when_its_summary_names_nobody(
        world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    story = await _full_text_story(world, "Visita a Torino", "Breve: una visita.")
    assert [c.speaker for c in story.key_claims if c.kind == "quote"] == ["sam_altman"]
