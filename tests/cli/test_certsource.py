"""`sealkit_cli.certsource.fetch_url`: a certificate from an http(s) URL, and why not, in words."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealkit.clients.kube.api import Unreachable
from sealkit.errors import InputError
from sealkit_cli.certsource import fetch_url
from tests.support.fileserver import serving

EXAMPLE_CERT = Path(__file__).resolve().parents[2] / "examples/gitops/clusters/example-cluster-cert.pem"


@pytest.fixture
def cert_server() -> Iterator[str]:
    with serving("/v1/cert.pem", EXAMPLE_CERT.read_bytes()) as url:
        yield url


def test_the_certificate_from_a_url(cert_server: str) -> None:
    assert fetch_url(f"{cert_server}/v1/cert.pem") == EXAMPLE_CERT.read_bytes()


def test_an_http_error_is_its_status(cert_server: str) -> None:
    with pytest.raises(Unreachable) as caught:
        fetch_url(f"{cert_server}/missing.pem")
    assert str(caught.value) == f"cannot fetch the certificate (HTTP 404): {cert_server}/missing.pem"


def test_a_refused_connection_is_said_in_words() -> None:
    with socket.socket() as probe:  # a port nothing listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/cert.pem"
        with pytest.raises(Unreachable) as caught:
            fetch_url(url)
    assert str(caught.value) == f"cannot fetch the certificate (connection refused): {url}"
    assert "Errno" not in str(caught.value)


def test_only_http_urls() -> None:
    with pytest.raises(InputError, match="not an http"):
        fetch_url("ftp://example.invalid/cert.pem")


def test_a_url_with_credentials_sends_them_and_never_shows_them() -> None:
    """kubeseal's Go client sends a URL's user and password as basic authentication; messages show the URL
    with `***` for them and for its query (a SAS token or API key travels there): it was the whole URL, and a
    password holding letters read as a port that is not a number ('internal error')."""
    import http.server
    import threading
    from typing import Any

    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(403)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        with pytest.raises(Unreachable) as caught:
            fetch_url(f"http://ci%40example:Pl4nted-Pw@127.0.0.1:{port}/cert.pem?sig=Pl4nted-Sig")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert seen == ["Basic Y2lAZXhhbXBsZTpQbDRudGVkLVB3"]  # ci@example:Pl4nted-Pw
    assert str(caught.value) == f"cannot fetch the certificate (HTTP 403): http://***@127.0.0.1:{port}/cert.pem?***"
    for url in ("https://u:Pl4nted@127.0.0.1:99999/c.pem", "http://u:Pl4nted@127.0.0.1:port/c.pem", "http://[::1"):
        with pytest.raises(InputError) as refused:
            fetch_url(url)
        assert "Pl4nted" not in str(refused.value) and str(refused.value).startswith("not a valid http(s) URL: ")
