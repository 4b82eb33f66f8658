"""A newcomer's first days, in real `monitor` processes against loopback feeds and SMTP:
a missing SMTP password named as such, when the first digest goes (`once` and `run` agree),
plurals and time zones in what is printed and logged, `status | head` ending quietly."""

from __future__ import annotations

import email
import email.policy
import email.utils
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import trustme
from support.ingest_server import Route, serve
from support.smtp_server import SmtpServer
from support.world import query, write_config
from test_cli import _SCRUB, feed_routes, run_monitor, run_parallel

# -- a missing SMTP password ---------------------------------------------------------------------


def test_missing_smtp_password_is_named_by_check_and_by_the_daemon(tmp_path: Path) -> None:
    ca = trustme.CA()
    with serve(feed_routes()) as http, SmtpServer(tls="starttls", auth=("monitor", "x"), ca=ca) as smtp:
        by_env = write_config(tmp_path / "env", [(http.url("/feed.xml"), "TecnoItalia")], smtp_port=smtp.port,
                              tls="starttls", username="monitor")
        by_file = write_config(tmp_path / "file", [(http.url("/feed.xml"), "TecnoItalia")], smtp_port=smtp.port,
                               tls="starttls", username="monitor",
                               smtp_extra=f'password_file = "{tmp_path / "missing-secret"}"')
        check_env, check_file, once = run_parallel(("check", "-c", by_env), ("check", "-c", by_file),
                                                   ("once", "-c", by_env))
        assert not smtp.auth_attempts and not smtp.messages  # nothing was tried without a password

    assert check_env.returncode == 0, check_env.stderr
    assert ("warning: no SMTP password available for 'monitor': set the environment variable "
            "MONITOR_SMTP_PASSWORD (smtp.password_env)") in check_env.stdout
    assert check_file.returncode == 0, check_file.stderr
    assert (f"warning: no SMTP password available for 'monitor': cannot read the file "
            f"{tmp_path / 'missing-secret'} (smtp.password_file)") in check_file.stdout

    assert once.returncode == 1  # sending stopped: the operator must act
    assert "no SMTP password available for 'monitor': set the environment variable MONITOR_SMTP_PASSWORD" \
        in once.stderr, once.stderr
    assert "authentication failed" not in once.stderr.lower()
    rows = query(by_env.parent / "state" / "monitor.sqlite3", "SELECT status, last_error FROM outbox")
    assert rows and all(r["status"] == "pending" and "no SMTP password available" in r["last_error"] for r in rows)


