"""Day-to-day administration against real loopback feed and SMTP servers, in real processes.

`monitor status` while `monitor run` is running (ok / failing / disabled feeds); `monitor once`
twice (conditional GET, no story mailed twice, only new stories later); `digest --preview` that
consumes nothing, `digest --send-now`; `send-test`; the outbox as status reports it.
"""

from __future__ import annotations

import email
import email.policy
import json
import signal
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from support.ingest_server import RecordedRequest, Route, serve
from support.smtp_server import Received, SmtpServer
from support.world import write_config
from test_cli import DEMO_FEED, RSS, feed_routes, run_monitor, run_parallel

ETAG = '"tecnoitalia-v1"'
LAST_MODIFIED = "Wed, 25 Nov 2026 12:00:00 GMT"
NEW_ITEM = """<item>
<title>Sam Altman a Roma: «Investiremo in Italia»</title>
<link>https://tecnoitalia.example/2026/altman-roma</link>
<guid isPermaLink="false">tecnoitalia-admin-004</guid>
<pubDate>Thu, 26 Nov 2026 09:00:00 +0100</pubDate>
<description><![CDATA[<p>«Investiremo in Italia già dal prossimo anno», ha detto Sam Altman ai giornalisti a Roma.</p>]]></description>
</item>
"""


def text_of(message: Received) -> str:
    parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(("plain",))
    assert body is not None
    return f"Subject: {parsed['Subject']}\n\n{body.get_content()}"


