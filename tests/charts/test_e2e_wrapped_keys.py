"""End to end: wrapped sealing keys with the controller as the chart runs it.

The chart rendered with `controller.kek` naming a KEK in the local Key Vault (no version: its newest wraps),
applied to the Kubernetes emulator with RBAC enforced; the real `sealkit controller` process runs with the
Deployment's own args and plain env values (`SEALKIT_DEPLOYMENT_NAME` included), as the chart's service
account, and gets its Azure identity from the workload identity environment (as the pod would, no
credential handed in). It must generate its key wrapped, unseal with it, report a disabled KEK on its own
Deployment without writing a plaintext key, and never need a permission the chart does not grant.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from charttools import Render
from test_e2e_gitops import Release, apply, assert_clean_run, controller_process, start_controller

from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret
from sealkit.wrapping.names import WRAPPED_KEY_LABEL, WRAPPED_KEY_TYPE
from sealkit_testservers.keyvault import KeyVaultServer
from sealkit_testservers.kube import KubeServer
from tests.support.wrapped import Kek, assert_no_leak, cluster_outputs

__all__ = ["controller_process"]  # the fixture, used by name

NS = "kube-system"
RELEASE = "sealed-secrets-controller"
BITNAMI_KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"


def key_secrets(kube: KubeServer) -> list[dict[str, Any]]:
    found = kube.list("v1", "Secret", NS)
    return [s for s in found if {BITNAMI_KEY_LABEL, WRAPPED_KEY_LABEL} & set(s["metadata"].get("labels") or {})]


def events(kube: KubeServer, reason: str) -> list[dict[str, Any]]:
    return [e for e in kube.list("v1", "Event", NS) if e.get("reason") == reason]


@pytest.mark.slow
@pytest.mark.kube_emulator(rbac=True)
def test_chart_controller_wraps_its_keys_and_reports_a_disabled_kek_on_its_deployment(
    kube: KubeServer,
    render: Render,
    keyvault_server: KeyVaultServer,
    keyvault_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    controller_process: list[Any],
) -> None:
    vault = keyvault_server.add_vault("kv-kek")
    vault.add_key("kek", kty="RSA", size=2048)
    kek = Kek(keyvault_server, vault)
    values = {
        "controller": {
            "keySize": 2048,
            "kek": {"url": kek.url, "auth": "workload-identity", "timeout": "5s"},
        }
    }
    objects = render(values, release=RELEASE, namespace=NS)
    release = Release(RELEASE, NS, values, objects)
    assert f"--kek-url={kek.url}" in release.args
    (container,) = release.deployment["spec"]["template"]["spec"]["containers"]
    for entry in container.get("env") or []:
        if "value" in entry:  # SEALKIT_DEPLOYMENT_NAME, TMPDIR (the downward API ones start_controller sets)
            monkeypatch.setenv(entry["name"], entry["value"])
    monkeypatch.delenv("AZURE_CLIENT_SECRET", raising=False)  # workload identity only, as in the pod
    apply(kube, objects)
    proc, log = start_controller(kube, release, tmp_path, controller_process)

    # 1. The first key is generated wrapped (one unwrap: the check of the wrap) and never in plaintext.
    (secret,) = kube.wait_for(lambda k: key_secrets(k) or None, timeout=60)
    assert secret["type"] == WRAPPED_KEY_TYPE and "tls.key" not in secret["data"]
    assert base64.b64decode(secret["data"]["kek.id"]).decode() == vault.key_id("kek", vault.versions("kek", "key")[-1])
    assert kek.unwraps() == 1
    key = kek.open_locally(secret)
    # 2. It unseals: a SealedSecret sealed for its certificate converges.
    cert = load_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    plain = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "default"}}
    kube.create(seal_secret({**plain, "stringData": {"password": "s3cret-db"}}, cert))
    got = kube.wait_for(lambda k: k.get("v1", "Secret", "db", "default"), timeout=30)
    assert base64.b64decode(got["data"]["password"]) == b"s3cret-db"
    # 3. The KEK is disabled and the key retired: no key is written, the reason is an event on the Deployment.
    vault.disable_key("kek")
    name = secret["metadata"]["name"]
    kube.patch("v1", "Secret", name, {"metadata": {"labels": {WRAPPED_KEY_LABEL: "retired"}}}, NS)
    (event,) = kube.wait_for(lambda k: events(k, "ErrKeyEncryptionKey") or None, timeout=30)
    assert event["involvedObject"]["kind"] == "Deployment" and event["involvedObject"]["name"] == RELEASE
    assert event["type"] == "Warning" and "disabled" in event["message"]
    assert len(key_secrets(kube)) == 1
    # 4. The KEK is back: the retry makes the new key, wrapped.
    vault.enable_key("kek")
    kube.wait_for(lambda k: len(key_secrets(k)) == 2 or None, timeout=30)
    assert {s["type"] for s in key_secrets(kube)} == {WRAPPED_KEY_TYPE}
    assert_clean_run(kube, proc, log, "s3cret-db")
    keys = [kek.open_locally(s) for s in key_secrets(kube)]
    assert key.fingerprint in {k.fingerprint for k in keys}
    assert_no_leak({"log": log.read_text(), **cluster_outputs(kube)}, keys)
