"""The daemon: APScheduler 3.x on asyncio, SIGHUP reload, SIGTERM drain, systemd notify."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config.load import load_config
from monitor.config.types import Config
from monitor.errors import ConfigError, StateError, StopRequested, raise_stop, stop_exit_code
from monitor.ingest.fetch import Fetcher
from monitor.ingest.parse import reader_warning
from monitor.service import pipeline
from monitor.service.sdnotify import monotonic_usec, notify, watchdog_interval
from monitor.service.workers import analyze_batch, warm_worker
from monitor.store import feeds, outbox
from monitor.store.articles import pending_articles, prune
from monitor.store.db import open_store

log = logging.getLogger("monitor")
POLL_TICK_SECONDS = 20.0
OUTBOX_TICK_SECONDS = 60.0
DIGEST_RETRY_SECONDS = 30.0
KEEP_ARTICLES_DAYS = 60
STOP_GRACE_SECONDS = 35.0  # a chat post in flight may take its whole 30 s timeout
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def run_daemon(config_path: Path, *, load: Callable[[Path], Config] = load_config) -> int:
    """`monitor run`: start-up, then the daemon until SIGTERM or SIGINT. A stop at any moment is
    clean: one INFO line, no traceback, exit 0 for SIGTERM and 130 for SIGINT. `load` reads the
    config at start and on every reload (the CLI's also sets the log lines' time zone)."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, raise_stop)  # replaced by the loop's handlers in Daemon.run
    rt: pipeline.Runtime | None = None
    try:
        rt = open_runtime(load(config_path))
        return await Daemon(config_path, rt, load=load).run()
    except StopRequested as stop:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C does not interrupt the way out
        log.info("stopped during start-up (%s)", signal.Signals(stop.signum).name)
        if rt is not None:
            await rt.aclose()
        return stop_exit_code(stop.signum)


def open_runtime(config: Config) -> pipeline.Runtime:
    """Config, state and NLP pipeline loaded: everything READY=1 promises."""
    if (warning := reader_warning()) is not None:
        log.warning(warning)  # once a start: feeds are still read, with feedparser alone
    store = open_store(config.store, config.database)
    pool = None
    try:
        feeds.sync_feeds(store, config.feeds)
        if config.polling.parse_workers:
            # spawn, not fork: the daemon has threads (NLP, SMTP test servers) that fork would copy.
            # The workers parse and analyse; they load both before READY=1, like the main process.
            spec = (tuple(config.entities), config.nlp.model, config.nlp.key_claims)
            pool = ProcessPoolExecutor(config.polling.parse_workers,
                                       mp_context=multiprocessing.get_context("spawn"),
                                       initializer=warm_worker, initargs=(spec,))
            with _sigint_ignored():  # the workers start with Ctrl-C ignored: they leave with us
                jobs = [pool.submit(analyze_batch, spec, ()) for _ in range(config.polling.parse_workers)]
            for job in jobs:
                job.result()
        # The fetcher reads the runtime's clock, whatever clock the runtime is given later.
        fetcher = Fetcher(config.polling, clock=lambda: rt.clock())
        rt = pipeline.Runtime(config=config, store=store, fetcher=fetcher, parse_pool=pool)
        if pool is None:
            rt.local_analyzer()  # loaded before READY=1, not on the first article
    except BaseException:
        # A stop (or a failure) half-way through start-up: nothing is left waiting on the pool.
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        store.close()
        raise
    return rt


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while child processes are spawned: an ignored signal stays ignored across
    exec, so Ctrl-C in a terminal (sent to the whole process group) prints no worker traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


async def recover(rt: pipeline.Runtime) -> None:
    """The start-up step run, once and demo share, after open_runtime: mail a stop left pending
    goes out before anything new, articles stored but not analysed before a crash are analysed
    now, and alerts a crash left owed are queued."""
    await pipeline.flush_outbox(rt)
    await pipeline.analyze_articles(rt, pending_articles(rt.store))
    pipeline.queue_owed_alerts(rt)  # alerts a crash left owed after their analysis


