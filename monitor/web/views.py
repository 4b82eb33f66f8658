"""What each console page shows, as JSON-ready data: the HTML templates and the JSON twins
render the same dictionaries, so the two can never disagree."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitor.config.types import Config
from monitor.digest.stories import arrange, merge_duplicates
from monitor.models import Analysis, Claim, Mention, StoredArticle
from monitor.nlp import Analyzer
from monitor.store import archive, articles, search
from monitor.store.archive import Archive
from monitor.store.search import SearchQuery
from monitor.web.chart import Chart, daily_bars
from monitor.web.mail import parts
from monitor.web.marks import Piece, claim_runs, hit_pieces, plain, span_pieces

KINDS = ("quote", "reported", "statement")
MAX_TEST_CHARS = 20_000  # the entity tester analyses at most this much pasted text


class NotFound(LookupError):
    """The page names something the archive does not hold."""


def iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat() if ts is not None else None


class Console:
    """The console's data: the read-only archive, the config's names and a lazily built analyzer."""

    def __init__(self, config: Config, store: Archive) -> None:
        self.config = config
        self.store = store
        self.names = {e.id: e.name for e in config.entities}
        self._analyzer: Analyzer | None = None
        self._analyzer_lock = threading.Lock()  # spaCy pipelines are not shared between threads

    # -- helpers ------------------------------------------------------------------------------

    def analyse(self, title: str, text: str) -> Analysis:
        """Analyse with the config's entities; the pipeline is built on first use (seconds)."""
        with self._analyzer_lock:
            if self._analyzer is None:
                self._analyzer = Analyzer(self.config.entities, model=self.config.nlp.model,
                                          key_claims=self.config.nlp.key_claims)
            return self._analyzer.analyze(title, text)

    def name(self, entity: str | None) -> str:
        return self.names.get(entity or "", entity or "")

    def actor_ref(self, entity: str | None) -> dict[str, Any] | None:
        """A speaker or subject: a tracked id links to its actor page, a name as written does not."""
        if not entity:
            return None
        return {"id": entity if entity in self.names else None, "name": self.name(entity)}

    def local_day(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, self.config.timezone).date()

    def day_start(self, day: date) -> float:
        return datetime(day.year, day.month, day.day, tzinfo=self.config.timezone).timestamp()

    def filters(self) -> dict[str, Any]:
        return {"actors": [{"id": e.id, "name": e.name} for e in self.config.entities],
                "outlets": [{"id": i, "name": n} for i, n in archive.outlets(self.store)],
                "kinds": list(KINDS)}

    def claim_view(self, claim: Claim) -> dict[str, Any]:
        return {"kind": claim.kind, "speaker": self.actor_ref(claim.speaker),
                "subject": self.actor_ref(claim.subject), "text": claim.text,
                "unconfirmed": claim.unconfirmed, "why": claim.why or None}

    # -- pages --------------------------------------------------------------------------------

    def index(self, *, actor: str = "", outlet: int | None = None, days: int = 3) -> dict[str, Any]:
        """The latest stories grouped by actor, as the digest groups them: the `days` up to the
        newest story (an archive whose daemon has stopped still shows its last stories)."""
        newest = archive.latest_relevant(self.store) or datetime.now(UTC).timestamp()
        since = newest - days * 86400
        ids = archive.relevant_articles(self.store, since, actor=actor, outlet=outlet)
        threshold = self.config.nlp.relevance_threshold
        loaded = [a for a in articles.load_stories(self.store, ids, text_chars=300)
                  if articles.relevant_entities(a.salience, threshold)]
        sections, _ = arrange(merge_duplicates(loaded), self.config.entities, [actor] if actor else [],
                              max_per_section=10, max_stories=200)
        return {"days": days, "actor": actor, "outlet": outlet, "filters": self.filters(), "until": iso(newest),
                "sections": [{"actor": {"id": s.entity.id, "name": s.entity.name}, "more": s.more,
                              "stories": [self.story_summary(st.primary, [m.id for m in st.members], st.outlets())
                                          for st in s.stories]} for s in sections]}

    def story_summary(self, a: StoredArticle, others: Sequence[int] = (),
                      outlets: Sequence[str] | None = None) -> dict[str, Any]:
        return {"id": a.id, "title": a.title, "url": a.url, "when": iso((a.published or a.first_seen).timestamp()),
                "outlets": list(outlets if outlets is not None else a.outlets), "same_story": list(others),
                "lead": a.text[:280], "claims": [self.claim_view(c) for c in a.key_claims]}

    def search(self, q: SearchQuery, *, since: str = "", until: str = "") -> dict[str, Any]:
        page = search.search(self.store, q)
        return {"q": q.text, "actor": q.actor, "speaker": q.speaker, "kind": q.kind, "outlet": q.outlet,
                "from": since, "to": until, "page": q.page, "per_page": q.per_page, "total": page.total,
                "total_capped": page.capped, "more": page.more, "error": page.error,
                "filters": self.filters(),
                "hits": [{"id": h.id, "title": h.title, "url": h.url, "when": iso(h.when), "outlets": list(h.outlets),
                          "snippet": plain(h.snippet), "snippet_pieces": [asdict(p) for p in hit_pieces(h.snippet)],
                          "claims": [{"kind": c.kind, "speaker": self.actor_ref(c.speaker), "text": plain(c.text),
                                      "pieces": [asdict(p) for p in hit_pieces(c.text)]} for c in h.claims]}
                         for h in page.hits]}

    def actor(self, entity: str, *, days: int = 90) -> dict[str, Any]:
        if entity not in self.names:
            raise NotFound(f"no tracked actor {entity!r}")
        today = datetime.now(self.config.timezone).date()
        first = today - timedelta(days=days - 1)
        seen = archive.mention_times(self.store, entity, self.day_start(first))
        per_day = Counter(self.local_day(t) for _, t in seen)
        series = [(first + timedelta(days=i), per_day.get(first + timedelta(days=i), 0)) for i in range(days)]
        chart = daily_bars(series)
        by = archive.claims_by(self.store, entity)
        about = archive.claims_about(self.store, entity)
        return {"id": entity, "name": self.names[entity], "days": days, "articles": len(seen),
                "timeline": [{"day": d.isoformat(), "articles": n} for d, n in series],
                "chart": chart_data(chart),
                "claims_by": [self.claim_row(r) for r in by],
                "claims_about": [self.claim_row(r) for r in about],
                "named_with": [{"actor": self.actor_ref(e), "articles": n}
                               for e, n in archive.named_with(self.store, entity, [i for i, _ in seen])]}

    def claim_row(self, row: archive.ClaimRow) -> dict[str, Any]:
        return {**self.claim_view(row.claim), "article": {"id": row.article_id, "title": row.title,
                                                          "when": iso(row.when)}}

    def story(self, article_id: int) -> dict[str, Any]:
        if not archive.exists(self.store, article_id):
            raise NotFound(f"no article {article_id}")
        (a,) = articles.load_stories(self.store, [article_id])
        claims = archive.all_claims(self.store, article_id)
        # `why` is not stored: the current rules explain each stored match again, nothing is written.
        fresh = self.analyse(a.title, a.text)
        mentions = _with_why(a.mentions, fresh.mentions)
        claims = _claims_with_why(claims, fresh.claims)
        body_mentions = [m for m in mentions if not m.in_title]
        title_mentions = [m for m in mentions if m.in_title]
        order = {id(m): i for i, m in enumerate(mentions)}
        same = self.same_story(a)
        return {
            **self.story_summary(a), "text": a.text,
            "mentions": [{"actor": self.actor_ref(m.entity), "text": m.text, "in_title": m.in_title,
                          "start": m.start, "end": m.end, "why": m.why or None} for m in mentions],
            "claims": [{**self.claim_view(c), "start": c.start, "end": c.end, "score": round(c.score, 3)}
                       for c in claims],
            "title_pieces": [asdict(p) for p in _remap(span_pieces(a.title, [(m.start, m.end) for m in title_mentions],
                                                                   []), [order[id(m)] for m in title_mentions])],
            "text_runs": [asdict(r) for r in claim_runs(_remap(
                span_pieces(a.text, [(m.start, m.end) for m in body_mentions], [(c.start, c.end) for c in claims]),
                [order[id(m)] for m in body_mentions]))],
            "same_story": same,
            "deliveries": [{"outbox_id": d.outbox_id, "kind": d.kind, "name": d.name if d.kind == "digest"
                            else self.name(d.name), "subject": d.subject, "status": d.status,
                            "created": iso(d.created), "sent": iso(d.sent)}
                           for d in archive.deliveries(self.store, article_id)],
        }

    def same_story(self, a: StoredArticle) -> list[dict[str, Any]]:
        """Other articles the digest would merge with this one (same event, other outlets)."""
        candidates = archive.same_story_candidates(self.store, a.id)
        if not candidates:
            return []
        others = articles.load_stories(self.store, candidates, text_chars=300, claims=False)
        for story in merge_duplicates([a, *others]):
            members = [story.primary, *story.members]
            if any(m.id == a.id for m in members):
                return [{"id": m.id, "title": m.title, "outlets": list(m.outlets),
                         "when": iso((m.published or m.first_seen).timestamp())} for m in members if m.id != a.id]
        return []

    def feeds(self) -> dict[str, Any]:
        now = datetime.now(UTC).timestamp()
        return {"feeds": [{**asdict(f), **{k: iso(getattr(f, k)) for k in
                                          ("last_poll", "last_success", "next_poll", "failing_since", "last_article")},
                           "due": f.next_poll is not None and f.next_poll <= now}
                          for f in archive.feed_rows(self.store)]}

    def digests(self, *, page: int = 1, per_page: int = 50) -> dict[str, Any]:
        rows = archive.messages(self.store, per_page + 1, (page - 1) * per_page)
        return {"page": page, "more": len(rows) > per_page,
                "messages": [{**asdict(m), "created": iso(m.created), "sent": iso(m.sent),
                              "entities": [self.name(e) for e in m.entities]} for m in rows[:per_page]]}

    def message(self, outbox_id: int) -> dict[str, Any]:
        raw = archive.message_raw(self.store, outbox_id)
        if raw is None:
            raise NotFound(f"no message {outbox_id}")
        text, html, subject = parts(raw)
        return {"id": outbox_id, "subject": subject, "text": text, "has_html": html is not None}

    def entity_test(self, text: str) -> dict[str, Any]:
        """Mentions and claims in a pasted text, with their `why`; nothing is stored."""
        text = text[:MAX_TEST_CHARS]
        if not text.strip():
            return {"text": text, "analysed": False, "mentions": [], "claims": [], "runs": [], "entities": []}
        result = self.analyse("", text)
        mentions = [m for m in result.mentions if not m.in_title]
        return {"text": text, "analysed": True,
                "entities": [self.actor_ref(e) for e in result.entities],
                "mentions": [{"actor": self.actor_ref(m.entity), "text": m.text, "start": m.start, "end": m.end,
                              "why": m.why or None} for m in mentions],
                "claims": [{**self.claim_view(c), "start": c.start, "end": c.end, "score": round(c.score, 3)}
                           for c in result.claims],
                "runs": [asdict(r) for r in claim_runs(span_pieces(text, [(m.start, m.end) for m in mentions],
                                                                   [(c.start, c.end) for c in result.claims]))]}


