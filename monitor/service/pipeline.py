"""The orchestrator: the only module that knows the order of the stages.

poll_feed: fetch → parse → store entries → analyse → store results → alerts.
queue_owed_alerts: render and queue the alerts the stored analyses owe.
run_digest: select stories → render → outbox (with marks, one transaction).
flush_outbox (delivery.py): send due messages, sort failures into retry, dead letter or stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from monitor.config.types import DigestConfig, FeedConfig
from monitor.digest.alerts import alert_recipients, quiet_until
from monitor.digest.build import make_message_id, render_alert, render_digest
from monitor.digest.chat import render_chat_alert, render_chat_digest
from monitor.digest.stories import LEAD_CHARS
from monitor.errors import FeedGoneError, FetchError, MonitorError, NotAFeedError
from monitor.ingest.fulltext import PageBudget, fetch_full_text, wants_page
from monitor.ingest.parse import reading_problem
from monitor.ingest.politeness import clock_went_back_after, interleave_hosts, next_check
from monitor.models import NO_HINTS, Analysis, OutgoingMessage, ServerHints, StoredArticle, plural
from monitor.nlp import normalise_claim_text, rank_key_claims
from monitor.nlp.prefilter import EMPTY_ANALYSIS
from monitor.service.channel_flush import alert_channels, digest_channels, target
from monitor.service.entries import record_feed_entries
from monitor.service.flush import flush_outbox, unsent
from monitor.service.offload import LOCAL_DEPTH
from monitor.service.runtime import Runtime, utc_now
from monitor.service.workers import AnalyseAhead, AnalyzerSpec, Ready, analyze_batch, parse_and_screen
from monitor.store import articles, feeds, outbox

log = logging.getLogger("monitor")
__all__ = ["PollOutcome", "Runtime", "flush_outbox", "poll_feeds", "queue_owed_alerts", "rescan", "run_digest",
           "unsent", "utc_now"]
DIGEST_LOOKBACK = timedelta(days=7)
# An entry dated up to this long before the last successful poll may still be new to us (late
# publication, clock skew): the parse worker analyses it ahead; older ones go the usual way.
ANALYSE_AHEAD_SLACK = timedelta(hours=1)


@dataclass(frozen=True)
class PollOutcome:
    feed: str
    status: str  # "new", "not-modified", "failed", "gone"
    new_articles: int = 0
    error: str | None = None


async def poll_feeds(rt: Runtime, force: bool = False) -> list[PollOutcome]:
    """Poll every feed whose stored next-check time has come (every enabled feed if forced).

    Feeds run concurrently (the fetcher limits per host and overall); one failure never stops
    the rest. Feeds are leased a few at a time as slots free up, so daemons sharing a store
    split the due feeds between them, and a feed is never polled by two of them at once.
    """
    # Bounds the bodies and parsed entries held at once (each feed's body and entries wait here
    # while the parse workers are busy): every fetch slot, plus one feed on each worker and the
    # daemon's own parse thread's queue, so a fetch slot never idles behind parsing.
    slots = rt.config.polling.concurrency + rt.config.polling.parse_workers + LOCAL_DEPTH
    # Lease in small batches (a quarter of the slots): one round trip per few feeds, while a
    # second daemon still finds due feeds left to take.
    batch = max(1, slots // 4)
    owner, hold = rt.lease_owner, timedelta(seconds=rt.config.store.lease_seconds)
    pages = PageBudget()  # article pages per host, for the whole cycle
    waiting: deque[feeds.FeedState] = deque()
    running: set[asyncio.Task[PollOutcome]] = set()
    outcomes: list[PollOutcome] = []

    def lease(limit: int) -> None:
        now = rt.clock()
        leased = feeds.lease_due(rt.store, owner, now, horizon=clock_went_back_after(now), limit=limit,
                                 hold=hold, force=force)
        waiting.extend(leased[i] for i in interleave_hosts([f.url for f in leased]))

    # Leases this runtime still holds from a cycle that broke off (its store connection lost
    # before it could give them back) are stale: no poll of ours is running between cycles.
    feeds.release_leases(rt.store, owner)
    # Alerts another daemon sharing the store left owed when it died (its restart queues them
    # too); our own are queued right after each analysis.
    queue_owed_alerts(rt)
    try:
        if force:
            lease(1 << 30)  # every enabled feed once, leased up front: force ignores the schedule
        while True:
            if not force and not waiting and (slots - len(running) >= batch or not running):
                lease(slots - len(running))
            while waiting and len(running) < slots:
                running.add(asyncio.ensure_future(poll_feed(rt, waiting.popleft(), pages)))
            if not running:
                break
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            outcomes += [task.result() for task in done]
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)
        with contextlib.suppress(MonitorError):
            feeds.release_leases(rt.store, owner)  # a cycle that ended early gives its feeds back
    _log_capped_alerts(rt)
    return outcomes


def _log_capped_alerts(rt: Runtime) -> None:
    if rt.capped_alerts:
        held = ", ".join(f"{entity} {n}" for entity, n in sorted(rt.capped_alerts.items()))
        log.warning("%s not sent: hourly cap of %d reached (%s); the stories go to the digests as usual",
                    plural(sum(rt.capped_alerts.values()), "alert", "alerts"), rt.config.alerts.max_per_hour, held)
        rt.capped_alerts.clear()


async def poll_feed(rt: Runtime, feed: feeds.FeedState, pages: PageBudget | None = None) -> PollOutcome:
    cfg = rt.feed_config(feed.config_url)
    interval = (cfg.interval_minutes if cfg and cfg.interval_minutes else rt.config.polling.interval_minutes)
    try:
        result = await rt.fetcher.fetch(feed.url, feed.etag, feed.last_modified,
                                        site_headers=cfg.headers if cfg else ())
        parsed, may_mention = None, None
        ready: Ready = {}
        if result.status != 304:
            # A full-text feed's summary says nothing about the page that will replace it; in
            # "auto" mode the screen also picks the entries whose page is worth fetching.
            screen = rt.prefilter if cfg is None or cfg.full_text is not True else None
            ahead = _analyse_ahead(rt, feed) if screen is not None else None
            parsed, may_mention, ready = await rt.offload.anywhere(parse_and_screen, result.body, result.headers,
                                                                   result.url, rt.clock(), screen, ahead)
    except FeedGoneError as exc:
        _failed(rt, feed, interval, f"{exc} (disabled; re-enable by editing the config)", exc.hints)
        log.error("feed %s is gone (410): disabled", feed.url)
        return PollOutcome(feed.url, "gone", error=str(exc))
    except (FetchError, NotAFeedError) as exc:
        _failed(rt, feed, interval, str(exc), exc.hints if isinstance(exc, FetchError) else NO_HINTS)
        log.warning("feed %s failed (%d in a row): %s", feed.url, feed.consecutive_failures + 1, exc)
        return PollOutcome(feed.url, "failed", error=str(exc))
    now = rt.clock()
    ttl = parsed.ttl_minutes if parsed else feed.ttl_minutes
    when = next_check(now, interval_minutes=interval, hints=replace(result.hints, ttl_minutes=ttl), failures=0,
                      rng=rt.rng, jitter=rt.config.polling.jitter)
    success = feeds.PollSuccess(feed.id, now, when, result.etag, result.last_modified, result.hints.moved_to, ttl)
    new_ids: list[int] = []
    texts: dict[int, tuple[str, str]] = {}
    quiet = 0
    if parsed is not None:
        # The validators go in the transaction that records the entries: a crash before it
        # commits fetches the feed again, never keeps validators for entries never stored.
        recorded = record_feed_entries(rt.store, feed.id, parsed.entries, now=now,
                                       first_poll=feed.first_polled is None,
                                       backfill_hours=rt.config.polling.backfill_hours, may_mention=may_mention,
                                       then=success.write_in)
        new_ids, quiet, texts = recorded.to_analyse, len(recorded.quiet), recorded.texts
        if recorded.backlog:  # said once, at the first poll: otherwise they wait unseen
            log.info("feed %s: %s kept as backlog, published before the %s-hour backfill window "
                     "(`monitor backfill --hours N` adds them to the next digest)", feed.url,
                     plural(len(recorded.backlog), "older entry", "older entries"),
                     f"{rt.config.polling.backfill_hours:.10g}")
        _record_problem(rt, feed, reading_problem(parsed))
    else:
        feeds.save_success(rt.store, success)
    if cfg is not None and cfg.full_text is not False:
        for article_id in await _fetch_full_texts(rt, new_ids, cfg, pages or PageBudget()):
            texts.pop(article_id, None)  # the page replaced the feed's text: read it back
    await analyze_articles(rt, new_ids, ready, texts)
    status = "not-modified" if parsed is None else "new"
    log.info("feed %s: %s, %d new or updated", feed.url, status, len(new_ids) + quiet)
    return PollOutcome(feed.url, status, len(new_ids) + quiet)


def _record_problem(rt: Runtime, feed: feeds.FeedState, problem: str | None) -> None:
    """A feed that answers with nothing to read is a problem for status and the digest (a 304
    keeps the last verdict: the document did not change)."""
    if problem is None and feed.last_problem is None:
        return  # the usual case: no write
    if problem is not None and feed.last_problem is None:
        log.warning("feed %s: %s", feed.url, problem)
    feeds.record_problem(rt.store, feed.id, now=rt.clock(), problem=problem)


def _analyse_ahead(rt: Runtime, feed: feeds.FeedState) -> AnalyseAhead | None:
    """Let the worker that parses the feed analyse its recent entries too (no trip back)."""
    if rt.parse_pool is None:
        return None
    if feed.first_polled is None:  # the backfill window decides what a first poll analyses
        since = rt.clock() - timedelta(hours=rt.config.polling.backfill_hours)
    else:  # entries older than the last poll were seen then, most likely: not worth a guess
        since = (feed.last_success or rt.clock()) - ANALYSE_AHEAD_SLACK
    return AnalyseAhead(_analyzer_spec(rt), since)


def _analyzer_spec(rt: Runtime) -> AnalyzerSpec:
    return (tuple(rt.config.entities), rt.config.nlp.model, rt.config.nlp.key_claims)


def _failed(rt: Runtime, feed: feeds.FeedState, interval: float, error: str, hints: ServerHints) -> None:
    """A failed poll: back off (or wait as the server asked); a 410 disables the feed."""
    now = rt.clock()
    when = next_check(now, interval_minutes=interval, hints=hints, failures=feed.consecutive_failures + 1,
                      rng=rt.rng, jitter=rt.config.polling.jitter)
    feeds.record_failure(rt.store, feed.id, now=now, next_check=when, error=error, disable=hints.gone)


async def _fetch_full_texts(rt: Runtime, article_ids: list[int], cfg: FeedConfig, pages: PageBudget) -> list[int]:
    """Replace feed summaries with the page's main text; the feed's text stays on any failure.
    Returns the articles whose text was replaced."""
    replaced = []
    for article_id in article_ids:
        story = articles.load_story(rt.store, article_id)
        if story.url and wants_page(cfg.full_text, story.text, story.url, pages):
            text = await fetch_full_text(rt.fetcher, story.url, site_headers=cfg.headers, site=cfg.url)
            if text and len(text) > len(story.text):
                articles.set_text(rt.store, article_id, text)
                replaced.append(article_id)
    return replaced


async def rescan(rt: Runtime, entity_ids: set[str]) -> int:
    """Re-analyse recent articles after entities changed; returns how many gained an actor."""
    if not entity_ids:
        return 0
    now = rt.clock()
    gained = 0
    for article_id in articles.recent_analyzed(rt.store, now - timedelta(days=rt.config.nlp.rescan_days)):
        title, text = articles.article_text(rt.store, article_id)
        [(_, analysis)] = await _analyze(rt, [(article_id, title, text)])
        relevant = set(articles.relevant_entities(analysis.salience, rt.config.nlp.relevance_threshold))
        before = set(articles.relevant_entities(articles.load_story(rt.store, article_id).salience,
                                                rt.config.nlp.relevance_threshold))
        newly = (relevant & entity_ids) - before
        articles.save_analysis(rt.store, article_id, analysis, normalise_claim_text)
        if newly:
            digests = [d.name for d in rt.config.digests if not d.actors or newly & set(d.actors)]
            articles.reopen_for_digests(rt.store, article_id, digests, now)
            gained += 1
    return gained


@dataclass(frozen=True)
class BackfillOutcome:
    analysed: int  # backlog articles analysed
    relevant: int  # of which name a tracked actor above the relevance threshold


async def backfill(rt: Runtime, hours: float, feed_ids: list[int] | None = None) -> BackfillOutcome:
    """Analyse the backlog published in the last `hours` (of these feeds): its stories join the
    next digests marked as earlier coverage. No alerts: the news is old by definition."""
    now = rt.clock()
    ids = articles.backlog_articles(rt.store, now - timedelta(hours=hours), feed_ids)
    if not ids:
        return BackfillOutcome(0, 0)
    # Marked first: while still backlog the mark shows nowhere, and a crash before the analysis
    # leaves them backlog, so a second backfill picks them up again.
    articles.mark_earlier_coverage(rt.store, ids, now)
    texts = articles.article_texts(rt.store, ids)
    results = await _analyze(rt, texts)
    articles.save_analyses(rt.store, results, normalise_claim_text, rerank=_novel_first(rt))
    threshold = rt.config.nlp.relevance_threshold
    relevant = sum(1 for _, a in results if articles.relevant_entities(a.salience, threshold))
    return BackfillOutcome(len(results), relevant)


def analyze_text(rt: Runtime, title: str, text: str) -> Analysis:
    """The analyzer's result, or an empty one when no alias can possibly occur (most articles)."""
    if not rt.prefilter.may_mention(title, text):
        return EMPTY_ANALYSIS
    return rt.local_analyzer().analyze(title, text)