class Daemon:
    def __init__(self, config_path: Path, runtime: pipeline.Runtime, *,
                 load: Callable[[Path], Config] = load_config) -> None:
        self.config_path = config_path
        self.load = load
        self.rt = runtime
        self.stopping = asyncio.Event()
        self.signum: int | None = None  # the signal that asked for the stop
        self.scheduler = AsyncIOScheduler(timezone=runtime.config.timezone)
        self.polled = False
        # A job the store failed under may have stored articles it never analysed, or owed
        # alerts it never queued: the next poll first does what a restart's recovery does.
        self.store_failed = False
        self.watchdog: asyncio.Future[None] | None = None

    def stop(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
        self.stopping.set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self.stop, signum)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        # Start-up (recovery can analyse a backlog and send mail) races the stop signal: a stop
        # during it ends it like a stop during a poll, through the drain below.
        starting = asyncio.ensure_future(self._start())
        stop = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({starting, stop}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done() and not self.stopping.is_set():
            starting.result()  # a start-up failure ends the daemon as before
            log.info("monitor running: %d feeds, %d entities, %d digests", len(self.rt.config.feeds),
                     len(self.rt.config.entities), len(self.rt.config.digests))
        await stop
        notify("STOPPING=1", "STATUS=stopping")
        name = signal.Signals(self.signum).name if self.signum else "request"
        log.info("stopping (%s)", name)  # the one line a stop leaves
        if self.watchdog is not None:
            self.watchdog.cancel()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self._drain()
        if starting.done() and not starting.cancelled() and starting.exception() is not None:
            log.debug("start-up ended by the stop: %r", starting.exception())
        await self.rt.aclose()
        return stop_exit_code(self.signum)

    async def _start(self) -> None:
        await recover(self.rt)
        for digest in self.rt.config.digests:
            # A digest whose time came while the daemon was down is sent now, not skipped.
            if outbox.last_digest_run(self.rt.store, digest.name) and pipeline.digest_due(self.rt, digest):
                pipeline.run_digest(self.rt, digest, pipeline.digest_slot(self.rt, digest))
        await pipeline.flush_outbox(self.rt)
        if self.stopping.is_set():
            return
        self._schedule()
        self.scheduler.start()
        self.watchdog = asyncio.ensure_future(self._watchdog())
        notify("READY=1", f"STATUS={self.status_line()}")

    def _schedule(self) -> None:
        s, rt = self.scheduler, self.rt
        s.add_job(self._job, IntervalTrigger(seconds=POLL_TICK_SECONDS), args=[self._poll], id="poll",
                  max_instances=1, coalesce=True, next_run_time=_now_local(rt))
        s.add_job(self._job, IntervalTrigger(seconds=OUTBOX_TICK_SECONDS), args=[self._flush], id="outbox",
                  max_instances=1, coalesce=True)
        s.add_job(self._job, IntervalTrigger(hours=24), args=[self._prune], id="prune", max_instances=1,
                  coalesce=True)
        self._schedule_digests()

    async def _job(self, body: Callable[..., Awaitable[None]], *args: object) -> None:
        """A scheduled job; one the stop cancels ends quietly (APScheduler would log the
        cancellation as an ERROR with a traceback). Store writes are transactions: none is half done.
        A store that fails under a job (the PostgreSQL connection lost to a server restart) ends
        that job with one line; its next run retries the work on a new connection."""
        try:
            await body(*args)
        except asyncio.CancelledError:
            if not self.stopping.is_set():
                raise
            log.debug("%s cancelled by the stop", getattr(body, "__name__", body))
        except StateError as exc:
            # The store is unreachable (a PostgreSQL restart, a full disk): what was not
            # committed is redone at the job's next tick; the daemon stays up.
            log.error("%s job: %s", str(getattr(body, "__name__", body)).lstrip("_"), exc)
            self.store_failed = True

    def _schedule_digests(self) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest:"):
                job.remove()
        for digest in self.rt.config.digests:
            trigger = CronTrigger.from_crontab(digest.schedule, timezone=self.rt.config.timezone)
            self.scheduler.add_job(self._job, trigger, args=[self._digest, digest.name], id=f"digest:{digest.name}",
                                   max_instances=1, coalesce=True, misfire_grace_time=3600)

    async def _poll(self) -> None:
        if self.store_failed:
            await recover(self.rt)
            self.store_failed = False
        await pipeline.poll_feeds(self.rt)
        if not self.polled:
            self.polled = True
            self._first_digests()
        await pipeline.flush_outbox(self.rt)  # urgent alerts leave as soon as they are queued
        notify(f"STATUS={self.status_line()}")

    def _first_digests(self) -> None:
        """The rule `monitor once` follows too (pipeline.digest_due): a digest that never ran
        goes at once, after the first poll so that it has stories; a new user sees the first
        digest at start, not at the next slot."""
        for digest in self.rt.config.digests:
            if outbox.last_digest_run(self.rt.store, digest.name) is None:
                pipeline.run_digest(self.rt, digest, pipeline.FIRST_SLOT)

    async def _flush(self) -> None:
        await pipeline.flush_outbox(self.rt)

    async def _digest(self, name: str) -> None:
        digest = next((d for d in self.rt.config.digests if d.name == name), None)
        if digest is None:
            return
        try:
            # The slot is the time the schedule fired: every daemon sharing the store computes
            # the same one, and the first to queue it wins.
            pipeline.run_digest(self.rt, digest, pipeline.digest_slot(self.rt, digest))
        except StateError:
            # The store failed under the run (a PostgreSQL restart): try again shortly rather
            # than at the next slot; the slot's key keeps a retry from sending it twice.
            self.scheduler.add_job(self._job, DateTrigger(_now_local(self.rt) + timedelta(seconds=DIGEST_RETRY_SECONDS)),
                                   args=[self._digest, name], id=f"digest-retry:{name}", replace_existing=True)
            raise
        await pipeline.flush_outbox(self.rt)

    async def _prune(self) -> None:
        now = self.rt.clock()
        removed = prune(self.rt.store, now=now, older_than=now - timedelta(days=KEEP_ARTICLES_DAYS))
        log.info("pruned %d old articles", removed)

    async def _watchdog(self) -> None:
        interval = watchdog_interval()
        if interval is None:
            return
        while True:
            notify("WATCHDOG=1")  # sent from the loop itself: a stalled loop stops the pings
            await asyncio.sleep(interval)

    async def _drain(self) -> None:
        """Let running jobs reach a safe point; store writes are transactions, so none is half done."""
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            if pending:
                # Let the cancelled jobs finish their cleanup (releasing a claim, recording a chat
                # post already on its way) before the store closes under them.
                await asyncio.wait(pending, timeout=STOP_GRACE_SECONDS)

    async def reload(self) -> None:
        notify("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec()}")
        try:
            config = await asyncio.to_thread(self.load, self.config_path)
            if config.store_target != self.rt.config.store_target:
                key = "store.url" if config.store != self.rt.config.store else "general.state_dir"
                raise ConfigError(str(self.config_path), key, "changing where the state lives needs a restart")
            if config.nlp.model != self.rt.config.nlp.model:
                raise ConfigError(str(self.config_path), "nlp.model", "changing the model needs a restart")
        except ConfigError as exc:
            log.error("reload refused, keeping the previous configuration: %s", exc)
            notify("READY=1", f"STATUS=reload failed, old config kept: {exc}"[:400])
            return
        old = {e.id: e for e in self.rt.config.entities}
        changed = {e.id for e in config.entities if old.get(e.id) != e}
        self.rt.set_config(config)
        feeds.sync_feeds(self.rt.store, config.feeds)
        self.rt.sending_paused = None
        self._schedule_digests()
        log.info("configuration reloaded: %d feeds, %d entities", len(config.feeds), len(config.entities))
        notify("READY=1", f"STATUS={self.status_line()}")
        if changed:
            gained = await pipeline.rescan(self.rt, changed)
            log.info("re-scan for %s: %d recent articles gained a match", ", ".join(sorted(changed)), gained)

    def status_line(self) -> str:
        health = feeds.feed_health(self.rt.store)
        failing = sum(1 for h in health if h.consecutive_failures)
        nxt = feeds.next_due(self.rt.store)
        pending = outbox.outbox_summary(self.rt.store, self.rt.clock())["pending"]
        when = nxt.astimezone(self.rt.config.timezone).strftime("%H:%M") if nxt else "-"
        return (f"{len(health)} feeds ({failing} failing), next poll {when}, outbox {pending} pending, "
                f"store {self.rt.store.engine}")


def _now_local(rt: pipeline.Runtime) -> datetime:
    return rt.clock().astimezone(rt.config.timezone)
