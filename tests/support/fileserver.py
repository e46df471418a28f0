"""Test support: small HTTP servers on a free local port. `serving` publishes one file (a certificate on an
intranet page, as kubeseal's README and `sealkit seal --cert URL` use it; any other path is a 404); `running`
serves any request handler class, for tests that answer as a broken or hostile server would."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def running(handler: type[http.server.BaseHTTPRequestHandler], host: str = "127.0.0.1") -> Iterator[str]:
    """Serves with `handler` on `host` until the block ends; yields the server's base URL (http://HOST:PORT)."""
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def serving(path: str, body: bytes) -> Iterator[str]:
    """Serves `body` at `path` until the block ends; yields the server's base URL (http://127.0.0.1:PORT)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == path
            self.send_response(200 if found else 404)
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    with running(Handler) as url:
        yield url
