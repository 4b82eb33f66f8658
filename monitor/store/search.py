"""Full-text search over the archive for the web console: the query, the plan that walks the
archive newest first, snippets and claim highlighting. Read-only, on an Archive connection.

SQLite searches its FTS5 index (article_fts), PostgreSQL the articles' `search` tsvector (GIN);
the user's text is parsed once (_TERM) into either engine's query, never pasted into SQL. Only
the page query and the snippets differ per engine; the rest is shared."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.store.archive import WHEN_SQL
from monitor.store.db import Connection, Store
from monitor.store.schema_pg import FOLD_SQL

# Marks around a matching word in a snippet; chosen because feed text never carries them
# (control characters are cleaned at ingestion) and the web layer escapes everything else.
HIT_START, HIT_END = "\x02", "\x03"
SNIPPET_TOKENS = 24
MAX_COUNTED = 1000  # past this a filtered count shows as "1000+": counting is the slow part

_TERM = re.compile(r'"([^"]*)"|([\w]+)(\*?)')


def fts_query(text: str) -> str:
    """The user's words as a safe FTS5 query: every word or "quoted phrase" must match; a
    trailing * makes a word a prefix. Operators and punctuation are never passed through, so
    no input can be an FTS5 syntax error."""
    parts: list[str] = []
    for phrase, word, star in _TERM.findall(text):
        words = re.findall(r"\w+", phrase) if phrase else [word]
        if words:
            parts.append('"' + " ".join(words) + '"' + ("*" if star and not phrase else ""))
    return " ".join(parts)


def ts_query(text: str) -> str:
    """The same words as PostgreSQL tsquery text ('simple' configuration, folded in SQL as the
    index is): words joined by &, a "phrase" as 'w1' <-> 'w2', a prefix as 'word':*. Every word
    is a quoted lexeme, so no input is a tsquery syntax error; it is passed as a parameter."""
    parts: list[str] = []
    for phrase, word, star in _TERM.findall(text):
        words = _WORD.findall(phrase) if phrase else [word]
        if not words:
            continue
        lexemes = [_lexeme(w) for w in words]
        if len(lexemes) > 1:
            parts.append("(" + " <-> ".join(lexemes) + ")")
        else:
            parts.append(lexemes[0] + (":*" if star and not phrase else ""))
    return " & ".join(parts)


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


# The tsquery of a parameter, folded as the `search` column folds the text (schema_pg v7).
TSQUERY_SQL = f"to_tsquery('simple', {FOLD_SQL.format('?')})"


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    actor: str = ""
    speaker: str = ""
    kind: str = ""
    outlet: int | None = None  # feed id
    since: float | None = None  # unix seconds, inclusive
    until: float | None = None  # unix seconds, exclusive
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class ClaimHit:
    kind: str
    speaker: str | None
    subject: str | None
    text: str  # with HIT_START/HIT_END around matching words when the search had words


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str
    url: str | None
    when: float
    outlets: tuple[str, ...]
    snippet: str  # with HIT_START/HIT_END around matching words
    claims: tuple[ClaimHit, ...] = ()


@dataclass(frozen=True)
class SearchPage:
    query: SearchQuery
    hits: tuple[SearchHit, ...]
    total: int  # exact, or MAX_COUNTED when `capped`
    more: bool  # another page exists
    error: str = ""
    capped: bool = False  # there are more than `total` results


# A membership set under SPARSE articles drives the query (its times read by id and sorted); a
# larger one is only checked while the date index is walked newest first, which stops after one
# page. Measured on 100,000 articles (benchmarks/bench_web.py).
SPARSE = 5_000
_FTS_SET = "SELECT rowid FROM article_fts WHERE article_fts MATCH ?"
# A word set of PROBE articles or more (near every article, like "il") is not materialised: each
# article the walk meets is looked up in the index instead, and the walk meets few of them.
PROBE = 40_000
_FTS_PROBE = "EXISTS (SELECT 1 FROM article_fts WHERE article_fts MATCH ? AND rowid = a.id)"


@dataclass(frozen=True)
class _Set:
    """'a.id IN (subquery)': SQLite materialises the subquery once, then probes it per row."""

    subquery: str
    params: tuple[object, ...]


def _sets(q: SearchQuery, match: str) -> list[_Set]:
    sets: list[_Set] = []
    if match:
        # Claims are spans of the article's text, so the text's index finds every article whose
        # claims hold the words; the claims of the articles found are highlighted in Python.
        sets.append(_Set(_FTS_SET, (match,)))
    if q.actor:
        sets.append(_Set("SELECT DISTINCT article_id FROM mentions WHERE entity = ?", (q.actor,)))
    if q.speaker:
        # Speaker and kind belong to the same claim: "a quote by Musk", not "a quote, and Musk somewhere".
        kind = " AND kind = ?" if q.kind else ""
        sets.append(_Set(f"SELECT DISTINCT article_id FROM claims WHERE speaker = ?{kind}",
                         (q.speaker, q.kind) if q.kind else (q.speaker,)))
    return sets


def _row_filters(q: SearchQuery) -> tuple[list[str], list[object]]:
    """Conditions checked on each candidate row (cheap probes by article id, or the date)."""
    where: list[str] = []
    params: list[object] = []
    if q.kind and not q.speaker:
        where.append("EXISTS (SELECT 1 FROM claims c WHERE c.article_id = a.id AND c.kind = ?)")
        params.append(q.kind)
    if q.outlet is not None:
        where.append("EXISTS (SELECT 1 FROM article_sources s WHERE s.article_id = a.id AND s.feed_id = ?)")
        params.append(q.outlet)
    if q.since is not None:
        where.append(f"{WHEN_SQL} >= ?")
        params.append(q.since)
    if q.until is not None:
        where.append(f"{WHEN_SQL} < ?")
        params.append(q.until)
    return where, params


def _plan(db: Connection, q: SearchQuery, match: str) -> tuple[str, list[object], bool]:
    """FROM … WHERE … for the search, and whether a small set drives it (else the date index)."""
    sets = _sets(q, match)
    sizes = [db.execute(f"SELECT COUNT(*) FROM ({m.subquery} LIMIT {PROBE})", m.params).fetchone()[0]
             for m in sets]
    driver = min(range(len(sets)), key=sizes.__getitem__) if sets and min(sizes) < SPARSE else None
    where: list[str] = []
    params: list[object] = []
    for i, m in enumerate(sets):
        if driver is None and m.subquery == _FTS_SET and sizes[i] >= PROBE:
            where.append(_FTS_PROBE)
        else:
            # A unary + keeps SQLite from looking rows up through this set: only the driver may.
            where.append(f"{'' if i == driver else '+'}a.id IN ({m.subquery})")
        params.extend(m.params)
    more, more_params = _row_filters(q)
    # By id and time, or by time and id: either way the articles' rows (their texts) stay unread.
    source = "articles a INDEXED BY articles_id_when" if driver is not None else "articles a INDEXED BY articles_when"
    clause = " AND ".join(where + more)
    return f"FROM {source}" + (f" WHERE {clause}" if clause else ""), params + more_params, driver is not None


def search(archive: Store, q: SearchQuery) -> SearchPage:
    """Articles whose title or text (claims included) hold every word, newest first, one page."""
    match = fts_query(q.text)
    if q.text.strip() and not match:
        return SearchPage(q, (), 0, False, error="no words to search for")
    db = archive.db
    offset = (max(q.page, 1) - 1) * q.per_page
    pg = archive.backend == "postgresql"
    if pg:
        match = ts_query(q.text)
    found, total, capped = (_page_pg if pg else _page_sqlite)(db, q, match, offset)
    shown = [(r["id"], r["t"]) for r in found[:q.per_page]]
    outlets = _outlets(db, [i for i, _ in shown])
    marks = ",".join("?" * len(shown))
    rows = {r["id"]: r for r in db.execute(
        f"SELECT id, title, url, substr(text, 1, 400) AS lead FROM articles WHERE id IN ({marks})",
        [i for i, _ in shown])} if shown else {}
    snippets = (_snippets_pg if pg else _snippets)(db, [i for i, _ in shown], match) if match else {}
    hits = tuple(SearchHit(id=i, title=rows[i]["title"], url=rows[i]["url"], when=t, outlets=outlets[i],
                           snippet=snippets.get(i) or _lead(rows[i]["lead"]),
                           claims=_claim_hits(db, i, match, q))
                 for i, t in shown if i in rows)
    return SearchPage(q, hits, int(total), len(found) > q.per_page, capped=capped)


def _page_sqlite(db: Connection, q: SearchQuery, match: str, offset: int) -> tuple[list[Any], int, bool]:
    """(one page + 1 of (id, t) rows, total, capped) from the FTS5 index and the SQLite plan."""
    source, params, sparse = _plan(db, q, match)
    order = f"ORDER BY {WHEN_SQL} DESC, a.id DESC"
    if sparse:
        # At most a few thousand candidates: one pass gives the page and the count.
        every = db.execute(f"SELECT a.id, {WHEN_SQL} AS t {source} {order}", params).fetchall()
        return every[offset:offset + q.per_page + 1], len(every), False
    found = db.execute(f"SELECT a.id, {WHEN_SQL} AS t {source} {order} LIMIT ? OFFSET ?",
                       (*params, q.per_page + 1, offset)).fetchall()
    if match and _words_only(q):
        # Words alone: the index counts its matches exactly without reading an article.
        return found, db.execute(f"SELECT COUNT(*) FROM ({_FTS_SET})", (match,)).fetchone()[0], False
    total = db.execute(f"SELECT COUNT(*) FROM (SELECT 1 {source} LIMIT {MAX_COUNTED + 1})", params).fetchone()[0]
    return found, min(total, MAX_COUNTED), total > MAX_COUNTED


def _page_pg(db: Connection, q: SearchQuery, match: str, offset: int) -> tuple[list[Any], int, bool]:
    """The same from the `search` tsvector: PostgreSQL's planner picks between the GIN index and
    the date index itself. Counts are exact for words alone, else capped at MAX_COUNTED."""
    where: list[str] = [f"a.search @@ {TSQUERY_SQL}"] if match else []
    params: list[object] = [match] if match else []
    for m in _sets(q, ""):
        where.append(f"a.id IN ({m.subquery})")
        params.extend(m.params)
    more, more_params = _row_filters(q)
    clause = " AND ".join(where + more)
    source = "FROM articles a" + (f" WHERE {clause}" if clause else "")
    params += more_params
    found = db.execute(f"SELECT a.id, {WHEN_SQL} AS t {source} ORDER BY {WHEN_SQL} DESC, a.id DESC "
                       "LIMIT ? OFFSET ?", (*params, q.per_page + 1, offset)).fetchall()
    if match and _words_only(q):
        return found, int(db.execute(f"SELECT COUNT(*) {source}", params).fetchone()[0]), False
    total = int(db.execute(f"SELECT COUNT(*) FROM (SELECT 1 {source} LIMIT {MAX_COUNTED + 1}) n",
                           params).fetchone()[0])
    return found, min(total, MAX_COUNTED), total > MAX_COUNTED


def _words_only(q: SearchQuery) -> bool:
    return q == SearchQuery(text=q.text, page=q.page, per_page=q.per_page)


def _lead(text: str, chars: int = 240) -> str:
    return text if len(text) <= chars else text[:chars].rsplit(" ", 1)[0] + "…"


def _snippets(db: Connection, ids: Sequence[int], match: str) -> dict[int, str]:
    """The matching passage of each article, words marked. A prefix word ("regol*") is expanded
    over the whole vocabulary on every evaluation, so then one pass over the matches computes
    the wanted snippets; a whole word is cheaper to look up article by article."""
    if not ids:
        return {}
    query = ("SELECT rowid, snippet(article_fts, -1, ?, ?, '…', ?) FROM article_fts WHERE article_fts MATCH ? ")
    if match.endswith("*") or '"* ' in match:
        rows = db.execute(query + "AND rowid BETWEEN ? AND ? AND +rowid IN (SELECT value FROM json_each(?))",
                          (HIT_START, HIT_END, SNIPPET_TOKENS, match, min(ids), max(ids), json.dumps(list(ids))))
        found = {r[0]: str(r[1]) for r in rows}
    else:
        found = {}
        for i in ids:
            row = db.execute(query + "AND rowid = ?", (HIT_START, HIT_END, SNIPPET_TOKENS, match, i)).fetchone()
            if row is not None:
                found[i] = str(row[1])
    return found


_HEADLINE = f"StartSel={HIT_START}, StopSel={HIT_END}, MaxWords={SNIPPET_TOKENS}, MinWords={SNIPPET_TOKENS // 2}"


def _snippets_pg(db: Connection, ids: Sequence[int], match: str) -> dict[int, str]:
    """ts_headline's passage of each article (the text's, else the title's). The index folds case
    and accents, so the headline is taken over the folded text (same length, char for char) and
    its marks are put back into the original text at the same places."""
    if not ids:
        return {}
    found: dict[int, str] = {}
    rows = db.execute(
        f"SELECT a.id, a.title, a.text, {FOLD_SQL.format('a.title')} AS ftitle, {FOLD_SQL.format('a.text')} AS ftext, "
        f"ts_headline('simple', {FOLD_SQL.format('a.title')}, q, ?) AS htitle, "
        f"ts_headline('simple', {FOLD_SQL.format('a.text')}, q, ?) AS htext "
        f"FROM articles a, {TSQUERY_SQL} q WHERE a.id = ANY(?)", (_HEADLINE, _HEADLINE, match, list(ids)))
    for r in rows:
        text = _unfold(r["text"], r["ftext"], r["htext"])
        if HIT_START not in text and HIT_START in r["htitle"]:
            text = _unfold(r["title"], r["ftitle"], r["htitle"])
        found[r["id"]] = text
    return found


def _unfold(original: str, folded: str, headline: str) -> str:
    """The headline's passage cut from the original text, marks where ts_headline put them, and
    '…' where the passage does not reach an end of the text (as SQLite's snippet())."""
    plain = headline.replace(HIT_START, "").replace(HIT_END, "")
    at = folded.find(plain)
    if at < 0 or len(folded) != len(original):
        return headline  # lower() changed a length (never with the folding table): show it folded
    out: list[str] = []
    pos = at
    for ch in headline:
        if ch in (HIT_START, HIT_END):
            out.append(ch)
        else:
            out.append(original[pos])
            pos += 1
    return ("…" if at > 0 else "") + "".join(out) + ("…" if pos < len(original) else "")


def _claim_hits(db: Connection, article_id: int, match: str, q: SearchQuery) -> tuple[ClaimHit, ...]:
    """The article's claims that hold every word (or pass the speaker/kind filter), highlighted."""
    terms = query_terms(q.text) if match else []
    found: list[ClaimHit] = []
    for c in db.execute("SELECT kind, speaker, subject, text FROM claims WHERE article_id = ? "
                        "ORDER BY rank IS NULL, rank, start", (article_id,)):
        if (q.speaker and c["speaker"] != q.speaker) or (q.kind and c["kind"] != q.kind):
            continue
        text = highlight(c["text"], terms) if terms else (c["text"] if q.speaker or q.kind else None)
        if text is not None:
            found.append(ClaimHit(c["kind"], c["speaker"], c["subject"], text))
        if len(found) == 3:
            break
    return tuple(found)


# The index's tokeniser, for the few claims shown: words, case and accents folded (unicode61
# with remove_diacritics 2), so a claim is highlighted where the index matched its article.
_WORD = re.compile(r"\w+")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(word: str) -> str:
    return _COMBINING.sub("", unicodedata.normalize("NFKD", word.casefold()))


@dataclass(frozen=True)
class Term:
    word: str  # folded
    prefix: bool


def query_terms(text: str) -> list[Term]:
    """The words of a search (a phrase's words each), folded as the index folds them."""
    terms: list[Term] = []
    for phrase, word, star in _TERM.findall(text):
        words = _WORD.findall(phrase) if phrase else [word]
        terms += [Term(fold(w), bool(star) and not phrase) for w in words]
    return terms


def highlight(text: str, terms: Sequence[Term]) -> str | None:
    """`text` with HIT_START/HIT_END around the words matching a term; None unless every term matches."""
    matched: set[int] = set()
    out: list[str] = []
    last = 0
    for m in _WORD.finditer(text):
        folded = fold(m.group())
        hits = [i for i, t in enumerate(terms) if (folded.startswith(t.word) if t.prefix else folded == t.word)]
        if hits:
            matched.update(hits)
            out.append(text[last:m.start()] + HIT_START + m.group() + HIT_END)
            last = m.end()
    out.append(text[last:])
    return "".join(out) if len(matched) == len(terms) else None


def _outlets(db: Connection, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    names: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        marks = ",".join("?" * len(ids))
        for r in db.execute("SELECT s.article_id, f.name FROM article_sources s JOIN feeds f ON f.id = s.feed_id "
                            f"WHERE s.article_id IN ({marks}) ORDER BY s.seen_at, f.id", list(ids)):
            names[r["article_id"]].append(r["name"])
    return {i: tuple(n) for i, n in names.items()}


# ---------------------------------------------------------------------------------------------
# Actors
