"""Contract at the HTTP level: discovery paths as clients spell them, watch edge cases, media types, DSL."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from sealkit_testservers.kube import KubeServer

SS_PATH = "/apis/bitnami.com/v1alpha1/namespaces/default/sealedsecrets"


async def _get(kube: KubeServer, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(kube.url + path) as response:
        return response.status, await response.json(content_type=None)


@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/",
        "/apis",
        "/apis/",
        "/api/v1",
        "/api/v1/",
        "/apis/bitnami.com",
        "/apis/bitnami.com/v1alpha1/",
        "/version",
        "/",
    ],
)
async def test_discovery_paths_with_and_without_trailing_slash(kube: KubeServer, path: str) -> None:
    status, body = await _get(kube, path)
    assert status == 200, body
    if path.startswith("/api/v1"):
        assert body["groupVersion"] == "v1"
    if path.rstrip("/") == "/api":
        assert body["serverAddressByClientCIDRs"]
    if path.rstrip("/") == "/apis/bitnami.com/v1alpha1":
        entries = {r["name"]: r for r in body["resources"]}
        assert entries["sealedsecrets"]["namespaced"] is True
        assert "sealedsecrets/status" in entries


async def test_unknown_resource_is_404_with_status_body(kube: KubeServer) -> None:
    status, body = await _get(kube, "/apis/nope.example.com/v1/things")
    assert status == 404 and body["kind"] == "Status" and body["code"] == 404


async def test_strategic_merge_is_refused_for_custom_resources(kube: KubeServer) -> None:
    kube.create(
        {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "s"},
            "spec": {"encryptedData": {}},
        }
    )
    headers = {"Content-Type": "application/strategic-merge-patch+json"}
    async with (
        aiohttp.ClientSession() as session,
        session.patch(kube.url + SS_PATH + "/s", data=json.dumps({"spec": {}}), headers=headers) as response,
    ):
        assert response.status == 415


async def test_initial_events_end_with_a_bookmark_as_kopf_requests(kube: KubeServer) -> None:
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}})
    params = {
        "watch": "true",
        "allowWatchBookmarks": "true",
        "sendInitialEvents": "true",
        "resourceVersionMatch": "NotOlderThan",
        "timeoutSeconds": "1",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.get(kube.url + "/api/v1/namespaces/default/configmaps", params=params) as response,
    ):
        lines = [json.loads(line) async for line in response.content if line.strip()]
    assert [e["type"] for e in lines] == ["ADDED", "BOOKMARK"]
    assert lines[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"


async def test_watch_from_an_expired_resource_version_gets_410() -> None:
    with KubeServer(history=3) as kube:
        for n in range(6):
            kube.create(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{n}", "namespace": "default"}}
            )
        params = {"watch": "true", "resourceVersion": "1", "timeoutSeconds": "1"}
        async with (
            aiohttp.ClientSession() as session,
            session.get(kube.url + "/api/v1/configmaps", params=params) as response,
        ):
            lines = [json.loads(line) async for line in response.content if line.strip()]
    assert lines[0]["type"] == "ERROR" and lines[0]["object"]["code"] == 410


async def test_kmock_dsl_reactions_still_apply(kube: KubeServer) -> None:
    def react() -> None:
        kube.emulator["get /api/v1/namespaces/default/secrets/teapot"] << 418

    kube.call(react)
    async with aiohttp.ClientSession() as session:
        async with session.get(kube.url + "/api/v1/namespaces/default/secrets/teapot") as response:
            assert response.status == 418
        async with session.get(kube.url + "/api/v1/namespaces/default/secrets/other") as response:
            assert response.status == 404  # everything else still reaches the store


def test_subprocess_mode_serves_and_writes_kubeconfig(kube_process: Any) -> None:
    import kubernetes as _kubernetes

    kubernetes: Any = _kubernetes  # the generated client's strict types add nothing here
    client = kubernetes.config.new_client_from_config(str(kube_process.kubeconfig))
    core = kubernetes.client.CoreV1Api(client)
    core.create_namespaced_secret("default", {"metadata": {"name": "via-process"}})
    assert [s.metadata.name for s in core.list_namespaced_secret("default").items] == ["via-process"]
    assert kube_process.url.startswith("http://127.0.0.1:")
    client.close()