async def _analyze(rt: Runtime, texts: list[tuple[int, str, str]]) -> list[tuple[int, Analysis]]:
    """(id, title, text) → (id, analysis), off the event loop."""
    if rt.parse_pool is not None:
        # The parse workers analyse: the main process never loads spaCy.
        return await rt.offload.in_workers(analyze_batch, _analyzer_spec(rt), texts)
    return await asyncio.get_running_loop().run_in_executor(
        rt.nlp_pool, lambda: [(i, analyze_text(rt, title, text)) for i, title, text in texts])


def _novel_first(rt: Runtime) -> articles.Rerank:
    """A quote other outlets already carried is not news: novel claims become the key ones."""
    def rerank(analysis: Analysis, seen: set[str]) -> Analysis:
        key = rank_key_claims(analysis.claims, analysis.salience, rt.config.nlp.key_claims, seen)
        return replace(analysis, key_claims=key)
    return rerank


async def analyze_articles(rt: Runtime, article_ids: list[int], ready: Ready | None = None,
                           known: Mapping[int, tuple[str, str]] | None = None) -> None:
    """Analyse off the event loop, store a feed's results and the alerts they owe in one
    transaction, then queue those alerts.

    `ready`: analyses the parse worker already made, by (title, text); only articles whose
    stored title and text they were made from use them. `known`: (title, text) as just stored,
    by article id (no read back); the others are read from the store.
    """
    if not article_ids:
        return
    known = known or {}
    unknown = [i for i in article_ids if i not in known]
    stored = {i: (title, text) for i, title, text in articles.article_texts(rt.store, unknown)} if unknown else {}
    texts = [(i, *(known.get(i) or stored[i])) for i in article_ids]
    ready = ready or {}
    todo = [(i, title, text) for i, title, text in texts if (title, text) not in ready]
    done = dict(await _analyze(rt, todo)) if todo else {}
    done.update((i, ready[(title, text)]) for i, title, text in texts if (title, text) in ready)
    results = [(i, done[i]) for i, _, _ in texts]
    owed = _alert_rule(rt)
    newly = articles.save_analyses(rt.store, results, normalise_claim_text, alerts=owed, now=rt.clock(),
                                   rerank=_novel_first(rt))
    if any(owed(analysis, newly[i]) for i, analysis in results):  # else no read for alerts owed
        queue_owed_alerts(rt)


