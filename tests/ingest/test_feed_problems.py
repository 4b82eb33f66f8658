"""No silent traps: a feed that answers 200 with no entries, or with a page that is not a feed,
is shown as a problem by `monitor status` and by the digest's feed health, never as ok."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from support.ingest_server import Route
from support.smtp_server import SmtpServer
from support.world import RECENT, Clock, feed

from monitor.cli.main import main
from monitor.cli.status import collect_status, format_status
from monitor.config.load import load_config
from monitor.service import pipeline
from monitor.service.daemon import open_runtime
from monitor.store import feeds
from monitor.store.schema import MIGRATIONS

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
EMPTY = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Vuoto</title></channel></rss>'
HTML = b"<!DOCTYPE html><html><head><title>Abbonati</title></head><body><p>Paywall</p></body></html>"
World = tuple[Path, dict[str, Route], SmtpServer]


async def _poll(config_path: Path, when: datetime) -> None:
    rt = open_runtime(load_config(config_path))
    rt.clock = Clock(when)
    try:
        await pipeline.poll_feeds(rt, force=True)
    finally:
        await rt.aclose()


def _feed_status(config_path: Path, when: datetime) -> dict[str, object]:
    (only,) = collect_status(load_config(config_path), when)["feeds"]
    return dict(only)


async def test_a_feed_with_no_entries_is_a_problem_until_it_has_entries(world: World) -> None:
    config_path, routes, _ = world
    routes["/feed.xml"] = Route(body=EMPTY)
    await _poll(config_path, NOW)
    status = _feed_status(config_path, NOW)
    assert status["health"] == "problem"
    assert status["problem"] == "the feed answered with no entries"
    assert status["consecutive_failures"] == 0  # the poll itself succeeded
    text = format_status(collect_status(load_config(config_path), NOW))
    assert "1 problem" in text and "[problem ]" in text and "no entries" in text

    later = NOW + timedelta(minutes=30)
    await _poll(config_path, later)
    assert _feed_status(config_path, later)["problem_since"] == NOW.isoformat()  # the run's start is kept

    routes["/feed.xml"] = Route(body=feed(("g1", "Notizia", "Testo.", RECENT)))
    await _poll(config_path, later + timedelta(minutes=30))
    status = _feed_status(config_path, later)
    assert (status["health"], status["problem"], status["problem_since"]) == ("ok", None, None)


async def test_a_page_that_is_not_a_feed_is_not_ok(world: World) -> None:
    config_path, routes, _ = world
    routes["/feed.xml"] = Route(body=HTML, headers={"Content-Type": "text/html; charset=utf-8"})
    await _poll(config_path, NOW)
    status = _feed_status(config_path, NOW)
    assert status["health"] != "ok"
    assert "not a feed" in str(status["last_error"])


async def test_the_digest_lists_a_feed_with_no_entries_in_its_health(world: World) -> None:
    config_path, routes, smtp = world
    routes["/feed.xml"] = Route(body=feed(("g1", "Sam Altman a Torino", "Sam Altman ha parlato a Torino.", RECENT)))
    await _poll(config_path, NOW - timedelta(hours=12))
    routes["/feed.xml"] = Route(body=EMPTY)
    await _poll(config_path, NOW - timedelta(hours=8))  # empty for longer than health_after_hours (6)
    await _poll(config_path, NOW)
    rt = open_runtime(load_config(config_path))
    rt.clock = Clock(NOW)
    try:
        (digest,) = rt.config.digests
        assert pipeline.run_digest(rt, digest) is not None
        await pipeline.flush_outbox(rt)
    finally:
        await rt.aclose()
    (message,) = smtp.messages
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    plain = parsed.get_body(("plain",))
    assert plain is not None
    text = str(plain.get_content())
    assert "Fonti con problemi" in text
    assert "the feed answered with no entries" in text


async def test_a_short_empty_spell_is_not_in_the_digest_yet(world: World) -> None:
    config_path, routes, _ = world
    routes["/feed.xml"] = Route(body=EMPTY)
    await _poll(config_path, NOW - timedelta(hours=1))
    rt = open_runtime(load_config(config_path))
    rt.clock = Clock(NOW)
    try:
        assert feeds.failing_feeds(rt.store, NOW, rt.config.health_after_hours) == []
        assert feeds.failing_feeds(rt.store, NOW + timedelta(hours=6), rt.config.health_after_hours) != []
    finally:
        await rt.aclose()


def test_status_json_shows_the_problem(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    config_path, routes, _ = world
    routes["/feed.xml"] = Route(body=EMPTY)
    asyncio.run(_poll(config_path, NOW))
    assert main(["status", "-c", str(config_path), "--format", "json"]) == 0
    out = capsys.readouterr().out
    (only,) = json.loads(out)["feeds"]
    assert only["health"] == "problem"
    db = sqlite3.connect(load_config(config_path).database)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 6
    finally:
        db.close()


def test_check_feeds_names_the_problem(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    config_path, routes, _ = world
    routes["/feed.xml"] = Route(body=EMPTY)
    main(["check", "-c", str(config_path), "--feeds"])
    out = capsys.readouterr().out
    assert "0 entries (problem: the feed answered with no entries)" in out
