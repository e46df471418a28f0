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
