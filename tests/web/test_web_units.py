"""The console's small parts: the search index kept by the store, query building, the chart's
geometry and the text pieces the templates escape."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from monitor.models import Analysis, Claim, Entry, EntryDecision
from monitor.store import articles
from monitor.store.archive import Archive
from monitor.store.db import Store
from monitor.store.schema import MIGRATIONS
from monitor.store.search import SearchQuery, fts_query, highlight, query_terms, search, ts_query
from monitor.web.chart import daily_bars, nice_step
from monitor.web.marks import Piece, claim_runs, hit_pieces, span_pieces

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FTS_VERSION = 7  # the migration that adds the search index


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A writable store on either backend: a SQLite file, or a fresh PostgreSQL database."""
    target = request.getfixturevalue("pg_url") if request.param == "postgresql" else tmp_path / "state.sqlite3"
    return Store(target)


def indexed(store: Store) -> int:
    """How many articles the search index holds."""
    if store.backend == "postgresql":
        return int(store.db.execute("SELECT COUNT(*) FROM articles WHERE search IS NOT NULL").fetchone()[0])
    return int(store.db.execute("SELECT COUNT(*) FROM article_fts_docsize").fetchone()[0])


def titles(store: Store, text: str, **filters: object) -> list[str]:
    return [h.title for h in search(store, SearchQuery(text=text, **filters)).hits]  # type: ignore[arg-type]


def claim_hits(store: Store, text: str) -> list[str]:
    """The claims shown under the results, with the matching words in [brackets]."""
    return [c.text.replace("\x02", "[").replace("\x03", "]")
            for h in search(store, SearchQuery(text=text)).hits for c in h.claims]


def insert(store: Store, guid: str, title: str, text: str) -> int:
    entry = Entry(key=f"guid:{guid}", title=title, text=text, url=f"https://x.example/{guid}", guid=guid,
                  published=NOW, content_hash=guid)
    store.db.execute("INSERT OR IGNORE INTO feeds (id, config_url, url, name) VALUES (1, 'u', 'u', 'Fonte')")
    recorded = articles.record_entries(store, 1, [entry], now=NOW,
                                       decide=lambda known: [EntryDecision(0, "insert", status="pending")])
    return recorded.to_analyse[0]


def analysed(store: Store, article_id: int, *claims: Claim, actor: bool = True) -> None:
    """Save an analysis that names an actor (or, with actor=False, nobody)."""
    articles.save_analysis(store, article_id, Analysis(
        entities=("sam_altman",) if actor else (), mentions=(), claims=claims, key_claims=claims,
        salience={"sam_altman": 2.0} if actor else {}))


def test_existing_rows_naming_an_actor_are_indexed_by_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:FTS_VERSION - 1]:
        db.executescript(script + ";\n")
    db.execute(f"PRAGMA user_version = {FTS_VERSION - 1}")
    db.execute("INSERT INTO articles (id, title, text, first_seen_at, status, salience) VALUES "
               "(1, 'Perché la città', '«Siamo pronti», ha detto. Un testo già salvato', 0, 'analyzed', "
               "'{\"sam_altman\": 2.0}'), (2, 'Un visore nuovo', 'Un testo già salvato', 0, 'analyzed', '{}')")
    db.execute("INSERT INTO claims (article_id, kind, text, start, end, sentence, score, unconfirmed) "
               "VALUES (1, 'quote', 'Siamo pronti', 1, 13, 's', 1, 0)")
    db.commit()
    db.close()
    store = Store(path)  # migrates
    assert titles(store, "perche citta") == ["Perché la città"]
    assert titles(store, "salvato") == ["Perché la città"]  # the article naming nobody is not indexed
    assert claim_hits(store, "pronti") == ["Siamo [pronti]"]
    store.close()


