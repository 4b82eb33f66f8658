"""Chat and webhook channels through Apprise, against a real loopback receiver.

Apprise's json:// and ntfy:// URLs point at tests/support/receiver.py (a real http.server on
127.0.0.1); mail goes to the real aiosmtpd of the `world` fixture. Nothing of monitor is mocked.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.ingest_server import Route
from support.receiver import Receiver
from support.smtp_server import SmtpServer
from support.world import RECENT, Clock, feed, query, running, subjects

from monitor.cli.main import main
from monitor.digest.build import RenderContext
from monitor.digest.chat import neutralise, render_chat_digest
from monitor.service import pipeline
from monitor.service.channel_flush import flush_channels
from monitor.store import articles

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
World = tuple[Path, dict[str, Route], SmtpServer]
SECRET = "S3GRETO-tk-9f8e7d"  # a token in the channel's URL: must never be shown anywhere

MUSK = ("m1", "Musk annuncia il nuovo razzo",
        "Elon Musk ha detto: «Il razzo partirà a dicembre». Secondo Musk il progetto è pronto.", RECENT)


@pytest.fixture
def rx() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def add_channels(config: Path, *tables: str, alerts: str = "") -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "\n" + (f"[alerts]\n{alerts}\n" if alerts else "") + "\n".join(tables),
                      encoding="utf-8")


def channel(name: str, *, url: str = "", url_env: str = "", alerts: bool = False,
            digests: tuple[str, ...] = ()) -> str:
    source = f'url = "{url}"' if url else f'url_env = "{url_env}"'
    return (f'\n[[channels]]\nname = "{name}"\n{source}\nalerts = {str(alerts).lower()}\n'
            f"digests = [{', '.join(json.dumps(d) for d in digests)}]\n")


def outbox_rows(config: Path) -> list[dict[str, object]]:
    return [dict(r) for r in query(config.parent / "state" / "monitor.sqlite3",
                                   "SELECT id, channel, kind, status, attempts, last_error FROM outbox ORDER BY id")]


# --- configuration and secrets -------------------------------------------------------------

def test_a_token_in_the_toml_is_a_config_error_that_points_to_url_env(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    config, _, _ = world
    text = config.read_text(encoding="utf-8")
    token = "S3GRETOtk9f8e7dA1b2C3d4"
    for url in (f"https://hooks.slack.com/services/T0A1B2C3D/B0A1B2C3D/{token}",
                f"ntfys://ntfy.sh/redazione?token=tk_{token}", f"json://user:{token}@127.0.0.1/hook"):
        config.write_text(text, encoding="utf-8")
        add_channels(config, channel("chat", url=url))
        assert main(["check", "--config", str(config)]) == 78
        err = capsys.readouterr().err
        assert str(config) in err and "channels[0].url: this URL carries a credential" in err, err
        assert "url_env" in err and "url_file" in err and token not in err


def test_a_url_without_credentials_is_accepted_and_an_unknown_key_refused(
        world: World, rx: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    config, _, _ = world
    text = config.read_text(encoding="utf-8")
    add_channels(config, channel("locale", url=rx.json_url()))
    assert main(["check", "--config", str(config)]) == 0
    config.write_text(text, encoding="utf-8")
    add_channels(config, channel("locale", url=rx.json_url()) + 'colour = "red"\n')
    assert main(["check", "--config", str(config)]) == 78
    assert "channels[0].colour: unknown key" in capsys.readouterr().err
    config.write_text(text, encoding="utf-8")
    add_channels(config, channel("locale", url=rx.json_url(), digests=("sera",)))
    assert main(["check", "--config", str(config)]) == 78
    assert "channels[0].digests[0]: unknown digest 'sera'" in capsys.readouterr().err
    config.write_text(text, encoding="utf-8")
    add_channels(config, channel("locale", url="jsno://127.0.0.1/hook"))
    assert main(["check", "--config", str(config)]) == 78
    assert "channels[0].url: not a URL Apprise knows" in capsys.readouterr().err


def test_secrets_never_reach_logs_status_or_errors(
        world: World, rx: Receiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    config, routes, _ = world
    monkeypatch.setenv("CH_JSON", f"{rx.json_url('/hook/' + SECRET)}")
    monkeypatch.setenv("CH_NTFY", f"ntfy://{SECRET}@127.0.0.1:{rx.port}/redazione")
    monkeypatch.setenv("CH_BAD", f"nonesiste://{SECRET}")
    add_channels(config, channel("webhook", url_env="CH_JSON", alerts=True),
                 channel("ntfy", url_env="CH_NTFY", alerts=True), channel("rotto", url_env="CH_BAD", alerts=True))
    routes["/feed.xml"] = Route(body=feed(MUSK))
    rx.fail_next(500, 401)
    # What the admin reads: the root logger's output (where `monitor` sends its log), at DEBUG.
    seen = io.StringIO()
    root = logging.getLogger()
    handler = logging.StreamHandler(seen)
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)

    async def alert_and_flush() -> None:
        async with running(config, Clock(NOW)) as rt:
            await pipeline.poll_feeds(rt, force=True)
            await pipeline.flush_outbox(rt)
    try:
        asyncio.run(alert_and_flush())
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    debug, where = ["--log-level", "DEBUG"], ["--config", str(config)]
    assert main([*debug, "check", "--channels", *where]) == 1  # "rotto" is not an Apprise URL
    assert main([*debug, "send-test", "--channel", "rotto", *where]) == 1
    assert main([*debug, "send-test", "--channel", "ntfy", *where]) == 0
    assert main([*debug, "status", *where]) == 0
    assert main([*debug, "status", "--format", "json", *where]) == 0
    out = capsys.readouterr()
    rows = outbox_rows(config)
    assert {r["channel"]: r["status"] for r in rows if r["channel"]} == {
        "webhook": "pending", "ntfy": "dead", "rotto": "dead"}, rows
    shown = out.out + out.err + seen.getvalue() + json.dumps(rows)
    assert "HTTP 500" in shown and "HTTP 401" in shown  # the failures are reported...
    assert SECRET not in shown  # ...without the URL that holds the token


# --- delivery ------------------------------------------------------------------------------

async def test_an_alert_reaches_the_channels_and_the_mail_at_once(
        world: World, rx: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    config, routes, smtp = world
    monkeypatch.setenv("CH_NTFY", rx.ntfy_url("redazione"))
    add_channels(config, channel("webhook", url=rx.json_url("/hook"), alerts=True),
                 channel("ntfy", url_env="CH_NTFY", alerts=True), channel("solo-digest", url=rx.json_url("/d")))
    routes["/feed.xml"] = Route(body=feed(MUSK))
    async with running(config, Clock(NOW)) as rt:
        await pipeline.poll_feeds(rt, force=True)
        await pipeline.flush_outbox(rt)
    assert [s for s in subjects(smtp) if "Musk" in s], subjects(smtp)
    by_path = {p.path: p for p in rx.delivered}
    assert set(by_path) == {"/hook", "/"}  # json:// and ntfy:// (which posts JSON to its root); not /d
    for post in by_path.values():
        assert post.title == "Allerta: Elon Musk"
        assert "Musk annuncia il nuovo razzo" in post.text and "https://fonte.example/m1" in post.text
        assert "«Il razzo partirà a dicembre»" in post.text  # the key claim
        assert "“Elon Musk ha detto: «Il razzo partirà a dicembre».”" in post.text  # the evidence snippet
    assert by_path["/"].json()["topic"] == "redazione"


async def test_a_digest_reaches_its_channels_only(world: World, rx: Receiver) -> None:
    config, routes, smtp = world
    add_channels(config, channel("digest-hook", url=rx.json_url("/digest"), digests=("mattina",)),
                 channel("altro", url=rx.json_url("/altro")))
    routes["/feed.xml"] = Route(body=feed(
        ("a1", "Altman e OpenAI", "«Siamo pronti», ha detto Sam Altman ai giornalisti.", RECENT),
        ("a2", "Sutskever lascia", "Ilya Sutskever ha detto: «Una nuova avventura».", RECENT)))
    async with running(config, Clock(NOW)) as rt:
        await pipeline.poll_feeds(rt, force=True)
        assert pipeline.run_digest(rt, rt.config.digests[0]) is not None
        await pipeline.flush_outbox(rt)
    assert len(subjects(smtp)) == 1
    [post] = rx.delivered
    assert post.path == "/digest" and post.title.startswith("Rassegna mattina")
    assert "2 storie" in post.text and "Altman e OpenAI" in post.text and "Sutskever lascia" in post.text
    rows = outbox_rows(config)
    assert [(r["channel"], r["kind"], r["status"]) for r in rows] == [(None, "digest", "sent"),
                                                                      ("digest-hook", "digest", "sent")]


def test_a_500_is_retried_with_the_mail_backoff_and_then_sent_once(
        world: World, rx: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    config, routes, smtp = world
    add_channels(config, channel("webhook", url=rx.json_url("/hook"), alerts=True))
    routes["/feed.xml"] = Route(body=feed(MUSK))
    rx.fail_next(500)
    clock = Clock(NOW)

    async def poll_and_flush() -> None:
        async with running(config, clock) as rt:
            await pipeline.poll_feeds(rt, force=True)
            await pipeline.flush_outbox(rt)

    async def flush() -> None:
        async with running(config, clock) as rt:
            await pipeline.flush_outbox(rt)
    asyncio.run(poll_and_flush())
    assert len(subjects(smtp)) == 1  # the mail left although the channel failed
    assert main(["status", "--config", str(config)]) == 0
    assert "channel webhook: HTTP 500" in capsys.readouterr().out
    clock.advance(timedelta(minutes=4))
    asyncio.run(flush())
    assert len(rx.posts) == 1  # not before the 5-minute backoff
    clock.advance(timedelta(minutes=2))
    asyncio.run(flush())
    clock.advance(timedelta(hours=2))
    asyncio.run(flush())
    assert [p.status for p in rx.posts] == [500, 200]
    assert rx.posts[0].body == rx.posts[1].body  # sent from the stored text, not re-rendered
    [row] = [r for r in outbox_rows(config) if r["channel"]]
    assert row["status"] == "sent" and row["attempts"] == 2


def test_a_4xx_is_dead_lettered_and_shown_by_status(
        world: World, rx: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    config, routes, smtp = world
    add_channels(config, channel("webhook", url=rx.json_url("/hook"), alerts=True),
                 channel("ntfy", url=rx.ntfy_url("redazione"), alerts=True))
    routes["/feed.xml"] = Route(body=feed(MUSK))
    rx.fail_next(404)  # the first post (webhook) is refused; ntfy's is not held back by it
    clock = Clock(NOW)

    async def poll_and_flush() -> None:
        async with running(config, clock) as rt:
            await pipeline.poll_feeds(rt, force=True)
            await pipeline.flush_outbox(rt)
            clock.advance(timedelta(hours=3))
            await pipeline.flush_outbox(rt)
    asyncio.run(poll_and_flush())
    assert [(p.path, p.status) for p in rx.posts] == [("/hook", 404), ("/", 200)]
    assert len(subjects(smtp)) == 1
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "to channel webhook [dead]" in out and "HTTP 404" in out
    assert "channel webhook: 0 pending, 1 failed, 0 sent" in out


async def test_each_channel_has_its_own_hourly_cap_and_quiet_hours_hold_posts(
        world: World, rx: Receiver) -> None:
    config, routes, smtp = world
    # 13:00 in Rome is inside the quiet hours; the cap is one alert an hour.
    add_channels(config, channel("webhook", url=rx.json_url("/hook"), alerts=True),
                 alerts='max_per_hour = 1\nquiet_hours = "12:30-14:00"')
    routes["/feed.xml"] = Route(body=feed(MUSK, ("m2", "Musk di nuovo", "Elon Musk ha parlato ancora.", RECENT)))
    clock = Clock(NOW)
    async with running(config, clock) as rt:
        await pipeline.poll_feeds(rt, force=True)
        await pipeline.flush_outbox(rt)
        assert rx.posts == [] and smtp.messages == []  # quiet hours
        clock.set(datetime(2026, 11, 25, 13, 1, tzinfo=UTC))  # 14:01 in Rome
        await pipeline.flush_outbox(rt)
    assert len(rx.delivered) == 1 and len(smtp.messages) == 1  # the cap: one alert each


# --- commands ------------------------------------------------------------------------------

def test_check_channels_posts_nothing_and_send_test_posts_once(
        world: World, rx: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    config, _, _ = world
    add_channels(config, channel("webhook", url=rx.json_url("/hook"), alerts=True),
                 channel("ntfy", url=rx.ntfy_url("redazione"), digests=("mattina",)))
    assert main(["check", "--channels", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "channel ok   webhook (url): JSON" in out and "channel ok   ntfy (url): ntfy" in out
    assert rx.posts == []
    assert main(["send-test", "--channel", "ntfy", "--config", str(config)]) == 0
    [post] = rx.delivered
    assert "prova" in post.text
    assert main(["send-test", "--channel", "nessuno", "--config", str(config)]) == 78


# --- rendering -----------------------------------------------------------------------------

HOSTILE_TITLE = "Musk [clicca qui](javascript:alert(1)) @channel <!everyone> *urgente*"


async def test_hostile_feed_text_is_neutralised(world: World, rx: Receiver) -> None:
    config, routes, _ = world
    add_channels(config, channel("webhook", url=rx.json_url("/hook"), alerts=True))
    routes["/feed.xml"] = Route(body=feed(("h1", HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;"),
                                           "Elon Musk ha detto: «@everyone &lt;!here&gt; [x](javascript:void(0))».",
                                           RECENT)))
    async with running(config, Clock(NOW)) as rt:
        await pipeline.poll_feeds(rt, force=True)
        await pipeline.flush_outbox(rt)
    [post] = rx.delivered
    text = post.text
    for live in ("<!everyone>", "<!here>", "@channel", "@everyone", "[clicca qui]", "*urgente*"):
        assert live not in text, (live, text)
    assert not re.search(r"(?<!\\)\]\(javascript:", text), text  # only escaped brackets before it
    assert "clicca qui" in text and "everyone" in text  # neutralised, not deleted
    assert "(https://fonte.example/h1)" in text  # our own link stays a link


def test_each_flavour_neutralises_its_own_syntax() -> None:
    slack = neutralise(HOSTILE_TITLE + " <https://x.example|clic>", "slack")
    assert "<" not in slack and ">" not in slack and "*urgente*" not in slack and "@channel" not in slack
    markdown = neutralise(HOSTILE_TITLE, "markdown")
    assert "\\[clicca qui\\]" in markdown and "\\*urgente\\*" in markdown and "<" not in markdown


async def test_a_digest_too_long_for_the_service_loses_whole_stories(world: World) -> None:
    config, routes, _ = world
    # Twelve unrelated stories (no two merge as duplicates), each with a claim of Sam Altman.
    said = ["i chip costano troppo", "Roma merita un laboratorio", "la borsa reagirà bene",
            "le scuole useranno assistenti", "l'energia nucleare serve", "gli ospedali digitali arrivano",
            "i treni saranno puntuali", "le banche assumono ingegneri", "il clima peggiora ovunque",
            "il calcio cambia con i dati", "i satelliti coprono l'Africa", "la musica generata vende"]
    routes["/feed.xml"] = Route(body=feed(*[
        (f"s{n}", f"Altman: {text}", f"Sam Altman ha detto: «Dichiarazione {n}: {text}».", RECENT)
        for n, text in enumerate(said)]))
    async with running(config, Clock(NOW)) as rt:
        await pipeline.poll_feeds(rt, force=True)
        digest = rt.config.digests[0]
        stories = articles.stories_for_digest(rt.store, digest.name, digest.actors, 1.0, NOW - timedelta(days=7))
        ctx = RenderContext(language="it", timezone=rt.config.timezone, templates_dir=None, sender="m@x.it",
                            list_id="x")
        full = render_chat_digest(ctx, digest, rt.config.entities, stories, NOW, "markdown", 100_000)
        short = render_chat_digest(ctx, digest, rt.config.entities, stories, NOW, "markdown", 900)
    assert full is not None and short is not None
    assert len(short.body) <= 900 < len(full.body)
    shown = [n for n in range(12) if f"fonte.example/s{n})" in short.body]
    assert shown and len(shown) < 8  # 8 = max_per_section: the full post shows 8 and "+4 altri"
    for n in shown:  # every story shown is whole: its title, link and claim
        assert f"Dichiarazione {n}:" in short.body and said[n] in short.body
    assert f"+{12 - len(shown)} altri" in short.body


async def test_a_template_in_templates_dir_overrides_the_chat_alert(world: World, rx: Receiver) -> None:
    config, routes, _ = world
    (config.parent / "tpl").mkdir()
    (config.parent / "tpl" / "chat_alert.md").write_text("URGENTE {{ actor | md }}: {{ link(story.title, story.url) }}\n",
                                                         encoding="utf-8")
    config.write_text(config.read_text(encoding="utf-8").replace('state_dir = "state"',
                                                                 'state_dir = "state"\ntemplates_dir = "tpl"'),
                      encoding="utf-8")
    add_channels(config, channel("webhook", url=rx.json_url("/hook"), alerts=True))
    routes["/feed.xml"] = Route(body=feed(MUSK))
    async with running(config, Clock(NOW)) as rt:
        await pipeline.poll_feeds(rt, force=True)
        await pipeline.flush_outbox(rt)
    [post] = rx.delivered
    assert post.text == "URGENTE Elon Musk: [Musk annuncia il nuovo razzo](https://fonte.example/m1)"


async def test_a_stop_during_a_post_records_it_and_never_posts_it_again(world: World, rx: Receiver) -> None:
    """A stop cancels the flush, not the thread already posting: the post that went out is
    recorded as sent, so the next flush (or the next start) does not post it a second time."""
    config, routes, _ = world
    add_channels(config, channel("webhook", url=rx.json_url("/hook"), alerts=True))
    routes["/feed.xml"] = Route(body=feed(MUSK))
    async with running(config, Clock(NOW)) as rt:
        await pipeline.poll_feeds(rt, force=True)
        rx.delay = 1.5
        flush = asyncio.ensure_future(flush_channels(rt))
        await asyncio.sleep(0.5)  # the post is on its way
        flush.cancel()
        with pytest.raises(asyncio.CancelledError):
            await flush
        rx.delay = 0.0
        await flush_channels(rt)
    assert len([p for p in rx.delivered if p.path == "/hook"]) == 1
    rows = [r for r in outbox_rows(config) if r["channel"] == "webhook"]
    assert rows and all(r["status"] == "sent" for r in rows), rows
