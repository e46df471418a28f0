"""A small threaded HTTPS (or plain HTTP) listener: one port, one handler function, clean stop.

Why not plain `http.server`: its defaults cost ~46 ms a request (headers and body are two writes,
and delayed ACK holds the second) and a listen backlog of 5 stalls concurrent SDK clients. Here
every response is one write, the backlog is 128, the TLS handshake runs in the worker thread (a
stuck client cannot block accept), and `stop()` also cuts kept-alive connections so a stopped
vault really is unreachable. The local HashiCorp Vault server reuses it (plain HTTP with
`context=None`, and Vault's `LIST` method); HEAD answers carry no body.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"


@dataclass
class Request:
    """One parsed HTTP request, as the application handlers see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    host: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class Response:
    """One HTTP response; `body` is already encoded."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, data, merged)


Handler = Callable[[Request], Response]

_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    411: "Length Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class _Server(ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, context: ssl.SSLContext | None, app: Handler, server_header: str) -> None:
        self.app = app
        self.tls_context = context
        self.server_header = server_header
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__((HOST, port), _RequestHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        raw, address = super().get_request()
        if self.tls_context is None:
            with self.connections_lock:
                self.open_connections.add(raw)
            return raw, address
        wrapped = self.tls_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        with self.connections_lock:
            self.open_connections.add(wrapped)
        return wrapped, address

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client hang-ups and failed handshakes are normal in tests; stay quiet."""

    def cut_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.open_connections)
            self.open_connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(30)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib access log; the vault keeps its own request log."""

    def _dispatch(self) -> None:
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._send(Response.json(411, {"error": {"code": "LengthRequired", "message": "chunked body"}}))
            self.close_connection = True
            return
        body = self.rfile.read(int(length_header)) if length_header else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            host=self.headers.get("Host") or f"{HOST}:{self.server.server_address[1]}",
        )
        try:
            response = self.server.app(request)
        except Exception as exc:  # a bug in the double must show up as a 500, not a hang
            response = Response.json(500, {"error": {"code": "InternalError", "message": type(exc).__name__}})
        self._send(response)

    def _send(self, response: Response) -> None:
        reason = _REASONS.get(response.status, "Status")
        lines = [f"HTTP/1.1 {response.status} {reason}", f"Server: {self.server.server_header}"]
        headers = {"Content-Length": str(len(response.body)), **response.headers}
        if self.close_connection:
            headers["Connection"] = "close"
        lines += [f"{k}: {v}" for k, v in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = b"" if self.command == "HEAD" else response.body
        self.wfile.write(head + body)  # one write: avoids the delayed-ACK stall

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_LIST = _dispatch


class Listener:
    """One HTTPS port serving `app` from daemon threads; can be stopped and started again."""

    def __init__(self, app: Handler, context: ssl.SSLContext | None, *, port: int = 0, server_header: str) -> None:
        self._app = app
        self._context = context
        self._server_header = server_header
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            return
        server = _Server(self._port, self._context, self._app, self._server_header)
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True, name=f"https:{self._port}"
        )
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.cut_connections()
        if thread is not None:
            thread.join(timeout=5)