def test_the_index_follows_every_write_the_store_makes(store: Store) -> None:
    first = insert(store, "a", "Altman a Milano", "«L'Europa è pronta», ha detto. Si parla di regolamentazione.")
    assert titles(store, "regolam*") == []  # stored, not analysed yet
    claim = Claim(kind="quote", speaker="sam_altman", text="L'Europa è pronta", start=1, end=18, sentence="s",
                  score=1.0)
    analysed(store, first, claim)
    assert titles(store, "regolam*") == ["Altman a Milano"]
    assert claim_hits(store, "europa") == ["L'[Europa] è pronta"]
    assert titles(store, "europa", speaker="sam_altman", kind="quote") == ["Altman a Milano"]
    assert titles(store, "europa", kind="reported") == []
    analysed(store, first, claim)  # the same analysis again: still indexed once
    assert titles(store, "europa") == ["Altman a Milano"]
    articles.set_text(store, first, "Testo completo della pagina, nuovo.")
    assert titles(store, "regolamentazione") == [] and titles(store, "completo") == ["Altman a Milano"]
    analysed(store, first, actor=False)  # re-analysed: no actor any more
    assert titles(store, "completo") == []
    analysed(store, first)
    assert titles(store, "completo") == ["Altman a Milano"]
    quiet = insert(store, "b", "Un visore nuovo", "Testo completo anche qui.")
    analysed(store, quiet, actor=False)
    assert titles(store, "completo") == ["Altman a Milano"]
    assert indexed(store) == 1
    assert articles.prune(store, now=NOW, older_than=NOW + timedelta(days=1)) == 2
    assert titles(store, "completo") == [] and titles(store, "altman") == []
    assert indexed(store) == 0
    store.close()


def test_the_archive_reads_beside_a_writer(store: Store) -> None:
    analysed(store, insert(store, "a", "Primo", "uno"))
    archive = Archive(store.url)
    assert titles(archive, "uno") == ["Primo"]
    analysed(store, insert(store, "b", "Secondo", "uno due"))  # written while the archive is open
    assert titles(archive, "uno") == ["Secondo", "Primo"]
    archive.close()
    store.close()


def test_claims_are_highlighted_as_the_index_matches() -> None:
    terms = query_terms('perche regol* "Unione Europea"')
    assert highlight("Perché la regolazione serve all'Unione europea", terms) == \
        "\x02Perché\x03 la \x02regolazione\x03 serve all'\x02Unione\x03 \x02europea\x03"
    assert highlight("La regolazione serve", terms) is None  # every word, as the index requires


def test_user_text_becomes_a_query_that_cannot_fail() -> None:
    assert fts_query("Altman Europa") == '"Altman" "Europa"'
    assert fts_query('"intelligenza artificiale" regol*') == '"intelligenza artificiale" "regol"*'
    assert fts_query("l'intelligenza") == '"l" "intelligenza"'
    assert fts_query('AND OR NOT ( ) " * : ^ -') == '"AND" "OR" "NOT"'
    assert fts_query("***") == ""
    assert ts_query('"intelligenza artificiale" regol* Altman') == \
        "('intelligenza' <-> 'artificiale') & 'regol':* & 'Altman'"
    assert ts_query("l'intelligenza") == "'l' & 'intelligenza'"
    assert ts_query('AND OR NOT ( ) " * : ^ - & | ! <->') == "'AND' & 'OR' & 'NOT'"
    assert ts_query("***") == ""


def test_chart_bars_scale_to_a_round_maximum() -> None:
    assert [nice_step(p) for p in (0, 3, 7, 40, 130)] == [1, 1, 2, 10, 50]
    days = [(date(2026, 11, 1) + timedelta(days=i), n) for i, n in enumerate([0, 3, 7, 1])]
    chart = daily_bars(days, width=400, height=100)
    assert chart.total == 11 and chart.peak == 7
    assert [b.count for b in chart.bars] == [0, 3, 7, 1]
    tallest = chart.bars[2]
    assert tallest.y + tallest.height == chart.bottom and tallest.y >= chart.top
    assert chart.bars[0].height == 0
    assert chart.y_ticks[0].label == "0" and int(chart.y_ticks[-1].label) >= 7
    assert [t.label for t in chart.x_ticks] == ["01/11", "02/11", "03/11", "04/11"]
    assert all(chart.left <= b.x and b.x + b.width <= chart.width for b in chart.bars)


def test_snippet_marks_become_plain_pieces() -> None:
    assert hit_pieces("a \x02b\x03 c") == [Piece("a "), Piece("b", hit=True), Piece(" c")]
    assert hit_pieces("\x02<b>\x03") == [Piece("<b>", hit=True)]
    assert hit_pieces("x \x02unclosed") == [Piece("x "), Piece("unclosed")]


def test_evidence_pieces_follow_mentions_and_claims() -> None:
    text = "«Siamo pronti», ha detto Altman."
    pieces = span_pieces(text, mentions=[(25, 31)], claims=[(1, 13), (100, 120)])
    assert "".join(p.text for p in pieces) == text
    assert [(p.text, p.mentions, p.claims) for p in pieces if p.mentions or p.claims] == [
        ("Siamo pronti", (), (0,)), ("Altman", (0,), ())]
    runs = claim_runs(span_pieces("ab", mentions=[(1, 2)], claims=[(0, 2)]))
    assert [(r.claim, [p.text for p in r.pieces]) for r in runs] == [(0, ["a", "b"])]


def marked(text: str) -> list[str]:
    return [part.split("\x03")[0] for part in text.split("\x02")[1:]]


def test_search_means_the_same_on_both_engines(store: Store) -> None:
    claim = Claim(kind="quote", speaker="sam_altman", text="Perché l'intelligenza artificiale serve", start=1,
                  end=40, sentence="s", score=1.0)
    first = insert(store, "a", "Il regolamento europeo",
                   "«Perché l'intelligenza artificiale serve», ha detto. Si discute del regolamento a Bruxelles.")
    analysed(store, first, claim)
    second = insert(store, "b", "Perché la città cambia",
                    "L'artificiale non è intelligenza: la città discute ancora, poi regola il traffico.")
    analysed(store, second)
    # Accents folded both ways, every word required, a trailing * a prefix, newest (last stored) first.
    assert titles(store, "perche") == ["Perché la città cambia", "Il regolamento europeo"]
    assert titles(store, "PERCHÉ citta") == ["Perché la città cambia"]
    assert titles(store, "regol*") == ["Perché la città cambia", "Il regolamento europeo"]
    assert titles(store, "regol") == []
    # A phrase: its words next to each other, in order.
    assert titles(store, '"intelligenza artificiale"') == ["Il regolamento europeo"]
    assert titles(store, "intelligenza artificiale") == ["Perché la città cambia", "Il regolamento europeo"]
    page = search(store, SearchQuery(text="regolamento"))
    assert page.total == 1 and not page.capped and not page.more
    hit = page.hits[0]
    assert "regolamento" in marked(hit.snippet)
    assert {w.lower() for w in marked(hit.snippet)} == {"regolamento"}
    assert "\x02" not in hit.snippet.replace("\x02regolamento\x03", "")
    accents = search(store, SearchQuery(text="bruxelles perche")).hits[0]
    assert set(marked(accents.snippet)) == {"Perché", "Bruxelles"}  # marked in the original text
    assert [c.text for c in accents.claims] == []  # the claim lacks "bruxelles"
    assert [c.text for c in search(store, SearchQuery(text="perche artificiale")).hits[1].claims] == [
        "\x02Perché\x03 l'intelligenza \x02artificiale\x03 serve"]
    # Paging and counts.
    one = search(store, SearchQuery(text="perche", per_page=1))
    two = search(store, SearchQuery(text="perche", per_page=1, page=2))
    assert (one.total, one.more, [h.title for h in one.hits]) == (2, True, ["Perché la città cambia"])
    assert (two.total, two.more, [h.title for h in two.hits]) == (2, False, ["Il regolamento europeo"])
    # Filters: speaker and kind on the same claim, dates, and no words at all.
    assert titles(store, "perche", speaker="sam_altman", kind="quote") == ["Il regolamento europeo"]
    assert titles(store, "perche", kind="reported") == []
    assert titles(store, "perche", since=NOW.timestamp() + 1) == []
    assert titles(store, "perche", until=NOW.timestamp() + 1) == ["Perché la città cambia", "Il regolamento europeo"]
    assert titles(store, "", speaker="sam_altman") == ["Il regolamento europeo"]
    assert search(store, SearchQuery(text="***")).error == "no words to search for"
    for text in ['"AND (', "NEAR(", "-x", "zeta:b", "'; DROP TABLE articles; --", "x & y | !z", "o\\'", "zeta:* <->"]:
        assert search(store, SearchQuery(text=text)).hits == ()  # answered, never a syntax error
