"""The wire: one HTTP/1.1 exchange on pyreqwest, behind a small seam the fetcher owns.

Polling is mostly conditional GETs answered 304, one new connection per host each time, so the
cost per exchange is what matters. CPU per 304 on loopback (benchmarks/bench_wire.py, this
2-core VM): about 0.41 ms with this seam on aiohttp, 0.17–0.22 ms on pyreqwest (reqwest and
hyper in Rust, outside the interpreter lock); httpx on httpcore was about 0.85 ms (RESULTS.md).
The fetcher asks for exactly what it uses (a status, lower-cased headers, raw body chunks);
redirects, decompression, the body cap and the overall deadline stay in fetch.py.

What this transport promises: no redirects followed, bodies handed over exactly as sent (no
decompression), no cookies kept, no proxy from the environment (only polling.proxy, whose
credentials go in a Proxy-Authorization header, never in a URL that an error could repeat),
and network failures raised as TransportError subclasses named after what went wrong
(ConnectError, ReadTimeout, …).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Protocol

from pyreqwest import exceptions as errors
from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import PyreqwestError
from pyreqwest.proxy import ProxyBuilder
from pyreqwest.request import StreamRequest
from pyreqwest.response import Response

from monitor.config.types import ProxyConfig


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


class ReqwestTransport:
    """One pyreqwest client (Rust: reqwest on hyper and rustls) and its connection pool.

    The exchange runs in Rust, outside the interpreter lock: a conditional GET answered 304
    costs about half the daemon CPU it did on aiohttp (see the module docstring).
    """

    def __init__(self, max_connections: int, extra_ca_pem: bytes | None = None,
                 proxy: ProxyConfig | None = None) -> None:
        builder = (
            ClientBuilder().follow_redirects(False).no_proxy().http1_only()
            .gzip(False).deflate(False).brotli(False).zstd(False)  # bodies exactly as sent
            .max_connections(max_connections)
            # No idle connections are kept: each holds its read buffer (keeping one per host for
            # a thousand hosts held ~75 MB), and the next poll of a host is minutes away anyway.
            .pool_max_idle_per_host(0)
        )
        if extra_ca_pem is not None:
            builder = builder.add_root_certificate_pem(extra_ca_pem)
        if proxy is not None:
            builder = builder.proxy(_proxy(proxy))
        self._builder = builder
        self._client: Client | None = None
        self._timeouts: dict[float, timedelta] = {}

    async def get(self, url: str, headers: dict[str, str], timeout: float) -> _ReqwestResponse:
        """Send a GET and read the head; `timeout` bounds the whole exchange (a backstop: the
        fetcher's own deadline is the real limit)."""
        if self._client is None:
            # Built on first use, inside the event loop that will use it.
            self._client = self._builder.build()
        limit = self._timeouts.get(timeout) or self._timeouts.setdefault(timeout, timedelta(seconds=timeout))
        try:
            # A zero read buffer: the head is handed over as soon as it arrives (a Content-Length
            # over the cap is refused before any body is read).
            request = (self._client.get(url).headers(headers).timeout(limit)
                       .streamed_read_buffer_limit(0).build_streamed())
            response = await request.__aenter__()
        except PyreqwestError as exc:
            raise _as_transport_error(exc) from None
        return _ReqwestResponse(request, response)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


class _ReqwestResponse:
    def __init__(self, request: StreamRequest, response: Response) -> None:
        self._request = request
        self._response = response
        self._open = True
        self.status = response.status
        found = response.headers
        # Names come lower-cased; repeated fields are joined as one value, as RFC 9110 allows.
        self.headers = {name: ", ".join(found.getall(name)) for name in found}

    async def chunks(self) -> AsyncIterator[bytes]:
        reader = self._response.body_reader
        try:
            while (chunk := await reader.read_chunk()) is not None:
                yield bytes(chunk)
        except PyreqwestError as exc:
            raise _as_transport_error(exc) from None
        await self._finish()

    async def _finish(self) -> None:
        if self._open:
            self._open = False
            await self._request.__aexit__(None, None, None)

    def close(self) -> None:
        # Unread bodies (error pages, a body over the cap) are dropped with their connection.
        if self._open:
            self._open = False
            task = asyncio.ensure_future(self._request.__aexit__(None, None, None))
            _CLOSING.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(_CLOSING.discard)


_CLOSING: set[asyncio.Future[None]] = set()


def _proxy(proxy: ProxyConfig) -> ProxyBuilder:
    """Every http and https request through `proxy` (https by CONNECT), with Basic credentials."""
    spec = ProxyBuilder.all(proxy.url)
    if proxy.username or proxy.password:
        spec = spec.basic_auth(proxy.username, proxy.password)
    return spec


def _as_transport_error(exc: PyreqwestError) -> TransportError:
    """The TransportError for a pyreqwest failure, worded by its innermost cause (the reason)."""
    causes = (getattr(exc, "details", None) or {}).get("causes") or []
    message = str(causes[-1].get("message")) if causes else (str(exc) or exc.__class__.__name__)
    kind: type[TransportError]
    if isinstance(exc, errors.ConnectTimeoutError):
        kind = ConnectTimeout
    elif isinstance(exc, (errors.ReadTimeoutError, errors.RequestTimeoutError)):
        kind = ReadTimeout
    elif isinstance(exc, errors.ConnectError):
        kind = ConnectError
    elif isinstance(exc, (errors.ReadError, errors.DecodeError)):
        kind = RemoteProtocolError
    elif isinstance(exc, errors.BuilderError):
        kind = UnsupportedProtocol
    else:
        kind = NetworkError
    return kind(message)
