"""The article monitor was conceived from, through the whole pipeline into a digest.

Reads ../shared/seed/ (skipped when absent); its text is never copied into the repository.
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from support.ingest_server import Route
from support.smtp_server import SmtpServer
from support.world import RECENT, Clock, running

from monitor.service import pipeline

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "musk-altman-openai.txt"


async def test_seed_digest_shows_musk_quotes_and_the_altman_sutskever_story(
        world: tuple[Path, dict[str, Route], SmtpServer]) -> None:
    if not SEED.exists():
        pytest.skip("shared seed article not available")
    title, _, body = SEED.read_text(encoding="utf-8").partition("\n")
    html = "".join(f"<p>{escape(p)}</p>" for p in body.strip().split("\n\n"))
    rss = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Seed</title>'
           f"<item><title>{escape(title)}</title><link>https://seed.example/a</link><guid>seed</guid>"
           f"<pubDate>{RECENT}</pubDate><description>{escape(html)}</description></item></channel></rss>")
    config_path, routes, smtp = world
    routes["/feed.xml"] = Route(body=rss.encode())
    async with running(config_path, Clock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))) as rt:
        await pipeline.poll_feeds(rt, force=True)
        assert pipeline.run_digest(rt, rt.config.digests[0]) is not None
        await pipeline.flush_outbox(rt)
    digests = [m for m in smtp.messages if b"Rassegna" in m.raw or b"Digest" in m.raw]
    assert digests, [m.raw[:200] for m in smtp.messages]
    parsed = email.message_from_bytes(digests[-1].raw, policy=email.policy.default)
    text = parsed.get_body(("plain",))
    assert text is not None
    content = " ".join(text.get_content().split())
    assert "Elon Musk: «Sono molto preoccupato»" in content
    musk_lines = [line for line in content.split("– ") if line.startswith("Elon Musk: «")]
    assert len(musk_lines) >= 2  # his quotes, each with him as speaker
    assert "Altman" in content and "Sutskever" in content
    assert "Sam Altman" in content and "Ilya Sutskever" in content  # the actors the story names
