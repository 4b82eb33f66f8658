"""The daemon as systemd runs it: a real `monitor run` subprocess with NOTIFY_SOCKET.

READY after start-up, WATCHDOG pings, SIGHUP → RELOADING/READY (a broken config keeps the old
one), SIGTERM → STOPPING and exit 0, a bad config exits 78 before READY.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.ingest_server import Route, serve
from support.smtp_server import SmtpServer
from support.world import write_config

from monitor.errors import EX_CONFIG

DEMO_FEED = Path(__file__).resolve().parents[2] / "monitor" / "data" / "demo" / "tecnoitalia.xml"


class Notifications:
    """The test's own notify socket: collects what the daemon tells systemd."""

    def __init__(self, folder: Path) -> None:
        self.path = str(folder / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.seen: list[tuple[float, str]] = []

    def wait_for(self, field: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(4096).decode()
            except TimeoutError:
                break
            self.seen.append((time.monotonic(), data))
            if field in data.split("\n") or any(line.startswith(field) for line in data.split("\n")):
                return data
        raise AssertionError(f"no {field!r} within {timeout}s; saw {[d for _, d in self.seen]}")


@pytest.fixture
def daemon_env(tmp_path: Path) -> Iterator[tuple[Path, Notifications, SmtpServer]]:
    with serve({"/feed.xml": Route(body=DEMO_FEED.read_bytes(),
                                   headers={"Content-Type": "application/rss+xml"})}) as http, \
            SmtpServer() as smtp:
        config = write_config(tmp_path, [(http.url("/feed.xml"), "TecnoItalia")], smtp_port=smtp.port,
                              digest="* * * * *")
        notes = Notifications(tmp_path)
        yield config, notes, smtp
        notes.sock.close()


def start(config: Path, notes: Notifications, **env: str) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("STATE_DIRECTORY", "WATCHDOG_USEC")}
    environ.update(NOTIFY_SOCKET=notes.path, PYTHONUNBUFFERED="1", **env)
    return subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)],
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    return proc.returncode, out


def test_ready_reload_and_clean_stop(daemon_env: tuple[Path, Notifications, SmtpServer]) -> None:
    config, notes, smtp = daemon_env
    proc = start(config, notes)
    try:
        ready = notes.wait_for("READY=1")
        assert "STATUS=" in ready and "store SQLite" in ready
        # A valid reload: RELOADING with MONOTONIC_USEC, then READY again.
        proc.send_signal(signal.SIGHUP)
        reloading = notes.wait_for("RELOADING=1")
        assert "MONOTONIC_USEC=" in reloading
        notes.wait_for("READY=1")
        # A broken config: the daemon keeps running on the old one and says why.
        good = config.read_text()
        config.write_text(good.replace('host = "127.0.0.1"', 'hots = "127.0.0.1"'))
        proc.send_signal(signal.SIGHUP)
        notes.wait_for("RELOADING=1")
        after = notes.wait_for("READY=1")
        assert "reload failed" in after and "smtp.hots" in after
        assert proc.poll() is None
    finally:
        code, out = stop(proc)
    assert "STOPPING=1" in notes.wait_for("STOPPING=1")
    assert code == 0, out
    assert "reload refused, keeping the previous configuration" in out


def test_watchdog_pings_at_half_the_period(daemon_env: tuple[Path, Notifications, SmtpServer]) -> None:
    config, notes, _ = daemon_env
    proc = start(config, notes, WATCHDOG_USEC="1000000")
    try:
        notes.wait_for("READY=1")
        first = notes.wait_for("WATCHDOG=1")
        notes.wait_for("WATCHDOG=1")
        notes.wait_for("WATCHDOG=1")
        pings = [t for t, d in notes.seen if "WATCHDOG=1" in d.split("\n")]
        gaps = [b - a for a, b in zip(pings, pings[1:], strict=False)]
        assert first and gaps and all(0.3 <= g <= 0.9 for g in gaps[-2:]), gaps
    finally:
        code, _ = stop(proc)
    assert code == 0


def test_bad_config_exits_78_before_ready(tmp_path: Path) -> None:
    notes = Notifications(tmp_path)
    config = write_config(tmp_path, [("http://127.0.0.1:9/feed.xml", "TecnoItalia")], smtp_port=25,
                          extra="bogus = 1\n")
    proc = start(config, notes)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == EX_CONFIG
    assert "feeds[0].bogus" in out
    notes.sock.settimeout(0.2)
    with pytest.raises(TimeoutError):
        notes.sock.recv(4096)


def test_daemon_delivers_a_digest(daemon_env: tuple[Path, Notifications, SmtpServer]) -> None:
    """The every-minute digest is due on first start, so the daemon polls and mails it."""
    config, notes, smtp = daemon_env
    proc = start(config, notes)
    try:
        notes.wait_for("READY=1")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(b"digest" in m.raw.lower() or b"Musk" in m.raw
                                                      for m in smtp.messages):
            time.sleep(0.2)
    finally:
        code, out = stop(proc)
    assert code == 0, out
    assert smtp.messages, out
