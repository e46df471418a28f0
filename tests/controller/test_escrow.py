"""Key escrow in the running controller: the real operator against the Kubernetes emulator and the local
Key Vault (real azure-keyvault-secrets client and azure-identity workload identity credential)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.escrow import scheme as escrow
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate, load_private_keys
from sealkit_controller.wiring import ControllerThread
from sealkit_testservers.keyvault import KeyVaultServer, Vault
from sealkit_testservers.kube import KubeServer
from tests.support.cluster import CONTROLLER_NS, Cluster, LogLines
from tests.support.processes import stopped
from tests.support.wrapped import http_text

ROOT = Path(__file__).resolve().parents[2]
FAILURES = "sealed_secrets_controller_escrow_failures_total"
PENDING = "sealed_secrets_controller_escrow_pending_keys"


@pytest.fixture(scope="module")
def pairs() -> list[GeneratedKey]:
    now = dt.datetime.now(dt.UTC)
    return [generate_key_pair(bits=2048, now=now - dt.timedelta(days=10 - i)) for i in range(2)]


@pytest.fixture
def vault(keyvault_server: KeyVaultServer, keyvault_env: dict[str, str]) -> Vault:
    return keyvault_server.add_vault("kv-escrow")


@pytest.fixture
def cluster(kube: KubeServer, kubeconfig: Path, pairs: list[GeneratedKey]) -> Cluster:
    return Cluster(kube, kubeconfig, list(pairs))


@pytest.fixture
def logs() -> Iterator[LogLines]:
    import logging

    handler = LogLines()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def escrow_settings(keyvault_server: KeyVaultServer, vault: Vault, **overrides: Any) -> dict[str, Any]:
    return {
        "escrow_vault": vault.url,
        "escrow_cluster_name": "dev",
        "escrow_credential": keyvault_server.credential("workload"),
        "escrow_timeout": 2.0,
        **overrides,
    }


def key_secrets(kube: KubeServer) -> list[dict[str, Any]]:
    return [
        s
        for s in kube.list("v1", "Secret", CONTROLLER_NS)
        if (s["metadata"].get("labels") or {}).get(SEALING_KEY_LABEL) == "active"
    ]


def held(kube: KubeServer) -> set[str]:
    import json

    return {k.fingerprint for s in key_secrets(kube) for k in load_private_keys(json.dumps(s).encode())}


def escrowed(vault: Vault, cluster: str = "dev") -> dict[str, str]:
    """fingerprint -> secret name of every escrowed key of `cluster` (checked like a restore would)."""
    client = vault.client()
    out = {}
    for name in vault.names():
        secret = client.get_secret(name)
        key = escrow.parse_payload(secret.value, name=name, cluster=cluster, tags=secret.properties.tags)
        assert secret.properties.content_type == "application/x-pem-file"
        assert secret.properties.tags["cluster"] == cluster and secret.properties.tags["sealkit-escrow"] == "1"
        out[key.fingerprint] = name
    return out


def metric(controller: ControllerThread, name: str, **labels: str) -> float:
    value = controller.runtime.metrics.registry.get_sample_value(name, labels or None)
    return float(value or 0.0)


def escrow_events(cluster: Cluster) -> list[dict[str, Any]]:
    return [e for e in cluster.kube.list("v1", "Event", CONTROLLER_NS) if e.get("reason") == "ErrEscrowFailed"]


def check_no_key_material(text: str, pairs: list[GeneratedKey]) -> None:
    assert "PRIVATE KEY" not in text
    for pair in pairs:
        assert pair.private_pem.decode().splitlines()[3] not in text


def test_first_key_is_escrowed_and_read_back(
    cluster: Cluster, keyvault_server: KeyVaultServer, vault: Vault, logs: LogLines, pairs: list[GeneratedKey]
) -> None:
    with cluster.start(**escrow_settings(keyvault_server, vault)) as controller:
        (generated,) = cluster.wait(lambda: held(cluster.kube) or None)
        names = cluster.wait(lambda: escrowed(vault) or None)
        assert set(names) == {generated}
        name = names[generated]
        assert name == escrow.secret_name("dev", generated)
        (version,) = vault.versions(name, "secret")
        assert any(r.method == "PUT" and r.path == f"/secrets/{name}" for r in vault.requests)
        assert any(r.method == "GET" and r.path == f"/secrets/{name}/{version}" for r in vault.requests)
        cluster.wait(
            lambda: (
                metric(controller, PENDING) == 0
                and metric(controller, "sealed_secrets_controller_escrowed_keys_total") == 1
            )
        )
        body = urllib.request.urlopen(controller.metrics_url + "/metrics", timeout=5).read().decode()
        assert f"{PENDING} 0.0" in body and FAILURES in body
    check_no_key_material(logs.text, pairs)


def test_pre_existing_keys_are_escrowed_without_generating(
    cluster: Cluster, keyvault_server: KeyVaultServer, vault: Vault, pairs: list[GeneratedKey]
) -> None:
    cluster.add_key(0)
    cluster.add_key(1)
    payload = escrow.build_payload(pairs[0].key, "dev")  # one already escrowed: not written again
    vault.add_secret(payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags))
    with cluster.start(**escrow_settings(keyvault_server, vault)):
        cluster.wait(lambda: len(escrowed(vault)) == 2)
        assert set(escrowed(vault)) == {p.key.fingerprint for p in pairs}
        assert held(cluster.kube) == {p.key.fingerprint for p in pairs}
        assert len(vault.versions(payload.name, "secret")) == 1


def test_renewed_key_is_escrowed(
    cluster: Cluster, keyvault_server: KeyVaultServer, vault: Vault, pairs: list[GeneratedKey]
) -> None:
    fresh = generate_key_pair(bits=2048)
    cluster.keys.append(fresh)
    cluster.add_key(len(cluster.keys) - 1)
    settings = escrow_settings(keyvault_server, vault, key_renew_period=dt.timedelta(seconds=2))
    with cluster.start(**settings):
        cluster.wait(lambda: fresh.key.fingerprint in escrowed(vault))
        renewed = cluster.wait(lambda: held(cluster.kube) - {fresh.key.fingerprint}, timeout=15)
        cluster.wait(lambda: renewed <= set(escrowed(vault)), timeout=10)


def test_restore_into_an_empty_namespace_opens_what_was_sealed_before(
    cluster: Cluster, keyvault_server: KeyVaultServer, vault: Vault, logs: LogLines, pairs: list[GeneratedKey]
) -> None:
    # Before the loss: the controller escrowed its keys; one SealedSecret was sealed with the older key.
    cluster.add_key(0)
    cluster.add_key(1)
    with cluster.start(**escrow_settings(keyvault_server, vault)):
        cluster.wait(lambda: len(escrowed(vault)) == 2)
    sealed = cluster.seal("db", "default", {"password": "before-the-loss"}, key=0)
    # The loss: every key Secret is gone.
    for secret in cluster.kube.list("v1", "Secret", CONTROLLER_NS):
        cluster.kube.delete("v1", "Secret", secret["metadata"]["name"], CONTROLLER_NS)
    assert held(cluster.kube) == set()
    with cluster.start(**escrow_settings(keyvault_server, vault)):
        cluster.create(sealed)
        assert cluster.wait(lambda: cluster.data("db")) == {"password": b"before-the-loss"}
        assert held(cluster.kube) == {p.key.fingerprint for p in pairs}  # restored, and nothing generated
        restored = key_secrets(cluster.kube)
        assert {s["metadata"]["annotations"]["sealkit.io/restored-from"] for s in restored} == {
            f"{vault.url}/secrets/{name}" for name in escrowed(vault).values()
        }
    check_no_key_material(logs.text, pairs)


def test_a_controller_rebuilt_from_an_expired_copy_restores_it_and_renews_the_copy(
    cluster: Cluster, keyvault_server: KeyVaultServer, vault: Vault, logs: LogLines, pairs: list[GeneratedKey]
) -> None:
    """The vault's exp is not enforced on reads and the copy holds the key: an empty namespace gets it back (a
    new key instead would leave every SealedSecret sealed for it closed), the log says the copy is expired, and
    the escrow writes a fresh version over it."""
    payload = escrow.build_payload(pairs[0].key, "dev")
    expired = int(time.time()) - 3600
    vault.add_secret(
        payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags), exp=expired
    )
    sealed = cluster.seal("db", "default", {"password": "before-the-loss"}, key=0)
    with cluster.start(**escrow_settings(keyvault_server, vault)):
        cluster.create(sealed)
        assert cluster.wait(lambda: cluster.data("db")) == {"password": b"before-the-loss"}
        assert held(cluster.kube) == {pairs[0].key.fingerprint}  # restored, and nothing generated
        cluster.wait(lambda: len(vault.versions(payload.name, "secret")) == 2)  # a fresh version, no exp
    assert f"escrowed key {payload.name} ({pairs[0].key.fingerprint}) is expired in the vault" in logs.text


def test_no_key_is_generated_while_the_vault_cannot_be_read(
    cluster: Cluster, keyvault_server: KeyVaultServer, vault: Vault, pairs: list[GeneratedKey]
) -> None:
    payload = escrow.build_payload(pairs[1].key, "dev")
    vault.add_secret(payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags))
    vault.stop()
    options = escrow_settings(keyvault_server, vault)
    credential = options.pop("escrow_credential")
    controller = ControllerThread(cluster.settings(**options), escrow_credential=credential)
    starting = threading.Thread(target=controller.start, kwargs={"timeout": 30}, daemon=True)
    starting.start()
    try:
        cluster.wait(lambda: metric(controller, FAILURES, reason="unreachable") >= 1, timeout=15)
        assert held(cluster.kube) == set()  # no fresh key hiding the escrowed ones (nor later: see below)
        vault.start()
        cluster.wait(lambda: held(cluster.kube) == {pairs[1].key.fingerprint}, timeout=15)
        starting.join(30)
    finally:
        controller.stop()


@pytest.mark.parametrize(("fault", "reason"), [("deny", "forbidden"), ("stop", "unreachable")])
def test_escrow_failure_gives_event_and_metric_while_unsealing_goes_on(
    cluster: Cluster,
    keyvault_server: KeyVaultServer,
    vault: Vault,
    logs: LogLines,
    pairs: list[GeneratedKey],
    fault: str,
    reason: str,
) -> None:
    key_secret = cluster.add_key(0)["metadata"]["name"]
    getattr(vault, fault)()
    settings = escrow_settings(keyvault_server, vault, retry_base_delay=0.05, retry_max_delay=0.3)
    with cluster.start(**settings) as controller:
        cluster.create(cluster.seal("app", "default", {"token": "still-unsealed"}, key=0))
        assert cluster.wait(lambda: cluster.data("app")) == {"token": b"still-unsealed"}
        (event,) = cluster.wait(lambda: escrow_events(cluster))
        assert event["type"] == "Warning" and event["source"]["component"] == "sealed-secrets"
        assert event["involvedObject"]["kind"] == "Secret" and event["involvedObject"]["name"] == key_secret
        assert event["message"].startswith(f"escrow of sealing key {pairs[0].key.fingerprint} to {vault.url} failed")
        assert event["message"].endswith(f": Key Vault {vault.url}")
        cluster.wait(lambda: metric(controller, FAILURES, reason=reason) >= 2)  # retried, with backoff
        assert metric(controller, PENDING) == 1
        assert len(escrow_events(cluster)) == 1  # reported once, not per retry
        # The vault comes back: the key is escrowed on a retry.
        vault.allow() if fault == "deny" else vault.start()
        cluster.wait(lambda: set(escrowed(vault)) == {pairs[0].key.fingerprint}, timeout=10)
        cluster.wait(lambda: metric(controller, PENDING) == 0)
    check_no_key_material(logs.text, pairs)
    for event in cluster.kube.list("v1", "Event", CONTROLLER_NS):
        check_no_key_material(str(event), pairs)


def test_cli_flags_and_env_turn_escrow_on(
    cluster: Cluster, keyvault_server: KeyVaultServer, vault: Vault, pairs: list[GeneratedKey]
) -> None:
    """`sealkit controller` as a process: SEALED_SECRETS_ESCROW_* env, workload identity from the environment."""
    from click.testing import CliRunner

    from sealkit_cli.main import cli

    half = CliRunner().invoke(cli, ["controller", "--escrow-vault", "kv-prod"])
    assert half.exit_code == 2 and "key escrow needs both the vault and the cluster name" in half.output
    bad = CliRunner().invoke(cli, ["controller", "--escrow-vault", "kv-prod", "--escrow-cluster-name", "Prod"])
    assert bad.exit_code == 2 and "escrow cluster name 'Prod'" in bad.output
    assert bad.output.rstrip().endswith("letter or digit: --escrow-cluster-name"), bad.output
    assert "--escrow-vault" in CliRunner().invoke(cli, ["controller", "--help"]).output

    cluster.add_key(0)
    env = {
        **os.environ,
        **keyvault_server.env(),
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in (".", "cli", "controller", "testservers")),
        "POD_NAMESPACE": CONTROLLER_NS,
        "SEALED_SECRETS_KEY_SIZE": "2048",
        "SEALED_SECRETS_ESCROW_VAULT": "kv-prod",
        "SEALKIT_VAULT_URL_KV_PROD": vault.url,
        "SEALED_SECRETS_ESCROW_CLUSTER_NAME": "dev",
        "SEALED_SECRETS_ESCROW_TIMEOUT": "5s",
        "SEALED_SECRETS_LISTEN_ADDR": "127.0.0.1:0",
        "SEALED_SECRETS_LISTEN_METRICS_ADDR": "127.0.0.1:0",
    }
    env.pop("AZURE_CLIENT_SECRET", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "sealkit_cli.main", "controller", "--kubeconfig", str(cluster.kubeconfig)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        cluster.wait(lambda: set(escrowed(vault)) == {pairs[0].key.fingerprint}, timeout=30)
    finally:
        stdout, stderr = stopped(process)
    assert "escrowed sealing key" in stdout  # an info line: stdout (--log-info-stdout, Bitnami's default)
    check_no_key_material(stdout + stderr, pairs)


def test_escrow_gates_publishing_a_new_key_until_its_copy_reads_back(
    cluster: Cluster, keyvault_server: KeyVaultServer, vault: Vault, logs: LogLines
) -> None:
    """Without a KEK too: a new key is written to the vault, but while its copy cannot be read back it is not
    published (no key Secret, not served, not the newest); the previous key keeps sealing."""

    def served(controller: ControllerThread) -> str | None:
        answer = http_text(controller.api_url + "/v1/cert.pem")
        return load_certificate(answer[4:].encode()).fingerprint if answer.startswith("200 ") else None

    now = dt.datetime.now(dt.UTC)
    aging = generate_key_pair(bits=2048, now=now - dt.timedelta(hours=2))
    fresh = generate_key_pair(bits=2048, now=now - dt.timedelta(minutes=1))
    cluster.keys += [aging, fresh]
    cluster.add_key(len(cluster.keys) - 2)
    fresh_name = cluster.add_key(len(cluster.keys) - 1)["metadata"]["name"]
    for pair in (aging, fresh):  # escrowed already: only the new key's copy is at stake
        payload = escrow.build_payload(pair.key, "dev")
        vault.add_secret(payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags))
    settings = escrow_settings(
        keyvault_server, vault, key_renew_period=dt.timedelta(hours=1), deployment_name="sealed-secrets-controller"
    )
    with cluster.start(**settings) as controller:
        assert served(controller) == fresh.key.fingerprint
        # The vault takes writes but refuses reads; the fresh key is retired, so a new key falls due.
        vault.deny(keyvault_server.client.client_id, ["secrets/get"])
        labels = {"metadata": {"labels": {SEALING_KEY_LABEL: "compromised"}}}
        cluster.kube.patch("v1", "Secret", fresh_name, labels, CONTROLLER_NS)
        cluster.wait(lambda: metric(controller, FAILURES, reason="forbidden") >= 2, timeout=15)
        written = set(vault.names()) - {escrow.secret_name("dev", p.key.fingerprint) for p in (aging, fresh)}
        assert len(written) == 1  # the new key's copy was written: the read-back is what holds it back
        assert held(cluster.kube) == {aging.key.fingerprint} and served(controller) == aging.key.fingerprint
        assert len(controller.runtime.keys.ring) == 1
        events = [e for e in cluster.kube.list("v1", "Event", CONTROLLER_NS) if e.get("reason") == "ErrEscrowFailed"]
        (event,) = [e for e in events if e["involvedObject"]["kind"] == "Deployment"]
        message = event["message"]  # what is wrong (the key, then the vault's answer), then the vault last
        assert message.startswith("new sealing key SHA256:") and message.endswith(f": Key Vault {vault.url}")
        assert " not published until its escrowed copy is written and read back: 403 " in message
        cluster.create(cluster.seal("app", "default", {"token": "t"}, key=len(cluster.keys) - 2))
        assert cluster.wait(lambda: cluster.data("app")) == {"token": b"t"}  # the previous key keeps working
        # Reads come back: the copy reads back, the key is published and served.
        vault.allow(keyvault_server.client.client_id)
        new = cluster.wait(lambda: held(cluster.kube) - {aging.key.fingerprint} or None, timeout=15)
        (fingerprint,) = new
        assert set(escrowed(vault)) == {aging.key.fingerprint, fresh.key.fingerprint, fingerprint}
        cluster.wait(lambda: served(controller) == fingerprint)
    check_no_key_material(logs.text, [aging, fresh])


def test_an_escrow_credential_that_cannot_be_built_names_the_controller_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    from sealkit.errors import SealkitError
    from sealkit_controller.settings import Settings
    from sealkit_controller.wiring import escrow_credential

    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    escrow_on = {"escrow_vault": "https://kv-escrow.vault.azure.net", "escrow_cluster_name": "prod"}

    def refusal(**settings: Any) -> str:
        with pytest.raises(SealkitError) as failed:
            escrow_credential(Settings(**escrow_on, **settings))
        return str(failed.value)

    # The controller's flags (not the CLI's --auth or --accept-challenge-resource), and only the AZURE_* variables.
    assert refusal(escrow_auth="service-principal") == (
        "this mode needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET; "
        "the secret is read from the environment only: --escrow-auth service-principal"
    )
    assert refusal(escrow_accept_challenge_resources=("ftp://vault.azure.net",)) == (
        "give a resource like https://vault.azure.net: --escrow-accept-challenge-resource 'ftp://vault.azure.net'"
    )
