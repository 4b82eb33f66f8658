"""The wire: one HTTP/1.1 exchange on aiohttp, behind a small seam the fetcher owns.

Polling is mostly conditional GETs answered 304, one new connection per host each time, so the
cost per exchange is what matters. aiohttp's C parser and connection handling do it in about a
third of the CPU of httpx on httpcore, and the request and response objects of a general client
(URL models, header classes, streams) cost more again than the exchange itself: the fetcher
asks for exactly what it uses (a status, lower-cased headers, raw body chunks) and nothing else.
Redirects, decompression, the body cap and the overall deadline stay in fetch.py.

What this transport promises: no redirects followed, bodies handed over exactly as sent (no
decompression), no cookies kept, no proxy from the environment, and network failures raised as
TransportError subclasses named after what went wrong (ConnectError, ReadTimeout, …).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Protocol

import aiohttp
import certifi

# Real servers send long headers (CSP, cookies we drop anyway); aiohttp's 8 KB default is
# stricter than most clients.
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 256
READ_CHUNK = 64 * 1024


class TransportError(Exception):
    """No complete response: the connection failed, timed out or broke the protocol."""


class ConnectError(TransportError):
    pass


class ConnectTimeout(TransportError):
    pass


class ReadTimeout(TransportError):
    pass


class RemoteProtocolError(TransportError):
    pass


class UnsupportedProtocol(TransportError):
    pass


class NetworkError(TransportError):
    pass


class WireResponse(Protocol):
    status: int
    headers: dict[str, str]  # names lower-cased; repeated fields joined with ", "

    def chunks(self) -> AsyncIterator[bytes]: ...

    def close(self) -> None: ...


class Transport(Protocol):
    async def get(self, url: str, headers: dict[str, str], timeout: float) -> WireResponse: ...

    async def aclose(self) -> None: ...


def default_ssl_context() -> ssl.SSLContext:
    """Certificate checks against Mozilla's CA list (certifi), the same on every machine."""
    return ssl.create_default_context(cafile=certifi.where())


class AiohttpTransport:
    """One aiohttp session and its connection pool, for the whole daemon."""

    def __init__(self, max_connections: int, keepalive_seconds: float = 5.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._max_connections = max_connections
        self._keepalive_seconds = keepalive_seconds
        self._ssl_context = ssl_context or default_ssl_context()
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _open_session(self) -> aiohttp.ClientSession:
        # Created on first use: a session belongs to the event loop that is running then.
        connector = aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl_context,
                                         keepalive_timeout=self._keepalive_seconds)
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
            auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None),
            max_line_size=MAX_HEADER_BYTES, max_field_size=MAX_HEADER_BYTES, max_headers=MAX_HEADERS,
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent"),
        )

    async def get(self, url: str, headers: dict[str, str], timeout: float) -> _AiohttpResponse:
        """Send a GET and read the head; `timeout` bounds the connect and each read (a backstop:
        the fetcher's deadline covers the whole exchange)."""
        if self._session is None:
            self._session = self._open_session()
        limits = self._timeouts.get(timeout)
        if limits is None:
            limits = self._timeouts[timeout] = aiohttp.ClientTimeout(total=None, sock_connect=timeout,
                                                                     sock_read=timeout)
        try:
            response = await self._session.get(url, headers=headers, allow_redirects=False, timeout=limits)
        except Exception as exc:
            raise _as_transport_error(exc) from exc
        return _AiohttpResponse(response)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _AiohttpResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers = _lower_headers(response.raw_headers)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(READ_CHUNK):
                yield chunk
        except Exception as exc:
            raise _as_transport_error(exc) from exc

    def close(self) -> None:
        # A body read to the end frees the connection for reuse; one abandoned half-way
        # (an error page, a body over the cap) must not be reused.
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


def _lower_headers(raw: tuple[tuple[bytes, bytes], ...]) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        result[key] = f"{result[key]}, {text}" if key in result else text
    return result


def _as_transport_error(exc: Exception) -> Exception:
    """The TransportError for an aiohttp failure; anything else passes unchanged."""
    message = str(exc) or exc.__class__.__name__
    kind: type[TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = ConnectTimeout
    elif isinstance(exc, (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError)):
        kind = ReadTimeout
    elif isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ClientSSLError)):
        kind = ConnectError
    elif isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientResponseError,
                          aiohttp.ClientPayloadError)):
        kind = RemoteProtocolError
    elif isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        kind = UnsupportedProtocol
    elif isinstance(exc, aiohttp.ClientError):
        kind = NetworkError
    else:
        return exc
    return kind(message)
