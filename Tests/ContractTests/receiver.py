"""A local webhook receiver for the contract tests.

A `ThreadingHTTPServer` on 127.0.0.1 (free port) served from a daemon thread. It answers the
endpoint verification `GET <url>?challenge=<value>` (by default echoing the value, parsed with the
SDK's own `extract_challenge_parameter`), records every POST (raw body bytes + headers) and answers
POSTs with a configurable status (200 by default, e.g. 503 to make deliveries fail).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from nylas.resources.webhooks import extract_challenge_parameter


@dataclass
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    answered: int = 0
    at: float = field(default_factory=time.monotonic)

    def header(self, name: str) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None


class Receiver:
    """A webhook endpoint. Settings are plain attributes, read on every request:

    - `challenge`: "echo" (answer 200 with exactly the value), "wrong" (200 with another value),
      or an int status to answer instead (e.g. 404).
    - `post_status`: the status POSTs get (200 by default).
    """

    def __init__(self, path: str = "/webhook"):
        self.path = path
        self.challenge: str | int = "echo"
        self.post_status = 200
        self._lock = threading.Lock()
        self._requests: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):  # keep pytest output quiet
                pass

            def _answer(self, status: int, body: bytes = b"", content_type: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if body:
                    self.wfile.write(body)
                self.close_connection = True

            def do_GET(self):
                rec = Received("GET", self.path, {k: v for k, v in self.headers.items()})
                try:
                    value = extract_challenge_parameter(self.path)
                except ValueError:
                    value = None
                mode = receiver.challenge
                if value is None:
                    status, body = 400, b"no challenge"
                elif isinstance(mode, int):
                    status, body = mode, b"nope"
                elif mode == "wrong":
                    status, body = 200, (value + "-wrong").encode()
                else:
                    status, body = 200, value.encode()
                rec.answered = status
                receiver._record(rec)
                self._answer(status, body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status = receiver.post_status
                rec = Received("POST", self.path, {k: v for k, v in self.headers.items()}, body, status)
                receiver._record(rec)
                self._answer(status, b"ok" if status < 300 else b"unavailable")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"receiver:{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def _record(self, rec: Received) -> None:
        with self._lock:
            self._requests.append(rec)

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    @property
    def challenges(self) -> list[Received]:
        return [r for r in self.requests if r.method == "GET"]

    @property
    def posts(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST"]

    def wait_posts(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Waits (wall time) until at least `count` POSTs arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while True:
            posts = self.posts
            if len(posts) >= count:
                return posts
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver got {len(posts)} POSTs, expected {count} within {timeout}s")
            time.sleep(0.02)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
