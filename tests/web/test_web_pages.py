"""Every console page over a state built by the real pipeline, asserting what a reader sees.

The state holds hostile feed text (script tags, event handlers, a style block, a very long
word): it must be visible as text, and no page may carry anything that runs.
"""

from __future__ import annotations

import httpx
import lxml.html
import pytest
from web_state import IMG_CLAIM, SCRIPT_TITLE, STYLE_TEXT, State

PAGES = ["/", "/search?q=europa", "/search?q=altman", "/actors/sam_altman", "/actors/elon_musk", "/feeds",
         "/digests", "/entities/test"]


def article_id(state: State, title: str) -> int:
    rows = state.rows("SELECT a.id FROM articles a WHERE a.title = ?", (title,))
    assert rows, title
    return int(rows[0][0])


def message_id(state: State, kind: str) -> int:
    return int(state.rows("SELECT MIN(id) FROM outbox WHERE kind = ?", (kind,))[0][0])


async def page(client: httpx.AsyncClient, path: str) -> lxml.html.HtmlElement:
    response = await client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    return lxml.html.fromstring(response.text)


def texts(doc: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def assert_inert(doc: lxml.html.HtmlElement, path: str) -> None:
    """Nothing in the document can run or restyle the page: no script or style element, no
    event handler attribute, no javascript: link, no inline style."""
    assert doc.xpath("//script") == [], path
    assert doc.xpath("//style") == [], path
    assert doc.xpath("//@*[starts-with(name(), 'on')]") == [], path
    assert doc.xpath("//@style") == [], path
    hrefs = doc.xpath("//@href | //@src | //@action")
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:", "//", "http"))
                and not h.startswith(("http://", "https://"))], path


async def test_hostile_feed_text_is_shown_as_text_on_every_page(client: httpx.AsyncClient, state: State) -> None:
    story = article_id(state, SCRIPT_TITLE)
    for path in [*PAGES, f"/stories/{story}", f"/digests/{message_id(state, 'digest')}"]:
        assert_inert(await page(client, path), path)
    doc = await page(client, f"/stories/{story}")
    assert texts(doc, "//h1") == [SCRIPT_TITLE]  # the title, tags and all, as a reader sees it
    body = texts(doc, "//div[@class='text']")[0]
    assert IMG_CLAIM in body and STYLE_TEXT in body
    search = await page(client, "/search?q=costruiremo")
    assert texts(search, "//ol[@class='results']//h3") == [SCRIPT_TITLE]


async def test_a_very_long_word_does_not_break_the_page(client: httpx.AsyncClient, state: State) -> None:
    doc = await page(client, f"/stories/{article_id(state, 'Un testo lunghissimo su OpenAI')}")
    assert "Altman" + "x" * 5000 in texts(doc, "//div[@class='text']")[0]
    results = await page(client, "/search?q=rapporto")
    assert texts(results, "//ol[@class='results']//h3") == ["Un testo lunghissimo su OpenAI"]
    assert len(texts(results, "//p[@class='snippet']")[0]) < 1000  # a snippet, not the whole text


async def test_every_response_carries_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in [*PAGES, "/api/search?q=altman", "/no/such/page", "/static/console.css"]:
        headers = (await client.get(path)).headers
        csp = headers["content-security-policy"]
        assert "script-src 'none'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


async def test_front_page_groups_the_latest_stories_by_actor(client: httpx.AsyncClient, state: State) -> None:
    doc = await page(client, "/")
    sections = texts(doc, "//section[@class='actor-section']/h2")
    assert {"Sam Altman", "Elon Musk", "OpenAI"} <= set(sections)
    shown = texts(doc, "//article[@class='story']/h3")
    assert "Musk attacca OpenAI sulla sicurezza" in shown and "Un visore nuovo" not in shown
    # The other outlet's copy is merged into the same story, as in the digest.
    assert "Musk attacca OpenAI sulla sicurezza a Milano" not in shown
    musk = await page(client, "/?actor=elon_musk")
    assert texts(musk, "//section[@class='actor-section']/h2") == ["Elon Musk"]
    outlets = {o.text_content(): o.get("value") for o in doc.xpath("//select[@name='outlet']/option")}
    altra = await page(client, f"/?outlet={outlets['Altra Fonte']}")
    assert texts(altra, "//article[@class='story']/h3") == ["Musk attacca OpenAI sulla sicurezza a Milano"]


