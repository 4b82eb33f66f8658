"""mail.py against a real aiosmtpd on loopback: TLS modes, AUTH, injected replies, exact bytes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import trustme
from support.smtp_server import SmtpServer

from monitor.delivery.smtp import check_login, send_raw
from monitor.digest.build import make_message_id
from monitor.digest.mime import build_test_message
from monitor.errors import SmtpAuthError, SmtpPermanentError, SmtpTemporaryError

SENDER = "monitor@example.it"
RAW = (
    b"From: monitor@example.it\r\nTo: a@example.it\r\nSubject: prova\r\n"
    b"Message-ID: <1@example.it>\r\n\r\n"
    b"riga uno\r\n.riga che inizia con un punto\r\n..due punti\r\n.\r\nfine\r\n"
)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def plain(ca: trustme.CA) -> Iterator[SmtpServer]:
    with SmtpServer(ca=ca) as server:
        yield server


@pytest.fixture
def starttls(ca: trustme.CA) -> Iterator[SmtpServer]:
    with SmtpServer(tls="starttls", auth=("user", "s3cret"), ca=ca) as server:
        yield server


@pytest.fixture
def implicit(ca: trustme.CA) -> Iterator[SmtpServer]:
    with SmtpServer(tls="implicit", auth=("user", "s3cret"), ca=ca) as server:
        yield server


async def test_plain_delivers_exact_bytes(plain: SmtpServer) -> None:
    report = await send_raw(plain.config(), None, SENDER, ["a@example.it", "b@example.it"], RAW)
    assert report.accepted == ("a@example.it", "b@example.it")
    assert report.refused == {}
    [got] = plain.messages
    assert got.raw == RAW  # dot-stuffing undone by the server, nothing added or rewritten
    assert got.mail_from == SENDER
    assert got.rcpt_tos == ("a@example.it", "b@example.it")
    assert not got.tls


async def test_starttls_with_auth(starttls: SmtpServer) -> None:
    cfg = starttls.config(username="user")
    report = await send_raw(cfg, "s3cret", SENDER, ["a@example.it"], RAW, tls_context=starttls.client_context())
    assert report.accepted == ("a@example.it",)
    [got] = starttls.messages
    assert got.tls and got.authenticated
    assert got.raw == RAW
    # AUTH only after the second EHLO, i.e. inside TLS.
    assert starttls.commands[:3] == ["EHLO", "EHLO", "AUTH"]


async def test_implicit_tls_with_auth(implicit: SmtpServer) -> None:
    cfg = implicit.config(username="user")
    await send_raw(cfg, "s3cret", SENDER, ["a@example.it"], RAW, tls_context=implicit.client_context())
    [got] = implicit.messages
    assert got.tls and got.authenticated and got.raw == RAW


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
async def test_untrusted_certificate_fails(ca: trustme.CA, mode: str) -> None:
    with SmtpServer(tls=mode, auth=("user", "s3cret"), ca=ca) as server:  # type: ignore[arg-type]
        stranger = SmtpServer(ca=trustme.CA())  # never started: only its CA is used
        with pytest.raises(SmtpTemporaryError, match="(?i)certificate"):
            await send_raw(server.config(username="user"), "s3cret", SENDER, ["a@example.it"], RAW,
                           tls_context=stranger.client_context())
        assert server.messages == []
        assert "AUTH" not in server.commands


async def test_default_context_does_not_trust_test_ca(starttls: SmtpServer) -> None:
    # No tls_context: the system trust store, which has never heard of trustme's CA.
    with pytest.raises(SmtpTemporaryError):
        await send_raw(starttls.config(), None, SENDER, ["a@example.it"], RAW)
    assert starttls.messages == []


async def test_wrong_password_is_auth_error(starttls: SmtpServer) -> None:
    with pytest.raises(SmtpAuthError, match="535"):
        await send_raw(starttls.config(username="user"), "wrong", SENDER, ["a@example.it"], RAW,
                       tls_context=starttls.client_context())
    assert starttls.messages == []


async def test_injected_535_is_auth_error(starttls: SmtpServer) -> None:
    starttls.auth_reply = "535 5.7.8 account locked"
    with pytest.raises(SmtpAuthError, match="account locked"):
        await send_raw(starttls.config(username="user"), "s3cret", SENDER, ["a@example.it"], RAW,
                       tls_context=starttls.client_context())


async def test_temporary_auth_failure_is_retried(starttls: SmtpServer) -> None:
    starttls.auth_reply = "454 4.7.0 temporary authentication failure"
    with pytest.raises(SmtpTemporaryError, match="454"):
        await send_raw(starttls.config(username="user"), "s3cret", SENDER, ["a@example.it"], RAW,
                       tls_context=starttls.client_context())


async def test_never_auth_over_plain_connection(ca: trustme.CA) -> None:
    # The server would happily take AUTH in clear; mail.py must not even connect.
    with SmtpServer(auth=("user", "s3cret"), auth_require_tls=False, ca=ca) as server:
        with pytest.raises(SmtpAuthError, match="without TLS"):
            await send_raw(server.config(username="user"), "s3cret", SENDER, ["a@example.it"], RAW)
        assert server.auth_attempts == []
        assert server.commands == []


async def test_starttls_missing_is_refused_not_downgraded(ca: trustme.CA) -> None:
    # A plain server (or a STARTTLS-stripping middlebox) offering AUTH in clear.
    with SmtpServer(auth=("user", "s3cret"), auth_require_tls=False, ca=ca) as server:
        cfg = server.config(tls="starttls", username="user")
        with pytest.raises(SmtpTemporaryError, match="STARTTLS"):
            await send_raw(cfg, "s3cret", SENDER, ["a@example.it"], RAW)
        assert server.auth_attempts == []
        assert "MAIL" not in server.commands


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("451 4.3.0 mailbox busy, try later", SmtpTemporaryError),
        ("421 4.3.2 service shutting down", SmtpTemporaryError),
        ("550 5.7.1 message rejected as spam", SmtpPermanentError),
        ("554 5.6.0 content rejected", SmtpPermanentError),
    ],
)
async def test_data_replies(plain: SmtpServer, reply: str, error: type[Exception]) -> None:
    plain.data_reply = reply
    with pytest.raises(error, match=reply[:3]):
        await send_raw(plain.config(), None, SENDER, ["a@example.it"], RAW)


@pytest.mark.parametrize(
    ("reply", "error"),
    [("451 4.7.1 greylisted", SmtpTemporaryError), ("550 5.7.1 sender rejected", SmtpPermanentError),
     ("421 4.7.0 too many connections", SmtpTemporaryError)],
)
async def test_mail_from_replies(plain: SmtpServer, reply: str, error: type[Exception]) -> None:
    plain.mail_reply = reply
    with pytest.raises(error):
        await send_raw(plain.config(), None, SENDER, ["a@example.it"], RAW)


async def test_some_recipients_refused(plain: SmtpServer) -> None:
    plain.rcpt_replies["ghost@example.it"] = "550 5.1.1 no such user"
    plain.rcpt_replies["full@example.it"] = "452 4.2.2 mailbox full"
    report = await send_raw(plain.config(), None, SENDER,
                            ["a@example.it", "ghost@example.it", "full@example.it", "b@example.it"], RAW)
    assert report.accepted == ("a@example.it", "b@example.it")
    assert report.refused == {"ghost@example.it": "550 5.1.1 no such user",
                              "full@example.it": "452 4.2.2 mailbox full"}
    [got] = plain.messages
    assert got.rcpt_tos == ("a@example.it", "b@example.it")


async def test_all_recipients_refused_permanently(plain: SmtpServer) -> None:
    plain.rcpt_replies["x@example.it"] = "550 5.1.1 no such user"
    plain.rcpt_replies["y@example.it"] = "553 5.1.3 bad address"
    with pytest.raises(SmtpPermanentError, match="x@example.it"):
        await send_raw(plain.config(), None, SENDER, ["x@example.it", "y@example.it"], RAW)
    assert plain.messages == []


async def test_all_recipients_refused_some_temporarily(plain: SmtpServer) -> None:
    plain.rcpt_replies["x@example.it"] = "550 5.1.1 no such user"
    plain.rcpt_replies["y@example.it"] = "451 4.4.1 try later"
    with pytest.raises(SmtpTemporaryError):
        await send_raw(plain.config(), None, SENDER, ["x@example.it", "y@example.it"], RAW)


async def test_connection_refused_is_temporary(plain: SmtpServer) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SmtpTemporaryError):
        await send_raw(plain.config(port=port), None, SENDER, ["a@example.it"], RAW)


async def test_silent_server_times_out(plain: SmtpServer) -> None:
    # Accepts the TCP connection (kernel backlog) but never sends a greeting.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        cfg = plain.config(port=silent.getsockname()[1], timeout_seconds=0.3)
        with pytest.raises(SmtpTemporaryError, match="(?i)time"):
            await send_raw(cfg, None, SENDER, ["a@example.it"], RAW)


async def test_send_test_message(plain: SmtpServer) -> None:
    now = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    message = build_test_message(SENDER, "ops@example.it", now, make_message_id("example.it"))
    report = await send_raw(plain.config(), None, message.sender, message.recipients, message.raw)
    assert report.accepted == ("ops@example.it",)
    [got] = plain.messages
    assert got.rcpt_tos == ("ops@example.it",)
    assert b"Subject: monitor: messaggio di prova" in got.raw
    assert b"Auto-Submitted: auto-generated" in got.raw


async def test_check_login(starttls: SmtpServer) -> None:
    await check_login(starttls.config(username="user"), "s3cret", tls_context=starttls.client_context())
    with pytest.raises(SmtpAuthError):
        await check_login(starttls.config(username="user"), "nope", tls_context=starttls.client_context())
    assert starttls.messages == []


async def test_rendered_digest_arrives_byte_for_byte(starttls: SmtpServer) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from monitor.config.types import Alias, DigestConfig, EntityConfig
    from monitor.digest.build import RenderContext, make_message_id, render_digest
    from monitor.models import Mention, StoredArticle

    now = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
    entity = EntityConfig("elon_musk", "Elon Musk", "person", (Alias("Elon Musk"),))
    text = "Ieri Elon Musk è intervenuto. «Perché no?», ha detto. " + "Testo lungo àèìòù € " * 40
    story = StoredArticle(1, "https://example.it/a", "Musk: «Perché no?»", text, now - timedelta(hours=1),
                          now - timedelta(hours=1), ("ANSA",), (Mention("elon_musk", "Elon Musk", 5, 14),), (),
                          {"elon_musk": 1.0})
    ctx = RenderContext("it", ZoneInfo("Europe/Rome"), None, SENDER, "monitor.example.it")
    out = render_digest(ctx, DigestConfig("d", "0 8 * * *", ("a@example.it",)), [entity], [story], [], now,
                        make_message_id("example.it"))
    assert out is not None
    await send_raw(starttls.config(username="user"), "s3cret", out.sender, out.recipients, out.raw,
                   tls_context=starttls.client_context())
    [got] = starttls.messages
    assert got.raw == out.raw


async def test_unencodable_sender_is_permanent(plain: SmtpServer) -> None:
    with pytest.raises(SmtpPermanentError):
        await send_raw(plain.config(), None, "mònitor@esempio.it", ["a@example.it"], RAW)
