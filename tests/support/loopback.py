"""An HTTP server on loopback in a thread: what the SMS providers' stand-ins share
(fake_twilio.py, aliyun_standin.py). Each says what it answers in its own handler."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackServer:
    """Start with ``start()``, stop with ``stop()`` (or use as a context manager)."""

    handler: type[JsonHandler]  # the subclass's requests and answers

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.closing = threading.Event()  # set on stop: a stalled answer stops waiting
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), self.handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.closing.set()
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        with self.lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    """Keeps its open connections, so that ``stop`` can cut the ones left waiting."""

    daemon_threads = True

    def __init__(self, address, handler, owner: LoopbackServer) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        with self.owner.lock:
            self.owner._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self.owner.lock:
            self.owner._connections.discard(request)
        super().shutdown_request(request)


class JsonHandler(BaseHTTPRequestHandler):
    """POST requests answered with JSON by ``answer``; the stand-in is ``self.owner``."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
    timeout = 10
    content_type = "application/json"
    ascii_only = True  # json.dumps' ensure_ascii

    @property
    def owner(self) -> Any:
        return self.server.owner  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes: without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            super().handle()  # a killed client's connection: nothing to answer

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        try:
            self.answer()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client gave up (timeout): nothing to tell

    def answer(self) -> None:
        raise NotImplementedError

    def send_json(self, status: int, payload: dict[str, object]) -> None:
        data = json.dumps(payload, ensure_ascii=self.ascii_only).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass
