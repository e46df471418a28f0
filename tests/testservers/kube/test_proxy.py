"""The service proxy forwards to a registered local backend the way the API server proxies to a Service."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import kubernetes as _kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from sealkit_testservers.kube import KubeServer

kubernetes: Any = _kubernetes  # the generated client's strict types add nothing to contract tests


class _Echo(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        payload = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "body": body,
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
        ).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Backend", "echo")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def backend() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def service(kube: KubeServer, backend: str) -> None:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "sealed-secrets", "namespace": "kube-system"},
            "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]},
        }
    )
    kube.register_service_backend("kube-system", "sealed-secrets", "http", backend)


@pytest.mark.parametrize(
    "name",
    [
        "http:sealed-secrets:http",
        "sealed-secrets:8080",
        "sealed-secrets:http",
        "sealed-secrets",
        ":sealed-secrets:8080",
    ],
)
def test_kubernetes_client_proxy_call_reaches_the_backend(kube_api_client: Any, service: None, name: str) -> None:
    core = kubernetes.client.CoreV1Api(kube_api_client)
    raw = core.connect_get_namespaced_service_proxy_with_path(
        name, "kube-system", "v1/cert.pem", _preload_content=False
    )
    answer = json.loads(raw.data)
    assert answer["method"] == "GET" and answer["path"] == "/v1/cert.pem"
    assert answer["headers"]["x-forwarded-for"] == "127.0.0.1"


def test_method_body_query_and_headers_are_forwarded(kube: KubeServer, service: None) -> None:
    url = kube.url + "/api/v1/namespaces/kube-system/services/http:sealed-secrets:http/proxy/v1/verify?x=1&y=2"
    request = urllib.request.Request(
        url,
        data=b'{"sealed": true}',
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Bearer must-not-leak", "X-Custom": "yes"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201 and response.headers["X-Backend"] == "echo"
        answer = json.loads(response.read())
    assert answer["path"] == "/v1/verify?x=1&y=2" and answer["body"] == '{"sealed": true}'
    assert answer["headers"]["x-custom"] == "yes" and "authorization" not in answer["headers"]


def test_missing_service_is_404_and_missing_backend_is_503(kube: KubeServer, kube_api_client: Any) -> None:
    core = kubernetes.client.CoreV1Api(kube_api_client)
    with pytest.raises(ApiException) as missing:
        core.connect_get_namespaced_service_proxy_with_path("nope:http", "default", "x")
    assert missing.value.status == 404
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "bare", "namespace": "default"},
            "spec": {"ports": [{"port": 80}]},
        }
    )
    with pytest.raises(ApiException) as unbacked:
        core.connect_get_namespaced_service_proxy_with_path("bare", "default", "x")
    assert unbacked.value.status == 503
    with pytest.raises(urllib.error.HTTPError) as wrong_port:
        urllib.request.urlopen(kube.url + "/api/v1/namespaces/default/services/bare:9999/proxy/")
    assert wrong_port.value.code == 503
