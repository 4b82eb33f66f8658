"""Several daemons on one store (issue 20), in-process: two runtimes on one SQLite file or one
PostgreSQL database, real loopback feeds and SMTP. Feeds leased to one poller, a lease of
another daemon respected until it expires or its owner is seen dead, a digest slot queued once,
the alert cap shared. The same rules hold on both engines: every test runs on both."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.ingest_server import IngestServer, Route, serve
from support.pg import PgServer
from support.smtp_server import SmtpServer
from support.world import RECENT, Clock, feed, message_id, running, write_config

from monitor.errors import StateError
from monitor.service import pipeline
from monitor.service.daemon import Daemon
from monitor.store import feeds
from monitor.store.owners import HOST
from monitor.store.pg import safe_url

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FEEDS = 24


def story(n: int) -> tuple[str, str, str, str]:
    return (f"s{n}", f"Notizia {n} su OpenAI", f"«Cresceremo ancora», ha detto Sam Altman alla platea numero {n}.",
            RECENT)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared(request: pytest.FixtureRequest, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, IngestServer, SmtpServer]]:
    """A config with FEEDS slow loopback feeds (each answer waits 50 ms, so the pollers overlap)
    on the backend of the test's parameter."""
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    store = ""
    if request.param == "postgresql":
        store = f'\n[store]\nurl = "{request.getfixturevalue("pg_url")}"\n'
    routes = {f"/f{n}.xml": Route(body=feed(story(n)), delay=0.05) for n in range(FEEDS)}
    with serve(routes) as http, SmtpServer() as smtp:
        write_config(tmp_path, [(http.url(f"/f{n}.xml"), f"Fonte {n}") for n in range(FEEDS)], smtp_port=smtp.port,
                     digest="0 7 * * *", digest_extra="send_empty = true", extra=store)
        yield tmp_path / "config.toml", http, smtp


async def test_two_daemons_split_the_due_feeds_and_poll_each_once(shared: tuple[Path, IngestServer, SmtpServer]) -> None:
    config, http, _ = shared
    async with running(config, Clock(NOW)) as a, running(config, Clock(NOW)) as b:
        first, second = await asyncio.gather(pipeline.poll_feeds(a), pipeline.poll_feeds(b))
        assert first and second, "both daemons took a share of the due feeds"
        assert sorted(o.feed for o in first + second) == sorted(f.url for f in feeds.active_feeds(a.store))
        assert all(len(http.hits(f"/f{n}.xml")) == 1 for n in range(FEEDS))
        assert feeds.leases(a.store) == []  # every lease ended with its recorded poll
        assert a.store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == FEEDS
        # Nothing is due any more, for either of them.
        assert await pipeline.poll_feeds(a) == [] and await pipeline.poll_feeds(b) == []


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("owner, taken_at_once", [("elsewhere:4242:0123456789ab", False),
                                                  (f"{HOST}:{{dead}}:0123456789ab", True)])
async def test_a_held_lease_waits_for_its_expiry_unless_its_owner_is_dead(
        shared: tuple[Path, IngestServer, SmtpServer], owner: str, taken_at_once: bool) -> None:
    """Another host's daemon may still be polling: its lease is respected until it expires. A
    daemon of this host that is gone (kill -9) gives its feeds back at once."""
    config, http, _ = shared
    owner = owner.format(dead=dead_pid())
    clock = Clock(NOW)
    async with running(config, clock) as rt:
        held = feeds.active_feeds(rt.store)[0]
        rt.store.write("UPDATE feeds SET leased_by = ?, leased_until = ? WHERE id = ?",
                       (owner, (NOW + timedelta(seconds=120)).timestamp(), held.id))
        polled = {o.feed for o in await pipeline.poll_feeds(rt)}
        assert (held.url in polled) is taken_at_once and len(polled) == FEEDS - (not taken_at_once)
        if not taken_at_once:
            clock.advance(timedelta(seconds=121))
            assert [o.feed for o in await pipeline.poll_feeds(rt)] == [held.url]
        assert len(http.hits("/" + held.url.rsplit("/", 1)[-1])) == 1


