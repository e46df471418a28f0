"""Why a request got no answer, read from the real libraries' exceptions (requests/urllib3 and azure-core's
wrapper around them): words, never a class name, an object repr or `HTTPSConnection(host=..., port=...)`."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest
import requests
from azure.core.exceptions import ServiceRequestError

from sealkit.clients.transport import transport_cause


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def failure(url: str) -> requests.exceptions.RequestException:
    with pytest.raises(requests.exceptions.RequestException) as failed:
        requests.get(url, timeout=5)
    return failed.value


@pytest.fixture
def plain_http() -> Iterator[int]:
    """An HTTP server without TLS, on a free port."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_connection_is_named_also_through_the_azure_sdk_wrapper() -> None:
    refused = failure(f"https://127.0.0.1:{free_port()}/secrets")
    assert "HTTPSConnection" in str(refused), "the library's own text names its internals"
    assert transport_cause(refused) == "connection refused"
    wrapped = ServiceRequestError(str(refused), error=refused)
    assert transport_cause(wrapped) == "connection refused"


def test_tls_to_a_port_without_tls_is_named(plain_http: int) -> None:
    assert transport_cause(failure(f"https://127.0.0.1:{plain_http}/")) == (
        "TLS: the server does not speak TLS on this port"
    )


def test_a_cause_it_cannot_name_is_no_answer_never_the_exception() -> None:
    assert transport_cause(RuntimeError("<object at 0x7f>")) == "no answer"
    assert transport_cause(OSError(113, "No route to host")) == "no route to host"
    assert transport_cause(OSError(5, "Input/output error")) == "input/output error"
