"""`monitor status`: feeds' health, outbox and digests, read from the store (works while running).

The database is opened read-only: status never creates a state directory, never migrates a schema
under a running daemon, and never takes a write lock. Feeds in the config that the store has not
seen yet are listed as "new" (never polled). On a shared store it also shows which daemon holds
which leases (feeds being polled, messages being sent).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config.types import Config
from monitor.errors import StateError
from monitor.models import BACKLOG, plural
from monitor.store import articles, feeds, outbox
from monitor.store.archive import open_archive
from monitor.store.db import Store, dt
from monitor.store.owners import daemon_of

HEALTHS = ("ok", "problem", "failing", "disabled", "new")


def _iso(value: float | None) -> str | None:
    when = dt(value)
    return when.isoformat() if when else None


def _health(row: sqlite3.Row) -> str:
    if row["disabled_reason"]:
        return "disabled"
    if row["consecutive_failures"]:
        return "failing"
    if row["last_problem"]:
        return "problem"  # it answers, but not with anything to read: not ok
    return "ok" if row["last_polled_at"] is not None else "new"


def _feed(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "name": row["name"], "url": row["url"], "config_url": row["config_url"],
        "health": _health(row), "consecutive_failures": row["consecutive_failures"],
        "last_poll": _iso(row["last_polled_at"]), "last_success": _iso(row["last_success_at"]),
        "next_poll": _iso(row["next_check_at"]), "failing_since": _iso(row["failing_since"]),
        "last_error": row["last_error"], "disabled_reason": row["disabled_reason"],
        "problem": row["last_problem"], "problem_since": _iso(row["problem_since"]),
    }


def _unseen_feed(name: str, url: str) -> dict[str, Any]:
    return {"name": name, "url": url, "config_url": url, "health": "new", "consecutive_failures": 0,
            "last_poll": None, "last_success": None, "next_poll": None, "failing_since": None,
            "last_error": None, "disabled_reason": None, "problem": None, "problem_since": None,
            "backlog": 0}


def _empty_outbox() -> dict[str, Any]:
    return {"pending": 0, "sent": 0, "failed": 0, "sent_last_7_days": 0, "last_digest_sent": None,
            "problems": []}


def collect_status(config: Config, now: datetime | None = None) -> dict[str, Any]:
    """Everything `monitor status` shows, as JSON-ready data."""
    now = now or datetime.now(UTC)
    shared = config.store.backend == "postgresql"
    data: dict[str, Any] = {"database": _safe(config.store_target), "store": config.store.backend,
                            "database_exists": shared or config.database.exists(), "leases": []}
    rows: list[sqlite3.Row] = []
    runs: dict[str, sqlite3.Row] = {}
    box = _empty_outbox()
    backlog: dict[int, int] = {}
    backlog_total = 0
    if data["database_exists"]:
        state = open_archive(config.store, config.database)  # read-only, never migrates: safe beside the daemon
        db = state.db
        try:
            data["leases"] = _leases(state, now)
            rows = db.execute("SELECT * FROM feeds WHERE active = 1 ORDER BY id").fetchall()
            runs = {r["digest"]: r for r in db.execute(
                "SELECT r.digest, r.last_run_at, (SELECT MAX(sent_at) FROM outbox o WHERE o.digest = r.digest "
                "AND o.kind = 'digest' AND o.channel IS NULL AND o.status = ?) AS last_sent FROM digest_runs r", (outbox.SENT,))}
            box = outbox.outbox_summary(state, now)
            backlog = articles.backlog_counts(state)
            backlog_total = int(db.execute("SELECT COUNT(*) FROM articles WHERE status = ?",
                                           (BACKLOG,)).fetchone()[0])
        except sqlite3.Error as exc:
            raise StateError(f"cannot read the state database {_safe(config.store_target)}: {exc}") from None
        finally:
            state.close()
    known = {r["config_url"] for r in rows}
    data["feeds"] = [{**_feed(r), "backlog": backlog.get(r["id"], 0)} for r in rows] + [
        _unseen_feed(f.name, f.url) for f in config.feeds if f.url not in known]
    data["digests"] = [{
        "name": d.name, "schedule": d.schedule, "recipients": list(d.recipients),
        "last_run": _iso(runs[d.name]["last_run_at"]) if d.name in runs else None,
        "last_sent": _iso(runs[d.name]["last_sent"]) if d.name in runs else None,
    } for d in config.digests]
    data["outbox"] = box
    # Entries older than the backfill window at a feed's first poll: stored, never analysed
    # unless `monitor backfill` is asked to.
    data["backlog"] = backlog_total
    data["last_digest_sent"] = box["last_digest_sent"]
    return data


def _safe(target: str) -> str:
    from monitor.store.pg import safe_url

    return safe_url(target)  # a SQLite path comes back as it is


def _leases(state: Store, now: datetime) -> list[dict[str, Any]]:
    """Per daemon: the feeds it is polling and the messages it is sending now (live leases)."""
    by: dict[str, dict[str, Any]] = {}
    for what, held in (("feeds", feeds.leases(state, now)), ("messages", outbox.claims(state, now))):
        for owner, n, until in held:
            daemon = daemon_of(owner)
            entry = by.setdefault(daemon, {"daemon": daemon, "feeds": 0, "messages": 0, "until": None})
            entry[what] += n
            entry["until"] = max(filter(None, (entry["until"], until.isoformat() if until else None)), default=None)
    return sorted(by.values(), key=lambda e: e["daemon"])


def _when(value: str | None, zone: ZoneInfo | None) -> str | None:
    """An ISO time from the JSON view as an admin reads it: local time to the minute."""
    if not value or zone is None:
        return value
    return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def format_status(data: dict[str, Any], zone: ZoneInfo | None = None) -> str:
    def t(value: str | None) -> str | None:
        return _when(value, zone)

    state = data["database"] + ("" if data["database_exists"] else
                                "  (not created yet: nothing has run with this state directory; "
                                "under systemd the daemon's state is in $STATE_DIRECTORY)")
    if data.get("store") == "postgresql":
        state += "  (PostgreSQL, shared)"
    counts = {h: sum(1 for f in data["feeds"] if f["health"] == h) for h in HEALTHS}
    lines = [f"state: {state}",
             f"feeds: {len(data['feeds'])} (" + ", ".join(f"{n} {h}" for h, n in counts.items() if n) + ")"
             if data["feeds"] else "feeds: 0"]
    for f in data["feeds"]:
        lines.append(f"  [{f['health']:<8}] {f['name']} <{f['url']}>")
        if f["health"] == "new":
            lines.append("             never polled")
            continue
        nxt = "-" if f["health"] == "disabled" else t(f["next_poll"]) or "now"
        lines.append(f"             last poll {t(f['last_poll'])}, last ok {t(f['last_success']) or 'never'}, "
                     f"next poll {nxt}")
        if f["health"] == "disabled":
            lines.append(f"             disabled: {f['disabled_reason']}")
        elif f["health"] == "failing":
            lines.append(f"             {plural(f['consecutive_failures'], 'failure', 'failures')} in a row since {t(f['failing_since'])}: "
                         f"{f['last_error']}")
        elif f["health"] == "problem":
            lines.append(f"             since {t(f['problem_since'])}: {f['problem']}")
        if f["backlog"]:
            lines.append(f"             {plural(f['backlog'], 'older entry', 'older entries')} kept as backlog")
    if data["backlog"]:
        lines.append(f"backlog: {plural(data['backlog'], 'older entry', 'older entries')} from first polls, "
                     "not analysed (`monitor backfill --hours N` adds them to the next digest)")
    box = data["outbox"]
    lines.append(f"outbox: {box['pending']} pending, {box['failed']} failed, {box['sent']} sent "
                 f"({box['sent_last_7_days']} in the last 7 days)")
    for p in box["problems"]:
        what = f"post {p['id']} to channel {p['channel']}" if p.get("channel") else f"message {p['id']}"
        lines.append(f"  {what} [{p['status']}] {p['subject']!r} after {p['attempts']} attempts: "
                     f"{p['error']}")
    for name, n in sorted(box.get("channels", {}).items()):
        lines.append(f"  channel {name}: {n['pending']} pending, {n['dead']} failed, {n['sent']} sent")
    lines.append(f"last digest sent: {t(data['last_digest_sent']) or 'never'}")
    for d in data["digests"]:
        lines.append(f"  {d['name']} ('{d['schedule']}'): last run {t(d['last_run']) or 'never'}, "
                     f"last sent {t(d['last_sent']) or 'never'}")
    if data.get("leases"):
        lines.append("leases (who is working now):")
    for lease in data.get("leases", []):
        lines.append(f"  daemon {lease['daemon']}: polling {plural(lease['feeds'], 'feed', 'feeds')}, sending "
                     f"{plural(lease['messages'], 'message', 'messages')} (held until {t(lease['until'])} at most)")
    return "\n".join(lines)