async def test_a_digest_slot_is_queued_and_sent_once_by_two_daemons(
        shared: tuple[Path, IngestServer, SmtpServer]) -> None:
    config, _, smtp = shared
    async with running(config, Clock(NOW)) as a, running(config, Clock(NOW)) as b:
        await asyncio.gather(pipeline.poll_feeds(a), pipeline.poll_feeds(b))
        digest = a.config.digests[0]
        assert pipeline.digest_slot(a, digest) == pipeline.FIRST_SLOT
        assert pipeline.run_digest(a, digest, pipeline.FIRST_SLOT) is not None
        assert pipeline.run_digest(b, digest, pipeline.FIRST_SLOT) is None  # the slot is taken
        # The next morning both daemons' schedules fire: they compute the same slot, one queues it.
        for rt in (a, b):
            rt.clock.set(datetime(2026, 11, 26, 6, 0, 5, tzinfo=UTC))  # type: ignore[attr-defined]
        slot = pipeline.digest_slot(a, digest)
        assert slot == pipeline.digest_slot(b, digest) == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 07:00 Rome
        # send_empty: the morning digest has a message to queue even with no new story.
        queued = [pipeline.run_digest(rt, digest, slot) for rt in (b, a)]
        assert queued[0] is not None and queued[1] is None
        # Both rendered before either queued: the key in the queueing transaction still decides.
        rendered = pipeline.run_digest(b, digest, slot + timedelta(days=1)), pipeline.run_digest(
            a, digest, slot + timedelta(days=1))
        assert rendered[1] is None
        sent = await asyncio.gather(pipeline.flush_outbox(a), pipeline.flush_outbox(b))
        assert sum(sent) == 3
        slots = a.store.db.execute("SELECT digest, slot_at, outbox_id FROM digest_slots ORDER BY slot_at").fetchall()
        assert [r[1] for r in slots] == [0.0, slot.timestamp(), slot.timestamp() + 86400]
        assert all(r[2] is not None for r in slots)
    ids = [message_id(m.raw) for m in smtp.messages]
    assert len(ids) == len(set(ids)), "no message was sent twice"


async def test_the_alert_cap_holds_across_daemons(shared: tuple[Path, IngestServer, SmtpServer]) -> None:
    """Every story names Sam Altman; make him an alert actor with a cap of 3 an hour. Two daemons
    queueing their owed alerts at the same moment send 3 in all, not 3 each."""
    config, _, smtp = shared
    entities = config.parent / "entities.toml"
    text = entities.read_text(encoding="utf-8")
    at = text.index('id = "sam_altman"')
    entities.write_text(text[:at] + 'alert = true\n' + text[at:], encoding="utf-8")
    config.write_text(config.read_text() + "\n[alerts]\nmin_salience = 0\nmax_per_hour = 3\n")
    async with running(config, Clock(NOW)) as a, running(config, Clock(NOW)) as b:
        await asyncio.gather(pipeline.poll_feeds(a), pipeline.poll_feeds(b))
        owed = a.store.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
        assert owed == FEEDS
        # The poll queued what it owed; whatever is left owed races between the two daemons now.
        await asyncio.gather(asyncio.to_thread(pipeline.queue_owed_alerts, a),
                             asyncio.to_thread(pipeline.queue_owed_alerts, b))
        await asyncio.gather(pipeline.flush_outbox(a), pipeline.flush_outbox(b))
        states = dict(a.store.db.execute("SELECT state, COUNT(*) FROM alerts GROUP BY state").fetchall())
    alerts = [m for m in smtp.messages if b"Altman" in m.raw]
    assert len(alerts) == 3 and states == {"queued": 3, "held": FEEDS - 3}, states


def test_the_store_is_named_without_its_password() -> None:
    assert safe_url("postgresql://monitor:segreto@db.example:5432/monitor") == "postgresql://monitor@db.example:5432/monitor"


async def test_a_digest_run_the_store_fails_under_is_retried_shortly_and_sent_once(
        tmp_path: Path, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL goes away while the scheduled digest runs: the job ends with one error line and
    a retry half a minute later queues the slot (not the next day's slot); the retry after it
    finds the slot taken and sends nothing more."""
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    url = pg_server.create_database()
    routes = {"/f.xml": Route(body=feed(story(1)))}
    with serve(routes) as http, SmtpServer() as smtp:
        config = write_config(tmp_path, [(http.url("/f.xml"), "Fonte")], smtp_port=smtp.port,
                              digest="0 7 * * *", extra=f'\n[store]\nurl = "{url}"\n')
        async with running(config) as rt:
            await pipeline.poll_feeds(rt)
            daemon = Daemon(config, rt)
            name = rt.config.digests[0].name
            pg_server.stop()
            try:
                with pytest.raises(StateError, match="PostgreSQL"):
                    await daemon._digest(name)
            finally:
                pg_server.start()
            (retry,) = [j for j in daemon.scheduler.get_jobs() if j.id == f"digest-retry:{name}"]
            assert timedelta(seconds=20) < retry.trigger.run_date - datetime.now(UTC) <= timedelta(seconds=31)
            await daemon._digest(name)  # what the retry job runs: the store reconnects
            await daemon._digest(name)  # a second run of the same slot: nothing more
    assert len(smtp.messages) == 1
