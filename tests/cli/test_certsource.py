"""`sealkit_cli.certsource.fetch_url`: a certificate from an http(s) URL, and why not, in words."""

from __future__ import annotations

import contextlib
import http.server
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealkit.clients.kube.api import Unreachable
from sealkit.errors import InputError
from sealkit_cli.certsource import fetch_url
from tests.support.fileserver import running, serving

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
    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(403)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    with running(Handler) as url, pytest.raises(Unreachable) as caught:
        port = url.rpartition(":")[2]
        fetch_url(f"http://ci%40example:Pl4nted-Pw@127.0.0.1:{port}/cert.pem?sig=Pl4nted-Sig")
    assert seen == ["Basic Y2lAZXhhbXBsZTpQbDRudGVkLVB3"]  # ci@example:Pl4nted-Pw
    assert str(caught.value) == f"cannot fetch the certificate (HTTP 403): http://***@127.0.0.1:{port}/cert.pem?***"
    for url in ("https://u:Pl4nted@127.0.0.1:99999/c.pem", "http://u:Pl4nted@127.0.0.1:port/c.pem", "http://[::1"):
        with pytest.raises(InputError) as refused:
            fetch_url(url)
        assert "Pl4nted" not in str(refused.value) and str(refused.value).startswith("not a valid http(s) URL: ")


@contextlib.contextmanager
def _recording(host: str, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> Iterator[tuple[str, list[Any]]]:
    """A server on `host` answering `routes` (path -> status, headers, body) and recording (path, Authorization)."""
    seen: list[tuple[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            status, headers, body = routes.get(self.path, (404, {}, b""))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    with running(Handler, host) as url:
        yield url, seen


def test_credentials_follow_a_redirect_only_to_the_same_host() -> None:
    """Go's client sends a URL's credentials after a redirect only to the same host; urllib forwarded the
    Authorization header to wherever a redirect pointed (a certificate host could hand them to any other)."""
    cert = EXAMPLE_CERT.read_bytes()
    with _recording("127.0.0.2", {"/cert.pem": (200, {}, cert)}) as (other, other_seen):
        routes = {
            "/here": (302, {"Location": "/cert.pem"}, b""),
            "/cert.pem": (200, {}, cert),
            "/away": (302, {"Location": f"{other}/cert.pem"}, b""),
        }
        with _recording("127.0.0.1", routes) as (home, home_seen):
            authority = home.removeprefix("http://")
            assert fetch_url(f"http://u:Pl4nted@{authority}/here") == cert
            assert fetch_url(f"http://u:Pl4nted@{authority}/away") == cert
    basic = "Basic dTpQbDRudGVk"  # u:Pl4nted
    assert home_seen == [("/here", basic), ("/cert.pem", basic), ("/away", basic)]
    assert other_seen == [("/cert.pem", None)], "never sent to another host"


@pytest.mark.parametrize(
    ("start", "target", "why"),
    [
        ("https://certs.example.test/c.pem", "http://certs.example.test/c.pem", "redirected from https to http"),
        ("http://certs.example.test/c.pem", "ftp://certs.example.test/c.pem", "redirected to a URL that is not http"),
        ("https://certs.example.test/c.pem", "file:///etc/passwd", "redirected to a URL that is not http"),
    ],
)
def test_redirects_stay_on_http_and_never_step_down_from_tls(start: str, target: str, why: str) -> None:
    """A certificate fetched in clear text (or over FTP, which urllib follows) can be anyone's: the secrets
    sealed for it would open for whoever answered."""
    import urllib.request

    from sealkit_cli.certsource import _origin, _redirects

    handler = _redirects("where", _origin(start), None)
    with pytest.raises(Unreachable, match=f"^cannot fetch the certificate \\({why}.*\\): where$"):
        handler.redirect_request(urllib.request.Request(start), None, 302, "Found", {}, target)
