"""Sending the outbox: stored bytes out, failures sorted into retry, dead letter or stop."""

from __future__ import annotations

import logging

from monitor.delivery.policy import next_attempt
from monitor.delivery.smtp import send_raw
from monitor.errors import SmtpAuthError, SmtpPermanentError, SmtpTemporaryError
from monitor.service.runtime import Runtime
from monitor.store import outbox

log = logging.getLogger("monitor")


def _record_delivery(rt: Runtime, row: outbox.OutboxRow, refused: dict[str, str]) -> None:
    """Accepted by the server; recipients refused with a 4xx get the same message again later."""
    now = rt.clock()
    later = [r for r, reason in refused.items() if reason.startswith("4")]
    when = next_attempt(row.attempts + 1, row.first_attempt or now, now) if later else None
    for rcpt, reason in refused.items():
        level = logging.WARNING if rcpt in later and when else logging.ERROR
        log.log(level, "message %s: recipient %s refused: %s", row.message_id, rcpt, reason)
    if when is not None:
        outbox.mark_partial(rt.store, row.id, now, when, later, refused)
    else:
        outbox.mark_sent(rt.store, row.id, now, refused)


def unsent(rt: Runtime, outbox_ids: list[int]) -> list[str]:
    """Why each of these queued messages has not been sent yet (empty when all went out)."""
    return outbox.unsent_reasons(rt.store, outbox_ids)


async def flush_outbox(rt: Runtime) -> int:
    """Send every due message; returns how many were accepted by the server."""
    if rt.sending_paused:
        return 0
    sent = 0
    password = rt.config.smtp.password()
    for row in outbox.due_messages(rt.store, rt.clock()):
        try:
            report = await send_raw(rt.config.smtp, password, row.sender, row.recipients, row.raw,
                                    tls_context=rt.tls_context)
        except SmtpAuthError as exc:
            rt.sending_paused = str(exc)
            outbox.note_pending(rt.store, f"sending stopped, fix the SMTP credentials and reload: {exc}")
            log.critical("SMTP authentication failed, sending stopped until reload: %s", exc)
            return sent
        except SmtpPermanentError as exc:
            outbox.mark_dead(rt.store, row.id, rt.clock(), str(exc))
            log.error("message %s refused permanently: %s", row.message_id, exc)
            continue
        except SmtpTemporaryError as exc:
            now = rt.clock()
            when = next_attempt(row.attempts + 1, row.first_attempt or now, now)
            if when is None:
                outbox.mark_dead(rt.store, row.id, now, f"gave up after 2 days: {exc}")
                log.error("message %s given up after 2 days: %s", row.message_id, exc)
            else:
                outbox.mark_retry(rt.store, row.id, now, when, str(exc))
                log.warning("message %s will be retried at %s: %s", row.message_id, when.isoformat(), exc)
            continue
        _record_delivery(rt, row, report.refused)
        sent += 1
    return sent
