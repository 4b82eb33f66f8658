"""The outbox: rendered messages, stored as exact bytes, written with their article marks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.models import OutgoingMessage
from monitor.store.db import Store, dt, ts

PENDING, SENT, DEAD = "pending", "sent", "dead"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    message_id: str
    kind: str
    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    attempts: int
    first_attempt: datetime | None


def enqueue(store: Store, message: OutgoingMessage, *, kind: str, now: datetime,
            digest: str | None = None, article_ids: Sequence[int] = (),
            not_before: datetime | None = None, alert_entity: str | None = None) -> int:
    """Store the message and mark its articles in one transaction: both happen or neither."""
    with store.transaction() as db:
        cur = db.execute(
            "INSERT INTO outbox (message_id, kind, digest, sender, recipients, subject, raw, created_at, "
            "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (message.message_id, kind, digest, message.sender, json.dumps(list(message.recipients)),
             message.subject, message.raw, ts(now), ts(not_before or now)))
        outbox_id = int(cur.lastrowid or 0)
        if digest is not None:
            db.executemany("INSERT OR IGNORE INTO digest_marks (digest, article_id, outbox_id) VALUES (?,?,?)",
                           [(digest, a, outbox_id) for a in article_ids])
            db.execute("INSERT INTO digest_runs (digest, last_run_at) VALUES (?, ?) ON CONFLICT(digest) "
                       "DO UPDATE SET last_run_at = excluded.last_run_at", (digest, ts(now)))
        if alert_entity is not None:
            for article_id in article_ids:
                db.execute("INSERT OR IGNORE INTO alerts (article_id, entity, outbox_id, created_at) "
                           "VALUES (?, ?, ?, ?)", (article_id, alert_entity, outbox_id, ts(now)))
                row = db.execute("SELECT alerted_entities FROM articles WHERE id = ?", (article_id,)).fetchone()
                done = sorted(set(json.loads(row["alerted_entities"])) | {alert_entity})
                db.execute("UPDATE articles SET alerted_entities = ? WHERE id = ?", (json.dumps(done), article_id))
    return outbox_id


def record_digest_run(store: Store, digest: str, now: datetime) -> None:
    """An empty digest run that sent nothing still counts as a run."""
    with store.transaction() as db:
        db.execute("INSERT INTO digest_runs (digest, last_run_at) VALUES (?, ?) ON CONFLICT(digest) "
                   "DO UPDATE SET last_run_at = excluded.last_run_at", (digest, ts(now)))


def last_digest_run(store: Store, digest: str) -> datetime | None:
    row = store.db.execute("SELECT last_run_at FROM digest_runs WHERE digest = ?", (digest,)).fetchone()
    return dt(row["last_run_at"]) if row else None


def due_messages(store: Store, now: datetime) -> list[OutboxRow]:
    # Backoff never exceeds 1 h and quiet hours 24 h: a later time means the clock went back.
    rows = store.db.execute(
        "SELECT * FROM outbox WHERE status = ? AND (next_attempt_at <= ? OR next_attempt_at > ?) ORDER BY id",
        (PENDING, ts(now), ts(now + timedelta(hours=25))))
    return [OutboxRow(id=r["id"], message_id=r["message_id"], kind=r["kind"], sender=r["sender"],
                      recipients=tuple(json.loads(r["recipients"])), raw=bytes(r["raw"]),
                      attempts=r["attempts"], first_attempt=dt(r["first_attempt_at"])) for r in rows]


def mark_sent(store: Store, outbox_id: int, now: datetime, refused: dict[str, str]) -> None:
    with store.transaction() as db:
        db.execute("UPDATE outbox SET status = ?, sent_at = ?, attempts = attempts + 1, refused = ?, "
                   "first_attempt_at = COALESCE(first_attempt_at, ?) WHERE id = ?",
                   (SENT, ts(now), json.dumps(refused), ts(now), outbox_id))


def mark_partial(store: Store, outbox_id: int, now: datetime, next_attempt: datetime,
                 remaining: Sequence[str], refused: dict[str, str]) -> None:
    """Some recipients got a temporary refusal: keep the row for them only, same Message-ID."""
    with store.transaction() as db:
        row = db.execute("SELECT refused FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
        merged = json.loads(row["refused"]) | refused
        db.execute("UPDATE outbox SET recipients = ?, refused = ?, attempts = attempts + 1, next_attempt_at = ?, "
                   "last_error = ?, first_attempt_at = COALESCE(first_attempt_at, ?) WHERE id = ?",
                   (json.dumps(list(remaining)), json.dumps(merged), ts(next_attempt),
                    "; ".join(f"{r}: {refused[r]}" for r in remaining)[:500], ts(now), outbox_id))


def mark_retry(store: Store, outbox_id: int, now: datetime, next_attempt: datetime, error: str) -> None:
    with store.transaction() as db:
        db.execute("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
                   "first_attempt_at = COALESCE(first_attempt_at, ?) WHERE id = ?",
                   (ts(next_attempt), error[:500], ts(now), outbox_id))


def note_pending(store: Store, error: str) -> None:
    """Say on every waiting message why it waits (e.g. sending stopped after a 535)."""
    with store.transaction() as db:
        db.execute("UPDATE outbox SET last_error = ? WHERE status = ?", (error[:500], PENDING))


def mark_dead(store: Store, outbox_id: int, now: datetime, error: str) -> None:
    with store.transaction() as db:
        db.execute("UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, "
                   "first_attempt_at = COALESCE(first_attempt_at, ?) WHERE id = ?",
                   (DEAD, error[:500], ts(now), outbox_id))


def unsent_reasons(store: Store, outbox_ids: Sequence[int]) -> list[str]:
    marks = ",".join("?" * len(outbox_ids))
    rows = store.db.execute(f"SELECT id, status, last_error FROM outbox WHERE id IN ({marks}) AND status != ?",
                            (*outbox_ids, SENT)) if outbox_ids else []
    return [f"message {r['id']} {r['status']}: {r['last_error'] or 'not attempted'}" for r in rows]


def alerts_since(store: Store, since: datetime) -> int:
    row = store.db.execute("SELECT COUNT(DISTINCT outbox_id) FROM alerts WHERE created_at >= ?", (ts(since),))
    return int(row.fetchone()[0])


def already_alerted(store: Store, article_id: int, entity: str) -> bool:
    return store.db.execute("SELECT 1 FROM alerts WHERE article_id = ? AND entity = ?",
                            (article_id, entity)).fetchone() is not None


def outbox_summary(store: Store, now: datetime) -> dict[str, object]:
    counts = {r["status"]: r["n"] for r in store.db.execute(
        "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")}
    last = dt(store.db.execute("SELECT MAX(sent_at) FROM outbox WHERE kind = 'digest' AND status = ?",
                               (SENT,)).fetchone()[0])
    problems = [dict(id=r["id"], subject=r["subject"], status=r["status"], error=r["last_error"],
                     attempts=r["attempts"]) for r in store.db.execute(
        "SELECT * FROM outbox WHERE status = ? OR (status = ? AND last_error IS NOT NULL) ORDER BY id DESC LIMIT 20",
        (DEAD, PENDING))]
    week_ago = ts(now - timedelta(days=7))
    sent_week = store.db.execute("SELECT COUNT(*) FROM outbox WHERE status = ? AND sent_at >= ?",
                                 (SENT, week_ago)).fetchone()[0]
    return {"pending": counts.get(PENDING, 0), "sent": counts.get(SENT, 0), "failed": counts.get(DEAD, 0),
            "sent_last_7_days": sent_week, "last_digest_sent": last.isoformat() if last else None,
            "problems": problems}
