"""An archived message as it was mailed: its plain-text and HTML parts, read from the exact bytes."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage


def parts(raw: bytes) -> tuple[str, str | None, str]:
    """(plain text, HTML or None, subject) of a stored message."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # the default policy builds EmailMessage
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return (text.get_content() if text is not None else "",
            html.get_content() if html is not None else None,
            str(message.get("Subject", "")))
