"""KubeClient's requests go straight to the SDK's urllib3 pool: URL, headers, body and timeouts as the SDK made them."""

from __future__ import annotations

import json
from typing import Any

import kubernetes

from sealkit.clients.kube.api import KubeClient


class FakeResponse:
    def __init__(self) -> None:
        self.status, self.reason, self.data = 200, "OK", b'{"items": []}'
        self.headers: dict[str, str] = {}


class FakePool:
    """Stands in for the SDK's urllib3 PoolManager: records what would be sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        self.sent.append({"method": method, "url": url, **kwargs})
        return FakeResponse()


def client() -> tuple[KubeClient, FakePool]:
    configuration = kubernetes.client.Configuration()
    configuration.host = "https://api.example:6443"
    configuration.api_key = {"BearerToken": "Bearer t0ken"}
    kube = KubeClient(configuration, 12.0)
    pool = FakePool()
    kube._api.rest_client.pool_manager = pool
    return kube, pool


def test_query_auth_and_user_agent_as_the_sdk_builds_them() -> None:
    kube, pool = client()
    selector = "app in (a, b),tier!=x,owner=team/one"
    kube.list_secrets("ns-1", selector)
    (sent,) = pool.sent
    query = kube._api.parameters_to_url_query([("labelSelector", selector)], None)
    assert sent["url"] == f"https://api.example:6443/api/v1/namespaces/ns-1/secrets?{query}"
    assert sent["method"] == "GET" and sent["body"] is None
    assert sent["headers"]["authorization"] == "Bearer t0ken"
    assert sent["headers"]["User-Agent"] == kube._api.user_agent and sent["headers"]["Accept"] == "application/json"
    assert (sent["timeout"].connect_timeout, sent["timeout"].read_timeout) == (12.0, 12.0)


def test_bodies_are_json_with_their_content_type() -> None:
    kube, pool = client()
    kube.create_secret("ns", {"metadata": {"name": "s"}, "data": {"k": "dg=="}})
    kube.patch_sealed_secret_status("ns", "s", {"observedGeneration": 2})
    create, patch = pool.sent
    assert json.loads(create["body"]) == {"metadata": {"name": "s"}, "data": {"k": "dg=="}}
    assert create["headers"]["Content-Type"] == "application/json"
    assert json.loads(patch["body"]) == {"status": {"observedGeneration": 2}}
    assert patch["headers"]["Content-Type"] == "application/merge-patch+json"
    assert patch["url"].endswith("/apis/bitnami.com/v1alpha1/namespaces/ns/sealedsecrets/s/status")
    kube.raw("POST", "/api/v1/namespaces/ns/services/x/proxy/v1/raw", body=b"as is", content_type="text/plain")
    assert pool.sent[-1]["body"] == b"as is"  # a body of another content type goes as given


def test_no_timeout_means_none() -> None:
    kube, pool = client()
    kube._timeout = None
    kube.get_secret("ns", "s")
    assert pool.sent[0]["timeout"] is None


def test_retries_are_set_on_the_client_not_on_the_shared_configuration() -> None:
    """The controller's clients share one configuration: a client built with retries=0 (fail fast, the Lease
    client) changed every other client's retries too."""
    configuration = kubernetes.client.Configuration()
    configuration.host = "https://api.example:6443"
    configuration.retries = None
    kube = KubeClient(configuration, 12.0, retries=0)
    assert kube.configuration.retries == 0
    assert configuration.retries is None