def test_check_is_quiet_about_the_password_when_one_is_readable(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3greto\n", encoding="utf-8")
    config = write_config(tmp_path, [("http://127.0.0.1:9/feed.xml", "X")], smtp_port=2525, tls="starttls",
                          username="monitor", smtp_extra=f'password_file = "{secret}"')
    result = run_monitor("check", "-c", config)
    assert result.returncode == 0 and "warning" not in result.stdout, result.stdout + result.stderr


# -- when the first digest goes ----------------------------------------------------------------


def _digests(db: Path) -> list[str]:
    if not db.exists():
        return []
    return [r["status"] for r in query(db, "SELECT status FROM outbox WHERE kind = 'digest'")]


def test_run_and_once_both_send_the_first_digest_after_their_first_poll(tmp_path: Path) -> None:
    """`once` sent a digest that never ran at once; `run` waited for the next slot (here 07:00 on
    1 January). Both now send it right after the first poll."""
    with serve(feed_routes()) as http, SmtpServer() as smtp:
        feeds = [(http.url("/feed.xml"), "TecnoItalia")]
        by_run = write_config(tmp_path / "run", feeds, smtp_port=smtp.port, digest="0 7 1 1 *")
        by_once = write_config(tmp_path / "once", feeds, smtp_port=smtp.port, digest="0 7 1 1 *")
        environ = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        daemon = subprocess.Popen([sys.executable, "-m", "monitor", "run", "-c", str(by_run)], env=environ,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            once = run_monitor("once", "-c", by_once)
            deadline = time.monotonic() + 60
            while _digests(tmp_path / "run" / "state" / "monitor.sqlite3") != ["sent"] \
                    and time.monotonic() < deadline and daemon.poll() is None:
                time.sleep(0.3)
            from_run = _digests(tmp_path / "run" / "state" / "monitor.sqlite3")
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, log = daemon.communicate(timeout=30)
        subjects = [str(email.message_from_bytes(m.raw, policy=email.policy.default)["Subject"])
                    for m in smtp.messages]

    assert once.returncode == 0, once.stderr
    assert _digests(tmp_path / "once" / "state" / "monitor.sqlite3") == ["sent"]
    assert from_run == ["sent"], log
    assert daemon.returncode == 0, log
    assert re.search(r"digest mattina: \d+ stories queued", log), log
    assert sum("mattina" in s.lower() for s in subjects) == 2, subjects


def test_the_rule_is_in_both_helps() -> None:
    run_help, once_help = run_parallel(("run", "--help"), ("once", "--help"))
    for result in (run_help, once_help):
        text = " ".join(result.stdout.split())
        assert "a digest that has never been sent is due at once" in text
        assert "right after its first poll" in text


# -- what is printed and logged -----------------------------------------------------------------

ONE_STORY = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Fonte</title><link>https://fonte.example/</link>
<item><title>OpenAI apre un ufficio a Milano</title><link>https://fonte.example/openai-milano</link>
<guid>openai-milano</guid><pubDate>{date}</pubDate><description>OpenAI apre un ufficio a Milano, ha annunciato la societ\xc3\xa0.</description>
</item></channel></rss>"""
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d):\d\d,\d{3} (\S+) (INFO|WARNING|ERROR|CRITICAL) ")


def test_one_of_each_is_singular_and_log_lines_carry_the_configured_zone(tmp_path: Path) -> None:
    body = ONE_STORY.replace(b"{date}", email.utils.format_datetime(datetime.now(UTC)).encode())
    with serve({"/feed.xml": Route(body=body, headers={"Content-Type": "application/rss+xml"})}) as http, \
            SmtpServer() as smtp:
        config = write_config(tmp_path, [(http.url("/feed.xml"), "Fonte")], smtp_port=smtp.port,
                              extra="", digest="0 7 1 1 *")
        # A zone far from the machine's (UTC here, most likely): stamps must follow the config.
        text = config.read_text(encoding="utf-8").replace("[general]\n", '[general]\ntimezone = "Asia/Tokyo"\n')
        config.write_text(text, encoding="utf-8")
        started = datetime.now(UTC)
        once = run_monitor("once", "-c", config, env={"TZ": "UTC"})
        checked = run_monitor("check", "-c", config, "--feeds")
        assert once.returncode == 0 and smtp.messages, once.stdout + once.stderr
        subject = str(email.message_from_bytes(smtp.messages[0].raw, policy=email.policy.default)["Subject"])

    assert once.returncode == 0, once.stderr
    assert once.stdout.startswith("polled 1 feed (0 failed), 1 new article, 1 message sent"), once.stdout
    assert re.search(r"INFO digest mattina: 1 story queued as <", once.stderr), once.stderr
    assert "1 entry" in checked.stdout and "1 entries" not in checked.stdout, checked.stdout
    assert ": 1 storia" in subject, subject  # the Italian digest says it as well

    stamps = [m for line in once.stderr.splitlines() if (m := STAMP.match(line))]
    assert stamps, once.stderr
    tokyo = ZoneInfo("Asia/Tokyo")
    allowed = {(started + timedelta(seconds=s)).astimezone(tokyo).strftime("%Y-%m-%d %H:%M") for s in range(0, 120, 30)}
    last = stamps[-1]  # written after the config was read
    assert last.group(2) == "JST" and last.group(1) in allowed, (last.group(0), allowed)
    for m in stamps:  # before the config is read a line says UTC; never a bare local time
        assert m.group(2) in ("JST", "UTC"), m.group(0)


def test_status_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`monitor status | head`: the reader goes away before the output is written."""
    config = write_config(tmp_path, [(f"http://127.0.0.1:9/feed-{n}.xml", f"Fonte {n}") for n in range(200)],
                          smtp_port=9)
    environ = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: the first write meets a broken pipe
    try:
        result = subprocess.run([sys.executable, "-m", "monitor", "status", "-c", str(config)], env=environ,
                                stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    finally:
        os.close(write_end)
    assert result.returncode in (0, 141), result.stderr
    assert result.stderr == "", result.stderr


def test_the_daemons_log_lines_carry_the_configured_zone(tmp_path: Path) -> None:
    """`monitor run` too, not only the short commands: its lines after start-up are in the zone."""
    config = write_config(tmp_path, [("http://127.0.0.1:9/feed.xml", "Fonte")], smtp_port=9, digest="0 7 1 1 *")
    text = config.read_text(encoding="utf-8").replace("[general]\n", '[general]\ntimezone = "Asia/Tokyo"\n')
    config.write_text(text, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k not in _SCRUB} | {"TZ": "UTC"}
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "run", "-c", str(config)], env=environ,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "monitor running" in line:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    running = [m for line in lines if "monitor running" in line and (m := STAMP.match(line))]
    assert running and running[0].group(2) == "JST", lines