def _alert_rule(rt: Runtime) -> articles.AlertRule:
    """An alert is owed for an alert-flagged actor newly in the story and a main subject of it
    (salience at least alerts.min_salience and the relevance threshold), if anyone receives it."""
    config = rt.config
    floor = max(config.nlp.relevance_threshold, config.alerts.min_salience)

    def owed(analysis: Analysis, newly: set[str]) -> list[str]:
        relevant = set(articles.relevant_entities(analysis.salience, floor))
        channels = any(c.alerts for c in config.channels)
        return [e.id for e in config.entities if e.alert and e.id in newly and e.id in relevant
                and (channels or alert_recipients(config, e.id))]
    return owed


def queue_owed_alerts(rt: Runtime) -> int:
    """Render and queue every owed alert (this poll's, or one a crash left owed); returns how many.

    Capped per hour and held in quiet hours as they are queued; one the cap holds back stays
    held for good (the story goes to the digests as usual).
    """
    queued = 0
    for article_id, entity_id in outbox.owed_alerts(rt.store):
        queued += queue_alert(rt, article_id, entity_id)
    return queued


def queue_alert(rt: Runtime, article_id: int, entity_id: str) -> bool:
    """An urgent actor appeared: one single-story alert, capped per hour, held in quiet hours.

    Mail and each alert channel have their own hourly cap; quiet hours hold every one of them.
    """
    now = rt.clock()
    entity = next((e for e in rt.config.entities if e.id == entity_id and e.alert), None)
    recipients = alert_recipients(rt.config, entity_id)
    hour_ago = now - timedelta(hours=1)
    cap = rt.config.alerts.max_per_hour
    mail = bool(recipients) and outbox.alerts_since(rt.store, hour_ago) < cap
    channels = [c for c in alert_channels(rt) if outbox.channel_alerts_since(rt.store, c.name, hour_ago) < cap]
    if entity is not None and (recipients and not mail or len(channels) < len(alert_channels(rt))):
        rt.capped_alerts[entity_id] += 1  # one summary line a poll, not one per story (_log_capped_alerts)
    if entity is None or not (mail or channels):  # a reload took the actor away, or every cap is reached
        outbox.hold_alert(rt.store, article_id, entity_id)
        return False
    story = articles.load_story(rt.store, article_id)
    ctx = rt.render_context()
    quiet = quiet_until(rt.config.alerts, now, rt.config.timezone)
    message = render_alert(ctx, entity, story, recipients, now, make_message_id(ctx.list_id),
                           rt.config.entities) if mail else None
    posts = []
    for channel in channels:
        where = target(channel)
        chat = render_chat_alert(ctx, entity, story, now, rt.config.entities, where.flavour, where.max_chars)
        posts.append(outbox.ChannelPost(channel.name, chat.title, chat.body, quiet))
    return outbox.queue_alert(rt.store, message, article_id, entity_id, now=now, not_before=quiet, posts=posts,
                              cap=cap)


