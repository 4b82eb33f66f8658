"""A real, throwaway PostgreSQL server on loopback for tests (no mocks).

    server = PgServer.launch()          # initdb into a temp dir, start on 127.0.0.1:<free port>
    url = server.create_database()      # a fresh, empty, uniquely named database
    server.restart()                    # pg_ctl restart -m fast (fault tests)
    server.close()                      # stop -m immediate and delete the directory

The server binaries come from `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin,
else PATH (`find_bindir`). initdb and postgres refuse to run as root: as root the directory is
given to the `postgres` system user (created by Debian's package) and the commands run through
`runuser -u postgres --`.

With MONITOR_TEST_PG_URL set (an admin URL of an existing server, e.g.
postgresql://postgres@db:5432/postgres) no server is started: databases are created there and
dropped again, and stop/start/restart skip the calling test (we do not own that server).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

ENV_URL = "MONITOR_TEST_PG_URL"
USER = "monitor"
START_TIMEOUT = 60.0
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")

# Durability is worthless for a throwaway cluster and costs seconds per test run; loopback only;
# room for pools from many daemons in one test.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "log_min_messages": "warning",
}


class PgUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (the fixture turns this into a skip or a
    failure, depending on CI)."""


class PgStartError(RuntimeError):
    """The server did not come up; the message carries the command output and the log tail."""


def _has_server(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in SERVER_BINARIES)


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,): "newest" is numeric, so 9.6 sorts below 15.
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def find_bindir() -> Path | None:
    """The directory with initdb, pg_ctl and postgres, or None.

    pg_config alone is not enough: Debian's libpq-dev ships it without the server, so every
    candidate is checked for the binaries themselves.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    return next((c for c in candidates if _has_server(c)), None)


def free_port() -> int:
    """A loopback port nobody listens on right now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _with_dbname(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no server log: {exc})"


