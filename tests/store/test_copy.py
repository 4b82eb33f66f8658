"""`monitor store migrate`'s store layer: a real SQLite state, built with the store's own
functions, copied into a fresh PostgreSQL database (and into SQLite), then read back through the
store's functions: the copy behaves as the original did, and the original is untouched."""

from __future__ import annotations

import hashlib
import sqlite3
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from support.pg import PgServer
from support.sample_state import ALERT_RAW, DIGEST_RAW, ETAG, LAST_MODIFIED, NOW, SINCE, build_state, entry

from monitor.config.types import FeedConfig
from monitor.errors import StateError
from monitor.ingest.politeness import clock_went_back_after
from monitor.models import Analysis, Claim, OutgoingMessage
from monitor.service.entries import upsert_entries
from monitor.store import articles, copy, feeds, outbox
from monitor.store.copy import TABLES, copy_store
from monitor.store.db import Store, ts
from monitor.store.schema import MIGRATIONS


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    path = tmp_path / "state" / "monitor.sqlite3"
    return path, build_state(path)


def test_copy_to_postgresql_behaves_like_the_source(source: tuple[Path, dict[str, int]], pg_url: str) -> None:
    path, ids = source
    before = digest_of(path)
    seen: list[tuple[str, int, int]] = []
    report = copy_store(f"sqlite:{path}", pg_url, progress=lambda t, d, n: seen.append((t, d, n)))
    # The file is byte-identical; SQLite's read-only open may leave an empty -wal (and -shm) beside it.
    assert digest_of(path) == before and path.with_name(path.name + "-wal").stat().st_size == 0
    counts = {t.table: (t.source, t.target) for t in report.tables}
    assert list(counts) == list(TABLES) and all(s == t for s, t in counts.values())
    assert counts["feeds"] == (2, 2) and counts["articles"] == (3, 3) and counts["outbox"] == (2, 2)
    assert counts["claims"] == (2, 2) and counts["tombstones"][0] >= 1 and counts["digest_slots"] == (1, 1)
    assert "outbox" in report.checksums and ("articles", 3, 3) in seen

    store = Store(pg_url)
    assert store.backend == "postgresql" and store.schema_version() == len(MIGRATIONS)
    # Feeds: the validators and the next check survive, so the next poll is a conditional GET.
    state = {f.name: f for f in feeds.active_feeds(store)}
    polled = state["Notizie Tech"]
    assert (polled.id, polled.etag, polled.last_modified) == (ids["Notizie Tech"], ETAG, LAST_MODIFIED)
    assert polled.next_check == NOW + timedelta(minutes=20) and polled.ttl_minutes == 30
    due = feeds.due_feeds(store, NOW, horizon=clock_went_back_after(NOW))
    assert [f.name for f in due] == ["Rete Italia"]
    # The digest's marks: what was sent is not sent again; the third story is still owed to it.
    assert [s.id for s in articles.stories_for_digest(store, "mattina", (), 1.0, SINCE)] == [ids["c"]]
    story = articles.load_story(store, ids["b"])
    assert story.outlets == ("Notizie Tech", "Rete Italia") and story.key_claims[0].text.startswith("Apriremo")
    assert story.key_claims[0].unconfirmed and story.mentions[0].entity == "anna_verdi"
    assert articles.load_story(store, ids["a"]).key_claims[0].subject == "governo"
    # The outbox: the sent digest is done; the alert is still due, with its exact bytes.
    (due_row,) = outbox.due_messages(store, NOW)
    assert (due_row.message_id, due_row.raw, due_row.kind) == ("<allerta-1@esempio.it>", ALERT_RAW, "alert")
    raw = store.db.execute("SELECT raw FROM outbox WHERE id = ?", (ids["digest"],)).fetchone()[0]
    assert bytes(raw) == DIGEST_RAW
    assert outbox.alerts_since(store, SINCE) == 1 and outbox.owed_alerts(store) == []
    assert outbox.last_digest_run(store, "mattina") == NOW
    # A pruned article never returns; search finds the copied articles naming an actor.
    rete = state["Rete Italia"].id
    assert upsert_entries(store, rete, [entry("guid:vecchio", "Vecchia notizia", "Testo di ieri.")],
                          now=NOW, first_poll=False, backfill_hours=24) == []
    hits = store.db.execute("SELECT id FROM articles WHERE search @@ to_tsquery('simple', 'bari')").fetchall()
    assert [r[0] for r in hits] == [ids["b"]]
    # New rows after the copy get fresh ids, past the copied ones.
    (new,) = upsert_entries(store, rete, [entry("guid:nuovo", "Nuova gara", "Una nuova gara per le reti.")],
                            now=NOW, first_poll=False, backfill_hours=24)
    assert new > max(ids["a"], ids["b"], ids["c"])
    feeds.sync_feeds(store, [FeedConfig("https://terzo.example/rss", "Terzo")])
    assert max(f.id for f in feeds.active_feeds(store)) > max(ids["Notizie Tech"], ids["Rete Italia"])
    later = outbox.enqueue(store, OutgoingMessage("<rassegna-2@esempio.it>", "m@esempio.it", ("r@esempio.it",),
                                                  b"x", "Rassegna"), kind="digest", digest="sera", now=NOW)
    assert later > ids["digest"] + 1
    articles.save_analysis(store, new, Analysis((), (), (Claim("statement", None, "Una nuova gara", 0, 14,
                                                               "Una nuova gara per le reti.", 0.5),)))
    claim_ids = [r[0] for r in store.db.execute("SELECT rowid FROM claims ORDER BY rowid")]
    assert len(claim_ids) == 3 and len(set(claim_ids)) == 3
    store.close()


