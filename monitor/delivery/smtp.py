"""The SMTP edge: send one stored message over aiosmtplib and sort failures into retry / give up.

The steps are driven one by one (connect, STARTTLS, AUTH, MAIL, RCPT each, DATA) rather than
through `sendmail`, so each failure is classified by where it happened and refused recipients are
reported individually. The bytes from the outbox are sent unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

import aiosmtplib

from monitor.config.types import SmtpConfig
from monitor.errors import SmtpAuthError, SmtpPermanentError, SmtpTemporaryError

# Every command has its own timeout (smtp.timeout_seconds); this bounds the whole session too,
# so a server that answers each step just in time cannot hold a sender for ever.
SESSION_STEPS = 8


@dataclass(frozen=True)
class SendReport:
    accepted: tuple[str, ...]
    refused: dict[str, str]  # recipient -> "550 reason"


async def send_raw(smtp: SmtpConfig, password: str | None, sender: str, recipients: Sequence[str], raw: bytes,
                   tls_context: ssl.SSLContext | None = None) -> SendReport:
    """Deliver `raw` to `recipients`; raises SmtpTemporaryError, SmtpPermanentError or SmtpAuthError."""
    if not recipients:
        raise SmtpPermanentError("no recipients")
    _preflight(smtp, password)
    client = _client(smtp, tls_context)
    try:
        async with asyncio.timeout(smtp.timeout_seconds * SESSION_STEPS):
            return await _session(client, smtp, password, sender, recipients, raw)
    except TimeoutError as exc:
        raise SmtpTemporaryError(f"SMTP {smtp.host}:{smtp.port}: timed out ({exc or 'session'})") from exc
    finally:
        client.close()


async def check_login(smtp: SmtpConfig, password: str | None,
                      tls_context: ssl.SSLContext | None = None) -> None:
    """Connect, secure and authenticate, then quit: `monitor check` proves the settings without mail."""
    _preflight(smtp, password)
    client = _client(smtp, tls_context)
    where = f"SMTP {smtp.host}:{smtp.port}"
    try:
        async with asyncio.timeout(smtp.timeout_seconds * SESSION_STEPS):
            try:
                await _open(client, smtp, password, where)
                await _quietly(client.quit())
            except aiosmtplib.SMTPResponseException as exc:
                raise _classify(exc, where) from exc
            except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
                raise SmtpTemporaryError(f"{where}: {type(exc).__name__}: {exc}") from exc
    except TimeoutError as exc:
        raise SmtpTemporaryError(f"{where}: timed out") from exc
    finally:
        client.close()


def _preflight(smtp: SmtpConfig, password: str | None) -> None:
    if smtp.username and smtp.tls == "none":
        # config.py refuses this too; credentials must never cross the wire in clear.
        raise SmtpAuthError("refusing to authenticate without TLS (smtp.tls = \"none\")")
    if smtp.username and password is None:
        raise SmtpAuthError(smtp.missing_password() or f"no SMTP password available for {smtp.username!r}")


def _client(smtp: SmtpConfig, tls_context: ssl.SSLContext | None) -> aiosmtplib.SMTP:
    # start_tls=False: STARTTLS is driven by hand below, so a server without it is refused
    # instead of silently used in clear. Certificates are verified (default or given context).
    return aiosmtplib.SMTP(
        hostname=smtp.host, port=smtp.port, use_tls=smtp.tls == "implicit", start_tls=False,
        validate_certs=True, tls_context=tls_context, timeout=smtp.timeout_seconds,
    )


async def _open(client: aiosmtplib.SMTP, smtp: SmtpConfig, password: str | None, where: str) -> None:
    await client.connect()
    if smtp.tls == "starttls":
        await client.ehlo()
        if not client.supports_extension("starttls"):
            # Never fall back to clear text: a stripped STARTTLS is an attack or a wrong port.
            raise SmtpTemporaryError(f"{where}: server does not offer STARTTLS; not sending in clear")
        await client.starttls()
    if smtp.username:
        await _login(client, smtp, password or "", where)


async def _session(client: aiosmtplib.SMTP, smtp: SmtpConfig, password: str | None, sender: str,
                   recipients: Sequence[str], raw: bytes) -> SendReport:
    where = f"SMTP {smtp.host}:{smtp.port}"
    try:
        await _open(client, smtp, password, where)
        await client.mail(sender)
        accepted, refused = await _recipients(client, recipients)
        if not accepted:
            await _quietly(client.rset())
            detail = "; ".join(f"{r}: {why}" for r, why in refused.items())
            if all(why.startswith("5") for why in refused.values()):
                raise SmtpPermanentError(f"{where}: all recipients refused ({detail})")
            raise SmtpTemporaryError(f"{where}: all recipients refused ({detail})")
        await client.data(raw)
        await _quietly(client.quit())
        return SendReport(tuple(accepted), refused)
    except aiosmtplib.SMTPResponseException as exc:
        raise _classify(exc, where) from exc
    except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
        # Connection refused or dropped, TLS handshake or certificate failure, read timeouts.
        raise SmtpTemporaryError(f"{where}: {type(exc).__name__}: {exc}") from exc
    except ValueError as exc:
        # A sender address aiosmtplib cannot put on the wire (e.g. non-ASCII without SMTPUTF8).
        raise SmtpPermanentError(f"{where}: {exc}") from exc


async def _login(client: aiosmtplib.SMTP, smtp: SmtpConfig, password: str, where: str) -> None:
    if client.get_transport_info("sslcontext") is None:
        raise SmtpAuthError(f"{where}: refusing to authenticate on a connection without TLS")
    try:
        await client.login(smtp.username, password)
    except aiosmtplib.SMTPResponseException as exc:
        if 400 <= exc.code < 500:
            raise SmtpTemporaryError(f"{where}: AUTH {exc.code} {exc.message}") from exc
        raise SmtpAuthError(f"{where}: AUTH {exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected):
        raise  # the network, not the credentials: retried later like any other transport failure
    except aiosmtplib.SMTPException as exc:
        # e.g. the server advertises no AUTH mechanism we can use: an operator must look.
        raise SmtpAuthError(f"{where}: {exc}") from exc


async def _recipients(client: aiosmtplib.SMTP, recipients: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    accepted: list[str] = []
    refused: dict[str, str] = {}
    for rcpt in recipients:
        try:
            await client.rcpt(rcpt)
        except aiosmtplib.SMTPRecipientRefused as exc:
            if exc.code == 421:  # the server is closing the session: not about this recipient
                raise
            refused[rcpt] = f"{exc.code} {exc.message}"
        except ValueError as exc:  # an address aiosmtplib cannot put on the wire
            refused[rcpt] = f"553 {exc}"
        else:
            accepted.append(rcpt)
    return accepted, refused


def _classify(exc: aiosmtplib.SMTPResponseException, where: str) -> Exception:
    message = f"{where}: {exc.code} {exc.message}"
    if exc.code == 535:
        return SmtpAuthError(message)
    if 500 <= exc.code < 600:
        return SmtpPermanentError(message)
    return SmtpTemporaryError(message)


async def _quietly(step: Awaitable[object]) -> None:
    # RSET/QUIT after the outcome is known: their failure changes nothing.
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        await step
