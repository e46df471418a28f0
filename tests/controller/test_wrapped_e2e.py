"""End to end on the Kubernetes emulator: wrapped keys from the first start, escrow, restart, the DR readiness check.

The real controller (Kopf) with a KEK and key escrow in the local Key Vault (real azure-identity workload
identity and Key Vault SDKs); the config repo is a folder of SealedSecret files; `sealkit keys check-recovery`
runs as the real command in a subprocess, with the environment a CI job would have (no cluster access).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.escrow import scheme
from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret
from sealkit_controller.wiring import ControllerThread
from sealkit_testservers.keyvault import KeyVaultServer
from tests.support.cluster import CONTROLLER_NS, Cluster, LogLines
from tests.support.wrapped import Kek, assert_no_leak, cluster_outputs, http_text, vault_outputs, wrapped_secrets

CLUSTER = "prod"


@pytest.fixture
def kek(keyvault_server: KeyVaultServer, keyvault_env: dict[str, str]) -> Kek:
    vault = keyvault_server.add_vault("kv-kek")
    vault.add_key("sealing-kek", kty="RSA", size=3072)
    return Kek(keyvault_server, vault, "sealing-kek")


def check_recovery(repo: Path, escrow_url: str, server: KeyVaultServer) -> subprocess.CompletedProcess[str]:
    """The nightly job: `sealkit keys check-recovery` with vault access only (workload identity env)."""
    env = {**os.environ, **server.env()}
    for name in ("KUBECONFIG", "AZURE_CLIENT_SECRET", "SEALKIT_ESCROW_VAULT", "SEALKIT_ESCROW_CLUSTER_NAME"):
        env.pop(name, None)
    command = [str(Path(sys.executable).parent / "sealkit"), "keys", "check-recovery", str(repo)]
    command += ["--vault", escrow_url, "--cluster-name", CLUSTER, "--auth", "workload-identity", "--timeout", "5"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def seal_into(repo: Path, controller: ControllerThread, names: list[str]) -> list[dict[str, Any]]:
    """SealedSecrets sealed with the controller's current certificate, written to the repo."""
    cert = load_certificate(http_text(controller.api_url + "/v1/cert.pem")[4:].encode())
    sealed = []
    for name in names:
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "shop"}}
        obj = seal_secret({**secret, "stringData": {"password": f"pw-{name}"}}, cert)
        (repo / f"shop.{name}.sealedsecret.yaml").write_text(yaml.safe_dump(obj))
        sealed.append(obj)
    return sealed


def test_wrapped_keys_from_the_start_restart_and_recovery_check(
    cluster: Cluster, kek: Kek, keyvault_server: KeyVaultServer, logs: LogLines, tmp_path: Path
) -> None:
    escrow_vault = keyvault_server.add_vault("kv-escrow")
    cluster.kube.create_namespace("shop")
    repo = tmp_path / "config-repo" / "clusters" / CLUSTER / "secrets"
    repo.mkdir(parents=True)
    settings = kek.controller_settings(
        escrow_vault=escrow_vault.url,
        escrow_cluster_name=CLUSTER,
        escrow_credential=keyvault_server.credential("workload"),
        escrow_timeout=5.0,
    )

    def converged(names: list[str]) -> bool:
        return all(cluster.data(name, "shop") == {"password": f"pw-{name}".encode()} for name in names)

    # 1. A new cluster: the first key is generated wrapped and escrowed wrapped before it is served.
    controller = cluster.start(**settings)
    try:
        first_batch = ["orders-db", "orders-registry"]
        for obj in seal_into(repo, controller, first_batch):
            cluster.create(obj)
        cluster.wait(lambda: converged(first_batch))
    finally:
        controller.stop()
    # 2. A key renewal (--key-cutoff-time: the newest key predates it), then more SealedSecrets.
    controller = cluster.start(**settings, key_cutoff_time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    try:
        cluster.wait(lambda: len(wrapped_secrets(cluster.kube.list("v1", "Secret", CONTROLLER_NS))) == 2)
        second_batch = ["payments-webhook"]
        cluster.wait(lambda: http_text(controller.api_url + "/v1/cert.pem").startswith("200"))
        for obj in seal_into(repo, controller, second_batch):
            cluster.create(obj)
        cluster.wait(lambda: converged(first_batch + second_batch))
    finally:
        controller.stop()
    key_secrets = cluster.kube.list("v1", "Secret", CONTROLLER_NS)
    assert all(s["type"] == "sealkit.io/wrapped-sealing-key" for s in key_secrets if "tls.crt" in (s.get("data") or {}))
    # 3. Restart: both keys unwrapped once each, and every SealedSecret still opens (Secrets re-created).
    for name in first_batch + second_batch:
        cluster.kube.delete("v1", "Secret", name, "shop")
    kek.vault.clear_requests()
    controller = cluster.start(**settings)
    try:
        cluster.wait(lambda: converged(first_batch + second_batch))
        assert kek.unwraps() == 2
        metrics = http_text(controller.metrics_url + "/metrics")
    finally:
        controller.stop()
    # 4. The DR readiness check passes: every SealedSecret opens from the escrowed (wrapped) keys alone.
    entries = escrow_vault.names()
    assert len(entries) == 2
    assert {escrow_vault.secret(n).content_type for n in entries} == {scheme.WRAPPED_CONTENT_TYPE}
    ok = check_recovery(repo, escrow_vault.url, keyvault_server)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.strip().endswith("all open") and "3 SealedSecret(s) in 3 file(s)" in ok.stdout
    # 5. One escrowed key is deleted in the vault: the check names exactly the SealedSecrets it sealed.
    first_key = [kek.open_locally(s) for s in wrapped_secrets(key_secrets)]
    first_fp = min(first_key, key=lambda k: k.not_before or dt.datetime.min.replace(tzinfo=dt.UTC)).fingerprint
    escrow_vault.delete(scheme.secret_name(CLUSTER, first_fp))
    lost = check_recovery(repo, escrow_vault.url, keyvault_server)
    assert lost.returncode == 1, lost.stdout + lost.stderr
    named = sorted(line.split(": ")[2] for line in lost.stdout.splitlines() if line.startswith("would be lost"))
    assert named == sorted(f"shop/{n}" for n in first_batch)
    assert "2 would NOT open after losing the cluster" in lost.stdout
    outputs = {
        **cluster_outputs(cluster.kube),
        **vault_outputs(escrow_vault),
        "log": logs.text,
        "metrics": metrics,
        "check ok": ok.stdout + ok.stderr,
        "check lost": lost.stdout + lost.stderr,
    }
    assert_no_leak(outputs, first_key)
