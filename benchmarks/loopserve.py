"""Loopback HTTP feed servers in separate processes, with conditional GET.

Every feed gets its own loopback address (127.0.0.2, 127.0.0.3, … 127.0.1.2, …; any 127/8
address is local on Linux), so the client sees many hosts. Each server process builds the
bodies of its feeds in memory and answers `GET /feeds/N.xml` with an ETag and Last-Modified;
a request whose If-None-Match (or, without one, If-Modified-Since) matches gets 304.

A server process stops on "stop" from the parent, when the parent goes away (EOF on its
pipe), or after `lifetime` seconds, whichever comes first. Only 127.0.0.0/8 is ever bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import multiprocessing as mp
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from multiprocessing.connection import Connection

from synthfeeds import etag_for, make_feed

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def loopback_address(index: int) -> str:
    """The index-th address of 127.0.0.2 … 127.0.0.255, 127.0.1.2 …, never 127.0.0.1."""
    high, low = divmod(index, 254)
    if high > 255:
        raise ValueError("more than 65,000 loopback hosts")
    return f"127.0.{high}.{low + 2}"


def is_loopback_url_host(host: str) -> bool:
    try:
        return ipaddress.ip_address(host) in LOOPBACK
    except ValueError:
        return False


@dataclass(frozen=True)
class FeedSpec:
    items: int
    item_kb: float
    actor_share: float
    seed: int
    now: datetime
    uncommon_share: float = 0.0  # feeds monitor's lxml reader leaves to feedparser


class _Site:
    def __init__(self) -> None:
        self.bodies: dict[str, tuple[bytes, str]] = {}  # path → (body, etag)
        self.last_modified = ""
        self.counts = {"200": 0, "304": 0, "404": 0, "bad": 0, "bytes": 0}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(10_000):  # requests per connection, bounded
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
                request, *lines = head.decode("latin-1").split("\r\n")
                parts = request.split(" ")
                if len(parts) != 3:
                    self.counts["bad"] += 1
                    break
                method, target, version = parts
                headers = {}
                for line in lines:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                writer.write(self._respond(method, target, headers, keep))
                await writer.drain()
                if not keep:
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, TimeoutError):
            pass
        finally:
            writer.close()

    def _respond(self, method: str, target: str, headers: dict[str, str], keep: bool) -> bytes:
        found = self.bodies.get(target.partition("?")[0])
        conn = "keep-alive" if keep else "close"
        if method not in ("GET", "HEAD") or found is None:
            self.counts["404"] += 1
            return f"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: {conn}\r\n\r\n".encode()
        body, etag = found
        inm = headers.get("if-none-match")
        ims = headers.get("if-modified-since")
        validators = f"ETag: {etag}\r\nLast-Modified: {self.last_modified}\r\n"
        if (inm is not None and etag in [t.strip() for t in inm.split(",")]) or (
                inm is None and ims == self.last_modified):
            self.counts["304"] += 1
            return f"HTTP/1.1 304 Not Modified\r\n{validators}Connection: {conn}\r\n\r\n".encode()
        self.counts["200"] += 1
        self.counts["bytes"] += len(body)
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n{validators}Connection: {conn}\r\n\r\n").encode()
        return head + (body if method == "GET" else b"")


def _serve(conn: Connection, feeds: list[int], spec: FeedSpec, lifetime: float) -> None:
    asyncio.run(_serve_async(conn, feeds, spec, lifetime))


async def _serve_async(conn: Connection, feeds: list[int], spec: FeedSpec, lifetime: float) -> None:
    site = _Site()
    site.last_modified = format_datetime(spec.now, usegmt=True)
    loop = asyncio.get_running_loop()
    servers = []
    urls: dict[int, str] = {}
    actors = 0
    for feed in feeds:
        host = loopback_address(feed)
        server = await asyncio.start_server(site.handle, host=host, port=0, backlog=512)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        base = f"http://{host}:{port}"
        body, with_actor = make_feed(feed, spec.items, spec.item_kb, base, spec.now, spec.actor_share, spec.seed,
                                     spec.uncommon_share)
        actors += with_actor
        path = f"/feeds/{feed}.xml"
        site.bodies[path] = (body, etag_for(body))
        urls[feed] = base + path
    conn.send({"urls": urls, "actor_items": actors,
               "bytes": sum(len(b) for b, _ in site.bodies.values())})
    stop = asyncio.Event()

    def on_message() -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            stop.set()  # the parent is gone
            return
        if message == "stats":
            conn.send(dict(site.counts))
        elif message == "reset":
            site.counts = dict.fromkeys(site.counts, 0)
            conn.send("ok")
        else:
            stop.set()

    loop.add_reader(conn.fileno(), on_message)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), lifetime)
    loop.remove_reader(conn.fileno())
    for server in servers:
        server.close()


class FeedServers:
    """`processes` server processes sharing `feeds` feeds, one loopback host per feed."""

    def __init__(self, feeds: int, spec: FeedSpec, processes: int = 2, lifetime: float = 1800) -> None:
        self.urls: list[str] = []
        self.actor_items = 0
        self.bytes = 0
        self._procs: list[tuple[mp.process.BaseProcess, Connection]] = []
        ctx = mp.get_context("spawn")  # a clean child: nothing of the parent's memory is shared
        shares = [list(range(i, feeds, processes)) for i in range(min(processes, feeds))]
        for share in shares:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, share, spec, lifetime), daemon=True)
            proc.start()
            child.close()
            self._procs.append((proc, parent))
        urls: dict[int, str] = {}
        try:
            for proc, parent in self._procs:
                if not parent.poll(300):
                    raise RuntimeError(f"feed server {proc.pid} did not start within 300 s")
                ready = parent.recv()
                urls.update(ready["urls"])
                self.actor_items += ready["actor_items"]
                self.bytes += ready["bytes"]
        except BaseException:
            self.close()
            raise
        self.urls = [urls[i] for i in range(feeds)]
        for url in self.urls:
            host = url.split("/")[2].rsplit(":", 1)[0]
            if not is_loopback_url_host(host):
                self.close()
                raise RuntimeError(f"refusing a non-loopback feed URL: {url}")

    def _ask(self, message: str) -> list[object]:
        answers = []
        for _, parent in self._procs:
            parent.send(message)
            answers.append(parent.recv() if parent.poll(30) else None)
        return answers

    def stats(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for answer in self._ask("stats"):
            if isinstance(answer, dict):
                for key, value in answer.items():
                    total[key] = total.get(key, 0) + value
        return total

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        for _proc, parent in self._procs:
            with contextlib.suppress(OSError, ValueError):
                parent.send("stop")
        for proc, parent in self._procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            parent.close()
        self._procs = []

    def __enter__(self) -> FeedServers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