def chart_data(chart: Chart) -> dict[str, Any]:
    """The chart as JSON data (dataclasses.asdict is ten times slower on a year of bars)."""
    return {"width": chart.width, "height": chart.height, "left": chart.left, "top": chart.top,
            "bottom": chart.bottom, "total": chart.total, "peak": chart.peak,
            "bars": [{"x": b.x, "y": b.y, "width": b.width, "height": b.height, "day": b.day, "count": b.count}
                     for b in chart.bars],
            "y_ticks": [{"position": t.position, "label": t.label} for t in chart.y_ticks],
            "x_ticks": [{"position": t.position, "label": t.label} for t in chart.x_ticks]}


@dataclass(frozen=True)
class _Key:
    entity: str
    start: int
    end: int
    in_title: bool


def _with_why(stored: Sequence[Mention], fresh: Sequence[Mention]) -> list[Mention]:
    why = {_Key(m.entity, m.start, m.end, m.in_title): m.why for m in fresh}
    return [Mention(m.entity, m.text, m.start, m.end, m.in_title,
                    why=why.get(_Key(m.entity, m.start, m.end, m.in_title), "")) for m in stored]


def _claims_with_why(stored: Sequence[Claim], fresh: Sequence[Claim]) -> list[Claim]:
    why: Mapping[tuple[int, int], str] = {(c.start, c.end): c.why for c in fresh}
    return [Claim(kind=c.kind, speaker=c.speaker, text=c.text, start=c.start, end=c.end, sentence=c.sentence,
                  score=c.score, unconfirmed=c.unconfirmed, subject=c.subject, why=why.get((c.start, c.end), ""))
            for c in stored]


def _remap(pieces: list[Piece], mention_numbers: Sequence[int]) -> list[Piece]:
    """span_pieces numbers the mentions it was given; the page numbers all of the article's."""
    return [replace(p, mentions=tuple(mention_numbers[i] for i in p.mentions)) for p in pieces]
