"""A minimal real Kopf operator, spawned in the test, runs against the emulator end to end.

It watches SealedSecrets, creates an owned Secret with the `kubernetes` client, patches status, posts an
event, and cleans up through its finalizer; the Secret then goes by ownerReference garbage collection.
"""

from __future__ import annotations

import asyncio
import base64
import pathlib
import threading
from collections.abc import Iterator
from typing import Any

import kopf
import kubernetes as _kubernetes
import pytest

from sealkit_testservers.kube import KubeServer

kubernetes: Any = _kubernetes  # the generated client's strict types add nothing to contract tests

GROUP, VERSION, PLURAL = "bitnami.com", "v1alpha1", "sealedsecrets"
API_VERSION = f"{GROUP}/{VERSION}"


def _registry(kube: KubeServer, kubeconfig: pathlib.Path) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    core = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(str(kubeconfig)))

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(server=kube.url, insecure=True)

    @kopf.on.create(GROUP, VERSION, PLURAL, registry=registry)
    def created(body: kopf.Body, spec: kopf.Spec, meta: kopf.Meta, patch: kopf.Patch, **_: Any) -> None:
        # A stand-in "unseal": this test is about the API traffic, not the cryptography.
        data = {k: base64.b64encode(v.encode()).decode() for k, v in spec["encryptedData"].items()}
        secret: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": meta["name"]},
            "data": data,
        }
        kopf.adopt(secret, owner=body)
        core.create_namespaced_secret(meta["namespace"], secret)
        patch.status["conditions"] = [{"type": "Synced", "status": "True"}]
        patch.status["observedGeneration"] = meta["generation"]
        kopf.info(body, reason="Unsealed", message="secret created")

    @kopf.on.delete(GROUP, VERSION, PLURAL, registry=registry)
    def deleted(**_: Any) -> None:
        pass

    return registry


@pytest.fixture(params=["clusterwide", "namespaced"])
def operator(kube: KubeServer, kubeconfig: pathlib.Path, request: pytest.FixtureRequest) -> Iterator[None]:
    registry = _registry(kube, kubeconfig)
    settings = kopf.OperatorSettings()
    settings.watching.server_timeout = 5
    settings.networking.error_backoffs = [0.1, 0.2]
    ready, stop = threading.Event(), threading.Event()

    def run() -> None:
        # "namespaced" makes Kopf list and watch Namespace objects to resolve the glob.
        scope: dict[str, Any] = {"clusterwide": True} if request.param == "clusterwide" else {"namespaces": ["def*"]}
        asyncio.run(
            kopf.operator(
                registry=registry, settings=settings, standalone=True, ready_flag=ready, stop_flag=stop, **scope
            )
        )

    thread = threading.Thread(target=run, name="kopf-operator", daemon=True)
    thread.start()
    assert ready.wait(20), "Kopf did not get ready against the emulator"
    try:
        yield
    finally:
        stop.set()
        thread.join(20)
        assert not thread.is_alive(), "Kopf did not stop"


def _synced(kube: KubeServer) -> dict[str, Any] | None:
    obj = kube.get(API_VERSION, "SealedSecret", "db", "default")
    return obj if obj and obj.get("status", {}).get("conditions") else None


def test_kopf_operator_creates_secret_patches_status_and_finalizes(kube: KubeServer, operator: None) -> None:
    kube.create(
        {
            "apiVersion": API_VERSION,
            "kind": "SealedSecret",
            "metadata": {"name": "db", "namespace": "default"},
            "spec": {"encryptedData": {"password": "not-really-encrypted"}},
        }
    )

    secret = kube.wait_for(lambda k: k.get("v1", "Secret", "db", "default"))
    assert base64.b64decode(secret["data"]["password"]) == b"not-really-encrypted"
    owner = secret["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("SealedSecret", "db")

    sealed = kube.wait_for(_synced)
    assert sealed["status"]["conditions"][0]["type"] == "Synced"
    assert sealed["status"]["observedGeneration"] == 1
    assert "kopf" not in sealed["status"], "an undeclared status field must be pruned like on a cluster"
    assert "kopf.zalando.org/KopfFinalizerMarker" in sealed["metadata"]["finalizers"]

    events = kube.wait_for(lambda k: [e for e in k.list("v1", "Event", "default") if e["reason"] == "Unsealed"])
    assert events[0]["involvedObject"]["name"] == "db"

    assert kube.delete(API_VERSION, "SealedSecret", "db", "default") is False  # the finalizer holds it
    kube.wait_for(lambda k: k.get(API_VERSION, "SealedSecret", "db", "default") is None)
    kube.wait_for(lambda k: k.get("v1", "Secret", "db", "default") is None)  # garbage-collected
    assert not [r for r in kube.request_log if r.status >= 500]
    handled = [r for r in kube.request_log if r.method == "PATCH" and "sealedsecrets/db" in r.path]
    assert handled and all(r.status == 200 for r in handled)
