"""The outbox: rendered messages, stored as exact bytes, written with their article marks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.models import OutgoingMessage
from monitor.store.db import Connection, Store, dt, later_many, ts
from monitor.store.owners import owner_alive, process_owner, task_owner

PENDING, SENT, DEAD = "pending", "sent", "dead"
# An alert decided with the analysis is owed until rendered and queued; one the hourly cap (or a
# reload that removed its actor) held back is kept, so no later pass takes it for a lost one.
OWED, QUEUED, HELD = "owed", "queued", "held"


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
    channel: str | None = None  # a chat/webhook post (subject = title, raw = UTF-8 body); None: mail
    subject: str = ""


@dataclass(frozen=True)
class ChannelPost:
    """A post rendered for one channel, stored beside (and with) the mail it accompanies."""

    channel: str
    title: str
    body: str
    not_before: datetime | None = None


def enqueue(store: Store, message: OutgoingMessage, *, kind: str, now: datetime,
            digest: str | None = None, article_ids: Sequence[int] = (),
            not_before: datetime | None = None, posts: Sequence[ChannelPost] = (),
            slot: datetime | None = None) -> int | None:
    """Store the message (and its channel posts) and mark its articles in one transaction: all
    happen or none. With a digest `slot` (its scheduled time), None and nothing written when
    that slot was already taken, by this daemon or another sharing the store."""
    with store.transaction() as db:
        if slot is not None and digest is not None and not _take_slot(db, digest, slot, now):
            return None
        outbox_id = _insert_message(db, message, kind, digest, now, not_before)
        if slot is not None and digest is not None:
            db.execute("UPDATE digest_slots SET outbox_id = ? WHERE digest = ? AND slot_at = ?",
                       (outbox_id, digest, ts(slot)))
        _insert_posts(db, posts, kind, digest, now)
        if digest is not None:
            db.executemany("INSERT OR IGNORE INTO digest_marks (digest, article_id, outbox_id) VALUES (?,?,?)",
                           [(digest, a, outbox_id) for a in article_ids])
            db.execute("INSERT INTO digest_runs (digest, last_run_at) VALUES (?, ?) ON CONFLICT(digest) "
                       "DO UPDATE SET last_run_at = excluded.last_run_at", (digest, ts(now)))
    return outbox_id


def _insert_message(db: Connection, message: OutgoingMessage, kind: str, digest: str | None,
                    now: datetime, not_before: datetime | None) -> int:
    cur = db.execute(
        "INSERT INTO outbox (message_id, kind, digest, sender, recipients, subject, raw, created_at, "
        "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (message.message_id, kind, digest, message.sender, json.dumps(list(message.recipients)),
         message.subject, message.raw, ts(now), ts(not_before or now)))
    return int(cur.fetchone()[0])


def _insert_posts(db: Connection, posts: Sequence[ChannelPost], kind: str, digest: str | None,
                  now: datetime) -> list[int]:
    ids = []
    for post in posts:
        cur = db.execute(
            "INSERT INTO outbox (message_id, kind, digest, sender, recipients, subject, raw, created_at, "
            "next_attempt_at, channel) VALUES (?, ?, ?, '', '[]', ?, ?, ?, ?, ?) RETURNING id",
            (f"{post.channel}:{uuid.uuid4().hex}", kind, digest, post.title, post.body.encode("utf-8"), ts(now),
             ts(post.not_before or now), post.channel))
        ids.append(int(cur.fetchone()[0]))
    return ids


def enqueue_posts(store: Store, posts: Sequence[ChannelPost], *, kind: str, now: datetime,
                  digest: str | None = None) -> list[int]:
    """Posts on their own (a test post); their ids."""
    with store.transaction() as db:
        return _insert_posts(db, posts, kind, digest, now)


def channel_alerts_since(store: Store, channel: str, since: datetime) -> int:
    """Alerts queued for one channel since then: each channel has its own hourly cap."""
    row = store.db.execute("SELECT COUNT(*) FROM outbox WHERE channel = ? AND kind = 'alert' AND created_at >= ?",
                           (channel, ts(since)))
    return int(row.fetchone()[0])


def owe_alerts(db: Connection, owed: Sequence[tuple[int, str]], now: datetime) -> None:
    """Inside the transaction that stores the analyses: these (article, entity) alerts are owed.

    An article already alerted (or held) for the entity owes nothing again.
    """
    later_many(db, "INSERT OR IGNORE INTO alerts (article_id, entity, outbox_id, created_at, state) "
                   "VALUES (?, ?, NULL, ?, ?)", [(a, e, ts(now), OWED) for a, e in owed])


def owed_alerts(store: Store) -> list[tuple[int, str]]:
    """(article id, entity) of every alert decided but not queued yet, oldest first."""
    rows = store.db.execute("SELECT article_id, entity FROM alerts WHERE state = ? ORDER BY created_at, article_id",
                            (OWED,))
    return [(r["article_id"], r["entity"]) for r in rows]


def queue_alert(store: Store, message: OutgoingMessage | None, article_id: int, entity: str, *, now: datetime,
                not_before: datetime | None, posts: Sequence[ChannelPost] = (), cap: int | None = None) -> bool:
    """Pay an owed alert: the message, the alert row and the article's mark in one transaction.

    False (and nothing written) when the alert is no longer owed: another process queued it.
    No message (the mail cap or no recipients) with posts: the channels alone carry the alert.
    The hourly `cap` is checked again inside the transaction, which no other writer shares, so
    daemons queueing alerts at the same moment never pass it together; what it stops is held.
    """
    with store.transaction() as db:
        if cap is not None:
            message, posts = _within_cap(db, message, posts, cap, now - timedelta(hours=1))
            if message is None and not posts:
                db.execute("UPDATE alerts SET state = ? WHERE article_id = ? AND entity = ? AND state = ?",
                           (HELD, article_id, entity, OWED))
                return False
        taken = db.execute("UPDATE alerts SET state = ?, created_at = ? WHERE article_id = ? AND entity = ? "
                           "AND state = ?", (QUEUED, ts(now), article_id, entity, OWED)).rowcount
        if not taken:
            return False
        _insert_posts(db, posts, "alert", None, now)
        if message is not None:
            outbox_id = _insert_message(db, message, "alert", None, now, not_before)
            db.execute("UPDATE alerts SET outbox_id = ? WHERE article_id = ? AND entity = ?",
                       (outbox_id, article_id, entity))
        row = db.execute("SELECT alerted_entities FROM articles WHERE id = ?", (article_id,)).fetchone()
        done = sorted(set(json.loads(row["alerted_entities"])) | {entity})
        db.execute("UPDATE articles SET alerted_entities = ? WHERE id = ?", (json.dumps(done), article_id))
    return True


def _within_cap(db: Connection, message: OutgoingMessage | None, posts: Sequence[ChannelPost], cap: int,
                since: datetime) -> tuple[OutgoingMessage | None, list[ChannelPost]]:
    mail = db.execute("SELECT COUNT(DISTINCT outbox_id) FROM alerts WHERE created_at >= ?", (ts(since),)).fetchone()[0]
    kept = [p for p in posts if db.execute(
        "SELECT COUNT(*) FROM outbox WHERE channel = ? AND kind = 'alert' AND created_at >= ?",
        (p.channel, ts(since))).fetchone()[0] < cap]
    return (message if int(mail) < cap else None), kept


def hold_alert(store: Store, article_id: int, entity: str) -> None:
    """The cap (or a reload) keeps this owed alert back for good: the story goes to the digests only."""
    store.write("UPDATE alerts SET state = ? WHERE article_id = ? AND entity = ? AND state = ?",
                (HELD, article_id, entity, OWED))


def _take_slot(db: Connection, digest: str, slot: datetime, now: datetime) -> bool:
    """Inside a serial transaction: take this digest's slot; False when it was taken already.
    The primary key decides, not timing: a second daemon rendering the same slot writes nothing."""
    return db.execute("INSERT OR IGNORE INTO digest_slots (digest, slot_at, taken_by, taken_at) VALUES (?, ?, ?, ?) "
                      "RETURNING slot_at", (digest, ts(slot), process_owner(), ts(now))).fetchone() is not None


def slot_taken(store: Store, digest: str, slot: datetime) -> bool:
    """Whether a run of this slot is queued already (saves rendering it again)."""
    return store.db.execute("SELECT 1 FROM digest_slots WHERE digest = ? AND slot_at = ?",
                            (digest, ts(slot))).fetchone() is not None


def record_digest_run(store: Store, digest: str, now: datetime, slot: datetime | None = None) -> bool:
    """An empty digest run that sent nothing still counts as a run (and takes its slot); False
    when the slot was taken already."""
    with store.transaction() as db:
        if slot is not None and not _take_slot(db, digest, slot, now):
            return False
        db.execute("INSERT INTO digest_runs (digest, last_run_at) VALUES (?, ?) ON CONFLICT(digest) "
                   "DO UPDATE SET last_run_at = excluded.last_run_at", (digest, ts(now)))
    return True


def last_digest_run(store: Store, digest: str) -> datetime | None:
    row = store.db.execute("SELECT last_run_at FROM digest_runs WHERE digest = ?", (digest,)).fetchone()
    return dt(row["last_run_at"]) if row else None


# Backoff never exceeds 1 h and quiet hours 24 h: a later time means the clock went back.
_DUE = "(next_attempt_at <= ? OR next_attempt_at > ?)"


def _due_args(now: datetime) -> tuple[float | None, float | None]:
    return ts(now), ts(now + timedelta(hours=25))


def _outbox_row(r: Any) -> OutboxRow:
    return OutboxRow(id=r["id"], message_id=r["message_id"], kind=r["kind"], sender=r["sender"],
                     recipients=tuple(json.loads(r["recipients"])), raw=bytes(r["raw"]),
                     attempts=r["attempts"], first_attempt=dt(r["first_attempt_at"]), channel=r["channel"],
                     subject=r["subject"])


def due_messages(store: Store, now: datetime) -> list[OutboxRow]:
    """Mail due now (channel posts have their own flush: a failing one never blocks mail)."""
    rows = store.db.execute(f"SELECT * FROM outbox WHERE status = ? AND channel IS NULL AND {_DUE} ORDER BY id",
                            (PENDING, *_due_args(now)))
    return [_outbox_row(r) for r in rows]


def due_posts(store: Store, now: datetime) -> list[OutboxRow]:
    """Channel posts due now, oldest first."""
    rows = store.db.execute(f"SELECT * FROM outbox WHERE status = ? AND channel IS NOT NULL AND {_DUE} "
                            "ORDER BY id", (PENDING, *_due_args(now)))
    return [_outbox_row(r) for r in rows]


def claim_owner() -> str:
    """A name for one flush: host, pid, this process's token and the flush's own token."""
    return task_owner()


def _held(row: Any, now: datetime, hold: timedelta) -> bool:
    """Someone else holds a live claim on this row: it is not ours to send."""
    until = dt(row["claimed_until"])
    if row["claimed_by"] is None or until is None or until <= now:
        return False
    if until > now + hold + timedelta(hours=1):  # the clock went back: the expiry means nothing
        return False
    return owner_alive(row["claimed_by"])


def claim(store: Store, outbox_id: int, owner: str, now: datetime, hold: timedelta) -> OutboxRow | None:
    """Take one due message for one send attempt, atomically against every other flush (this
    process or another on the same database); None when it is not ours to send now.

    The row comes back as it is now (attempts, remaining recipients), not as listed earlier.
    The claim lasts `hold` (longer than any SMTP session), or until the owner is seen dead.
    """
    with store.transaction() as db:
        row = db.execute(f"SELECT * FROM outbox WHERE id = ? AND status = ? AND {_DUE}",
                         (outbox_id, PENDING, *_due_args(now))).fetchone()
        if row is None or _held(row, now, hold):
            return None
        db.execute("UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                   (owner, ts(now + hold), outbox_id))
    return _outbox_row(row)


def claims(store: Store, now: datetime) -> list[tuple[str, int, datetime | None]]:
    """(owner, messages it is sending, latest expiry) of the claims still running, for status."""
    rows = store.db.execute("SELECT claimed_by, COUNT(*) AS n, MAX(claimed_until) AS until FROM outbox "
                            "WHERE claimed_by IS NOT NULL AND claimed_until > ? AND status = ? "
                            "GROUP BY claimed_by ORDER BY claimed_by", (ts(now), PENDING))
    return [(r["claimed_by"], int(r["n"]), dt(r["until"])) for r in rows]


def release(store: Store, outbox_id: int, owner: str) -> None:
    """Give up a claim without recording an attempt (stopped, cancelled); no-op once recorded."""
    store.write("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?",
                (outbox_id, owner))


# Recording an attempt ends the claim. With an owner, only that owner's claim counts: a sender
# whose claim expired and was taken over records nothing, so one attempt is counted once.
_UNCLAIM = "claimed_by = NULL, claimed_until = NULL"


def _mine(owner: str | None) -> tuple[str, tuple[str, ...]]:
    return (" AND claimed_by = ?", (owner,)) if owner is not None else ("", ())


def mark_sent(store: Store, outbox_id: int, now: datetime, refused: dict[str, str],
              owner: str | None = None) -> None:
    where, args = _mine(owner)
    with store.transaction() as db:
        db.execute(f"UPDATE outbox SET status = ?, sent_at = ?, attempts = attempts + 1, refused = ?, {_UNCLAIM}, "
                   f"first_attempt_at = COALESCE(first_attempt_at, ?) WHERE id = ?{where}",
                   (SENT, ts(now), json.dumps(refused), ts(now), outbox_id, *args))


def mark_partial(store: Store, outbox_id: int, now: datetime, next_attempt: datetime,
                 remaining: Sequence[str], refused: dict[str, str], owner: str | None = None) -> None:
    """Some recipients got a temporary refusal: keep the row for them only, same Message-ID."""
    where, args = _mine(owner)
    with store.transaction() as db:
        row = db.execute("SELECT refused FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
        merged = json.loads(row["refused"]) | refused
        db.execute("UPDATE outbox SET recipients = ?, refused = ?, attempts = attempts + 1, next_attempt_at = ?, "
                   f"last_error = ?, first_attempt_at = COALESCE(first_attempt_at, ?), {_UNCLAIM} "
                   f"WHERE id = ?{where}",
                   (json.dumps(list(remaining)), json.dumps(merged), ts(next_attempt),
                    "; ".join(f"{r}: {refused[r]}" for r in remaining)[:500], ts(now), outbox_id, *args))


def mark_retry(store: Store, outbox_id: int, now: datetime, next_attempt: datetime, error: str,
               owner: str | None = None) -> None:
    where, args = _mine(owner)
    with store.transaction() as db:
        db.execute(f"UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, {_UNCLAIM}, "
                   f"first_attempt_at = COALESCE(first_attempt_at, ?) WHERE id = ?{where}",
                   (ts(next_attempt), error[:500], ts(now), outbox_id, *args))


def note_pending(store: Store, error: str) -> None:
    """Say on every waiting message why it waits (e.g. sending stopped after a 535)."""
    with store.transaction() as db:
        db.execute("UPDATE outbox SET last_error = ? WHERE status = ? AND channel IS NULL", (error[:500], PENDING))


def mark_dead(store: Store, outbox_id: int, now: datetime, error: str, owner: str | None = None) -> None:
    where, args = _mine(owner)
    with store.transaction() as db:
        db.execute(f"UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, {_UNCLAIM}, "
                   f"first_attempt_at = COALESCE(first_attempt_at, ?) WHERE id = ?{where}",
                   (DEAD, error[:500], ts(now), outbox_id, *args))


def unsent_reasons(store: Store, outbox_ids: Sequence[int]) -> list[str]:
    marks = ",".join("?" * len(outbox_ids))
    rows = store.db.execute(f"SELECT id, status, last_error FROM outbox WHERE id IN ({marks}) AND status != ?",
                            (*outbox_ids, SENT)) if outbox_ids else []
    return [f"message {r['id']} {r['status']}: {r['last_error'] or 'not attempted'}" for r in rows]


def alerts_since(store: Store, since: datetime) -> int:
    row = store.db.execute("SELECT COUNT(DISTINCT outbox_id) FROM alerts WHERE created_at >= ?", (ts(since),))
    return int(row.fetchone()[0])


def outbox_summary(store: Store, now: datetime) -> dict[str, object]:
    counts = {r["status"]: r["n"] for r in store.db.execute(
        "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")}
    last = dt(store.db.execute("SELECT MAX(sent_at) FROM outbox WHERE kind = 'digest' AND channel IS NULL AND status = ?",
                               (SENT,)).fetchone()[0])
    problems = [dict(id=r["id"], subject=r["subject"], status=r["status"], error=r["last_error"],
                     attempts=r["attempts"], channel=r["channel"]) for r in store.db.execute(
        "SELECT * FROM outbox WHERE status = ? OR (status = ? AND last_error IS NOT NULL) ORDER BY id DESC LIMIT 20",
        (DEAD, PENDING))]
    week_ago = ts(now - timedelta(days=7))
    sent_week = store.db.execute("SELECT COUNT(*) FROM outbox WHERE status = ? AND sent_at >= ?",
                                 (SENT, week_ago)).fetchone()[0]
    channels: dict[str, dict[str, int]] = {}
    for r in store.db.execute("SELECT channel, status, COUNT(*) AS n FROM outbox WHERE channel IS NOT NULL "
                              "GROUP BY channel, status"):
        channels.setdefault(r["channel"], {PENDING: 0, SENT: 0, DEAD: 0})[r["status"]] = r["n"]
    return {"pending": counts.get(PENDING, 0), "sent": counts.get(SENT, 0), "failed": counts.get(DEAD, 0),
            "sent_last_7_days": sent_week, "last_digest_sent": last.isoformat() if last else None,
            "problems": problems, "channels": channels}
