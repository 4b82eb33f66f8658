"""Feed state in the store: validators, schedule and health survive restarts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config.types import FeedConfig
from monitor.models import FeedHealth
from monitor.store.db import Connection, Store, dt, later, ts
from monitor.store.owners import owner_alive


@dataclass(frozen=True)
class FeedState:
    id: int
    config_url: str
    url: str
    name: str
    etag: str | None
    last_modified: str | None
    next_check: datetime | None
    first_polled: datetime | None
    consecutive_failures: int
    disabled_reason: str | None
    ttl_minutes: int | None = None
    last_success: datetime | None = None
    last_problem: str | None = None


def sync_feeds(store: Store, feeds: Sequence[FeedConfig]) -> None:
    """Make the feeds table follow the config: add new feeds, deactivate removed ones."""
    urls = [f.url for f in feeds]
    with store.transaction() as db:
        for feed in feeds:
            db.execute(
                "INSERT INTO feeds (config_url, url, name) VALUES (?, ?, ?) "
                "ON CONFLICT(config_url) DO UPDATE SET name = excluded.name, active = 1",
                (feed.url, feed.url, feed.name))
        marks = ",".join("?" * len(urls))
        db.execute(f"UPDATE feeds SET active = 0 WHERE config_url NOT IN ({marks})", urls)


def _state(row: object) -> FeedState:
    r = row  # sqlite3.Row
    return FeedState(
        id=r["id"], config_url=r["config_url"], url=r["url"], name=r["name"],  # type: ignore[index]
        etag=r["etag"], last_modified=r["last_modified"],  # type: ignore[index]
        next_check=dt(r["next_check_at"]), first_polled=dt(r["first_polled_at"]),  # type: ignore[index]
        consecutive_failures=r["consecutive_failures"],  # type: ignore[index]
        disabled_reason=r["disabled_reason"], ttl_minutes=r["ttl_minutes"],  # type: ignore[index]
        last_success=dt(r["last_success_at"]), last_problem=r["last_problem"])  # type: ignore[index]


def active_feeds(store: Store) -> list[FeedState]:
    rows = store.db.execute("SELECT * FROM feeds WHERE active = 1 ORDER BY id").fetchall()
    return [_state(r) for r in rows]


# A lease further away than its length plus an hour means the clock went back: it means nothing.
_FREE = "(leased_by IS NULL OR leased_until <= ? OR leased_until > ?{dead})"
_DUE = "(next_check_at IS NULL OR next_check_at <= ? OR next_check_at > ?)"


def due_feeds(store: Store, now: datetime, *, horizon: datetime) -> list[FeedState]:
    """Feeds whose next check has come; a next check after `horizon` (further away than any
    schedule allows) means the clock went back, so that feed is due now too."""
    rows = store.db.execute(f"SELECT * FROM feeds WHERE active = 1 AND disabled_reason IS NULL AND {_DUE} "
                            "ORDER BY next_check_at, id", (ts(now), ts(horizon))).fetchall()
    return [_state(r) for r in rows]


def lease_due(store: Store, owner: str, now: datetime, *, horizon: datetime, limit: int, hold: timedelta,
              force: bool = False) -> list[FeedState]:
    """Take up to `limit` due feeds for this daemon until `now + hold`: each due feed is polled
    by one daemon of those sharing the store. A feed another daemon holds is skipped until its
    lease expires, or at once when that daemon is seen dead (same host). Recording a poll ends
    its lease and moves its next check on, so a cycle never takes a feed twice. `force` takes
    enabled feeds whether due or not.

    PostgreSQL: the candidate rows are locked FOR UPDATE SKIP LOCKED, so daemons leasing at the
    same moment take different feeds without waiting for one another.
    """
    dead = [o for (o,) in store.db.execute("SELECT DISTINCT leased_by FROM feeds WHERE leased_by IS NOT NULL")
            if not owner_alive(o) and o != owner]
    free = _FREE.format(dead=f" OR leased_by IN ({','.join('?' * len(dead))})" if dead else "")
    due, due_args = ("1 = 1", []) if force else (_DUE, [ts(now), ts(horizon)])
    lock = " FOR UPDATE SKIP LOCKED" if store.backend == "postgresql" else ""
    # One statement picks and leases the feeds (atomic on its own, no transaction round trips).
    rows = store.write(
        "UPDATE feeds SET leased_by = ?, leased_until = ? WHERE id IN ("
        f"SELECT id FROM feeds WHERE active = 1 AND disabled_reason IS NULL AND {due} AND {free} "
        f"ORDER BY COALESCE(next_check_at, 0), id LIMIT ?{lock}) RETURNING *",
        (owner, ts(now + hold), *due_args, ts(now), ts(now + hold + timedelta(hours=1)), *dead, limit),
        returning=True)
    return [_state(r) for r in sorted(rows, key=lambda r: (r["next_check_at"] or 0, r["id"]))]


def release_leases(store: Store, owner: str) -> None:
    """Give back every feed this daemon still holds (a cycle that ended early, a stop)."""
    store.write("UPDATE feeds SET leased_by = NULL, leased_until = NULL WHERE leased_by = ?", (owner,))


def leases(store: Store, now: datetime | None = None) -> list[tuple[str, int, datetime | None]]:
    """(owner, feeds held, latest expiry) for status; with `now`, only leases still running."""
    live, args = (" AND leased_until > ?", (ts(now),)) if now is not None else ("", ())
    rows = store.db.execute("SELECT leased_by, COUNT(*) AS n, MAX(leased_until) AS until FROM feeds "
                            f"WHERE leased_by IS NOT NULL{live} GROUP BY leased_by ORDER BY leased_by", args)
    return [(r["leased_by"], int(r["n"]), dt(r["until"])) for r in rows]


def next_due(store: Store) -> datetime | None:
    row = store.db.execute(
        "SELECT MIN(next_check_at) FROM feeds WHERE active = 1 AND disabled_reason IS NULL").fetchone()
    return dt(row[0])


@dataclass(frozen=True)
class PollSuccess:
    """A 200 or 304 to record: failures reset, the validators exactly as the server sent them."""

    feed_id: int
    now: datetime
    next_check: datetime
    etag: str | None
    last_modified: str | None
    new_url: str | None = None
    ttl_minutes: int | None = None

    def statement(self) -> tuple[str, tuple[object, ...]]:
        now = ts(self.now)
        return ("UPDATE feeds SET etag = ?, last_modified = ?, next_check_at = ?, last_polled_at = ?, "
                "last_success_at = ?, first_polled_at = COALESCE(first_polled_at, ?), "
                "consecutive_failures = 0, failing_since = NULL, last_error = NULL, "
                "url = COALESCE(?, url), ttl_minutes = ?, leased_by = NULL, leased_until = NULL WHERE id = ?",
                (self.etag, self.last_modified, ts(self.next_check), now, now, now, self.new_url,
                 self.ttl_minutes, self.feed_id))

    def write_in(self, db: Connection) -> None:
        """Inside a transaction that records the entries the poll brought (record_entries' `then`)."""
        later(db, *self.statement())


def record_success(store: Store, feed_id: int, *, now: datetime, next_check: datetime,
                   etag: str | None, last_modified: str | None, new_url: str | None,
                   ttl_minutes: int | None = None) -> None:
    save_success(store, PollSuccess(feed_id, now, next_check, etag, last_modified, new_url, ttl_minutes))


def save_success(store: Store, success: PollSuccess) -> None:
    """A poll that brought no entries to record (a 304): the success on its own."""
    store.write(*success.statement())


def record_problem(store: Store, feed_id: int, *, now: datetime, problem: str | None) -> None:
    """What a successful poll found wrong with the document (None: nothing); problem_since keeps
    the start of a run of polls with a problem."""
    store.write(
        "UPDATE feeds SET last_problem = ?, "
        "problem_since = CASE WHEN ? IS NULL THEN NULL ELSE COALESCE(problem_since, ?) END WHERE id = ?",
        (problem[:500] if problem else None, problem, ts(now), feed_id))


def record_failure(store: Store, feed_id: int, *, now: datetime, next_check: datetime,
                   error: str, disable: bool = False) -> None:
    store.write(
        "UPDATE feeds SET next_check_at = ?, last_polled_at = ?, last_error = ?, "
        "consecutive_failures = consecutive_failures + 1, "
        "failing_since = COALESCE(failing_since, ?), "
        "disabled_reason = CASE WHEN ? THEN ? ELSE disabled_reason END, "
        "leased_by = NULL, leased_until = NULL WHERE id = ?",
        (ts(next_check), ts(now), error[:500], ts(now), disable, error[:500], feed_id))


def feed_health(store: Store) -> list[FeedHealth]:
    rows = store.db.execute("SELECT * FROM feeds WHERE active = 1 ORDER BY id").fetchall()
    return [FeedHealth(
        url=r["url"], name=r["name"], consecutive_failures=r["consecutive_failures"],
        last_success=dt(r["last_success_at"]), last_error=r["last_error"],
        failing_since=dt(r["failing_since"]), next_check=dt(r["next_check_at"]),
        disabled_reason=r["disabled_reason"], problem=r["last_problem"],
        problem_since=dt(r["problem_since"])) for r in rows]


def failing_feeds(store: Store, now: datetime, after_hours: float) -> list[FeedHealth]:
    """Feeds failing, or answering with a problem, for longer than the threshold (debounced: a
    single blip is not reported)."""
    cutoff = now.timestamp() - after_hours * 3600
    return [h for h in feed_health(store)
            if h.disabled_reason or (h.failing_since and h.failing_since.timestamp() <= cutoff)
            or (h.problem_since and h.problem_since.timestamp() <= cutoff)]
