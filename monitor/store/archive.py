"""Read-only queries over the archive for the web console: full-text search, actor timelines,
claims by and about an actor, one story's evidence and deliveries, feed health, sent mail.

`Archive` opens the database read-only (`mode=ro`): it never migrates, never takes a write lock
and is safe beside a running daemon. It is a Store, so the store's own read helpers
(`articles.load_stories`, `feeds.feed_health`, `outbox.outbox_summary`) work on it unchanged.
Each thread gets its own connection (a web server answers from a thread pool).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from monitor.errors import StateError
from monitor.models import ANALYZED, Claim
from monitor.store.db import Store
from monitor.store.schema import MIGRATIONS

# Marks around a matching word in a snippet; chosen because feed text never carries them
# (control characters are cleaned at ingestion) and the web layer escapes everything else.
HIT_START, HIT_END = "\x02", "\x03"
SNIPPET_TOKENS = 24
MMAP_BYTES = 1 << 30
MAX_COUNTED = 1000  # past this a filtered count shows as "1000+": counting is the slow part


class Archive(Store):
    """The state database, read-only, one connection per thread."""

    def __init__(self, path: Path) -> None:
        # Not super().__init__(): that creates the folder and migrates the schema.
        self.path = path
        self._local = threading.local()
        open_read_only(path).close()  # fail at start-up, not on the first request

    @property
    def db(self) -> sqlite3.Connection:  # type: ignore[override]
        conn: sqlite3.Connection | None = getattr(self._local, "db", None)
        if conn is None:
            conn = open_read_only(self.path)
            self._local.db = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "db", None)
        if conn is not None:
            conn.close()
            self._local.db = None


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; the schema must be the one this monitor writes (never migrated here)."""
    if not path.exists():
        raise StateError(f"the state database {path} does not exist yet: run the daemon "
                         "(or `monitor once`) with this config first")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10,
                             check_same_thread=False)
        db.row_factory = sqlite3.Row
        # Pages read through the OS's mapping instead of copied into SQLite's small cache: a
        # search touches thousands of pages of a large archive. Safe for a reader.
        db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        raise StateError(f"cannot read the state database {path}: {exc}") from None
    if version != len(MIGRATIONS):
        db.close()
        newer = version > len(MIGRATIONS)
        raise StateError(
            f"the state database {path} has schema version {version}, this monitor expects "
            f"{len(MIGRATIONS)}: " + ("upgrade monitor" if newer else
                                      "restart the daemon (or run `monitor once`) to migrate it"))
    return db


# ---------------------------------------------------------------------------------------------
# Full-text search

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


_WHEN = "COALESCE(a.published_at, a.first_seen_at)"  # the expression of the articles_when index
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
        where.append(f"{_WHEN} >= ?")
        params.append(q.since)
    if q.until is not None:
        where.append(f"{_WHEN} < ?")
        params.append(q.until)
    return where, params


def _plan(db: sqlite3.Connection, q: SearchQuery, match: str) -> tuple[str, list[object], bool]:
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
    source, params, sparse = _plan(db, q, match)
    offset = (max(q.page, 1) - 1) * q.per_page
    order = f"ORDER BY {_WHEN} DESC, a.id DESC"
    if sparse:
        # At most a few thousand candidates: one pass gives the page and the count.
        every = db.execute(f"SELECT a.id, {_WHEN} AS t {source} {order}", params).fetchall()
        found, total, capped = every[offset:offset + q.per_page + 1], len(every), False
    else:
        found = db.execute(f"SELECT a.id, {_WHEN} AS t {source} {order} LIMIT ? OFFSET ?",
                           (*params, q.per_page + 1, offset)).fetchall()
        if match and q == SearchQuery(text=q.text, page=q.page, per_page=q.per_page):
            # Words alone: the index counts its matches exactly without reading an article.
            total, capped = db.execute(f"SELECT COUNT(*) FROM ({_FTS_SET})", (match,)).fetchone()[0], False
        else:
            total = db.execute(f"SELECT COUNT(*) FROM (SELECT 1 {source} LIMIT {MAX_COUNTED + 1})",
                               params).fetchone()[0]
            total, capped = min(total, MAX_COUNTED), total > MAX_COUNTED
    shown = [(r["id"], r["t"]) for r in found[:q.per_page]]
    outlets = _outlets(db, [i for i, _ in shown])
    marks = ",".join("?" * len(shown))
    rows = {r["id"]: r for r in db.execute(
        f"SELECT id, title, url, substr(text, 1, 400) AS lead FROM articles WHERE id IN ({marks})",
        [i for i, _ in shown])} if shown else {}
    snippets = _snippets(db, [i for i, _ in shown], match) if match else {}
    hits = tuple(SearchHit(id=i, title=rows[i]["title"], url=rows[i]["url"], when=t, outlets=outlets[i],
                           snippet=snippets.get(i) or _lead(rows[i]["lead"]),
                           claims=_claim_hits(db, i, match, q))
                 for i, t in shown if i in rows)
    return SearchPage(q, hits, int(total), len(found) > q.per_page, capped=capped)


