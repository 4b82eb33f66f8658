"""Sending the outbox: stored bytes out, failures sorted into retry, dead letter or stop."""

from __future__ import annotations

import logging
from datetime import timedelta

from monitor.delivery.policy import next_attempt
from monitor.delivery.smtp import SESSION_STEPS, send_raw
from monitor.errors import SmtpAuthError, SmtpPermanentError, SmtpTemporaryError
from monitor.service.channel_flush import flush_channels
from monitor.service.runtime import Runtime
from monitor.store import outbox

log = logging.getLogger("monitor")
# A claim outlives the longest SMTP session by this much, so only a dead sender's expires.
CLAIM_MARGIN = timedelta(minutes=2)


def _record_delivery(rt: Runtime, row: outbox.OutboxRow, refused: dict[str, str], owner: str) -> None:
    """Accepted by the server; recipients refused with a 4xx get the same message again later."""
    now = rt.clock()
    later = [r for r, reason in refused.items() if reason.startswith("4")]
    when = next_attempt(row.attempts + 1, row.first_attempt or now, now) if later else None
    for rcpt, reason in refused.items():
        level = logging.WARNING if rcpt in later and when else logging.ERROR
        log.log(level, "message %s: recipient %s refused: %s", row.message_id, rcpt, reason)
    if when is not None:
        outbox.mark_partial(rt.store, row.id, now, when, later, refused, owner=owner)
    else:
        outbox.mark_sent(rt.store, row.id, now, refused, owner=owner)


def unsent(rt: Runtime, outbox_ids: list[int]) -> list[str]:
    """Why each of these queued messages has not been sent yet (empty when all went out)."""
    return outbox.unsent_reasons(rt.store, outbox_ids)


async def flush_outbox(rt: Runtime) -> int:
    """Send every due mail, then every due channel post; returns how many mails the server took.

    Mail and channels are apart: a stopped SMTP (a 535) or a failing mail leaves the channels'
    posts going, and the reverse.
    """
    try:
        sent = await _flush_mail(rt)
    except Exception:  # not a stop (CancelledError is no Exception): the posts still go
        await flush_channels(rt)
        raise
    await flush_channels(rt)
    return sent


async def _flush_mail(rt: Runtime) -> int:
    """Send every due message; returns how many were accepted by the server.

    Several jobs flush (the poll tick, the outbox tick, each digest) and `monitor once` may run
    beside the daemon: each message is claimed in the database before it is sent, so whichever
    flush claims it first sends it and the others pass over it.
    """
    if rt.sending_paused:
        return 0
    if (missing := rt.config.smtp.missing_password()) is not None:
        # Not an authentication failure: nothing was tried. Like one, it holds until a reload.
        if outbox.due_messages(rt.store, rt.clock()):
            rt.sending_paused = missing
            outbox.note_pending(rt.store, f"sending stopped, {missing}, then reload")
            log.critical("%s; sending stopped until reload", missing)
        return 0
    sent = 0
    password = rt.config.smtp.password()
    owner = outbox.claim_owner()
    hold = timedelta(seconds=rt.config.smtp.timeout_seconds * SESSION_STEPS) + CLAIM_MARGIN
    for due in outbox.due_messages(rt.store, rt.clock()):
        if rt.sending_paused:  # a concurrent flush met a 535
            break
        row = outbox.claim(rt.store, due.id, owner, rt.clock(), hold)
        if row is None:
            continue
        try:
            result = await _send_claimed(rt, row, owner, password)
        finally:
            outbox.release(rt.store, row.id, owner)  # no-op once the attempt is recorded
        if result is None:
            return sent
        sent += result
    return sent


async def _send_claimed(rt: Runtime, row: outbox.OutboxRow, owner: str, password: str | None) -> int | None:
    """One SMTP attempt, recorded once: 1 when accepted, 0 when not, None when sending stops."""
    try:
        report = await send_raw(rt.config.smtp, password, row.sender, row.recipients, row.raw,
                                tls_context=rt.tls_context)
    except SmtpAuthError as exc:
        rt.sending_paused = str(exc)
        outbox.note_pending(rt.store, f"sending stopped, fix the SMTP credentials and reload: {exc}")
        log.critical("SMTP authentication failed, sending stopped until reload: %s", exc)
        return None
    except SmtpPermanentError as exc:
        outbox.mark_dead(rt.store, row.id, rt.clock(), str(exc), owner=owner)
        log.error("message %s refused permanently: %s", row.message_id, exc)
        return 0
    except SmtpTemporaryError as exc:
        now = rt.clock()
        when = next_attempt(row.attempts + 1, row.first_attempt or now, now)
        if when is None:
            outbox.mark_dead(rt.store, row.id, now, f"gave up after 2 days: {exc}", owner=owner)
            log.error("message %s given up after 2 days: %s", row.message_id, exc)
        else:
            outbox.mark_retry(rt.store, row.id, now, when, str(exc), owner=owner)
            log.warning("message %s will be retried at %s: %s", row.message_id, when.isoformat(), exc)
        return 0
    _record_delivery(rt, row, report.refused, owner)
    return 1
