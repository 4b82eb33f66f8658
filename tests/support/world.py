"""A small world for pipeline tests: one loopback feed whose body a test sets, a real SMTP server,
and a config file pointing at both (fixture `world`, registered in tests/conftest.py)."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from monitor.config.types import DEFAULT_ENTITIES

from .ingest_server import Route, serve
from .smtp_server import SmtpServer

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


def write_config(folder: Path, feeds: Sequence[tuple[str, str]], *, smtp_port: int, tls: str = "none",
                 username: str = "", digest: str | None = "0 7 * * *",
                 recipients: Sequence[str] = ("redazione@example.it",), backfill_hours: float = 1000000,
                 extra: str = "", name: str = "config.toml") -> Path:
    """A complete main config in `folder` (entities copied next to it, state in folder/state)."""
    shutil.copy(DEFAULT_ENTITIES, folder / "entities.toml")
    lines = ["[general]", 'state_dir = "state"', "", "[polling]", f"backfill_hours = {backfill_hours:g}",
             "timeout_seconds = 10", "", "[smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}",
             f'tls = "{tls}"', 'sender = "monitor@example.it"', "timeout_seconds = 5"]
    if username:
        lines.append(f'username = "{username}"')
    if digest is not None:
        lines += ["", "[[digest]]", 'name = "mattina"', f'schedule = "{digest}"',
                  "recipients = [" + ", ".join(f'"{r}"' for r in recipients) + "]"]
    for url, title in feeds:
        lines += ["", "[[feeds]]", f'url = "{url}"', f'name = "{title}"']
    path = folder / name
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


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
        write_config(tmp_path, [(http.url("/feed.xml"), "Fonte")], smtp_port=smtp.port, backfill_hours=48,
                     digest="0 8 * * *", recipients=("redazione@example.com",))
        yield tmp_path / "config.toml", routes, smtp
