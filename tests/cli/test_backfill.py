"""First-poll backlog in the open: the log line, `monitor status`, and `monitor backfill`
bringing older stories into the next digest as earlier coverage (real `monitor` processes, a
loopback feed, a real SMTP server, the real SQLite state)."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from support.ingest_server import Route, serve
from support.smtp_server import SmtpServer
from support.world import query, write_config
from test_cli import RSS, run_monitor

ITEM = """<item><title>{title}</title><link>https://fonte.example/{guid}</link><guid>{guid}</guid>
<pubDate>{date}</pubDate><description>{body}</description></item>"""


def _feed(now: datetime) -> bytes:
    items = [
        ("vecchio-1", "Sam Altman: «L'Italia è pronta»", "«L'Italia è pronta per l'intelligenza artificiale», "
         "ha detto Sam Altman a Milano.", now - timedelta(hours=72)),
        ("vecchio-2", "Meteo a Roma", "Sole su tutta la città per il fine settimana.", now - timedelta(hours=80)),
        ("nuovo-1", "OpenAI apre un ufficio a Milano", "OpenAI apre un ufficio a Milano, ha annunciato la società.",
         now - timedelta(hours=2)),
    ]
    body = "".join(ITEM.format(guid=g, title=t, body=b, date=format_datetime(d)) for g, t, b, d in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Fonte</title>'
            f"<link>https://fonte.example/</link>{body}</channel></rss>").encode()


def _parts(raw: bytes) -> tuple[str, str]:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())


def test_backlog_is_said_counted_and_backfilled_into_the_next_digest(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with serve({"/feed.xml": Route(body=_feed(now), headers=RSS)}) as http, SmtpServer() as smtp:
        url = http.url("/feed.xml")
        config = write_config(tmp_path, [(url, "Fonte")], smtp_port=smtp.port, backfill_hours=24,
                              digest="0 7 1 1 *")
        first = run_monitor("once", "-c", config)
        status = json.loads(run_monitor("status", "-c", config, "--format", "json").stdout)
        status_text = run_monitor("status", "-c", config).stdout
        too_recent = run_monitor("backfill", "--hours", "24", "-c", config)
        wrong_feed = run_monitor("backfill", "--hours", "100", "--feed", "https://altro.example/rss", "-c", config)
        backfill = run_monitor("backfill", "--hours", "100", "--feed", url, "-c", config)
        after = json.loads(run_monitor("status", "-c", config, "--format", "json").stdout)
        first_digests = len(smtp.messages)
        sent = run_monitor("digest", "--send-now", "-c", config)
        digest = smtp.messages[first_digests:]

    # The first poll says what it kept back, once per feed.
    assert first.returncode == 0, first.stderr
    assert f"feed {url}: 2 older entries kept as backlog, published before the 24-hour backfill window" \
        in first.stderr, first.stderr
    # status counts it, per feed and in all, in JSON and text.
    assert status["backlog"] == 2 and status["feeds"][0]["backlog"] == 2, status
    assert "2 older entries kept as backlog" in status_text
    assert "backlog: 2 older entries from first polls, not analysed (`monitor backfill --hours N`" in status_text

    assert too_recent.returncode == 0, too_recent.stderr
    assert "no backlog published in the last 24 hours" in too_recent.stdout
    assert wrong_feed.returncode == 1 and "no [[feeds]] with url https://altro.example/rss" in wrong_feed.stderr
    assert backfill.returncode == 0, backfill.stderr
    assert (f"analysed 2 backlog articles of {url} from the last 100 hours: 1 story names a tracked actor "
            "and will join the next digest, marked as earlier coverage") in backfill.stdout, backfill.stdout
    assert after["backlog"] == 0 and after["feeds"][0]["backlog"] == 0
    assert "backlog:" not in run_monitor("status", "-c", config).stdout

    # The next digest carries the older story, marked in both parts; no alert was sent for it.
    assert sent.returncode == 0, sent.stderr
    [message] = digest
    plain, html = _parts(message.raw)
    assert "Sam Altman" in plain and "copertura precedente" in plain, plain
    assert "copertura precedente" in html
    marked = query(tmp_path / "state" / "monitor.sqlite3",
                   "SELECT a.title FROM articles a JOIN digest_marks m ON m.article_id = a.id "
                   "WHERE a.rescanned_at IS NOT NULL")
    assert [r["title"] for r in marked] == ["Sam Altman: «L'Italia è pronta»"]
    assert not query(tmp_path / "state" / "monitor.sqlite3", "SELECT 1 FROM alerts a JOIN articles r "
                     "ON r.id = a.article_id WHERE r.guid_key LIKE '%vecchio%'")


def test_status_before_any_poll_has_no_backlog(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("http://127.0.0.1:9/feed.xml", "Mai")], smtp_port=9)
    data = json.loads(run_monitor("status", "-c", config, "--format", "json").stdout)
    assert data["backlog"] == 0 and data["feeds"][0]["backlog"] == 0