def test_copy_to_sqlite_and_older_source_upgraded_in_a_temp_copy(source: tuple[Path, dict[str, int]],
                                                                   tmp_path: Path) -> None:
    path, ids = source
    db = sqlite3.connect(path)
    # One version back: the last migration (v10, two indexes) is undone, and re-run on the temp copy.
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    db.executescript("DROP INDEX feeds_due; DROP INDEX alerts_created;")
    db.close()
    before = digest_of(path)
    target = tmp_path / "copia" / "monitor.sqlite3"
    report = copy_store(path, f"sqlite:{target}")
    assert digest_of(path) == before and report.upgraded_from == len(MIGRATIONS) - 1
    store = Store(target)
    assert [s.id for s in articles.stories_for_digest(store, "mattina", (), 1.0, SINCE)] == [ids["c"]]
    assert [r.message_id for r in outbox.due_messages(store, NOW)] == ["<allerta-1@esempio.it>"]
    found = store.db.execute("SELECT rowid FROM article_fts WHERE article_fts MATCH 'bari'").fetchall()
    assert [r[0] for r in found] == [ids["b"]]
    store.close()


def test_a_target_holding_data_is_refused_and_nothing_written(source: tuple[Path, dict[str, int]],
                                                               pg_url: str) -> None:
    path, _ = source
    store = Store(pg_url)
    store.write("INSERT INTO digest_runs (digest, last_run_at) VALUES (?, ?)", ("sera", ts(NOW)))
    store.close()
    with pytest.raises(StateError, match=r"already holds data \(rows in digest_runs\); nothing was written") as err:
        copy_store(path, pg_url, password="segreto-da-non-mostrare")
    assert "segreto" not in str(err.value) and pg_url.split("//")[1].split("/")[0] in str(err.value)
    store = Store(pg_url)
    assert [store.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES] == \
        [0] * (TABLES.index("digest_runs")) + [1] + [0] * (len(TABLES) - TABLES.index("digest_runs") - 1)
    store.close()
    # The same state copied twice: the second run finds the first one's rows.
    other = Store(path).url
    with pytest.raises(StateError, match="already holds data"):
        copy_store(other, other)


def test_a_failing_table_rolls_back_everything(source: tuple[Path, dict[str, int]], pg_url: str) -> None:
    path, _ = source
    db = sqlite3.connect(path)
    db.execute("INSERT INTO mentions VALUES (999999, 'orfano', 'orfano', 0, 6, 0)")  # no such article
    db.commit()
    db.close()
    with pytest.raises(StateError, match="failed, nothing was written"):
        copy_store(path, pg_url)
    store = Store(pg_url)
    assert all(store.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] == 0 for t in TABLES)
    store.close()


