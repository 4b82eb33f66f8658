"""A loopback HTTP server for ingestion tests: configurable routes, real sockets, no mocking.

Usage::

    from support.ingest_server import Route, serve

    with serve({"/feed.xml": Route(body=b"<rss .../>", headers={"ETag": '"v1"'})}) as server:
        url = server.url("/feed.xml")
        ...
        assert server.requests[0].headers["user-agent"].startswith("monitor/")

A route is a `Route` (fixed response) or a callable `(RecordedRequest) -> Route` (dynamic: e.g.
answer 304 when If-None-Match matches). Unknown paths answer 404. Each server binds port 0 on
127.0.0.1 by default; pass host="127.0.0.2" (any 127/8 address works on Linux) to get a
*different host* for per-host politeness tests. Several servers can share one
`ConcurrencyTracker` to measure global concurrency.

The pytest fixture `ingest_server` (import it into a test module or conftest) is a factory that
closes every server it started at teardown::

    from support.ingest_server import ingest_server  # noqa: F401  (fixture)

    def test_x(ingest_server):
        server = ingest_server({"/": Route(body=b"hi")})

The server runs in a thread (ThreadingHTTPServer), so it works for sync and async tests alike,
and a slow or trickling route never blocks the event loop under test.
"""

from __future__ import annotations

import gzip as gzip_module
import http.server
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

HeaderSpec = Mapping[str, str] | Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Route:
    """One canned response.

    status, headers, body: what to send. Content-Length is set from the (possibly gzipped) body
    unless `content_length` overrides it (a lie, for "big Content-Length" tests) or `chunked`.
    delay: seconds to wait before sending anything (slow server).
    trickle: seconds to wait between body bytes (sent one byte at a time).
    hang: seconds to wait after the body (or after the headers when the body is empty).
    gzip: compress `body` and send Content-Encoding: gzip.
    redirect: shorthand for a Location header (use with status 301/302/307/308).
    """

    status: int = 200
    headers: HeaderSpec = ()
    body: bytes = b""
    delay: float = 0.0
    trickle: float | None = None
    hang: float = 0.0
    gzip: bool = False
    redirect: str | None = None
    content_length: int | None = None
    chunked: bool = False


@dataclass
class RecordedRequest:
    """Recorded as soon as the request arrives (before the response), so a test that got its
    response always finds the request here; `ended` is set when the handler finishes."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    host: str  # the address of the server that received it
    started: float
    ended: float = 0.0


RouteSpec = Route | Callable[[RecordedRequest], Route]


class ConcurrencyTracker:
    """Counts requests in flight (overall and per key) and remembers the maxima."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.max = 0
        self.current_by: dict[str, int] = {}
        self.max_by: dict[str, int] = {}

    def enter(self, key: str) -> None:
        with self._lock:
            self.current += 1
            self.max = max(self.max, self.current)
            self.current_by[key] = self.current_by.get(key, 0) + 1
            self.max_by[key] = max(self.max_by.get(key, 0), self.current_by[key])

    def leave(self, key: str) -> None:
        with self._lock:
            self.current -= 1
            self.current_by[key] -= 1