async def test_search_folds_accents_finds_prefixes_and_highlights(client: httpx.AsyncClient) -> None:
    doc = await page(client, "/search?q=perche")  # the title has "perché"
    assert texts(doc, "//ol[@class='results']//h3") == ["Altman risponde a Musk: perché la regolamentazione serve"]
    prefix = await page(client, "/search?q=regolam*")
    assert "Altman risponde a Musk: perché la regolamentazione serve" in texts(prefix, "//ol[@class='results']//h3")
    marks = {m.lower() for m in texts(prefix, "//ol[@class='results']//mark")}
    assert marks and all(m.startswith("regolam") for m in marks)
    # Claims are searched too: the quote's words find the article and show the claim highlighted.
    quote = await page(client, "/search?q=aperta")
    assert texts(quote, "//ol[@class='results']//li[contains(@class, 'claim')]//mark") == ["aperta", "aperta"]
    assert texts(quote, "//p[@id='result-count']")[0].startswith("2 results")


async def test_search_filters_speaker_kind_outlet_and_dates(client: httpx.AsyncClient, state: State) -> None:
    by_musk = await page(client, "/search?q=openai&speaker=elon_musk&kind=quote")
    assert sorted(texts(by_musk, "//ol[@class='results']//h3")) == [
        "Musk attacca OpenAI sulla sicurezza", "Musk attacca OpenAI sulla sicurezza a Milano"]
    assert texts(by_musk, "//li[contains(@class, 'claim')]") == [
        "quote Elon Musk: OpenAI non è più aperta", "quote Elon Musk: OpenAI non è più aperta"]
    none = await page(client, "/search?q=openai&speaker=elon_musk&kind=statement")
    assert texts(none, "//ol[@class='results']//h3") == []
    future = await page(client, "/search?q=openai&from=2999-01-01")
    assert texts(future, "//p[@id='result-count']")[0].startswith("0 results")
    actor_only = await page(client, "/search?actor=openai")
    assert "Un testo lunghissimo su OpenAI" in texts(actor_only, "//ol[@class='results']//h3")


