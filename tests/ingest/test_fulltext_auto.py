"""Claims from the article, not the teaser: full_text = "auto" (the default) fetches the page of a
new entry whose short teaser may name a tracked actor, within a per-host budget per poll cycle,
and keeps the feed's text on any failure. Real loopback pages, a real store, the real pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.ingest_server import IngestServer, Route, serve
from support.world import RECENT, Clock, write_config

from monitor.config.load import load_config
from monitor.errors import ConfigError
from monitor.ingest.fulltext import MAX_PAGES_PER_HOST, SHORT_FEED_TEXT, PageBudget
from monitor.models import StoredArticle
from monitor.service import pipeline
from monitor.service.daemon import open_runtime
from monitor.store import articles

pytest.importorskip("trafilatura")

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
QUOTE = "L'Italia ha talenti straordinari e li vogliamo qui"


def page(n: int) -> bytes:
    """Article n: its own wording (trafilatura drops paragraphs it has already seen), one quote."""
    return f"""<html><head><title>Pagina {n}</title></head><body><nav>Menu Home Contatti</nav>
<article><h1>Altman a Torino, tappa {n}</h1>
<p>Sam Altman ha visitato ieri la sede numero {n} del Politecnico incontrando studenti e docenti.</p>
<p>«{QUOTE}», ha detto Altman durante l'incontro numero {n}, che è durato più di due ore e si è
concluso con una lunga sessione di domande degli studenti presenti in aula magna.</p>
<p>Il rettore ha ringraziato l'ospite e annunciato {n + 2} nuove borse di studio per la ricerca.</p>
</article><footer>Copyright</footer></body></html>""".encode()


PAGE = page(0)
HTML = {"Content-Type": "text/html; charset=utf-8"}
ITEM = ("<item><title>{title}</title><link>{link}</link><guid>{guid}</guid><pubDate>{date}</pubDate>"
        "<description>{body}</description></item>")
TEASER = "Breve: Sam Altman in visita al Politecnico."


class Site:
    """A loopback outlet: its feed and article pages, with what a test puts in them."""

    def __init__(self, server: IngestServer, routes: dict[str, Route]) -> None:
        self.server = server
        self.routes = routes

    def publish(self, *items: tuple[str, str, str]) -> None:
        """(guid, title, teaser) items, each linking to /a/<guid>."""
        body = "".join(ITEM.format(title=t, link=self.server.url(f"/a/{g}"), guid=g, date=RECENT, body=b)
                       for g, t, b in items)
        self.routes["/feed.xml"] = Route(body=f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0">'
                                              f"<channel><title>Fonte</title>{body}</channel></rss>".encode())

    def page_requests(self) -> list[str]:
        return [r.path for r in self.server.requests if r.path.startswith("/a/")]


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    routes: dict[str, Route] = {}
    paths = {"/feed.xml": lambda req: routes["/feed.xml"]}
    for n in range(20):
        paths[f"/a/{n}"] = lambda req, n=n: routes.get(f"/a/{n}", Route(body=page(n), headers=HTML))
    with serve(paths) as server:
        yield Site(server, routes)


async def _poll(site: Site, tmp_path: Path, feed_extra: str = "") -> list[StoredArticle]:
    path = write_config(tmp_path, [(site.server.url("/feed.xml"), "Fonte")], smtp_port=9, digest=None)
    path.write_text(path.read_text().replace('name = "Fonte"', f'name = "Fonte"\n{feed_extra}'))
    rt = open_runtime(load_config(path))
    rt.clock = Clock(NOW)
    try:
        (outcome,) = await pipeline.poll_feeds(rt, force=True)
        assert outcome.status == "new"
        ids = [row[0] for row in rt.store.db.execute("SELECT id FROM articles ORDER BY id")]
        return articles.load_stories(rt.store, ids)
    finally:
        await rt.aclose()


async def test_by_default_the_quote_comes_from_the_article_page(site: Site, tmp_path: Path) -> None:
    site.publish(("0", "Altman a Torino", TEASER))
    (story,) = await _poll(site, tmp_path)
    assert site.page_requests() == ["/a/0"]
    assert QUOTE in story.text  # the teaser does not hold it
    assert [c.speaker for c in story.key_claims if c.kind == "quote"] == ["sam_altman"]


async def test_an_entry_naming_nobody_keeps_its_teaser(site: Site, tmp_path: Path) -> None:
    site.publish(("0", "Visita a Torino", "Breve: una visita al Politecnico."))
    (story,) = await _poll(site, tmp_path)
    assert site.page_requests() == []
    assert story.text == "Breve: una visita al Politecnico."


async def test_a_feed_that_carries_the_article_is_not_fetched_again(site: Site, tmp_path: Path) -> None:
    long_text = TEASER + " " + "Il Politecnico ha accolto l'ospite con una lunga cerimonia. " * 10
    assert len(long_text) >= SHORT_FEED_TEXT
    site.publish(("0", "Altman a Torino", long_text))
    (story,) = await _poll(site, tmp_path)
    assert site.page_requests() == []
    assert story.text == long_text.strip()


@pytest.mark.parametrize("page", [
    Route(status=404, body=b"no"),
    Route(status=500),
    Route(body=b'{"not": "html"}', headers={"Content-Type": "application/json"}),
    Route(body=b"<html><body><p>Accetta i cookie</p></body></html>", headers=HTML),  # a cookie wall
    Route(body=PAGE, headers=HTML, delay=15),  # past the 10 s deadline of the test config
])
async def test_the_feed_text_is_kept_when_the_page_fails(site: Site, tmp_path: Path, page: Route) -> None:
    site.publish(("0", "Altman a Torino", TEASER))
    site.routes["/a/0"] = page
    (story,) = await _poll(site, tmp_path)
    assert site.page_requests() == ["/a/0"]
    assert story.text == TEASER
    assert "sam_altman" in story.salience  # still analysed, from the teaser


async def test_pages_per_host_are_capped_in_a_poll(site: Site, tmp_path: Path) -> None:
    count = MAX_PAGES_PER_HOST + 3
    site.publish(*[(str(n), f"Altman, tappa {n}", TEASER) for n in range(count)])
    stories = await _poll(site, tmp_path)
    assert len(site.page_requests()) == MAX_PAGES_PER_HOST
    assert sum(QUOTE in s.text for s in stories) == MAX_PAGES_PER_HOST
    assert sum(s.text == TEASER for s in stories) == count - MAX_PAGES_PER_HOST


async def test_full_text_false_never_fetches_and_true_always_does(site: Site, tmp_path: Path) -> None:
    site.publish(("0", "Altman a Torino", TEASER), ("1", "Visita a Torino", "Breve: una visita."))
    (tmp_path / "off").mkdir()
    (tmp_path / "on").mkdir()
    stories = await _poll(site, tmp_path / "off", "full_text = false")
    assert site.page_requests() == []
    assert [s.text for s in stories] == [TEASER, "Breve: una visita."]
    stories = await _poll(site, tmp_path / "on", "full_text = true")
    assert sorted(site.page_requests()) == ["/a/0", "/a/1"]
    assert all(QUOTE in s.text for s in stories)


async def test_article_pages_carry_the_feed_headers(site: Site, tmp_path: Path) -> None:
    site.publish(("0", "Altman a Torino", TEASER))
    await _poll(site, tmp_path, 'headers = { "Cookie" = "consenso=1" }')
    page = next(r for r in site.server.requests if r.path == "/a/0")
    assert page.headers["cookie"] == "consenso=1"
    assert page.headers["accept"].startswith("text/html")


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), ('"auto"', "auto"), (None, "auto")])
def test_full_text_accepts_true_false_and_auto(tmp_path: Path, value: str | None, expected: object) -> None:
    path = write_config(tmp_path, [("https://e.it/feed", "Fonte")], smtp_port=9, digest=None)
    if value is not None:
        path.write_text(path.read_text().replace('name = "Fonte"', f'name = "Fonte"\nfull_text = {value}'))
    assert load_config(path).feeds[0].full_text == expected


@pytest.mark.parametrize("value", ['"sometimes"', "1", '"true"'])
def test_other_full_text_values_are_refused(tmp_path: Path, value: str) -> None:
    path = write_config(tmp_path, [("https://e.it/feed", "Fonte")], smtp_port=9, digest=None)
    path.write_text(path.read_text().replace('name = "Fonte"', f'name = "Fonte"\nfull_text = {value}'))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (info.value.file, info.value.key) == (str(path), "feeds[0].full_text")
    assert 'must be true, false or "auto"' in info.value.reason


def test_the_budget_is_per_host() -> None:
    budget = PageBudget(per_host=2)
    assert [budget.take("https://a.it/1"), budget.take("http://A.it:8080/2"), budget.take("https://a.it/3")] \
        == [True, True, False]
    assert budget.take("https://b.it/1")