def digest_due(rt: Runtime, digest: DigestConfig) -> bool:
    """Due when the schedule has fired since the last run (or it never ran)."""
    from apscheduler.triggers.cron import CronTrigger

    last = outbox.last_digest_run(rt.store, digest.name)
    if last is None or last > rt.clock() + timedelta(minutes=5):  # never ran, or the clock went back
        return True
    trigger = CronTrigger.from_crontab(digest.schedule, timezone=rt.config.timezone)
    fire = trigger.get_next_fire_time(None, last.astimezone(rt.config.timezone) + timedelta(seconds=1))
    return fire is not None and fire <= rt.clock()


def _render(rt: Runtime, digest: DigestConfig, force: bool = False,
            ) -> tuple[list[int], OutgoingMessage | None, list[outbox.ChannelPost]]:
    now = rt.clock()
    stories = articles.stories_for_digest(rt.store, digest.name, digest.actors,
                                          rt.config.nlp.relevance_threshold, now - DIGEST_LOOKBACK,
                                          text_chars=LEAD_CHARS, claims=False)
    health = feeds.failing_feeds(rt.store, now, rt.config.health_after_hours)
    if force:
        digest = replace(digest, send_empty=True)

    def complete(ids: list[int]) -> dict[int, StoredArticle]:
        return {a.id: a for a in articles.load_stories(rt.store, ids)}

    message = render_digest(rt.render_context(), digest, rt.config.entities, stories, health, now,
                            make_message_id(rt.render_context().list_id), complete=complete,
                            prominent=rt.config.nlp.relevance_threshold)
    posts = []
    for channel in digest_channels(rt, digest.name) if message is not None else []:
        where = target(channel)
        chat = render_chat_digest(rt.render_context(), digest, rt.config.entities, stories, now, where.flavour,
                                  where.max_chars, complete=complete)
        if chat is not None:
            posts.append(outbox.ChannelPost(channel.name, chat.title, chat.body))
    return [s.id for s in stories], message, posts