def status_json(config: Path) -> dict[str, Any]:
    result = run_monitor("status", "-c", config, "--format", "json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# -- status while the daemon runs --------------------------------------------------------------


class NotifySocket:
    """Stands in for systemd: the daemon reports READY=1 here."""

    def __init__(self, folder: Path) -> None:
        self.path = str(folder / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def wait_for(self, field: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        seen = []
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                seen.append(self.sock.recv(4096).decode())
            except TimeoutError:
                break
            if field in seen[-1].split("\n"):
                return
        raise AssertionError(f"no {field} within {timeout}s; saw {seen}")


def test_status_while_the_daemon_runs(tmp_path: Path) -> None:
    routes = {**feed_routes(), "/missing.xml": Route(status=404, body=b"not here"),
              "/error.xml": Route(status=500, body=b"boom"), "/gone.xml": Route(status=410, body=b"gone")}
    with serve(routes) as http, SmtpServer() as smtp:
        names = {"/feed.xml": "TecnoItalia", "/missing.xml": "Sparito", "/error.xml": "Guasto",
                 "/gone.xml": "Chiuso"}
        config = write_config(tmp_path, [(http.url(p), n) for p, n in names.items()], smtp_port=smtp.port)
        notify = NotifySocket(tmp_path)
        environ = {"NOTIFY_SOCKET": notify.path}
        daemon = subprocess.Popen([sys.executable, "-m", "monitor", "run", "-c", str(config)],
                                  env={**_clean_env(), **environ}, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            notify.wait_for("READY=1")
            deadline = time.monotonic() + 30
            while True:  # READY comes before the first poll; wait until the daemon has polled all
                data = status_json(config)  # and sent the alert (after the poll's analysis) and
                # the first digest (a digest that never ran goes after the first poll, as in `once`)
                if all(f["last_poll"] for f in data["feeds"]) and data["outbox"]["sent"] >= 2 \
                        or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            text = run_monitor("status", "-c", config)
            assert daemon.poll() is None, "the daemon must still be running"
        finally:
            daemon.send_signal(signal.SIGTERM)
            log, _ = daemon.communicate(timeout=30)
        notify.sock.close()
        alerts = smtp.messages

    assert daemon.returncode == 0, log
    feeds = {f["name"]: f for f in data["feeds"]}
    assert list(feeds) == list(names.values())
    good, missing, error, gone = (feeds[n] for n in names.values())
    assert good["health"] == "ok" and good["consecutive_failures"] == 0 and good["last_error"] is None
    assert good["last_poll"] and good["last_success"] == good["last_poll"]
    assert good["next_poll"] > good["last_poll"]  # ISO 8601 in UTC: comparable as text
    for feed, reason in ((missing, "HTTP 404"), (error, "HTTP 500")):
        assert feed["health"] == "failing" and feed["consecutive_failures"] == 1, feed
        assert reason in feed["last_error"] and feed["last_success"] is None and feed["failing_since"]
        assert feed["next_poll"] > feed["last_poll"]
    assert gone["health"] == "disabled" and "410" in gone["disabled_reason"], gone
    # Elon Musk is an alert entity: his story went out at once; the 07:00 digest, which never
    # ran, went right after the first poll (as `monitor once` sends it).
    assert {k: v for k, v in data["outbox"].items() if k != "last_digest_sent"} == {
        "pending": 0, "sent": 2, "failed": 0, "sent_last_7_days": 2, "problems": [], "channels": {}}
    assert [m.rcpt_tos for m in alerts] == [("redazione@example.it",)] * 2
    assert data["last_digest_sent"] is not None
    [digest] = data["digests"]
    assert digest["name"] == "mattina" and digest["last_run"] and digest["last_sent"]

    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "feeds: 4 (1 ok, 2 failing, 1 disabled)" in out, out
    assert f"[ok      ] TecnoItalia <{http.url('/feed.xml')}>" in out
    assert f"[failing ] Sparito <{http.url('/missing.xml')}>" in out and "1 failure in a row" in out
    assert "HTTP 500" in out and "disabled: " in out and "410" in out
    assert "outbox: 0 pending, 0 failed, 2 sent" in out and "last digest sent: never" not in out


def _clean_env() -> dict[str, str]:
    import os

    from test_cli import _SCRUB

    return {k: v for k, v in os.environ.items() if k not in _SCRUB}


def test_status_before_anything_ran_creates_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path, [("http://127.0.0.1:9/feed.xml", "Mai visto")], smtp_port=9)
    text, as_json = run_parallel(("status", "-c", config), ("status", "-c", config, "--format", "json"))
    assert text.returncode == 0 and as_json.returncode == 0, text.stderr + as_json.stderr
    assert not (tmp_path / "state").exists()
    assert "not created yet" in text.stdout and "[new     ] Mai visto" in text.stdout
    assert json.loads(as_json.stdout)["feeds"][0]["health"] == "new"


# -- once, conditional GET, no duplicates ------------------------------------------------------


def test_once_twice_uses_conditional_get_and_never_mails_a_story_twice(tmp_path: Path) -> None:
    body = {"bytes": DEMO_FEED.read_bytes(), "etag": ETAG}

    def feed(request: RecordedRequest) -> Route:
        if request.headers.get("if-none-match") == body["etag"]:
            return Route(status=304, headers={"ETag": str(body["etag"])})
        return Route(body=bytes(body["bytes"]), headers={**RSS, "ETag": str(body["etag"]),
                                                          "Last-Modified": LAST_MODIFIED})

    with serve({"/feed.xml": feed}) as http, SmtpServer() as smtp:
        config = write_config(tmp_path, [(http.url("/feed.xml"), "TecnoItalia")], smtp_port=smtp.port)
        first = run_monitor("once", "-c", config)
        second = run_monitor("once", "-c", config)
        again = run_monitor("digest", "-c", config, "--send-now")
        after_repeat = len(smtp.messages)
        # The publisher adds one story: only that one goes out.
        body.update(bytes=DEMO_FEED.read_bytes().replace(b"<item>", NEW_ITEM.encode() + b"<item>", 1),
                    etag='"tecnoitalia-v2"')
        third = run_monitor("once", "-c", config)
        news = run_monitor("digest", "-c", config, "--send-now")
        requests = http.hits("/feed.xml")
        messages = smtp.messages
        status = status_json(config)

    assert first.returncode == 0, first.stderr
    # The digest, and an alert for Elon Musk (an alert entity).
    assert first.stdout.startswith("polled 1 feed (0 failed), 3 new articles, 2 messages sent"), first.stdout
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("polled 1 feed (0 failed), 0 new articles, 0 messages sent"), second.stdout
    assert requests[1].headers.get("if-none-match") == ETAG
    assert requests[1].headers.get("if-modified-since") == LAST_MODIFIED
    assert "not-modified" in second.stderr
    assert again.returncode == 0 and again.stdout.strip() == "0 messages sent", again.stdout + again.stderr
    assert after_repeat == 2

    assert third.stdout.startswith("polled 1 feed (0 failed), 1 new article,"), third.stdout + third.stderr
    assert news.returncode == 0 and news.stdout.strip() == "1 message sent", news.stdout + news.stderr
    digests = [text_of(m) for m in messages if "mattina" in text_of(m).split("\n")[0]]
    assert len(messages) == 3 and len({m.raw for m in messages}) == 3 and len(digests) == 2
    first_mail, second_mail = digests
    assert "Musk attacca OpenAI" in first_mail and "Investiremo in Italia" not in first_mail
    assert "Investiremo in Italia" in second_mail and "Musk attacca OpenAI" not in second_mail
    assert all(m.rcpt_tos == ("redazione@example.it",) for m in messages)
    assert status["outbox"]["sent"] == 3 and status["last_digest_sent"] is not None
    assert status["digests"][0]["last_sent"] == status["last_digest_sent"]


# -- digest --preview / --send-now -------------------------------------------------------------


def test_preview_consumes_nothing_then_once_sends_the_stories(tmp_path: Path) -> None:
    with serve(feed_routes()) as http, SmtpServer() as smtp:
        feeds = [(http.url("/feed.xml"), "TecnoItalia")]
        # Same state directory: one config only polls, the other also has the digest.
        poll_only = write_config(tmp_path, feeds, smtp_port=smtp.port, digest=None, name="poll.toml")
        config = write_config(tmp_path, feeds, smtp_port=smtp.port)
        polled = run_monitor("once", "-c", poll_only)
        preview = tmp_path / "anteprima.html"
        previewed = run_monitor("digest", "-c", config, "--preview", preview)
        assert smtp.messages == []
        sent = run_monitor("once", "-c", config)
        messages = smtp.messages

    assert polled.returncode == 0 and "3 new articles, 0 messages sent" in polled.stdout, polled.stdout
    assert previewed.returncode == 0, previewed.stderr
    assert f"written to {preview} (nothing sent)" in previewed.stdout
    html = preview.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith(("<!doctype html", "<html")) and "</html>" in html.lower()
    assert "Musk attacca OpenAI" in html
    assert sent.returncode == 0 and "0 new articles, 1 message sent" in sent.stdout, sent.stdout + sent.stderr
    assert len(messages) == 1 and "Musk attacca OpenAI" in text_of(messages[0])


def test_a_refused_digest_shows_as_failed_in_status(tmp_path: Path) -> None:
    with serve(feed_routes()) as http, SmtpServer() as smtp:
        smtp.data_reply = "554 5.6.0 message content rejected"
        config = write_config(tmp_path, [(http.url("/feed.xml"), "TecnoItalia")], smtp_port=smtp.port)
        once = run_monitor("once", "-c", config)
        text, as_json = run_parallel(("status", "-c", config), ("status", "-c", config, "--format", "json"))
    assert once.returncode == 0 and "0 messages sent" in once.stdout, once.stdout + once.stderr
    assert "ERROR message <" in once.stderr and "554 5.6.0" in once.stderr
    box = json.loads(as_json.stdout)["outbox"]
    assert (box["pending"], box["failed"], box["sent"]) == (0, 2, 0)  # the digest and an alert
    assert box["problems"][0]["status"] == "dead" and "554 5.6.0" in box["problems"][0]["error"]
    assert "outbox: 0 pending, 2 failed, 0 sent" in text.stdout
    assert "[dead]" in text.stdout and "554 5.6.0 message content rejected" in text.stdout
    assert "last digest sent: never" in text.stdout


# -- send-test ---------------------------------------------------------------------------------


def test_send_test(tmp_path: Path) -> None:
    with SmtpServer() as smtp:
        smtp.rcpt_replies["nessuno@example.it"] = "550 5.1.1 no such user"
        config = write_config(tmp_path, [], smtp_port=smtp.port)
        ok, refused = run_parallel(("send-test", "-c", config, "admin@example.it"),
                                   ("send-test", "-c", config, "nessuno@example.it"))
        messages = smtp.messages
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip() == "test message accepted for admin@example.it"
    assert len(messages) == 1 and messages[0].rcpt_tos == ("admin@example.it",)
    assert messages[0].mail_from == "monitor@example.it"
    assert "la configurazione SMTP funziona" in text_of(messages[0])
    assert refused.returncode == 1
    assert "nessuno@example.it: 550 5.1.1 no such user" in refused.stderr, refused.stderr
