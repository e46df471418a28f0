"""ControllerProxy: the controller's answers through the API server's service proxy, bounded as inputs are."""

from __future__ import annotations

import contextlib
import http.server
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealkit.clients.kube.config import ClientOverrides, ClusterOptions
from sealkit.clients.kube.proxy import ControllerProxy
from sealkit.reading import TooLarge
from tests.support.fileserver import running

SERVICE = "/api/v1/namespaces/kube-system/services/sealed-secrets-controller"
CERT = "/api/v1/namespaces/kube-system/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem"


@contextlib.contextmanager
def api_server(cert_body: list[bytes]) -> Iterator[str]:
    """An API server with the controller's Service; its proxy answers /v1/cert.pem with cert_body[0]."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # kept-alive connections: the pool's reuse is exercised

        def do_GET(self) -> None:
            if self.path == SERVICE:
                body = json.dumps({"spec": {"ports": [{"name": "http", "port": 8080}]}}).encode()
            elif self.path == CERT:
                body = cert_body[0]
            else:
                body = b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(ConnectionError):  # the client cut an answer it would not read
                self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    with running(Handler) as url:
        yield url


def test_an_answer_over_the_input_cap_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A controller (or anything behind its Service) answering without end filled the memory of `seal` in CI:
    the answer is read up to the input cap, and the connection that was cut is not reused."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("SEALKIT_MAX_INPUT_BYTES", "1000")
    body = [b"A" * 4_000_000]
    with api_server(body) as url:
        proxy = ControllerProxy(ClusterOptions(overrides=ClientOverrides(server=url, token="t")))
        with pytest.raises(TooLarge) as caught:
            proxy.cert_pem()
        limit = "larger than the 1000 bytes input limit (raise it with SEALKIT_MAX_INPUT_BYTES)"
        assert str(caught.value) == f"{limit}: the answer to GET {CERT}"
        body[0] = b"B" * 1000  # exactly the cap: read whole, and the next request still works
        assert proxy.cert_pem() == b"B" * 1000
        assert proxy.cert_pem() == b"B" * 1000
