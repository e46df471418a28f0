"""Wrapped sealing keys in the running controller: the real operator on the Kubernetes emulator, the KEK in the
local Key Vault through the real azure-keyvault-keys SDK (`CryptographyClient`, `KeyClient`).

Every scenario ends with the leak check: no form of any sealing key in any Secret, event, status, log line,
metric, HTTP answer or error (keys the controller generated are recovered by unwrapping their Secrets
locally, so the check knows them too).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.clients.keyvault.kek import ROLE_HINT
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import PrivateKey
from sealkit.wrapping.keysecret import wrapped_from_secret
from sealkit.wrapping.names import WRAPPED_KEY_TYPE
from sealkit_controller.wiring import ControllerThread
from sealkit_testservers.keyvault import KeyVaultServer
from tests.support.cluster import CONTROLLER_NS, Cluster, LogLines
from tests.support.wrapped import (
    Kek,
    assert_no_leak,
    cluster_outputs,
    http_text,
    wrapped_manifest,
    wrapped_secrets,
)

FAILURES = "sealed_secrets_controller_kek_failures_total"


@pytest.fixture
def kek(keyvault_server: KeyVaultServer, keyvault_env: dict[str, str]) -> Kek:
    vault = keyvault_server.add_vault("kv-kek")
    vault.add_key("kek", kty="RSA", size=2048)
    return Kek(keyvault_server, vault)


def key_secrets(cluster: Cluster) -> list[dict[str, Any]]:
    return [
        s
        for s in cluster.kube.list("v1", "Secret", CONTROLLER_NS)
        if {SEALING_KEY_LABEL, "sealkit.io/wrapped-sealing-key"} & set(s["metadata"].get("labels") or {})
    ]


def plaintext_key_secrets(cluster: Cluster) -> list[dict[str, Any]]:
    return [s for s in key_secrets(cluster) if SEALING_KEY_LABEL in (s["metadata"].get("labels") or {})]


def metric(controller: ControllerThread, name: str, **labels: str) -> float:
    return float(controller.runtime.metrics.registry.get_sample_value(name, labels or None) or 0.0)


def events(cluster: Cluster, reason: str) -> list[dict[str, Any]]:
    return [e for e in cluster.kube.list("v1", "Event", CONTROLLER_NS) if e.get("reason") == reason]


def known_keys(cluster: Cluster, kek: Kek, extra: list[GeneratedKey] = ()) -> list[PrivateKey]:  # type: ignore[assignment]
    """Every key of the scenario: the ones the test made and the ones the controller made (opened locally)."""
    keys = [pair.key for pair in extra]
    keys += [kek.open_locally(s) for s in wrapped_secrets(key_secrets(cluster))]
    return keys


def outputs(cluster: Cluster, controller: ControllerThread | None, logs: LogLines, **extra: str) -> dict[str, str]:
    found = cluster_outputs(cluster.kube, skip_secrets=extra.pop("skip", "").split())
    found["log"] = logs.text
    if controller is not None:
        found["metrics"] = http_text(controller.metrics_url + "/metrics")
        found["readyz"] = http_text(controller.api_url + "/readyz")
        found["cert"] = http_text(controller.api_url + "/v1/cert.pem")
    return {**found, **extra}


def cert_fingerprint(controller: ControllerThread) -> str | None:
    """The fingerprint of the certificate the controller serves (None while it serves none)."""
    from sealkit.keys import load_certificate

    answer = http_text(controller.api_url + "/v1/cert.pem")
    return load_certificate(answer[4:].encode()).fingerprint if answer.startswith("200 ") else None


@pytest.fixture
def running(cluster: Cluster, kek: Kek, logs: LogLines) -> Iterator[list[ControllerThread]]:
    """Controllers a test starts, stopped (and checked for errors) at its end."""
    started: list[ControllerThread] = []
    yield started
    for controller in started:
        controller.stop()
        assert controller.error is None


def start(cluster: Cluster, kek: Kek, running: list[ControllerThread], **overrides: Any) -> ControllerThread:
    controller = cluster.start(**kek.controller_settings(**overrides))
    running.append(controller)
    return controller


def test_generate_stores_the_first_key_wrapped_and_never_in_plaintext(
    cluster: Cluster, kek: Kek, running: list[ControllerThread], logs: LogLines
) -> None:
    controller = start(cluster, kek, running)
    (secret,) = cluster.wait(lambda: key_secrets(cluster) or None)
    assert secret["type"] == WRAPPED_KEY_TYPE and not plaintext_key_secrets(cluster)
    assert "tls.key" not in secret["data"]
    kek_id = base64.b64decode(secret["data"]["kek.id"]).decode()
    assert kek_id == kek.vault.key_id("kek", kek.vault.versions("kek", "key")[-1])
    key = kek.open_locally(secret)
    assert cert_fingerprint(controller) == key.fingerprint
    assert kek.unwraps() == 1  # the wrap was checked by unwrapping it once before the Secret was written
    # SealedSecrets sealed for it converge.
    cluster.keys.append(GeneratedKey(b"", base64.b64decode(secret["data"]["tls.crt"]), key))
    cluster.create(cluster.seal("db", data={"password": "p"}, key=len(cluster.keys) - 1))
    assert cluster.wait(lambda: cluster.data("db")) == {"password": b"p"}
    assert metric(controller, "sealed_secrets_controller_wrapped_keys") == 1
    assert metric(controller, "sealed_secrets_controller_plaintext_keys") == 0
    assert http_text(controller.api_url + "/readyz") == "200 ok"
    assert_no_leak(outputs(cluster, controller, logs), [key])


def test_renewal_wraps_every_new_key_and_restart_unwraps_each_once(
    cluster: Cluster, kek: Kek, running: list[ControllerThread], logs: LogLines
) -> None:
    old = generate_key_pair(bits=2048, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    cluster.create(wrapped_manifest(kek, old.key, CONTROLLER_NS))
    cluster.keys.append(old)
    sealed_old = cluster.seal("before", data={"a": "old"}, key=len(cluster.keys) - 1)
    # The existing key is older than the renew period: a new one is made at start.
    controller = start(cluster, kek, running, key_renew_period=dt.timedelta(minutes=30))
    renewed = cluster.wait(lambda: len(key_secrets(cluster)) == 2 and key_secrets(cluster))
    assert kek.unwraps() == 2  # the existing wrapped key once, and the new key's wrap check once
    assert all(s["type"] == WRAPPED_KEY_TYPE for s in renewed) and not plaintext_key_secrets(cluster)
    new = next(kek.open_locally(s) for s in renewed if kek.open_locally(s).fingerprint != old.key.fingerprint)
    cluster.wait(lambda: cert_fingerprint(controller) == new.fingerprint)
    cluster.create(sealed_old)
    assert cluster.wait(lambda: cluster.data("before")) == {"a": b"old"}
    controller.stop()
    running.remove(controller)
    # Restart: each wrapped key is unwrapped exactly once, and what was sealed before still opens.
    kek.vault.clear_requests()
    cluster.kube.delete("v1", "Secret", "before", "default")
    controller = start(cluster, kek, running, key_renew_period=dt.timedelta(minutes=30))
    assert kek.unwraps() == 2
    assert cluster.wait(lambda: cluster.data("before")) == {"a": b"old"}
    assert cert_fingerprint(controller) == new.fingerprint
    assert kek.unwraps() == 2 and len(key_secrets(cluster)) == 2  # the watch's replay unwraps nothing
    assert_no_leak(outputs(cluster, controller, logs), known_keys(cluster, kek, [old]))


def test_kek_disabled_mid_run_keeps_serving_and_makes_no_key(
    cluster: Cluster, kek: Kek, running: list[ControllerThread], logs: LogLines
) -> None:
    now = dt.datetime.now(dt.UTC)
    aging = generate_key_pair(bits=2048, now=now - dt.timedelta(hours=1))
    fresh = generate_key_pair(bits=2048, now=now - dt.timedelta(minutes=1))
    cluster.keys += [aging, fresh]
    cluster.create(wrapped_manifest(kek, aging.key, CONTROLLER_NS))
    fresh_secret = cluster.create(wrapped_manifest(kek, fresh.key, CONTROLLER_NS))
    controller = start(cluster, kek, running, key_renew_period=dt.timedelta(minutes=30))
    assert cert_fingerprint(controller) == fresh.key.fingerprint and kek.unwraps() == 2
    # Mid-run: the KEK is disabled, then the fresh key is retired, so a new key is due at once.
    kek.vault.disable_key("kek")
    labels = {"sealkit.io/wrapped-sealing-key": "retired"}
    cluster.kube.patch(
        "v1", "Secret", fresh_secret["metadata"]["name"], {"metadata": {"labels": labels}}, CONTROLLER_NS
    )
    cluster.wait(lambda: metric(controller, FAILURES, operation="wrap", reason="disabled") >= 1)
    (event,) = cluster.wait(lambda: events(cluster, "ErrKeyEncryptionKey") or None)
    assert event["involvedObject"]["kind"] == "Deployment"
    assert event["involvedObject"]["name"] == "sealed-secrets-controller" and event["type"] == "Warning"
    current = kek.vault.key_id("kek", kek.vault.versions("kek", "key")[-1])
    assert event["message"] == (  # what is wrong, then the vault key as the one where
        f"no new sealing key can be wrapped: the key is disabled; new keys cannot be wrapped with it: "
        f"Key Vault key {current}"
    )
    assert metric(controller, "sealed_secrets_controller_kek_available") == 0
    assert len(key_secrets(cluster)) == 2 and cert_fingerprint(controller) == aging.key.fingerprint
    assert "no new sealing key can be wrapped" in logs.text
    cluster.create(cluster.seal("still", data={"x": "y"}, key=len(cluster.keys) - 2))
    assert cluster.wait(lambda: cluster.data("still")) == {"x": b"y"}  # the held key keeps unsealing
    assert http_text(controller.api_url + "/readyz") == "200 ok"
    # Back: the retry (with backoff) makes the key, wrapped.
    kek.vault.enable_key("kek")
    cluster.wait(lambda: len(key_secrets(cluster)) == 3, timeout=15)
    assert all(s["type"] == WRAPPED_KEY_TYPE for s in key_secrets(cluster))
    cluster.wait(lambda: metric(controller, "sealed_secrets_controller_kek_available") == 1)
    assert cluster.wait(lambda: events(cluster, "KeyEncryptionKeyAvailable"))
    assert_no_leak(outputs(cluster, controller, logs), known_keys(cluster, kek, [aging, fresh]))


def retire(cluster: Cluster, name: str) -> None:
    """Relabel a wrapped key Secret so the controller drops it (a new key becomes due if it was the newest)."""
    labels = {"sealkit.io/wrapped-sealing-key": "retired"}
    cluster.kube.patch("v1", "Secret", name, {"metadata": {"labels": labels}}, CONTROLLER_NS)


def test_permission_removed_not_ready_then_recovers_without_a_new_key(
    cluster: Cluster, kek: Kek, running: list[ControllerThread], logs: LogLines
) -> None:
    only = generate_key_pair(bits=2048)
    cluster.keys.append(only)
    secret = cluster.create(wrapped_manifest(kek, only.key, CONTROLLER_NS))
    name = secret["metadata"]["name"]
    cluster.create(cluster.seal("db", data={"pw": "p"}, key=len(cluster.keys) - 1))
    app = kek.server.client.client_id
    kek.vault.deny(app, ["unwrapKey"])
    controller = start(cluster, kek, running)
    cluster.wait(lambda: metric(controller, FAILURES, operation="unwrap", reason="forbidden") >= 4)
    # Retried with capped exponential backoff (the test cluster's base 0.05s, cap 0.5s): waits grow.
    waits = [
        float(w)
        for w in re.findall(rf"Secret {CONTROLLER_NS}/{name} cannot be used \(retrying in ([0-9.]+)s", logs.text)
    ]
    assert waits[:4] == [0.1, 0.1, 0.2, 0.4], waits
    ready = http_text(controller.api_url + "/readyz")
    assert ready.startswith("503 not ready: no usable sealing key: 1 wrapped key Secret(s) not unwrapped yet")
    assert "403 ForbiddenByRbac" in ready and "Key Vault Crypto User" in ready
    (event,) = events(cluster, "ErrUnwrapFailed")
    assert event["involvedObject"] == {"apiVersion": "v1", "kind": "Secret", "name": name, "namespace": CONTROLLER_NS}
    kek_id = wrapped_from_secret(secret).kek_id
    assert event["message"] == (
        f"cannot unwrap the sealing key: unwrapKey refused (403 ForbiddenByRbac); {ROLE_HINT}: Key Vault key {kek_id}"
    )
    assert ready.rstrip().endswith(f"; {ROLE_HINT}: Key Vault key {kek_id})")
    assert metric(controller, "sealed_secrets_controller_unusable_wrapped_keys") == 1
    assert http_text(controller.api_url + "/v1/cert.pem").startswith("503")
    assert len(key_secrets(cluster)) == 1 and cluster.secret("db") is None  # no new key over a known one
    kek.vault.allow(app)
    assert cluster.wait(lambda: cluster.data("db"), timeout=15) == {"pw": b"p"}
    assert http_text(controller.api_url + "/readyz") == "200 ok" and len(key_secrets(cluster)) == 1
    assert metric(controller, "sealed_secrets_controller_unusable_wrapped_keys") == 0
    assert_no_leak(outputs(cluster, controller, logs), [only.key])


def test_a_corrupted_wrapped_secret_does_not_block_the_others(
    cluster: Cluster, kek: Kek, running: list[ControllerThread], logs: LogLines
) -> None:
    now = dt.datetime.now(dt.UTC)
    good = generate_key_pair(bits=2048, now=now - dt.timedelta(days=2))
    bad = generate_key_pair(bits=2048, now=now - dt.timedelta(days=1))
    cluster.keys += [good, bad]
    cluster.create(wrapped_manifest(kek, good.key, CONTROLLER_NS))
    broken = wrapped_manifest(kek, bad.key, CONTROLLER_NS)
    ciphertext = bytearray(base64.b64decode(broken["data"]["sealing-key.enc"]))
    ciphertext[40] ^= 0xFF
    broken["data"]["sealing-key.enc"] = base64.b64encode(bytes(ciphertext)).decode()
    bad_name = cluster.create(broken)["metadata"]["name"]
    cluster.create(cluster.seal("by-good", data={"v": "g"}, key=len(cluster.keys) - 2))
    cluster.create(cluster.seal("by-bad", data={"v": "b"}, key=len(cluster.keys) - 1))
    controller = start(cluster, kek, running)
    assert cluster.wait(lambda: cluster.data("by-good")) == {"v": b"g"}
    assert cert_fingerprint(controller) == good.key.fingerprint
    (event,) = cluster.wait(lambda: events(cluster, "ErrUnwrapFailed") or None)
    assert event["involvedObject"]["name"] == bad_name
    assert event["message"] == (  # the event's context, what is wrong, then the Secret as the one where
        "cannot unwrap the sealing key: the encrypted key does not decrypt (corrupted, or not the key of its "
        f"certificate): wrapped key Secret {CONTROLLER_NS}/{bad_name}"
    )
    assert metric(controller, FAILURES, operation="unwrap", reason="invalid") == 1
    cluster.wait(lambda: (cluster.condition("by-bad") or {}).get("status") == "False")
    assert cluster.secret("by-bad") is None and len(key_secrets(cluster)) == 2  # no key made over it
    assert kek.unwraps() == 2  # not retried: it cannot open until the Secret changes
    # Mended (restored from a backup, say): it is unwrapped and used.
    cluster.kube.delete("v1", "Secret", bad_name, CONTROLLER_NS)
    cluster.create(wrapped_manifest(kek, bad.key, CONTROLLER_NS))
    assert cluster.wait(lambda: cluster.data("by-bad"), timeout=15) == {"v": b"b"}
    cluster.wait(lambda: cert_fingerprint(controller) == bad.key.fingerprint)
    assert_no_leak(outputs(cluster, controller, logs), [good.key, bad.key])


def test_a_mix_of_wrapped_and_plaintext_keys_then_keys_wrap_under_a_running_controller(
    cluster: Cluster, kek: Kek, running: list[ControllerThread], logs: LogLines
) -> None:
    from click.testing import CliRunner

    from sealkit_cli.main import cli

    now = dt.datetime.now(dt.UTC)
    plain = generate_key_pair(bits=2048, now=now - dt.timedelta(days=2))
    wrapped = generate_key_pair(bits=2048, now=now - dt.timedelta(days=1))
    cluster.keys += [plain, wrapped]
    plain_secret = cluster.add_key(len(cluster.keys) - 2)["metadata"]["name"]
    cluster.create(wrapped_manifest(kek, wrapped.key, CONTROLLER_NS))
    cluster.create(cluster.seal("by-plain", data={"v": "p"}, key=len(cluster.keys) - 2))
    cluster.create(cluster.seal("by-wrapped", data={"v": "w"}, key=len(cluster.keys) - 1))
    controller = start(cluster, kek, running)
    assert cluster.wait(lambda: cluster.data("by-plain")) == {"v": b"p"}
    assert cluster.wait(lambda: cluster.data("by-wrapped")) == {"v": b"w"}
    assert metric(controller, "sealed_secrets_controller_plaintext_keys") == 1
    assert metric(controller, "sealed_secrets_controller_wrapped_keys") == 1
    assert f"still rest in plaintext key Secrets ({plain_secret}): run `sealkit keys wrap`" in logs.text
    before = outputs(cluster, controller, logs, skip=f"{CONTROLLER_NS}/{plain_secret}")
    assert_no_leak(before, [plain.key, wrapped.key])  # the plaintext key is in its own Secret only

    args = ["keys", "wrap", "--kek", kek.url, "--kubeconfig", str(cluster.kubeconfig)]
    result = CliRunner().invoke(cli, [*args, "--controller-namespace", CONTROLLER_NS, "--auth", "workload-identity"])
    assert result.exit_code == 0, result.output
    assert cluster.kube.get("v1", "Secret", plain_secret, CONTROLLER_NS) is None
    cluster.wait(lambda: metric(controller, "sealed_secrets_controller_plaintext_keys") == 0)
    cluster.wait(lambda: metric(controller, "sealed_secrets_controller_wrapped_keys") == 2)
    assert kek.unwraps() == 2  # the controller's one at start, the CLI's check; the controller took P as held
    cluster.kube.delete("v1", "Secret", "by-plain", "default")
    assert cluster.wait(lambda: cluster.data("by-plain")) == {"v": b"p"}
    controller.stop()
    running.remove(controller)
    kek.vault.clear_requests()
    controller = start(cluster, kek, running)
    assert kek.unwraps() == 2 and not plaintext_key_secrets(cluster)
    assert "still rest in plaintext" not in logs.text.split("loaded 2 sealing key(s)")[-1]
    after = outputs(cluster, controller, logs, cli=result.output)
    after["log"] = after["log"].split("wrapped sealing key")[-1]  # log lines after the wrap
    assert_no_leak(after, [plain.key, wrapped.key])


def test_kek_version_rotation_under_a_running_controller(
    cluster: Cluster, kek: Kek, running: list[ControllerThread], logs: LogLines
) -> None:
    from click.testing import CliRunner

    from sealkit_cli.main import cli

    v1 = kek.vault.versions("kek", "key")[-1]
    first = generate_key_pair(bits=2048)
    cluster.keys.append(first)
    first_name = cluster.create(wrapped_manifest(kek, first.key, CONTROLLER_NS))["metadata"]["name"]
    cluster.create(cluster.seal("db", data={"v": "1"}, key=len(cluster.keys) - 1))
    controller = start(cluster, kek, running)
    assert cluster.wait(lambda: cluster.data("db")) == {"v": b"1"}
    v2 = kek.vault.add_key("kek", kty="RSA", size=2048)  # rotate: a new version of the KEK
    args = ["keys", "rewrap", "--kek", kek.url, "--kubeconfig", str(cluster.kubeconfig), "--auth", "workload-identity"]
    result = CliRunner().invoke(cli, [*args, "--controller-namespace", CONTROLLER_NS])
    assert result.exit_code == 0, result.output
    secret = cluster.kube.get("v1", "Secret", first_name, CONTROLLER_NS)
    assert base64.b64decode(secret["data"]["kek.id"]).decode() == kek.vault.key_id("kek", v2)
    # New keys are wrapped with the new version.
    retire(cluster, first_name)
    (new,) = cluster.wait(
        lambda: [s for s in wrapped_secrets(key_secrets(cluster)) if s["metadata"]["name"] != first_name] or None
    )
    assert base64.b64decode(new["data"]["kek.id"]).decode() == kek.vault.key_id("kek", v2)
    cluster.kube.patch(
        "v1",
        "Secret",
        first_name,
        {"metadata": {"labels": {"sealkit.io/wrapped-sealing-key": "active"}}},
        CONTROLLER_NS,
    )
    cluster.wait(lambda: len(controller.runtime.keys.ring) == 2)  # taken back (unwrapped with v2) before the stop
    controller.stop()
    running.remove(controller)
    # The old version is disabled: after a restart every key opens with the new one.
    kek.vault.disable_key("kek", v1)
    kek.vault.clear_requests()
    cluster.kube.delete("v1", "Secret", "db", "default")
    controller = start(cluster, kek, running)
    assert cluster.wait(lambda: cluster.data("db")) == {"v": b"1"}
    assert kek.vault.count_key_operations("unwrapKey", "kek", version=v2) == 2
    assert kek.vault.count_key_operations("unwrapKey", "kek", version=v1, succeeded=False) == 0
    assert_no_leak(outputs(cluster, controller, logs, cli=result.output), known_keys(cluster, kek, [first]))


def test_managed_hsm_aes_kek(
    cluster: Cluster, keyvault_server: KeyVaultServer, keyvault_env: dict[str, str], running: list[ControllerThread],
    logs: LogLines,
) -> None:  # fmt: skip
    hsm = keyvault_server.add_vault("hsm", managed_hsm=True)
    hsm.add_key("kek", kty="oct-HSM", size=256)
    kek = Kek(keyvault_server, hsm)
    controller = start(cluster, kek, running)
    (secret,) = cluster.wait(lambda: key_secrets(cluster) or None)
    assert base64.b64decode(secret["data"]["kek.alg"]) == b"A256KW"
    assert hsm.count_key_operations("wrapKey", "kek") == 1 and kek.unwraps() == 1  # wrapped on the HSM, checked
    key = kek.open_locally(secret)
    controller.stop()
    running.remove(controller)
    hsm.clear_requests()
    controller = start(cluster, kek, running)
    assert cert_fingerprint(controller) == key.fingerprint and kek.unwraps() == 1
    assert_no_leak(outputs(cluster, controller, logs), [key])


def test_a_kek_credential_that_cannot_be_built_names_the_controller_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    from sealkit.wrapping.envelope import KekError
    from sealkit_controller.settings import Settings
    from sealkit_controller.wiring import KekClient

    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    url = "https://kv.vault.azure.net/keys/kek"

    def refusal(**settings: Any) -> KekError:
        with pytest.raises(KekError) as failed:
            KekClient(Settings(kek_url=url, **settings))()
        assert failed.value.reason == "credential"
        return failed.value

    # One where, the controller's own flag (not the CLI's --auth); the hint names the AZURE_* variables only
    # (the controller has no --tenant-id/--client-id/--federated-token-file, and no spec).
    assert str(refusal(kek_auth="service-principal")) == (
        "this mode needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET; "
        "the secret is read from the environment only: --kek-auth service-principal"
    )
    assert str(refusal(kek_auth="workload-identity")) == (
        "Missing required arguments: 'tenant_id', 'client_id', 'token_file_path'; "
        "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE: --kek-auth workload-identity"
    )
    assert str(refusal(kek_accept_challenge_resources=("https://vault.azure.net/.default",))) == (
        "give a resource like https://vault.azure.net: "
        "--kek-accept-challenge-resource 'https://vault.azure.net/.default'"
    )


def test_a_kek_credential_that_finds_no_token_names_the_controller_flag() -> None:
    from azure.core.exceptions import ClientAuthenticationError

    from sealkit.clients.keyvault.credentials import GuardedCredential
    from sealkit_controller.settings import Settings
    from sealkit_controller.wiring import kek_credential

    credential = kek_credential(Settings(kek_url="https://kv.vault.azure.net/keys/kek", kek_auth="default"))
    assert isinstance(credential, GuardedCredential)

    class NoToken:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise ClientAuthenticationError(
                "DefaultAzureCredential failed to retrieve a token from the included credentials."
            )

    credential.inner = NoToken()
    with pytest.raises(ClientAuthenticationError) as refused:
        credential.get_token("https://vault.azure.net/.default")
    assert str(refused.value.message).endswith(", run `az login`, or choose one with --kek-auth")


def test_the_leak_check_finds_every_form(cluster: Cluster) -> None:
    """The check the scenarios end with fails when a key does leak (here, planted in several forms)."""
    from cryptography.hazmat.primitives import serialization

    from tests.support.wrapped import plaintext_forms

    key = cluster.keys[0].key
    der = key.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for planted in (
        cluster.keys[0].private_pem.decode(),
        base64.b64encode(cluster.keys[0].private_pem).decode(),
        "x" + base64.b64encode(der).decode() + "y",
        plaintext_forms(key)[-1],
    ):
        with pytest.raises(AssertionError, match="leaked into planted"):
            assert_no_leak({"clean": "nothing here", "planted": f"log line {planted} end"}, [key])


def test_escrow_gates_publishing_and_escrowed_copies_stay_wrapped(
    cluster: Cluster, kek: Kek, running: list[ControllerThread], logs: LogLines
) -> None:
    from sealkit.escrow import scheme
    from tests.support.wrapped import vault_outputs

    escrow_vault = kek.server.add_vault("kv-escrow")
    now = dt.datetime.now(dt.UTC)
    aging = generate_key_pair(bits=2048, now=now - dt.timedelta(hours=2))
    fresh = generate_key_pair(bits=2048, now=now - dt.timedelta(minutes=1))
    cluster.keys += [aging, fresh]
    cluster.create(wrapped_manifest(kek, aging.key, CONTROLLER_NS))
    fresh_name = cluster.create(wrapped_manifest(kek, fresh.key, CONTROLLER_NS))["metadata"]["name"]
    settings = {
        "escrow_vault": escrow_vault.url,
        "escrow_cluster_name": "prod",
        "escrow_credential": kek.server.credential("workload"),
        "escrow_timeout": 2.0,
        "key_renew_period": dt.timedelta(hours=1),
    }
    controller = start(cluster, kek, running, **settings)
    names = {scheme.secret_name("prod", k.key.fingerprint) for k in (aging, fresh)}
    cluster.wait(lambda: names <= set(escrow_vault.names()))
    for name in names:  # escrowed as they rest: wrapped, never opened to be escrowed
        stored = escrow_vault.secret(name)
        assert stored.content_type == scheme.WRAPPED_CONTENT_TYPE
    # The vault refuses writes; a new key falls due.
    app = kek.server.client.client_id
    escrow_vault.deny(app, ["secrets/set"])
    retire(cluster, fresh_name)
    escrow_failures = "sealed_secrets_controller_escrow_failures_total"
    cluster.wait(lambda: metric(controller, escrow_failures, reason="forbidden") >= 2, timeout=15)
    # Generated and wrapped, but not published: no key Secret, the previous key seals, nothing new served.
    assert len(key_secrets(cluster)) == 2 and cert_fingerprint(controller) == aging.key.fingerprint
    assert len(controller.runtime.keys.ring) == 1
    (event,) = cluster.wait(lambda: events(cluster, "ErrEscrowFailed") or None)
    assert event["involvedObject"]["kind"] == "Deployment" and "not published" in event["message"]
    assert event["message"].endswith(f": Key Vault {escrow_vault.url}"), "the vault is the one where, last"
    escrow_vault.allow(app)
    cluster.wait(lambda: len(key_secrets(cluster)) == 3, timeout=15)
    cluster.wait(lambda: cert_fingerprint(controller) not in (aging.key.fingerprint, fresh.key.fingerprint))
    newest = cert_fingerprint(controller)
    copy = escrow_vault.secret(scheme.secret_name("prod", newest))
    assert copy.content_type == scheme.WRAPPED_CONTENT_TYPE and "PRIVATE KEY" not in copy.value
    assert all(s["type"] == WRAPPED_KEY_TYPE for s in key_secrets(cluster))
    found = {**outputs(cluster, controller, logs), **vault_outputs(escrow_vault)}
    assert_no_leak(found, known_keys(cluster, kek, [aging, fresh]))


def test_two_replicas_both_open_wrapped_keys_and_only_the_leader_makes_one(
    cluster: Cluster, kek: Kek, logs: LogLines, tmp_path: Path
) -> None:
    """With leader election: every replica unwraps (it serves and must open), the leader alone wraps and writes."""
    election = {
        "leader_elect": True,
        "leader_elect_lease_duration": 2.0,
        "leader_elect_renew_deadline": 1.0,
        "leader_elect_retry_period": 0.2,
    }
    replicas: list[ControllerThread] = []
    try:
        for name in ("ctrl-a", "ctrl-b"):
            kubeconfig = cluster.kube.write_kubeconfig(tmp_path / f"kubeconfig-{name}", token=name)
            options = kek.controller_settings(kubeconfig=str(kubeconfig), instance=name, **election)
            credential = options.pop("kek_credential")
            settings = cluster.settings(**options)
            replicas.append(ControllerThread(settings, kek_credential=credential).start())
        (secret,) = cluster.wait(lambda: key_secrets(cluster) or None, timeout=15)
        assert secret["type"] == WRAPPED_KEY_TYPE
        key = kek.open_locally(secret)
        for replica in replicas:  # the follower opened it too: both serve the same certificate
            cluster.wait(lambda r=replica: cert_fingerprint(r) == key.fingerprint)
        # One wrap check by the leader and one unwrap by the follower that saw the new Secret.
        assert kek.unwraps() == 2 and len(key_secrets(cluster)) == 1
        found = {f"replica {i}": http_text(r.metrics_url + "/metrics") for i, r in enumerate(replicas)}
        assert_no_leak({**cluster_outputs(cluster.kube), **found, "log": logs.text}, [key])
    finally:
        for replica in replicas:
            replica.stop()
        assert all(r.error is None for r in replicas)


def test_restore_into_an_empty_namespace_writes_wrapped_key_secrets_only(
    cluster: Cluster, kek: Kek, running: list[ControllerThread], logs: LogLines
) -> None:
    """A rebuilt cluster: the escrowed (wrapped) copies come back as wrapped key Secrets; a plaintext escrowed
    copy (escrowed before the KEK was configured) is wrapped before it is written."""
    from sealkit.escrow import scheme
    from sealkit.wrapping.envelope import wrap_private_key

    escrow_vault = kek.server.add_vault("kv-escrow")
    now = dt.datetime.now(dt.UTC)
    old = generate_key_pair(bits=2048, now=now - dt.timedelta(days=2))
    new = generate_key_pair(bits=2048, now=now - dt.timedelta(days=1))
    cluster.keys += [old, new]
    for material in (old.key, wrap_private_key(new.key, kek.client())):
        payload = scheme.build_payload(material, "prod")
        escrow_vault.add_secret(payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags))
    cluster.create(cluster.seal("by-old", data={"v": "o"}, key=len(cluster.keys) - 2))
    settings = {
        "escrow_vault": escrow_vault.url,
        "escrow_cluster_name": "prod",
        "escrow_credential": kek.server.credential("workload"),
        "escrow_timeout": 2.0,
    }
    controller = start(cluster, kek, running, **settings)
    assert cluster.wait(lambda: cluster.data("by-old")) == {"v": b"o"}
    restored = key_secrets(cluster)
    assert len(restored) == 2 and all(s["type"] == WRAPPED_KEY_TYPE for s in restored)
    assert all("sealkit.io/restored-from" in s["metadata"]["annotations"] for s in restored)
    assert cert_fingerprint(controller) == new.key.fingerprint  # restored, and nothing generated over them
    assert_no_leak(outputs(cluster, controller, logs), [new.key])  # the old key's plaintext copy was in the vault
    assert_no_leak(cluster_outputs(cluster.kube), [old.key])  # but never reached the cluster
