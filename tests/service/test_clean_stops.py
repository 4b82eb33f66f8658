"""Clean stops at any moment (issue 17): SIGTERM or Ctrl-C (SIGINT) during start-up — while the
state and the NLP pipeline load, with and without parse workers — or during a poll of a slow feed
ends a real `monitor run` without a traceback and without an ERROR line, with exit 0 for SIGTERM
and 130 for SIGINT, and leaves one INFO line about the stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.ingest_server import Route, serve
from support.smtp_server import SmtpServer
from support.world import write_config

DEMO_FEED = Path(__file__).resolve().parents[2] / "monitor" / "data" / "demo" / "tecnoitalia.xml"
SLOW = 8.0  # the slow feed answers after this many seconds: a poll is in flight meanwhile


class Notes:
    """The daemon's notify socket, read without blocking."""

    def __init__(self, folder: Path) -> None:
        self.path = str(folder / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.seen: list[str] = []

    def read(self) -> list[str]:
        while True:
            try:
                self.seen.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.seen

    def ready(self) -> bool:
        return any("READY=1" in n.split("\n") for n in self.read())


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Path, Notes, threading.Event]]:
    polled = threading.Event()

    def slow(request: object) -> Route:
        polled.set()  # the poll has begun: the daemon waits for this answer
        return Route(body=DEMO_FEED.read_bytes(), headers={"Content-Type": "application/rss+xml"}, delay=SLOW)

    with serve({"/feed.xml": slow}) as http, SmtpServer() as smtp:
        config = write_config(tmp_path, [(http.url("/feed.xml"), "Lenta")], smtp_port=smtp.port,
                              poll_timeout=SLOW * 3)
        notes = Notes(tmp_path)
        yield config, notes, polled
        notes.sock.close()


def start(config: Path, notes: Notes) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("STATE_DIRECTORY", "WATCHDOG_USEC")}
    environ.update(NOTIFY_SOCKET=notes.path, PYTHONUNBUFFERED="1")
    # A session of its own: Ctrl-C in a terminal signals the whole process group, workers too.
    return subprocess.Popen([sys.executable, "-m", "monitor", "run", "--config", str(config)], env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def in_startup(config: Path, proc: subprocess.Popen[str], notes: Notes) -> None:
    """Wait until open_runtime has opened the state (the database exists) and READY has not come:
    what remains of start-up is loading the NLP pipeline (and warming the workers)."""
    state = config.parent / "state"
    deadline = time.monotonic() + 60
    while not (state.exists() and any(state.iterdir())):
        assert proc.poll() is None and time.monotonic() < deadline, "the daemon did not start"
        time.sleep(0.005)
    assert not notes.ready(), "READY before the signal: not a start-up stop"


def in_poll(proc: subprocess.Popen[str], notes: Notes, polled: threading.Event) -> None:
    assert polled.wait(90), "no poll"
    time.sleep(0.5)  # the request is being served: the poll waits for the slow answer
    assert proc.poll() is None


def send(proc: subprocess.Popen[str], signum: int, group: bool) -> None:
    if group:
        os.killpg(proc.pid, signum)  # as a terminal's Ctrl-C does
    else:
        proc.send_signal(signum)  # as systemd does with KillMode=mixed


def check_clean(proc: subprocess.Popen[str], signum: int) -> str:
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == (130 if signum == signal.SIGINT else 0), out
    assert "Traceback" not in out and "ERROR" not in out, out
    stops = [line for line in out.splitlines() if "INFO stop" in line]
    assert len(stops) == 1 and signal.Signals(signum).name in stops[0], out
    assert out.rstrip().splitlines()[-1] == stops[0], out  # nothing after the stop line
    return out


@pytest.mark.parametrize(("signum", "workers", "group"), [
    (signal.SIGTERM, 0, False), (signal.SIGINT, 0, True), (signal.SIGTERM, 1, False), (signal.SIGINT, 1, True),
], ids=["sigterm", "ctrl-c", "sigterm-workers", "ctrl-c-workers"])
def test_stop_during_startup(env: tuple[Path, Notes, threading.Event], signum: int, workers: int,
                             group: bool) -> None:
    config, notes, _ = env
    if workers:
        config.write_text(config.read_text().replace("[polling]", f"[polling]\nparse_workers = {workers}"))
    proc = start(config, notes)
    try:
        in_startup(config, proc, notes)
        send(proc, signum, group)
        out = check_clean(proc, signum)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "stopped during start-up" in out and "monitor running" not in out
    assert not notes.ready()


@pytest.mark.parametrize(("signum", "workers", "group"), [
    (signal.SIGTERM, 0, False), (signal.SIGINT, 0, True), (signal.SIGTERM, 1, False), (signal.SIGINT, 1, True),
], ids=["sigterm", "ctrl-c", "sigterm-workers", "ctrl-c-workers"])
def test_stop_during_a_poll(env: tuple[Path, Notes, threading.Event], signum: int, workers: int,
                            group: bool) -> None:
    config, notes, polled = env
    if workers:
        config.write_text(config.read_text().replace("[polling]", f"[polling]\nparse_workers = {workers}"))
    proc = start(config, notes)
    try:
        in_poll(proc, notes, polled)
        assert notes.ready()
        began = time.monotonic()
        send(proc, signum, group)
        out = check_clean(proc, signum)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "monitor running" in out
    assert "STOPPING=1" in "\n".join(notes.read())
    assert time.monotonic() - began < 25, "the stop waited for the whole slow poll and more"