def wait_ready(url: str, timeout: float, log: Path | None = None) -> None:
    """Return once `url` accepts a connection; PgStartError with the log tail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                tail = _log_tail(log) if log else ""
                raise PgStartError(f"PostgreSQL at {url} not ready after {timeout:.0f} s: {exc}\n{tail}") from exc
            time.sleep(0.1)


class PgServer:
    """A PostgreSQL server for tests: one we started (`launch`) or an existing one (`external`)."""

    def __init__(self, admin_url: str, *, datadir: Path | None = None, bindir: Path | None = None,
                 root: Path | None = None, as_postgres: bool = False) -> None:
        self.admin_url = admin_url
        self.datadir = datadir
        self.bindir = bindir
        self._root = root
        self._as_postgres = as_postgres
        self._created: list[str] = []

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def from_env(cls) -> PgServer:
        """The server of MONITOR_TEST_PG_URL if set, else a throwaway one (PgUnavailable if none)."""
        url = os.environ.get(ENV_URL, "").strip()
        return cls.external(url) if url else cls.launch()

    @classmethod
    def external(cls, admin_url: str) -> PgServer:
        """An existing server we may create databases on, but not stop or restart."""
        wait_ready(admin_url, timeout=10)
        return cls(admin_url)

    @classmethod
    def launch(cls, bindir: Path | None = None) -> PgServer:
        """initdb a fresh cluster in a temp dir and start it on 127.0.0.1:<free port>."""
        bindir = bindir or find_bindir()
        if bindir is None:
            raise PgUnavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres): looked at "
                                "`pg_config --bindir`, /usr/lib/postgresql/*/bin and PATH")
        root = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
        as_postgres = os.geteuid() == 0
        server = cls("", datadir=root / "data", bindir=bindir, root=root, as_postgres=as_postgres)
        try:
            if as_postgres:
                _give_to_postgres(root)
            server._initdb()
            server._start_on_free_port()
        except BaseException:
            server._remove()
            raise
        return server

    # --- public API ---------------------------------------------------------------------------

    @property
    def owned(self) -> bool:
        """True if we started this server (so stop/start/restart are allowed)."""
        return self.datadir is not None

    @property
    def port(self) -> int:
        port = urlsplit(self.admin_url).port
        assert port is not None
        return port

    def url(self, dbname: str) -> str:
        """postgresql://monitor@127.0.0.1:PORT/dbname (or the external server's, same database)."""
        return _with_dbname(self.admin_url, dbname)

    def create_database(self) -> str:
        """A fresh, empty, uniquely named database; its URL."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            # template0: nothing a previous test put into template1 leaks in; UTF8 whatever the
            # external server's default is.
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)))
        self._created.append(name)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by create_database, even with connections still open (best effort)."""
        name = urlsplit(url).path.lstrip("/")
        try:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        except psycopg.Error:
            return
        if name in self._created:
            self._created.remove(name)

    def stop(self) -> None:
        """Stop the server (fast: connections are closed, no crash recovery on the next start)."""
        self._require_owned("stop")
        self._pg_ctl("stop", "-m", "fast", "-w")

    def start(self) -> None:
        """Start a stopped server again, on the same port; returns once it accepts connections."""
        self._require_owned("start")
        self._pg_ctl("start", "-w", "-t", str(int(START_TIMEOUT)), "-l", str(self._log))
        wait_ready(self.url("postgres"), START_TIMEOUT, self._log)

    def restart(self) -> None:
        """pg_ctl restart -m fast: every open connection is cut, data stays."""
        self._require_owned("restart")
        self._pg_ctl("restart", "-m", "fast", "-w", "-t", str(int(START_TIMEOUT)), "-l", str(self._log))
        wait_ready(self.url("postgres"), START_TIMEOUT, self._log)

    def log_tail(self, lines: int = 30) -> str:
        return _log_tail(self._log, lines) if self.owned else ""

    def close(self) -> None:
        """Stop our server (immediate: nothing to keep) and delete its directory; on an external
        server, drop the databases we created."""
        if not self.owned:
            for name in list(self._created):
                self.drop_database(self.url(name))
            return
        try:
            self._pg_ctl("stop", "-m", "immediate", "-w", check=False)
        finally:
            self._remove()

    def __enter__(self) -> PgServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- internals ----------------------------------------------------------------------------

    @property
    def _log(self) -> Path:
        assert self._root is not None
        return self._root / "server.log"

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self.bindir is not None and self._root is not None
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        # cwd: the postgres user may not be allowed into root's working directory.
        done = subprocess.run(command, cwd=self._root, capture_output=True, text=True,
                              env={**os.environ, "LC_ALL": "C.UTF-8"}, timeout=START_TIMEOUT + 30)
        if check and done.returncode != 0:
            raise PgStartError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}{done.stderr}\n"
                               f"server log:\n{_log_tail(self._log)}")
        return done

    def _require_owned(self, action: str) -> None:
        # Skip, not fail: a fault test that needs a restart cannot run against a shared server.
        if not self.owned:
            pytest.skip(f"PostgreSQL from {ENV_URL} is not ours to {action}")

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        self._run(["pg_ctl", "-D", str(self.datadir), *args], check=check)

    def _initdb(self) -> None:
        common = ["initdb", "-D", str(self.datadir), "-A", "trust", "-U", USER, "--encoding=UTF8", "--no-sync"]
        # C.UTF-8 keeps lower()/upper() right on accented letters; --no-locale (plain C) only
        # where the system lacks that locale.
        done = self._run([*common, "--locale=C.UTF-8"], check=False)
        if done.returncode != 0:
            assert self.datadir is not None
            shutil.rmtree(self.datadir, ignore_errors=True)
            self._run([*common, "--no-locale"])
        assert self.datadir is not None and self._root is not None
        conf = "".join(f"{key} = {value}\n" for key, value in SETTINGS.items())
        conf += f"unix_socket_directories = '{self._root}'\n"
        with (self.datadir / "postgresql.conf").open("a") as f:
            f.write("\n# tests/support/pg.py\n" + conf)

    def _start_on_free_port(self, attempts: int = 3) -> None:
        # The port is in postgresql.auto.conf so start/restart keep it. Another process can take
        # the port between free_port() and the bind: then try another one.
        assert self.datadir is not None
        for attempt in range(attempts):
            port = free_port()
            (self.datadir / "postgresql.auto.conf").write_text(f"port = {port}\n")
            self.admin_url = f"postgresql://{USER}@127.0.0.1:{port}/postgres"
            try:
                self.start()
                return
            except PgStartError:
                if attempt == attempts - 1 or "could not bind" not in self.log_tail():
                    raise

    def _remove(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)


def _give_to_postgres(root: Path) -> None:
    """chown the temp dir to Debian's `postgres` user (initdb/postgres refuse to run as root)."""
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PgUnavailable("running as root and there is no `postgres` system user to run the "
                            "server as (Debian's postgresql package creates it)") from exc
    os.chown(root, entry.pw_uid, entry.pw_gid)
    # mkdtemp's parent is normally /tmp; a private TMPDIR (e.g. under /root) would keep the
    # postgres user out, which initdb then reports.
