"""A small world for pipeline tests: one loopback feed whose body a test sets, a real SMTP server,
and a config file pointing at both (fixture `world`, registered in conftest.py)."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from ingest_server import Route, serve
from smtp_server import SmtpServer

from monitor.config import DEFAULT_ENTITIES

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Fonte</title><link>https://fonte.example/</link>
{items}
</channel></rss>"""
ITEM = """<item><title>{title}</title><link>https://fonte.example/{guid}</link><guid>{guid}</guid>
<pubDate>{date}</pubDate><description>{body}</description></item>"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


RECENT = "Wed, 25 Nov 2026 08:00:00 +0100"


def feed(*items: tuple[str, str, str, str]) -> bytes:
    return RSS.format(items="".join(ITEM.format(guid=g, title=t, body=b, date=d) for g, t, b, d in items)).encode()


def subjects(smtp: SmtpServer) -> list[str]:
    return [str(email.message_from_bytes(m.raw, policy=email.policy.default)["Subject"]) for m in smtp.messages]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, dict[str, Route], SmtpServer]]:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    routes: dict[str, Route] = {}
    pages = {"/feed.xml": lambda req: routes["/feed.xml"],
             "/page.html": lambda req: routes.get("/page.html", Route(status=404))}
    with serve(pages) as http, SmtpServer() as smtp:
        routes["base"] = Route(body=http.url("/").encode())  # lets a test link to this server
        shutil.copy(DEFAULT_ENTITIES, tmp_path / "entities.toml")
        (tmp_path / "config.toml").write_text(f"""
[general]
state_dir = "state"
[polling]
backfill_hours = 48
[smtp]
host = "127.0.0.1"
port = {smtp.port}
tls = "none"
sender = "monitor@localhost"
[[digest]]
name = "mattina"
schedule = "0 8 * * *"
recipients = ["redazione@example.com"]
[[feeds]]
url = "{http.url('/feed.xml')}"
name = "Fonte"
""")
        yield tmp_path / "config.toml", routes, smtp