@pytest.mark.parametrize("query", ['"AND (', "NEAR(", "*", "-x", "a:b", "'; DROP TABLE articles; --", "\x02x\x03"])
async def test_any_search_text_is_answered(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get("/search", params={"q": query})
    assert response.status_code == 200
    assert_inert(lxml.html.fromstring(response.text), query)


async def test_search_and_actor_have_json_twins(client: httpx.AsyncClient) -> None:
    api = (await client.get("/api/search?q=aperta")).json()
    accept = (await client.get("/search?q=aperta", headers={"Accept": "application/json"})).json()
    assert api == accept
    assert [h["title"] for h in api["hits"]] == ["Musk attacca OpenAI sulla sicurezza a Milano",
                                                 "Musk attacca OpenAI sulla sicurezza"]
    assert api["hits"][0]["claims"][0]["speaker"] == {"id": "elon_musk", "name": "Elon Musk"}
    actor = (await client.get("/api/actors/sam_altman?days=30")).json()
    assert actor["name"] == "Sam Altman" and len(actor["timeline"]) == 30
    assert sum(d["articles"] for d in actor["timeline"]) == actor["articles"] >= 3
    assert "La regolamentazione è necessaria" in [c["text"] for c in actor["claims_by"]]


async def test_actor_page_shows_timeline_claims_and_companions(client: httpx.AsyncClient) -> None:
    doc = await page(client, "/actors/sam_altman")
    bars = doc.xpath("//svg[@id='timeline']//rect[@class='bar']")
    assert bars and sum(int(b.xpath("title")[0].text.split(": ")[1]) for b in bars) >= 3
    assert texts(doc, "//svg[@id='timeline']/title")[0].startswith("Articles naming Sam Altman per day")
    sections = {texts(s, "h2")[0]: s for s in doc.xpath("//section")}
    by = texts(sections["Latest claims by Sam Altman"], ".//q")
    assert "La regolamentazione è necessaria" in by and IMG_CLAIM in by
    about = texts(sections["Claims about Sam Altman by others"], ".//li")
    assert any("Elon Musk" in c and "la società di Sam Altman ha tradito la sua missione." in c for c in about)
    companions = texts(sections["Named most often with Sam Altman"], ".//li")
    assert companions[:2] == ["Elon Musk (3 articles)", "OpenAI (3 articles)"] or \
        {c.split(" (")[0] for c in companions} >= {"Elon Musk", "OpenAI"}
    assert (await client.get("/actors/nobody")).status_code == 404


async def test_story_page_marks_evidence_and_shows_where_it_went(client: httpx.AsyncClient, state: State) -> None:
    story = article_id(state, "Musk attacca OpenAI sulla sicurezza")
    doc = await page(client, f"/stories/{story}")
    assert "Elon Musk" in texts(doc, "//div[@class='text']//mark[contains(@class, 'mention')]")
    assert texts(doc, "//div[@class='text']//mark[contains(@class, 'claim-span')]")[0] == "OpenAI non è più aperta"
    claims = doc.xpath("//tr[starts-with(@id, 'claim-')]")
    assert [texts(c, "td")[3] for c in claims] == ["OpenAI non è più aperta",
                                                  "la società di Sam Altman ha tradito la sua missione."]
    assert all(texts(c, "td")[4] and "not found" not in texts(c, "td")[4] for c in claims)  # every claim's why
    mentions = doc.xpath("//tr[starts-with(@id, 'mention-')]")
    assert all("not matched" not in texts(m, "td")[4] for m in mentions)
    sections = {texts(s, "h2")[0]: s for s in doc.xpath("//section")}
    assert texts(sections["Same story elsewhere"], ".//li")[0].startswith(
        "Musk attacca OpenAI sulla sicurezza a Milano Altra Fonte")
    sent = texts(sections["Sent in"], ".//li")
    assert any(s.startswith("digest mattina: Rassegna mattina") for s in sent)
    assert any(s.startswith("alert Elon Musk: Allerta: Elon Musk") for s in sent)
    assert (await client.get("/stories/999999")).status_code == 404
    assert (await client.get("/stories/99999999999999999999999")).status_code == 404
    assert (await client.get("/digests/99999999999999999999999/mail.html")).status_code == 404
    assert (await client.get("/?outlet=99999999999999999999999")).status_code == 200
    twin = (await client.get(f"/api/stories/{story}")).json()
    assert [c["text"] for c in twin["claims"]] == ["OpenAI non è più aperta",
                                                  "la società di Sam Altman ha tradito la sua missione."]
    assert all(m["why"] for m in twin["mentions"]) and twin["same_story"][0]["outlets"] == ["Altra Fonte"]


async def test_feeds_page_shows_health_and_what_each_feed_brought(client: httpx.AsyncClient) -> None:
    doc = await page(client, "/feeds")
    rows = {texts(r, "td/strong")[0]: texts(r, "td") for r in doc.xpath("//table[@class='feeds']/tbody/tr")}
    assert set(rows) == {"Fonte <b>bold</b>", "Altra Fonte"}
    assert rows["Fonte <b>bold</b>"][1] == "ok" and rows["Fonte <b>bold</b>"][4].startswith("5 ")
    assert rows["Altra Fonte"][4].startswith("1")
    api = (await client.get("/api/feeds")).json()
    assert sorted(f["articles"] for f in api["feeds"]) == [1, 5]


async def test_digest_archive_shows_each_mail_in_a_sandboxed_frame(client: httpx.AsyncClient, state: State) -> None:
    doc = await page(client, "/digests")
    rows = texts(doc, "//table[@class='messages']/tbody/tr")
    assert len(rows) == state.mails == 4
    assert sum(r.startswith("Rassegna mattina") for r in rows) == 1
    digest = message_id(state, "digest")
    shown = await page(client, f"/digests/{digest}")
    (frame,) = shown.xpath("//iframe")
    assert frame.get("sandbox") == "" and frame.get("src") == f"/digests/{digest}/mail.html"
    mail = await client.get(frame.get("src"))
    assert mail.status_code == 200 and "Musk attacca OpenAI" in mail.text
    policy = mail.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "script" not in policy and "frame-ancestors 'self'" in policy
    assert "Rassegna mattina" in texts(shown, "//pre[@class='mail-text']")[0]


async def test_entity_tester_explains_matches_and_stores_nothing(client: httpx.AsyncClient, state: State) -> None:
    before = state.fingerprint()
    response = await client.post("/entities/test", data={
        "text": "«Siamo pronti a investire <b>in Italia</b>», ha detto Sam Altman. Kimbal Musk non c'entra."})
    assert response.status_code == 200
    doc = lxml.html.fromstring(response.text)
    assert_inert(doc, "/entities/test")
    mentions = [texts(r, "td") for r in doc.xpath("//h2[.='Mentions']/following-sibling::table[1]/tbody/tr")]
    assert [m[:2] for m in mentions] == [["Sam Altman", "Sam Altman"]] and mentions[0][3]
    claims = [texts(r, "td") for r in doc.xpath("//h2[.='Claims']/following-sibling::table[1]/tbody/tr")]
    assert claims[0][:3] == ["quote", "Sam Altman", "Siamo pronti a investire <b>in Italia</b>"] and claims[0][3]
    assert state.fingerprint() == before


async def test_the_console_never_writes_the_database(client: httpx.AsyncClient, state: State) -> None:
    before = state.fingerprint()
    for path in [*PAGES, "/api/search?q=musk", f"/stories/{article_id(state, SCRIPT_TITLE)}"]:
        assert (await client.get(path)).status_code == 200
    assert state.fingerprint() == before

