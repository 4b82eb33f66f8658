"""A loopback webhook receiver: a real http.server on 127.0.0.1 that records every POST/PUT.

    with Receiver() as rx:
        rx.fail_next(500)                  # the next answer is a 500, then 200 again
        url = rx.json_url("/hook")         # Apprise: json://127.0.0.1:PORT/hook
        url = rx.ntfy_url("redazione")     # Apprise: ntfy://127.0.0.1:PORT/redazione (plain http)
        ...
        [post] = rx.posts                  # path, headers, body; .json() for json:// posts
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Post:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    status: int  # what the receiver answered

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        """The message as the service would show it: json's "message", or ntfy's body."""
        if self.headers.get("content-type", "").startswith("application/json"):
            data = self.json()
            return str(data.get("message", ""))
        return self.body.decode("utf-8")

    @property
    def title(self) -> str:
        if self.headers.get("content-type", "").startswith("application/json"):
            return str(self.json().get("title", ""))
        return self.headers.get("x-title", "")


class Receiver:
    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.delay = 0.0  # seconds each answer waits: a slow service
        self._answers: list[int] = []
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def json_url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def ntfy_url(self, topic: str = "redazione") -> str:
        return f"ntfy://127.0.0.1:{self.port}/{topic}"

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order; 200 afterwards."""
        with self._lock:
            self._answers.extend(statuses)

    def _answer(self) -> int:
        with self._lock:
            return self._answers.pop(0) if self._answers else 200

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = owner._answer()
                time.sleep(owner.delay)
                with owner._lock:
                    owner.posts.append(Post(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                            body, status))
                payload = b'{"id": "x"}' if status < 300 else b'{"error": "refused"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = _record  # noqa: N815 - stdlib naming

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

        return Handler

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def delivered(self) -> list[Post]:
        """The posts the receiver accepted (2xx)."""
        with self._lock:
            return [p for p in self.posts if p.status < 300]
