"""A newcomer's first days, in real `monitor` processes against loopback feeds and SMTP:
a missing SMTP password named as such, when the first digest goes (`once` and `run` agree),
plurals and time zones in what is printed and logged, `status | head` ending quietly."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import trustme
from support.ingest_server import serve
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