def _lead(text: str, chars: int = 240) -> str:
    return text if len(text) <= chars else text[:chars].rsplit(" ", 1)[0] + "…"


def _snippets(db: sqlite3.Connection, ids: Sequence[int], match: str) -> dict[int, str]:
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


def _claim_hits(db: sqlite3.Connection, article_id: int, match: str, q: SearchQuery) -> tuple[ClaimHit, ...]:
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


def _outlets(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    names: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        marks = ",".join("?" * len(ids))
        for r in db.execute("SELECT s.article_id, f.name FROM article_sources s JOIN feeds f ON f.id = s.feed_id "
                            f"WHERE s.article_id IN ({marks}) ORDER BY s.seen_at, f.id", list(ids)):
            names[r["article_id"]].append(r["name"])
    return {i: tuple(n) for i, n in names.items()}


# ---------------------------------------------------------------------------------------------
# Actors


def mention_times(archive: Store, entity: str, since: float) -> list[tuple[int, float]]:
    """(article id, publication time) of every article naming the actor since `since`."""
    # Written as IN (…) on the (id, time) index: SQLite then looks the actor's articles up by id
    # without reading their rows; as a join it walked every article of the period by date.
    rows = archive.db.execute(
        f"SELECT a.id, {_WHEN} AS t FROM articles a INDEXED BY articles_id_when WHERE a.id IN "
        f"(SELECT DISTINCT article_id FROM mentions WHERE entity = ?) AND {_WHEN} >= ?", (entity, since))
    return [(r["id"], r["t"]) for r in rows]


@dataclass(frozen=True)
class ClaimRow:
    """A claim with the article it comes from."""

    claim: Claim
    article_id: int
    title: str
    when: float


def _claim_rows(rows: Sequence[sqlite3.Row]) -> list[ClaimRow]:
    return [ClaimRow(Claim(kind=r["kind"], speaker=r["speaker"], text=r["text"], start=r["start"], end=r["end"],
                           sentence=r["sentence"], score=r["score"], unconfirmed=bool(r["unconfirmed"]),
                           subject=r["subject"]), r["article_id"], r["title"], r["t"]) for r in rows]


_CLAIM_COLUMNS = (f"c.kind, c.speaker, c.subject, c.text, c.start, c.end, c.sentence, c.score, c.unconfirmed, "
                  f"c.article_id, a.title, {_WHEN} AS t")


def claims_by(archive: Store, speaker: str, limit: int = 20) -> list[ClaimRow]:
    """The actor's latest claims as speaker (newest stored articles first: claims_speaker index order)."""
    rows = archive.db.execute(
        f"SELECT {_CLAIM_COLUMNS} FROM claims c JOIN articles a ON a.id = c.article_id "
        "WHERE c.speaker = ? ORDER BY c.article_id DESC, c.start LIMIT ?", (speaker, limit)).fetchall()
    return _claim_rows(rows)


def claims_about(archive: Store, entity: str, limit: int = 20) -> list[ClaimRow]:
    """Claims by others about the actor: its id is the claim's subject, or the claim's words name
    it. Each source is read newest first and stops after `limit` (index order), then merged."""
    db = archive.db
    by_subject = db.execute(
        "SELECT rowid, article_id FROM claims WHERE subject = ? AND (speaker IS NULL OR speaker != ?) "
        "ORDER BY article_id DESC LIMIT ?", (entity, entity, limit)).fetchall()
    naming = db.execute(
        "SELECT c.rowid, c.article_id FROM mentions m JOIN claims c ON c.article_id = m.article_id "
        "AND m.start >= c.start AND m.end <= c.end WHERE m.entity = ? AND m.in_title = 0 "
        "AND (c.speaker IS NULL OR c.speaker != ?) ORDER BY m.article_id DESC LIMIT ?",
        (entity, entity, limit * 3)).fetchall()
    newest = sorted({r[0]: r[1] for r in [*by_subject, *naming]}.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    if not newest:
        return []
    marks = ",".join("?" * len(newest))
    rows = db.execute(f"SELECT {_CLAIM_COLUMNS} FROM claims c JOIN articles a ON a.id = c.article_id "
                      f"WHERE c.rowid IN ({marks}) ORDER BY c.article_id DESC, c.start",
                      [rowid for rowid, _ in newest]).fetchall()
    return _claim_rows(rows)


def named_with(archive: Store, entity: str, article_ids: Sequence[int], limit: int = 10) -> list[tuple[str, int]]:
    """The actors most often named in the same articles (how many articles), most first."""
    counts: dict[str, int] = {}
    ordered = sorted(article_ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for r in archive.db.execute(f"SELECT entity, COUNT(DISTINCT article_id) AS n FROM mentions "
                                    f"WHERE article_id IN ({marks}) AND entity != ? GROUP BY entity",
                                    (*chunk, entity)):
            counts[r["entity"]] = counts.get(r["entity"], 0) + r["n"]
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


# ---------------------------------------------------------------------------------------------
# Stories


def relevant_articles(archive: Store, since: float, *, actor: str = "", outlet: int | None = None,
                      limit: int = 400) -> list[int]:
    """Analysed articles naming a tracked actor since `since`, newest first (for the front page)."""
    where = ["a.status = ?", "a.salience != '{}'", f"{_WHEN} >= ?"]
    params: list[object] = [ANALYZED, since]
    if actor:
        where.append("EXISTS (SELECT 1 FROM mentions m WHERE m.article_id = a.id AND m.entity = ?)")
        params.append(actor)
    if outlet is not None:
        where.append("EXISTS (SELECT 1 FROM article_sources s WHERE s.article_id = a.id AND s.feed_id = ?)")
        params.append(outlet)
    rows = archive.db.execute(f"SELECT a.id, {_WHEN} AS t FROM articles a WHERE {' AND '.join(where)} "
                              "ORDER BY t DESC LIMIT ?", (*params, limit))
    return [r["id"] for r in rows]


def latest_relevant(archive: Store) -> float | None:
    """When the newest analysed article naming a tracked actor was published (or first seen)."""
    row = archive.db.execute(f"SELECT MAX({_WHEN}) FROM articles a WHERE a.status = ? AND a.salience != '{{}}'",
                             (ANALYZED,)).fetchone()
    return row[0] if row else None


def all_claims(archive: Store, article_id: int) -> list[Claim]:
    """Every claim of the article (the digest keeps only the ranked ones), in text order."""
    rows = archive.db.execute("SELECT * FROM claims WHERE article_id = ? ORDER BY start", (article_id,))
    return [Claim(kind=r["kind"], speaker=r["speaker"], text=r["text"], start=r["start"], end=r["end"],
                  sentence=r["sentence"], score=r["score"], unconfirmed=bool(r["unconfirmed"]),
                  subject=r["subject"]) for r in rows]


def exists(archive: Store, article_id: int) -> bool:
    return archive.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None


def same_story_candidates(archive: Store, article_id: int, window_hours: float = 48, limit: int = 300) -> list[int]:
    """Articles that may report the same event: sharing a claim's words anywhere, or sharing an
    actor within `window_hours` (the caller decides which are the same story)."""
    db = archive.db
    found = [r[0] for r in db.execute(
        "SELECT DISTINCT c2.article_id FROM claims c JOIN claims c2 ON c2.norm = c.norm "
        "AND c2.article_id != c.article_id WHERE c.article_id = ? LIMIT ?", (article_id, limit))]
    row = db.execute(f"SELECT {_WHEN} FROM articles a WHERE a.id = ?", (article_id,)).fetchone()
    if row is None:
        return found
    when, window = row[0], window_hours * 3600
    found += [r[0] for r in db.execute(
        f"SELECT DISTINCT a.id FROM mentions m JOIN mentions m2 ON m2.entity = m.entity "
        f"JOIN articles a ON a.id = m2.article_id WHERE m.article_id = ? AND a.id != ? "
        f"AND {_WHEN} BETWEEN ? AND ? LIMIT ?", (article_id, article_id, when - window, when + window, limit))]
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Delivery:
    outbox_id: int
    kind: str  # digest | alert
    name: str  # the digest's name or the alerted entity
    subject: str
    status: str
    created: float
    sent: float | None


def deliveries(archive: Store, article_id: int) -> list[Delivery]:
    """The digests and alerts this article went out in (or is queued for)."""
    rows = archive.db.execute(
        "SELECT o.id, o.kind, d.digest AS name, o.subject, o.status, o.created_at, o.sent_at "
        "FROM digest_marks d JOIN outbox o ON o.id = d.outbox_id WHERE d.article_id = ? UNION ALL "
        "SELECT o.id, o.kind, al.entity AS name, o.subject, o.status, o.created_at, o.sent_at "
        "FROM alerts al JOIN outbox o ON o.id = al.outbox_id WHERE al.article_id = ? ORDER BY 6",
        (article_id, article_id))
    return [Delivery(r["id"], r["kind"], r["name"], r["subject"], r["status"], r["created_at"], r["sent_at"])
            for r in rows]


# ---------------------------------------------------------------------------------------------
# Feeds and mail


@dataclass(frozen=True)
class FeedRow:
    id: int
    name: str
    url: str
    health: str  # ok | failing | disabled | new
    consecutive_failures: int
    last_poll: float | None
    last_success: float | None
    next_poll: float | None
    failing_since: float | None
    last_error: str | None
    disabled_reason: str | None
    articles: int = 0
    pending: int = 0  # stored, waiting for analysis
    backlog: int = 0  # first-poll backlog, kept unanalysed
    last_article: float | None = None


def feed_rows(archive: Store) -> list[FeedRow]:
    """Every active feed's health (as `monitor status` reads it) and what it brought."""
    db = archive.db
    counts = {r["feed_id"]: r for r in db.execute(
        "SELECT s.feed_id, COUNT(*) AS n, SUM(a.status = 'pending') AS pending, "
        "SUM(a.status = 'backlog') AS backlog, MAX(a.first_seen_at) AS last FROM article_sources s "
        "JOIN articles a ON a.id = s.article_id GROUP BY s.feed_id")}
    rows: list[FeedRow] = []
    for r in db.execute("SELECT * FROM feeds WHERE active = 1 ORDER BY name COLLATE NOCASE, id"):
        health = ("disabled" if r["disabled_reason"] else "failing" if r["consecutive_failures"]
                  else "ok" if r["last_polled_at"] is not None else "new")
        c = counts.get(r["id"])
        rows.append(FeedRow(
            id=r["id"], name=r["name"], url=r["url"], health=health,
            consecutive_failures=r["consecutive_failures"], last_poll=r["last_polled_at"],
            last_success=r["last_success_at"], next_poll=r["next_check_at"], failing_since=r["failing_since"],
            last_error=r["last_error"], disabled_reason=r["disabled_reason"],
            articles=c["n"] if c else 0, pending=(c["pending"] or 0) if c else 0,
            backlog=(c["backlog"] or 0) if c else 0, last_article=c["last"] if c else None))
    return rows


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    digest: str | None
    subject: str
    recipients: int
    status: str
    created: float
    sent: float | None
    articles: int = 0
    entities: tuple[str, ...] = field(default=())


def messages(archive: Store, limit: int = 50, offset: int = 0) -> list[Message]:
    """Digests and alerts in the outbox, newest first (sent, pending and failed); mail only:
    a channel's post is a copy of the same news in Markdown."""
    rows = archive.db.execute(
        "SELECT o.id, o.kind, o.digest, o.subject, o.recipients, o.status, o.created_at, o.sent_at, "
        "(SELECT COUNT(*) FROM digest_marks d WHERE d.outbox_id = o.id) + "
        "(SELECT COUNT(*) FROM alerts al WHERE al.outbox_id = o.id) AS n, "
        "(SELECT group_concat(DISTINCT al.entity) FROM alerts al WHERE al.outbox_id = o.id) AS entities "
        "FROM outbox o WHERE o.channel IS NULL ORDER BY o.id DESC LIMIT ? OFFSET ?", (limit, offset))
    return [Message(r["id"], r["kind"], r["digest"], r["subject"], len(json.loads(r["recipients"])), r["status"],
                    r["created_at"], r["sent_at"], r["n"], tuple((r["entities"] or "").split(",")) if r["entities"]
                    else ()) for r in rows]


def message_raw(archive: Store, outbox_id: int) -> bytes | None:
    row = archive.db.execute("SELECT raw FROM outbox WHERE id = ? AND channel IS NULL", (outbox_id,)).fetchone()
    return bytes(row[0]) if row else None


def outlets(archive: Store) -> list[tuple[int, str]]:
    """(feed id, name) of every feed, active or not, for the outlet filter."""
    return [(r["id"], r["name"]) for r in archive.db.execute(
        "SELECT id, name FROM feeds ORDER BY name COLLATE NOCASE, id")]