def test_unreachable_or_refused_target_is_a_clear_error(source: tuple[Path, dict[str, int]], pg_url: str,
                                                        tmp_path: Path) -> None:
    path, _ = source
    with socket_port() as port:
        url = f"postgresql://monitor:nel-url@127.0.0.1:{port}/monitor"
        with pytest.raises(StateError, match=r"cannot connect to the PostgreSQL store postgresql://monitor@127\.0\.0\.1") as err:
            copy_store(path, url, password="segreto")
    assert "segreto" not in str(err.value) and "nel-url" not in str(err.value)
    nobody = pg_url.replace("//monitor@", "//sconosciuto@", 1)
    with pytest.raises(StateError, match="cannot connect.*sconosciuto"):
        copy_store(path, nobody, password="segreto")
    with pytest.raises(StateError, match="no SQLite state at"):
        copy_store(tmp_path / "manca.sqlite3", pg_url)


def test_a_few_thousand_articles(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "grande.sqlite3"
    build_state(path, extra_articles=3000)
    started = time.monotonic()
    report = copy_store(path, pg_url, batch=1000)
    elapsed = time.monotonic() - started
    assert dict((t.table, t.target) for t in report.tables)["articles"] == 3003
    print(f"copied {report.rows} rows in {elapsed:.2f} s")


class socket_port:
    """A loopback port nobody listens on while the block runs."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_tables_cover_the_schema(tmp_path: Path) -> None:
    store = Store(tmp_path / "nuovo.sqlite3")
    names = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    store.close()
    assert {n for n in names if not n.startswith(("sqlite_", "article_fts"))} == set(TABLES)


def test_an_unknown_column_or_table_is_refused(source: tuple[Path, dict[str, int]], pg_url: str) -> None:
    path, _ = source
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE outbox ADD COLUMN priorita INTEGER")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="the source's outbox has column.s. priorita that the target"):
        copy_store(path, pg_url)
    store = Store(pg_url)
    assert store.db.execute("SELECT COUNT(*) FROM feeds").fetchone()[0] == 0
    store.close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE outbox DROP COLUMN priorita")
    db.execute("CREATE TABLE appunti (testo TEXT)")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="has table.s. appunti that this monitor does not know; nothing copied"):
        copy_store(path, pg_url)


@pytest.mark.parametrize(("tamper", "message"), [
    ("DELETE FROM tombstones", "tombstones: 1 rows in the source but 0 in the copy; rolled back"),
    ("UPDATE outbox SET raw = 'x'::bytea WHERE kind = 'alert'", "outbox: the copy's id, message_id, status, raw differ"),
])
def test_a_copy_that_does_not_verify_is_rolled_back(source: tuple[Path, dict[str, int]], pg_url: str,
                                                    monkeypatch: pytest.MonkeyPatch, tamper: str, message: str) -> None:
    # A fault between the copy and the commit, where the verification runs (inside the transaction).
    path, _ = source
    monkeypatch.setattr(copy, "_reset_identities", lambda db: db.execute(tamper))
    with pytest.raises(StateError, match=message):
        copy_store(path, pg_url)
    store = Store(pg_url)
    assert all(store.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] == 0 for t in TABLES)
    store.close()


def test_a_role_that_may_not_create_tables_is_a_clear_error(source: tuple[Path, dict[str, int]], pg_url: str) -> None:
    path, _ = source
    role = f"lettore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        with pytest.raises(StateError, match=f"cannot create the schema in the PostgreSQL store postgresql://{role}@.*"
                                             "permission denied for schema public"):
            copy_store(path, pg_url.replace("//monitor@", f"//{role}@", 1))
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_wrong_password_is_a_clear_error_and_the_right_one_works(source: tuple[Path, dict[str, int]],
                                                                    pg_server: PgServer) -> None:
    """A server of its own that asks for passwords (the session's trusts every loopback login)."""
    path, _ = source
    if not pg_server.owned:
        pytest.skip("needs a server of our own to require passwords")
    with PgServer.launch() as server:
        url = server.create_database()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("ALTER ROLE monitor PASSWORD 'giusta-123'")
            assert server.datadir is not None
            (server.datadir / "pg_hba.conf").write_text("host all all 127.0.0.1/32 scram-sha-256\n")
            admin.execute("SELECT pg_reload_conf()")
        with pytest.raises(StateError, match="cannot connect to the PostgreSQL store postgresql://monitor@127.*"
                                             "password authentication failed") as err:
            copy_store(path, url, password="sbagliata-456")
        assert "sbagliata" not in str(err.value) and "giusta" not in str(err.value)
        report = copy_store(path, url, password="giusta-123")
        assert report.rows > 0 and report.target == f"PostgreSQL {url}"
