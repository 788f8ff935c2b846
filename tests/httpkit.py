"""A real, scriptable HTTP receiver for the alerting tests: webhooks and pings.

``Receiver`` runs an ``http.server.ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a
thread and records every request it gets (method, path, headers, body, and what it
answered). What it answers is scripted per request:

- an ``int``: that HTTP status (2xx replies ``ok``; others a short text that echoes the
  request line, as real gateways do, so tests can prove targetwatch redacts it);
- ``"close"``: read the request, then close the socket without answering;
- ``"hang"``: read the request, then wait (up to ``hang_for`` seconds, or until the receiver
  stops) without answering, so the client times out;
- ``"kill"``: read the request, SIGKILL the process whose id is in ``kill_pid`` (waiting up
  to 10 s for a test to set it), then close the socket: the client dies mid-request.

Actions queued with :meth:`Receiver.queue` (optionally for one path) are used first, one per
request; after that ``default`` applies (``down()`` / ``up()`` switch it). ``delay`` seconds
are waited before each answer. Everything is bounded: handler sockets time out, waits end
when the receiver stops, and :meth:`Receiver.stop` joins the server thread.

Use it as a context manager (``with Receiver() as rx: ... rx.url``) or through the
``receiver`` fixture of a test module (``yield from receiving()``).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Action = int | str
ACTIONS = ("close", "hang", "kill")


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it. ``status`` is what it answered (None: no answer)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None
    at: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> str | None:
        return self.headers.get("idempotency-key")

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 15  # seconds a handler waits for a slow or silent client
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        self.server.receiver._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


class Receiver:
    """A scriptable HTTP receiver; see the module docstring."""

    def __init__(self, *, default: Action = 200, delay: float = 0.0, hang_for: float = 10.0) -> None:
        _check(default)
        self.default: Action = default
        self.delay = delay
        self.hang_for = hang_for
        self.kill_pid: int | None = None
        self._script: dict[str | None, collections.deque[Action]] = collections.defaultdict(collections.deque)
        self._records: list[Received] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> Self:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.receiver = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="httpkit", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "the receiver is not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return f"http://127.0.0.1:{self.port}/"

    # -- script ----------------------------------------------------------------------------

    def queue(self, *actions: Action, path: str | None = None) -> None:
        """Answer the next requests (to ``path`` only, when given) with these actions, in order."""
        for action in actions:
            _check(action)
        with self._lock:
            self._script[path].extend(actions)

    def down(self, action: Action = 503) -> None:
        """From now on answer every unscripted request with ``action`` (503, or "close")."""
        _check(action)
        self.default = action

    def up(self) -> None:
        self.default = 200

    def _next(self, path: str) -> Action:
        with self._lock:
            bare = path.split("?", 1)[0]
            for key in (path, bare, None):
                if self._script.get(key):
                    return self._script[key].popleft()
            return self.default

    # -- what was received ------------------------------------------------------------------

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._records)

    def accepted(self) -> list[Received]:
        """The requests answered 2xx (what a receiver took in)."""
        return [r for r in self.requests if r.accepted]

    def accepted_keys(self) -> collections.Counter[str | None]:
        """How often each Idempotency-Key was accepted."""
        return collections.Counter(r.key for r in self.accepted())

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` requests arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return True
            time.sleep(0.02)
        return False

    # -- the handler ------------------------------------------------------------------------

    def _record(self, handler: _Handler, body: bytes, status: int | None) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self._records.append(Received(handler.command, handler.path, headers, body, status))

    def _handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        action = self._next(handler.path)
        if self.delay:
            self._stopping.wait(self.delay)
        if isinstance(action, int):
            self._record(handler, body, action)
            reply = b"ok" if 200 <= action < 300 else f"unavailable ({handler.command} {handler.path})".encode()
            handler.send_response(action)
            handler.send_header("Content-Type", "text/plain; charset=utf-8")
            handler.send_header("Content-Length", str(len(reply)))
            handler.end_headers()
            handler.wfile.write(reply)
            handler.wfile.flush()
            return
        self._record(handler, body, None)
        if action == "hang":
            self._stopping.wait(self.hang_for)
        elif action == "kill":
            deadline = time.monotonic() + 10
            while self.kill_pid is None and time.monotonic() < deadline and not self._stopping.is_set():
                time.sleep(0.01)
            if self.kill_pid is not None:
                try:
                    os.kill(self.kill_pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        handler.close_connection = True
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _check(action: Action) -> None:
    if isinstance(action, bool) or not (isinstance(action, int) or action in ACTIONS):
        raise ValueError(f"unknown action {action!r}: an HTTP status or one of {ACTIONS}")


def receiving(**kwargs: Any) -> Iterator[Receiver]:
    """For a fixture: ``yield from receiving(delay=0.5)`` starts a receiver and stops it after."""
    receiver = Receiver(**kwargs).start()
    try:
        yield receiver
    finally:
        receiver.stop()


def closed_port() -> int:
    """A local port nothing listens on (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
