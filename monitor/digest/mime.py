"""Rendered parts → an RFC 5322 message with safe headers → the exact bytes the outbox stores."""

from __future__ import annotations

import email.policy
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING

from monitor.digest.text import clean, header_text
from monitor.models import OutgoingMessage

if TYPE_CHECKING:
    from monitor.digest.build import RenderContext

# SMTP policy: CRLF line endings and folded headers, so the stored bytes go on the wire unchanged.
POLICY = email.policy.SMTP


def build_message(ctx: RenderContext, subject: str, text: str, html: str, recipients: Sequence[str],
                  now: datetime, message_id: str) -> OutgoingMessage:
    """multipart/alternative (text/plain first, then text/html), utf-8, quoted-printable."""
    subject = header_text(subject)
    sender = _address(ctx.sender)
    to = tuple(_address(r) for r in recipients)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now.astimezone(ctx.timezone))
    msg["Message-ID"] = _address(message_id)
    # Tell vacation responders and ticket systems not to answer a machine.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Precedence"] = "bulk"
    msg["List-Id"] = f"<{clean(ctx.list_id, 100).strip('<>')}>"
    # Quoted-printable keeps every line short and 7-bit, whatever the relay supports.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return OutgoingMessage(message_id=msg["Message-ID"], sender=sender, recipients=to,
                           raw=msg.as_bytes(policy=POLICY), subject=subject)


def _address(value: str) -> str:
    # Configured values are validated by config.py; still, nothing with CR/LF reaches a header.
    return clean(value, 320)


def build_test_message(sender: str, recipient: str, now: datetime, message_id: str) -> OutgoingMessage:
    """A short message proving the SMTP settings work (`monitor send-test`)."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = _address(sender)
    msg["To"] = _address(recipient)
    msg["Subject"] = "monitor: messaggio di prova / test message"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = _address(message_id)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(
        "Questo è un messaggio di prova di monitor: la configurazione SMTP funziona.\n\n"
        "This is a test message from monitor: the SMTP settings work.\n",
        charset="utf-8", cte="quoted-printable",
    )
    return OutgoingMessage(message_id=msg["Message-ID"], sender=msg["From"], recipients=(msg["To"],),
                           raw=msg.as_bytes(policy=POLICY), subject=msg["Subject"])
