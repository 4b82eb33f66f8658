"""`monitor demo`: one full cycle, offline, through the same code `monitor run` uses.

Bundled fictional feeds are served from a loopback HTTP server and the mail goes to an
embedded aiosmtpd on loopback; the received messages are written out as .eml plus an HTML
preview.
"""

from __future__ import annotations

import email
import email.policy
import functools
import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from monitor.config.load import load_config
from monitor.config.types import DEFAULT_ENTITIES
from monitor.service import pipeline
from monitor.service.daemon import open_runtime, recover

DEMO_FEEDS = Path(__file__).parent.parent / "data" / "demo"
RECIPIENT = "redazione@example.com"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


@contextmanager
def serve_feeds(folder: Path) -> Iterator[str]:
    """A loopback HTTP server for the bundled feeds; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _LoopbackSmtp(Controller):
    """aiosmtpd bound to port 0: learn the real port before aiosmtpd checks the server is up."""

    def _trigger_server(self) -> None:
        sockets = getattr(self.server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])
        super()._trigger_server()


class _Inbox:
    """aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(bytes(envelope.original_content or envelope.content))
        return "250 OK"


def _write_config(folder: Path, base_url: str, smtp_port: int) -> Path:
    feeds = "".join(
        # The sample outlets are fictional: no article pages to fetch (and the demo stays offline).
        f'\n[[feeds]]\nurl = "{base_url}/{p.name}"\nname = {json.dumps(_outlet(p))}\nfull_text = false\n'
        for p in sorted(DEMO_FEEDS.glob("*.xml")))
    path = folder / "demo-config.toml"
    path.write_text(f"""# Written by `monitor demo`: a loopback-only configuration.
[general]
state_dir = "state"
entities_file = {json.dumps(str(DEFAULT_ENTITIES))}
timezone = "Europe/Rome"

[polling]
backfill_hours = 1000000  # the bundled articles are old; analyse them all

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
sender = "monitor-demo@localhost"

[[digest]]
name = "demo"
schedule = "0 8 * * *"
recipients = ["{RECIPIENT}"]
{feeds}""", encoding="utf-8")
    return path


def _outlet(path: Path) -> str:
    return {"tecnoitalia.xml": "TecnoItalia (demo)", "rete-digitale.xml": "Rete Digitale (demo)"}.get(
        path.name, path.stem)


async def run_demo(output: Path) -> int:
    output.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(output / "state", ignore_errors=True)  # each demo starts from a clean state
    os.environ.pop("STATE_DIRECTORY", None)
    inbox = _Inbox()
    smtp = _LoopbackSmtp(inbox, hostname="127.0.0.1", port=0)
    smtp.start()
    smtp_port = int(smtp.port)
    try:
        with serve_feeds(DEMO_FEEDS) as base_url:
            config = load_config(_write_config(output, base_url, smtp_port))
            rt = open_runtime(config)
            rt.demo = True
            try:
                await recover(rt)  # a clean state: nothing to recover, but the same start as run and once
                outcomes = await pipeline.poll_feeds(rt, force=True)
                for digest in config.digests:
                    pipeline.run_digest(rt, digest)
                await pipeline.flush_outbox(rt)
                counts = _counts(rt)
            finally:
                await rt.aclose()
    finally:
        smtp.stop()
    saved = _save(inbox.messages, output)
    print(f"monitor demo (fictional articles) — {len(outcomes)} feeds polled, {counts['articles']} articles, "
          f"{counts['matched']} with tracked actors, {counts['mentions']} mentions, {counts['claims']} claims")
    print(f"actors found: {counts['actors']}")
    print(f"{len(inbox.messages)} messages received by the local SMTP server:")
    for subject, files in saved:
        print(f"  {subject}\n    " + "\n    ".join(str(f) for f in files))
    digests = [f for _, files in saved for f in files if f.name.endswith("-digest.html")]
    if digests:
        print(f"open the digest in a browser: {digests[-1].resolve()}")
    return 0 if inbox.messages else 1


def _counts(rt: pipeline.Runtime) -> dict[str, Any]:
    db = rt.store.db
    actors = [r[0] for r in db.execute("SELECT DISTINCT entity FROM mentions ORDER BY entity")]
    return {
        "articles": db.execute("SELECT COUNT(*) FROM articles").fetchone()[0],
        "matched": db.execute("SELECT COUNT(*) FROM articles WHERE entities != '[]'").fetchone()[0],
        "mentions": db.execute("SELECT COUNT(*) FROM mentions").fetchone()[0],
        "claims": db.execute("SELECT COUNT(*) FROM claims").fetchone()[0],
        "actors": ", ".join(actors) or "none",
    }


def _save(messages: list[bytes], output: Path) -> list[tuple[str, list[Path]]]:
    """Each message as .eml plus its HTML part; returns (subject, files) per message."""
    saved = []
    for i, raw in enumerate(messages, start=1):
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        subject = str(parsed.get("Subject", ""))
        kind = "alert" if "allert" in subject.lower() else "digest"
        eml = output / f"{i:02d}-{kind}.eml"
        eml.write_bytes(raw)
        files = [eml]
        body = parsed.get_body(("html",)) if isinstance(parsed, EmailMessage) else None
        if body is not None:
            html = output / f"{i:02d}-{kind}.html"
            html.write_text(str(body.get_content()), encoding="utf-8")
            files.append(html)
        saved.append((subject, files))
    return saved
