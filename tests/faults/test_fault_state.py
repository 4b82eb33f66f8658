"""A state directory that cannot be written, a full disk, a damaged database: a clear error, no damage.

Each case runs the real `monitor once` in a subprocess and checks the exit status (non-zero), that
stderr explains what to do and has no traceback, and that the database is left as it was. CI runs
as root, so "read-only" is made with what root cannot bypass: a file where the directory should
be, the immutable attribute (chattr +i), a read-only bind mount, and a tiny tmpfs for "disk full".
Cases whose tool is unavailable here are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_support import child_env, feed_xml, write_config
from support.ingest_server import IngestServer, Route, serve
from support.world import make_runtime, query

from monitor.service import pipeline

EX_CANTCREAT = 73


class Feed:
    def __init__(self) -> None:
        self.body = feed_xml(range(3))

    def route(self, _request: object) -> Route:
        return Route(body=self.body, headers={"Content-Type": "application/rss+xml"})


@pytest.fixture
def feed() -> Iterator[tuple[Feed, IngestServer]]:
    f = Feed()
    with serve({"/feed.xml": f.route}) as server:
        yield f, server


def once(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", "once", "-c", str(config)], env=child_env(),
                          capture_output=True, text=True, timeout=60, cwd=str(config.parent))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_clean_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


async def seeded_state(folder: Path, feed_url: str) -> Path:
    """A config whose state directory holds a healthy database (3 articles), closed cleanly."""
    config = write_config(folder, feed_url, 9)
    rt = make_runtime(config)
    await pipeline.poll_feeds(rt, force=True)
    rt.store.close()
    return config


def assert_refused_and_untouched(result: subprocess.CompletedProcess[str], db: Path, before: str,
                                 hint: str) -> None:
    """The run stopped with a clear state error and the database is byte-identical and sound."""
    assert result.returncode == EX_CANTCREAT, result.stderr
    check_clean_failure(result, "state error", hint)
    assert digest(db) == before
    assert query(db, "PRAGMA quick_check")[0][0] == "ok"


def run_root(*cmd: str) -> bool:
    return subprocess.run(list(cmd), capture_output=True).returncode == 0


@pytest.mark.timeout(60)
def test_a_file_where_the_state_directory_should_be(tmp_path: Path, feed: tuple[Feed, IngestServer]) -> None:
    config = write_config(tmp_path, feed[1].url("/feed.xml"), 9)
    (tmp_path / "state").write_text("not a directory")
    result = once(config)
    assert result.returncode == EX_CANTCREAT
    check_clean_failure(result, "cannot create the state directory", "writable")
    assert (tmp_path / "state").read_text() == "not a directory"


@pytest.mark.timeout(60)
async def test_immutable_state_directory(tmp_path: Path, feed: tuple[Feed, IngestServer]) -> None:
    f, http = feed
    config = await seeded_state(tmp_path, http.url("/feed.xml"))
    state = tmp_path / "state"
    db = state / "monitor.sqlite3"
    before = digest(db)
    if shutil.which("chattr") is None or not run_root("chattr", "+i", str(state)):
        pytest.skip("chattr +i is not available here (needs root and a filesystem with attributes)")
    try:
        f.body = feed_xml(range(10))
        result = once(config)
    finally:
        run_root("chattr", "-i", str(state))
    assert_refused_and_untouched(result, db, before, str(db))


@pytest.mark.timeout(60)
async def test_read_only_bind_mount(tmp_path: Path, feed: tuple[Feed, IngestServer]) -> None:
    f, http = feed
    config = await seeded_state(tmp_path, http.url("/feed.xml"))
    state = tmp_path / "state"
    db = state / "monitor.sqlite3"
    before = digest(db)
    if not run_root("mount", "--bind", str(state), str(state)):
        pytest.skip("mount --bind is not permitted here")
    try:
        if not run_root("mount", "-o", "remount,ro,bind", str(state)):
            pytest.skip("a read-only remount is not permitted here")
        f.body = feed_xml(range(10))
        result = once(config)
    finally:
        run_root("umount", str(state))
    assert_refused_and_untouched(result, db, before, "writable")


@pytest.mark.timeout(90)
async def test_disk_full_during_a_poll(tmp_path: Path, feed: tuple[Feed, IngestServer]) -> None:
    f, http = feed
    state = tmp_path / "state"
    state.mkdir()
    if not run_root("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(state)):
        pytest.skip("mounting a small tmpfs is not permitted here")
    try:
        config = await seeded_state(tmp_path, http.url("/feed.xml"))
        db = state / "monitor.sqlite3"
        count = query(db, "SELECT COUNT(*) FROM articles")[0][0]
        filler = state / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:  # fill the filesystem to the last byte
            for size in (65536, 4096, 512, 1):
                with contextlib.suppress(OSError):
                    while os.write(fd, b"\0" * size):
                        pass
        finally:
            os.close(fd)
        # Leave room to open the database and start, not to store the poll's 400 articles.
        os.truncate(filler, filler.stat().st_size - 96 * 1024)
        f.body = feed_xml(range(400))  # far more than fits
        result = once(config)
        filler.unlink()
        # Not corrupted: the failed transaction left nothing half-written.
        assert query(db, "PRAGMA quick_check")[0][0] == "ok"
        assert query(db, "SELECT COUNT(*) FROM articles")[0][0] == count
        check_clean_failure(result, "full")
    finally:
        run_root("umount", str(state))


def corrupt_header(db: Path) -> None:
    with db.open("r+b") as fh:
        fh.write(b"this is not sqlite" * 8)


def corrupt_pages(db: Path) -> None:
    page = sqlite3.connect(db).execute("PRAGMA page_size").fetchone()[0]
    with db.open("r+b") as fh:
        fh.seek(page)  # keep page 1 (the header and schema root), smash the b-tree pages after it
        fh.write(b"\xab" * page * 6)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("damage", [corrupt_header, corrupt_pages], ids=["header", "pages"])
async def test_damaged_database_says_how_to_recover(tmp_path: Path, feed: tuple[Feed, IngestServer],
                                                    damage: object) -> None:
    f, http = feed
    f.body = feed_xml(range(60))
    config = await seeded_state(tmp_path, http.url("/feed.xml"))
    db = tmp_path / "state" / "monitor.sqlite3"
    assert callable(damage)
    damage(db)
    before = digest(db)
    result = once(config)
    assert result.returncode == EX_CANTCREAT, result.stderr
    check_clean_failure(result, "damaged", f"mv {db} {db}.broken")
    assert digest(db) == before  # left alone for the operator to inspect
    # The advice works: move it aside and the next run starts afresh.
    db.rename(db.with_name(db.name + ".broken"))
    again = once(config)
    assert again.returncode == 0, again.stderr