def _slot_name(rt: Runtime, slot: datetime | None) -> str:
    if slot is None or slot == FIRST_SLOT:
        return "first"
    return slot.astimezone(rt.config.timezone).strftime("%Y-%m-%d %H:%M")


def preview_digest(rt: Runtime, digest: DigestConfig) -> str:
    """The HTML part of what would be sent now; nothing is queued or marked."""
    _, message, _ = _render(rt, digest, force=True)
    assert message is not None
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    body = parsed.get_body(("html",)) if isinstance(parsed, EmailMessage) else None
    return str(body.get_content()) if body is not None else ""


# The slot of a digest's very first run (it goes after the first poll, not at a scheduled time).
FIRST_SLOT = datetime.fromtimestamp(0, UTC)


def digest_slot(rt: Runtime, digest: DigestConfig) -> datetime | None:
    """The scheduled time a run now serves: FIRST_SLOT for a digest that never ran, else the
    latest time its schedule fired (None: never, within a year). Every daemon sharing the store
    computes the same slot, whichever of them runs first, so the key dedups the run."""
    if outbox.last_digest_run(rt.store, digest.name) is None:
        return FIRST_SLOT
    from apscheduler.triggers.cron import CronTrigger

    trigger, now = CronTrigger.from_crontab(digest.schedule, timezone=rt.config.timezone), rt.clock()
    # Walk the schedule from a recent start, widening: a minute schedule over a week is 10,000 steps.
    for back in (timedelta(hours=1), timedelta(days=1), timedelta(days=8), timedelta(days=32), timedelta(days=367)):
        slot, fire = None, trigger.get_next_fire_time(None, (now - back).astimezone(rt.config.timezone))
        while fire is not None and fire <= now:
            slot, fire = fire, trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        if slot is not None:
            return slot.astimezone(UTC)
    return None


