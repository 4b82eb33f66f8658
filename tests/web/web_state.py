"""A console state built by the real pipeline: two loopback feeds (one hostile), a real SMTP
server, a real SQLite file; then the digest and the alert it triggers are mailed.

The hostile items carry what feed text may carry: script tags, event handlers, a `javascript:`
link, a style block and a very long text. They must reach the store as text, and the console
must show them as text.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import psycopg
from support.ingest_server import Route, serve
from support.smtp_server import SmtpServer
from support.world import write_config

from monitor.config.load import load_config
from monitor.config.types import Config
from monitor.service import pipeline
from monitor.service.daemon import open_runtime

SCRIPT_TITLE = "<script>document.title='pwned'</script>Sam Altman e l'Europa"
IMG_CLAIM = "Costruiremo <img src=x onerror=alert(1)> in Europa"
STYLE_TEXT = "<style>body{display:none}</style>"
LONG_WORD = "Altman" + "x" * 5000
JS_LINK = "javascript:alert(document.cookie)"


@dataclass(frozen=True)
class State:
    config_path: Path
    config: Config
    database: Path
    mails: int

    @property
    def target(self) -> str:
        """The store the state is in: the SQLite path, or the PostgreSQL URL."""
        return self.config.store_target

    @property
    def backend(self) -> str:
        return self.config.store.backend

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A query (SQLite's `?` spelling) on the state, through a connection of its own."""
        if self.backend == "postgresql":
            with psycopg.connect(self.target) as pg:
                return [tuple(r) for r in pg.execute(sql.replace("?", "%s"), params)]
        with sqlite3.connect(self.database) as db:
            return [tuple(r) for r in db.execute(sql, params)]

    def fingerprint(self) -> list[tuple[str, str]]:
        """What changes when anything is written: SQLite, the bytes of the database and its WAL
        (the -shm index may be touched by any reader); PostgreSQL, every table's rows."""
        if self.backend == "postgresql":
            tables = [r[0] for r in self.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                              "ORDER BY 1")]
            return [(t, self.rows(f"SELECT md5(COALESCE(string_agg(x::text, '|' ORDER BY x::text), '')) "
                                  f"FROM {t} x")[0][0]) for t in tables]
        files = [self.database, self.database.with_name(self.database.name + "-wal")]
        return [(f.name, hashlib.sha256(f.read_bytes()).hexdigest()) for f in files if f.exists()]


def _when(hours_ago: float) -> str:
    return format_datetime(datetime.now(UTC) - timedelta(hours=hours_ago))


def _item(guid: str, title: str, body: str, hours_ago: float, link: str | None = None) -> str:
    # Escaped twice: the feed carries the text `&lt;script&gt;` (entity-encoded HTML), which
    # the parser turns into the characters `<script>` in the stored text.
    return (f"<item><title>{escape(escape(title))}</title><link>{escape(link or 'https://fonte.example/' + guid)}</link>"
            f"<guid>{guid}</guid><pubDate>{_when(hours_ago)}</pubDate>"
            f"<description>{escape(escape(body))}</description></item>")


def _rss(name: str, items: list[str]) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{name}</title>'
            f"<link>https://{name.lower()}.example/</link>{''.join(items)}</channel></rss>").encode()


HOSTILE = [
    _item("h1", SCRIPT_TITLE,
          f"«{IMG_CLAIM}», ha detto Sam Altman a Bruxelles. {STYLE_TEXT} Il regolamento europeo "
          "sull'intelligenza artificiale è stato al centro dell'incontro.", 2, link=JS_LINK),
    _item("h2", "Un testo lunghissimo su OpenAI",
          "OpenAI ha pubblicato un rapporto. " + " ".join(["parola"] * 3000) + f" {LONG_WORD} fine.", 3),
]
PLAIN = [
    _item("p1", "Musk attacca OpenAI sulla sicurezza",
          "«OpenAI non è più aperta», ha detto Elon Musk durante un evento a Milano. "
          "Secondo Musk, la società di Sam Altman ha tradito la sua missione.", 5),
    _item("p2", "Altman risponde a Musk: perché la regolamentazione serve",
          "«La regolamentazione è necessaria», ha dichiarato Sam Altman in un'intervista. "
          "Altman ha aggiunto che OpenAI collaborerà con la Commissione europea.", 30),
    _item("p3", "Un visore nuovo", "Costa poco e pesa meno.", 6),
]
# The same event from another outlet: the story page lists it as the same story elsewhere.
OTHER = [
    _item("o1", "Musk attacca OpenAI sulla sicurezza a Milano",
          "«OpenAI non è più aperta», ha detto Elon Musk durante un evento a Milano. "
          "Secondo Musk, la società di Sam Altman ha tradito la sua missione.", 4),
]


def build_state(folder: Path, store_url: str = "") -> State:
    """Poll both feeds, send the digest and any alert; return where the state is (the SQLite
    file in the folder's state/, or the PostgreSQL database `store_url`)."""
    routes = {"/fonte.xml": Route(body=_rss("Fonte", HOSTILE + PLAIN)),
              "/altra.xml": Route(body=_rss("Altra", OTHER))}
    with serve(routes) as http, SmtpServer() as smtp:
        config_path = write_config(folder, [(http.url("/fonte.xml"), "Fonte <b>bold</b>"),
                                            (http.url("/altra.xml"), "Altra Fonte")],
                                   smtp_port=smtp.port, backfill_hours=72, digest="0 8 * * *",
                                   recipients=("redazione@example.com",),
                                   extra=f'\n[store]\nurl = "{store_url}"\n' if store_url else "")
        config = load_config(config_path)
        asyncio.run(_cycle(config))
        mails = len(smtp.messages)
    return State(config_path, config, config.database, mails)


async def _cycle(config: Config) -> None:
    rt = open_runtime(config)
    try:
        await pipeline.poll_feeds(rt, force=True)
        pipeline.run_digest(rt, config.digests[0])
        await pipeline.flush_outbox(rt)
    finally:
        await rt.aclose()


def stored_titles(state: State) -> list[str]:
    return [r[0] for r in state.rows("SELECT title FROM articles ORDER BY id")]


REAL_FEEDS = Path(__file__).resolve().parents[3] / "shared" / "real-feeds" / "it-news"


def build_from_files(folder: Path, feed_files: list[Path]) -> State:
    """Poll these feed documents (served as they are from loopback), send the digest."""
    routes = {f"/{i}.xml": Route(body=f.read_bytes()) for i, f in enumerate(feed_files)}
    with serve(routes) as http, SmtpServer() as smtp:
        config_path = write_config(folder, [(http.url(f"/{i}.xml"), f.name.split("__")[0])
                                            for i, f in enumerate(feed_files)],
                                   smtp_port=smtp.port, digest="0 8 * * *", recipients=("redazione@example.com",))
        config = load_config(config_path)
        asyncio.run(_cycle(config))
        mails = len(smtp.messages)
    return State(config_path, config, config.database, mails)
