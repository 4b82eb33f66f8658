"""State fixtures shared by the pipeline, CLI, service and fault tests.

A clock the test owns, RSS bodies, a complete config file (with the default entities or the
test's own), a runtime over it, SQLite and message helpers, and the fixture `world` (one
loopback feed whose body a test sets, a real SMTP server, and a config pointing at both;
registered in tests/conftest.py).
"""

from __future__ import annotations

import email
import email.policy
import random
import shutil
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.load import load_config
from monitor.config.types import DEFAULT_ENTITIES
from monitor.service import pipeline
from monitor.service.daemon import open_runtime

from .ingest_server import Route, serve
from .smtp_server import SmtpServer

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Fonte</title><link>https://fonte.example/</link>
{items}
</channel></rss>"""
ITEM = """<item><title>{title}</title><link>https://fonte.example/{guid}</link><guid>{guid}</guid>
<pubDate>{date}</pubDate><description>{body}</description></item>"""


class Clock:
    """A wall clock the test owns: `clock()` reads it, `advance()`/`set()` move it either way."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when
        return self.now


RECENT = "Wed, 25 Nov 2026 08:00:00 +0100"


def feed(*items: tuple[str, str, str, str]) -> bytes:
    """An RSS body from (guid, title, body, date) items."""
    return RSS.format(items="".join(ITEM.format(guid=g, title=t, body=b, date=d) for g, t, b, d in items)).encode()


def write_config(folder: Path, feeds: Sequence[tuple[str, str]], *, smtp_port: int, tls: str = "none",
                 username: str = "", smtp_extra: str = "", digest: str | None = "0 7 * * *",
                 recipients: Sequence[str] = ("redazione@example.it",), digest_extra: str = "",
                 backfill_hours: float = 1000000, poll_timeout: float | None = 10,
                 jitter: float | None = None, entities: str | None = None,
                 extra: str = "", name: str = "config.toml") -> Path:
    """A complete main config in `folder` (created if need be), state in folder/state.

    entities.toml next to it: a copy of the default entities, or the text `entities`. The
    `*_extra` strings are lines added to their table; `extra` is appended after the last feed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if entities is None:
        shutil.copy(DEFAULT_ENTITIES, folder / "entities.toml")
    else:
        (folder / "entities.toml").write_text(entities, encoding="utf-8")
    lines = ["[general]", 'state_dir = "state"', "", "[polling]", f"backfill_hours = {backfill_hours:g}"]
    if poll_timeout is not None:
        lines.append(f"timeout_seconds = {poll_timeout:g}")
    if jitter is not None:
        lines.append(f"jitter = {jitter:g}")
    lines += ["", "[smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}", f'tls = "{tls}"',
              'sender = "monitor@example.it"', "timeout_seconds = 5"]
    if username:
        lines.append(f'username = "{username}"')
    if smtp_extra:
        lines.append(smtp_extra)
    if digest is not None:
        lines += ["", "[[digest]]", 'name = "mattina"', f'schedule = "{digest}"',
                  "recipients = [" + ", ".join(f'"{r}"' for r in recipients) + "]"]
        if digest_extra:
            lines.append(digest_extra)
    for url, title in feeds:
        lines += ["", "[[feeds]]", f'url = "{url}"', f'name = "{title}"']
    path = folder / name
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def make_runtime(config_path: Path, clock: Clock | None = None, seed: int | None = 1) -> pipeline.Runtime:
    """The daemon's runtime over `config_path`, on the test's clock and a seeded RNG."""
    rt = open_runtime(load_config(config_path))
    if clock is not None:
        rt.clock = clock
    if seed is not None:
        rt.rng = random.Random(seed)
    return rt


async def close_runtime(rt: pipeline.Runtime) -> None:
    """Close what make_runtime opened, waiting for the NLP workers to finish."""
    await rt.fetcher.aclose()
    rt.store.close()
    rt.nlp_pool.shutdown(wait=True)


@asynccontextmanager
async def running(config_path: Path, clock: Clock | None = None,
                  seed: int | None = None) -> AsyncIterator[pipeline.Runtime]:
    """`async with running(config, Clock(NOW)) as rt:` a runtime, closed (rt.aclose) on the way out."""
    rt = make_runtime(config_path, clock, seed)
    try:
        yield rt
    finally:
        await rt.aclose()


def subjects(smtp: SmtpServer) -> list[str]:
    return [str(email.message_from_bytes(m.raw, policy=email.policy.default)["Subject"]) for m in smtp.messages]


def message_id(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def query(db_path: Path, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(sql, tuple(args)).fetchall()
    finally:
        db.close()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, dict[str, Route], SmtpServer]]:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    routes: dict[str, Route] = {}
    pages = {"/feed.xml": lambda req: routes["/feed.xml"],
             "/page.html": lambda req: routes.get("/page.html", Route(status=404))}
    with serve(pages) as http, SmtpServer() as smtp:
        routes["base"] = Route(body=http.url("/").encode())  # lets a test link to this server
        write_config(tmp_path, [(http.url("/feed.xml"), "Fonte")], smtp_port=smtp.port, backfill_hours=48,
                     digest="0 8 * * *", recipients=("redazione@example.com",))
        yield tmp_path / "config.toml", routes, smtp
