"""A real SMTP server on loopback for tests: aiosmtpd in a thread, recording what it receives.

    with SmtpServer(tls="starttls", auth=("user", "secret")) as server:
        report = await send_raw(server.config(username="user"), "secret", ..., tls_context=server.client_context())
        assert server.messages[0].raw == raw

Options: plain, STARTTLS or implicit TLS (trustme certificates for 127.0.0.1 and localhost);
AUTH with one user/password; injected replies for MAIL, RCPT (per address), DATA and AUTH
(e.g. `server.rcpt_replies["x@example.it"] = "550 5.1.1 no such user"`, `server.data_reply =
"451 4.3.0 try later"`, `server.auth_reply = "535 5.7.8 nope"`). Replies can be changed while
the server runs. Everything seen is kept: `messages`, `auth_attempts`, `commands`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session

from monitor.config.types import SmtpConfig

# aiosmtpd itself sets its deprecated Session.login_data after AUTH and logs a warning each time.
logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())

TlsMode = Literal["none", "starttls", "implicit"]


@dataclass(frozen=True)
class Received:
    """One message as the server got it: the envelope and the exact DATA bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    tls: bool
    authenticated: bool


@dataclass
class _State:
    messages: list[Received] = field(default_factory=list)
    auth_attempts: list[str] = field(default_factory=list)  # mechanisms, in order
    commands: list[str] = field(default_factory=list)  # verbs seen (EHLO, MAIL, RCPT, DATA, AUTH…)
    mail_reply: str | None = None
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    auth_reply: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler:
    """aiosmtpd handler hooks: record, then answer with an injected reply if one is set."""

    def __init__(self, state: _State) -> None:
        self.state = state

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        self._seen("EHLO")
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        self._seen("MAIL")
        if self.state.mail_reply:
            return self.state.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        self._seen("RCPT")
        reply = self.state.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._seen("DATA")
        if self.state.data_reply:
            return self.state.data_reply
        with self.state.lock:
            self.state.messages.append(Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                raw=envelope.original_content or b"",
                # session.ssl is only set by STARTTLS; an implicit-TLS transport has an ssl_object.
                tls=session.ssl is not None or _on_tls(server),
                authenticated=bool(session.authenticated),
            ))
        return "250 Message accepted"

    async def handle_AUTH(self, server: SMTP, session: Session, envelope: Envelope, args: list[str]) -> Any:
        self._seen("AUTH")
        with self.state.lock:
            self.state.auth_attempts.append(args[0] if args else "")
        return self.state.auth_reply or MISSING

    def _seen(self, verb: str) -> None:
        with self.state.lock:
            self.state.commands.append(verb)


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # Bound to port 0: learn the real port before aiosmtpd pokes the server.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    """Start with `with SmtpServer(...) as server:` (or start()/stop()); one server per test."""

    def __init__(self, tls: TlsMode = "none", auth: tuple[str, str] | None = None,
                 auth_require_tls: bool = True, ca: trustme.CA | None = None) -> None:
        self.tls = tls
        self.ca = ca or trustme.CA()
        self.state = _State()
        self.host = "127.0.0.1"
        self.port = 0
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_ctx)
        # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; an implicit-TLS socket is
        # encrypted from the first byte, so AUTH may be offered there.
        kwargs: dict[str, Any] = {"auth_require_tls": auth_require_tls and tls != "implicit"}
        if auth is not None:
            kwargs["authenticator"] = _authenticator(*auth)
        else:
            # Without an authenticator aiosmtpd refuses AUTH; keep the extension off entirely.
            kwargs["auth_exclude_mechanism"] = ["LOGIN", "PLAIN"]
        if tls == "starttls":
            kwargs["tls_context"] = server_ctx
            kwargs["require_starttls"] = True
        self._controller = _Controller(
            _Handler(self.state), hostname=self.host, port=0,
            ssl_context=server_ctx if tls == "implicit" else None, **kwargs,
        )

    # -- lifecycle
    def start(self) -> SmtpServer:
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the client side needs
    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this server's CA (and nothing else)."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        ctx.load_verify_locations(cadata=self.ca.cert_pem.bytes().decode("ascii"))
        return ctx

    def config(self, **overrides: Any) -> SmtpConfig:
        """An SmtpConfig pointing at this server (tls mode matches; short timeout)."""
        values: dict[str, Any] = {"host": self.host, "port": self.port,
                                  "tls": "none" if self.tls == "none" else self.tls,
                                  "sender": "monitor@example.it", "timeout_seconds": 5.0}
        values.update(overrides)
        return dataclasses.replace(SmtpConfig(), **values)

    # -- what happened, and injected replies
    @property
    def messages(self) -> list[Received]:
        with self.state.lock:
            return list(self.state.messages)

    @property
    def auth_attempts(self) -> list[str]:
        with self.state.lock:
            return list(self.state.auth_attempts)

    @property
    def commands(self) -> list[str]:
        with self.state.lock:
            return list(self.state.commands)

    @property
    def rcpt_replies(self) -> dict[str, str]:
        return self.state.rcpt_replies

    @property
    def mail_reply(self) -> str | None:
        return self.state.mail_reply

    @mail_reply.setter
    def mail_reply(self, value: str | None) -> None:
        self.state.mail_reply = value

    @property
    def data_reply(self) -> str | None:
        return self.state.data_reply

    @data_reply.setter
    def data_reply(self, value: str | None) -> None:
        self.state.data_reply = value

    @property
    def auth_reply(self) -> str | None:
        return self.state.auth_reply

    @auth_reply.setter
    def auth_reply(self, value: str | None) -> None:
        self.state.auth_reply = value


def _on_tls(server: SMTP) -> bool:
    return server.transport is not None and server.transport.get_extra_info("ssl_object") is not None


def _authenticator(user: str, password: str) -> Any:
    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == user.encode() and data.password == password.encode()
        # handled=False: let aiosmtpd send the standard "535 5.7.8" itself.
        return AuthResult(success=ok, handled=False)
    return check
