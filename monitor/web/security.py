"""What every console response carries and every request must pass, as one ASGI middleware.

- Host check on loopback: a page on another site that rebinds its DNS name to 127.0.0.1 could
  otherwise read the console through the visitor's browser; only loopback names are answered.
- Bearer token (or the cookie the login form sets from it) when the console listens elsewhere.
- Headers: a Content-Security-Policy that allows no script at all and nothing from another
  origin, no framing by others, no sniffing, no referrer, no caching of private pages.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from http.cookies import SimpleCookie

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No page needs a script: the chart is server-side SVG, filters are plain forms. A feed text
# that slipped through escaping could therefore run nothing.
CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
       "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# The archived mail's HTML, shown in a sandboxed frame of our own page: its inline styles may
# apply, nothing else may load or run, and it gets a unique origin (the sandbox directive).
MAIL_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "frame-ancestors 'self'")
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
COOKIE = "monitor_session"
LOGIN_PATH = "/login"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The Host header without its port ('[::1]:8080' → '::1')."""
    if host_header.startswith("["):
        return host_header[1:].partition("]")[0]
    return host_header.rpartition(":")[0] if host_header.count(":") == 1 else host_header


def session_value(token: str) -> str:
    """The cookie proves knowledge of the token without being the token."""
    return hmac.new(token.encode(), b"monitor web session", hashlib.sha256).hexdigest()


class Guard:
    def __init__(self, app: ASGIApp, *, token: str | None, loopback_only: bool) -> None:
        self.app = app
        self.token = token
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    out.setdefault(name, value)
            await send(message)

        if self.loopback_only and not is_loopback(host_name(headers.get("host", ""))):
            response = PlainTextResponse("This console answers only to localhost / 127.0.0.1 (Host header "
                                         "refused).", status_code=421)
            await response(scope, receive, send_secured)
            return
        if self.token and scope["path"] != LOGIN_PATH and not self.authorised(headers):
            if "text/html" in headers.get("accept", ""):
                redirect = RedirectResponse(LOGIN_PATH, status_code=303)
                await redirect(scope, receive, send_secured)
                return
            response = PlainTextResponse("A bearer token is required (Authorization: Bearer ...).",
                                         status_code=401, headers={"WWW-Authenticate": 'Bearer realm="monitor"'})
            await response(scope, receive, send_secured)
            return
        await self.app(scope, receive, send_secured)

    def authorised(self, headers: Headers) -> bool:
        assert self.token is not None
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is no session
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value.encode(), session_value(self.token).encode())