@dataclass
class IngestServer:
    routes: dict[str, RouteSpec]
    host: str = "127.0.0.1"
    tracker: ConcurrencyTracker = field(default_factory=ConcurrencyTracker)
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0
    tls: ssl.SSLContext | None = None  # serve HTTPS with this server-side context
    _httpd: http.server.ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/") -> str:
        return f"{self.base}{path}"

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def hits(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> IngestServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = _QuietServer((self.host, 0), Handler)
        self._httpd.daemon_threads = True  # a trickling handler must not block shutdown
        self.port = self._httpd.server_address[1]
        if self.tls is not None:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"ingest-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def sleep(self, seconds: float) -> bool:
        """Sleep unless the server is closing; False means stop now."""
        return not self._stopping.wait(seconds) if seconds > 0 else not self._stopping.is_set()


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # a client hanging up (deadline, size cap) is what many tests provoke
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(http.server.BaseHTTPRequestHandler):
    owner: IngestServer
    _in_flight = False
    protocol_version = "HTTP/1.1"  # keep-alive, Content-Length framing, like real servers

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass  # keep test output clean

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        owner = self.owner
        started = time.monotonic()
        request = RecordedRequest(
            method="GET", path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            host=owner.host, started=started,
        )
        owner.requests.append(request)
        owner.tracker.enter(owner.host)
        self._in_flight = True
        try:
            spec = owner.routes.get(self.path) or owner.routes.get(self.path.split("?")[0])
            if spec is None:
                route = Route(status=404, body=b"not found")
            elif callable(spec):
                route = spec(request)
            else:
                route = spec
            self._respond(route)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the client gave up (deadline, size cap): exactly what some tests want
        finally:
            self._leave()
            request.ended = time.monotonic()

    def _leave(self) -> None:
        """Stop counting this request as in flight. Called just *before* the last bytes go out:
        once the client holds the whole response it may start its next request, and that one
        must not overlap this one in the tracker's eyes."""
        if self._in_flight:
            self._in_flight = False
            self.owner.tracker.leave(self.owner.host)

    def _respond(self, route: Route) -> None:
        owner = self.owner
        if not owner.sleep(route.delay):
            return
        body = gzip_module.compress(route.body) if route.gzip else route.body
        headers = list(route.headers.items()) if isinstance(route.headers, Mapping) else list(route.headers)
        names = {name.lower() for name, _ in headers}
        self.send_response_only(route.status)
        if "date" not in names:  # a route may set its own Date (Expires tests); never send two
            self.send_header("Date", self.date_time_string())
        for name, value in headers:
            self.send_header(name, value)
        if route.redirect is not None and "location" not in names:
            self.send_header("Location", route.redirect)
        if route.gzip and "content-encoding" not in names:
            self.send_header("Content-Encoding", "gzip")
        if route.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif "content-length" not in names:
            length = route.content_length if route.content_length is not None else len(body)
            self.send_header("Content-Length", str(length))
        if not body and not route.chunked:
            self._leave()  # the headers are the whole response
        self.end_headers()
        self.wfile.flush()
        if route.chunked:
            self._send_chunked(body, route)
        elif route.trickle is not None:
            for i in range(len(body)):
                if i == len(body) - 1:
                    self._leave()
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                if not owner.sleep(route.trickle):
                    return
        else:
            self._leave()
            self.wfile.write(body)
            self.wfile.flush()
        if route.hang:
            owner.sleep(route.hang)
        if route.content_length is not None and route.content_length != len(body):
            self.close_connection = True  # the framing was a lie; never reuse this connection

    def _send_chunked(self, body: bytes, route: Route) -> None:
        step = 1 if route.trickle is not None else 64 * 1024
        for i in range(0, len(body), step):
            piece = body[i:i + step]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.flush()
            if route.trickle is not None and not self.owner.sleep(route.trickle):
                return
        self._leave()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


@contextmanager
def serve(routes: Mapping[str, RouteSpec], *, host: str = "127.0.0.1",
          tracker: ConcurrencyTracker | None = None) -> Iterator[IngestServer]:
    """Run a server for the duration of the `with` block."""
    server = IngestServer(dict(routes), host=host, tracker=tracker or ConcurrencyTracker()).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def ingest_server() -> Iterator[Callable[..., IngestServer]]:
    """Factory fixture: `ingest_server(routes, host=..., tracker=...)` → a running server."""
    started: list[IngestServer] = []

    def factory(routes: Mapping[str, RouteSpec], *, host: str = "127.0.0.1",
                tracker: ConcurrencyTracker | None = None) -> IngestServer:
        server = IngestServer(dict(routes), host=host, tracker=tracker or ConcurrencyTracker()).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.close()