def run_digest(rt: Runtime, digest: DigestConfig, slot: datetime | None = None) -> int | None:
    """Render the digest and queue it with its article marks; returns the outbox id, if any.

    With a `slot` (the scheduled time served), the run happens once across every daemon
    sharing the store: a slot already taken is neither rendered nor queued again.
    """
    now = rt.clock()
    if slot is not None and outbox.slot_taken(rt.store, digest.name, slot):
        log.info("digest %s: the %s run is already queued (by another daemon)", digest.name, _slot_name(rt, slot))
        return None
    story_ids, message, posts = _render(rt, digest)
    if message is None:
        if outbox.record_digest_run(rt.store, digest.name, now, slot):
            log.info("digest %s: nothing new, not sent", digest.name)
        return None
    outbox_id = outbox.enqueue(rt.store, message, kind="digest", digest=digest.name, now=now,
                               article_ids=story_ids, posts=posts, slot=slot)
    if outbox_id is None:
        log.info("digest %s: the %s run was queued by another daemon meanwhile; this one is dropped",
                 digest.name, _slot_name(rt, slot))
        return None
    log.info("digest %s: %s queued as %s%s", digest.name, plural(len(story_ids), "story", "stories"),
             message.message_id, f" and to channels {', '.join(p.channel for p in posts)}" if posts else "")
    return outbox_id
