"""aiohttp under httpx's transport seam: httpx's API, a faster wire.

Polling is mostly conditional GETs answered 304, one new connection per host each time. With
httpx's own transport (httpcore on anyio, h11 in pure Python) that exchange cost about 0.85 ms
of CPU; aiohttp's C parser and leaner connection handling do it in about half (see
benchmarks/RESULTS.md). The fetcher keeps talking httpx (requests, responses, exceptions), so
redirect policy, decompression and the body cap stay in fetch.py, unchanged.

What this transport promises the fetcher: no redirects followed, bodies handed over exactly as
sent (no decompression), no cookies kept, no proxy from the environment, and aiohttp's errors
turned into the matching httpx exceptions.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx

# Real servers send long headers (CSP, cookies we drop anyway); aiohttp's 8 KB default is
# stricter than the h11 parser this replaces.
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 256
READ_CHUNK = 64 * 1024


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (and its connection pool) behind an httpx.AsyncClient."""

    def __init__(self, max_connections: int, keepalive_seconds: float = 5.0,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._max_connections = max_connections
        self._keepalive_seconds = keepalive_seconds
        self._ssl_context = ssl_context or httpx.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None

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

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._open_session()
        timeouts = request.extensions.get("timeout", {})
        try:
            response = await self._session.request(
                request.method, str(request.url), headers=list(request.headers.multi_items()),
                data=await request.aread() or None, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeouts.get("connect"),
                                              sock_read=timeouts.get("read")),
            )
        except Exception as exc:
            raise _as_httpx(exc, request) from exc
        return httpx.Response(
            status_code=response.status, headers=response.raw_headers,
            stream=_ResponseBody(response, request), request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _ResponseBody(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(READ_CHUNK):
                yield chunk
        except Exception as exc:
            raise _as_httpx(exc, self._request) from exc

    async def aclose(self) -> None:
        # A body read to the end frees the connection for reuse; one abandoned half-way
        # (an error page, a body over the cap) must not be reused.
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


def _as_httpx(exc: Exception, request: httpx.Request) -> Exception:
    """The httpx exception a caller of httpx would have seen; other errors pass unchanged."""
    message = str(exc) or exc.__class__.__name__
    kind: type[httpx.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(exc, (aiohttp.SocketTimeoutError, aiohttp.ServerTimeoutError)):
        kind = httpx.ReadTimeout
    elif isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ClientSSLError)):
        kind = httpx.ConnectError
    elif isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientResponseError,
                          aiohttp.ClientPayloadError)):
        kind = httpx.RemoteProtocolError
    elif isinstance(exc, (aiohttp.InvalidUrlClientError, aiohttp.NonHttpUrlClientError)):
        kind = httpx.UnsupportedProtocol
    elif isinstance(exc, aiohttp.ClientError):
        kind = httpx.NetworkError
    else:
        return exc
    return kind(message, request=request)
