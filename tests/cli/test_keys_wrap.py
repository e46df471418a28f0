"""`sealkit keys wrap|rewrap` and `sealkit unseal` with wrapped keys: the emulator and the local Key Vault."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.clients.keyvault.kek import ROLE_HINT
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate, load_private_keys
from sealkit.keysecrets import key_secret_manifest
from sealkit.sealing import seal_secret
from sealkit.wrapping.names import ORIGINAL_CREATION_ANNOTATION, WRAPPED_FROM_ANNOTATION, WRAPPED_KEY_LABEL
from sealkit_cli.main import cli
from sealkit_testservers.keyvault import KeyVaultServer
from sealkit_testservers.kube import KubeServer
from tests.sealkit.test_certificates import unknown_key_type
from tests.support.wrapped import Kek, assert_no_leak, cluster_outputs, wrapped_manifest

NS = "kube-system"


@pytest.fixture(scope="module")
def pairs() -> list[GeneratedKey]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [generate_key_pair(bits=2048, now=start + dt.timedelta(days=30 * i)) for i in range(3)]


@pytest.fixture
def kek(keyvault_server: KeyVaultServer, keyvault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Kek:
    for name in ("SEALKIT_ESCROW_VAULT", "SEALKIT_ESCROW_CLUSTER_NAME", "KUBECONFIG", "SEALKIT_AZURE_AUTH"):
        monkeypatch.delenv(name, raising=False)
    vault = keyvault_server.add_vault("kv-kek")
    vault.add_key("kek", kty="RSA", size=2048)
    return Kek(keyvault_server, vault)


AUTH = ["--auth", "workload-identity", "--timeout", "2"]


def keys_cmd(kubeconfig: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["keys", *args, "--kubeconfig", str(kubeconfig), "--controller-namespace", NS, *AUTH]
    )


def secrets(kube: KubeServer) -> list[dict[str, Any]]:
    return kube.list("v1", "Secret", NS)


def plaintext(kube: KubeServer) -> list[dict[str, Any]]:
    return [s for s in secrets(kube) if SEALING_KEY_LABEL in (s["metadata"].get("labels") or {})]


def wrapped(kube: KubeServer) -> list[dict[str, Any]]:
    return [s for s in secrets(kube) if WRAPPED_KEY_LABEL in (s["metadata"].get("labels") or {})]


def add_plaintext(kube: KubeServer, pair: GeneratedKey, **labels: str) -> str:
    manifest = key_secret_manifest(pair, namespace=NS, prefix="sealed-secrets-key", annotations={"team": "platform"})
    manifest["metadata"]["labels"].update(labels)
    return str(kube.create(manifest)["metadata"]["name"])


def test_wrap_converts_plaintext_key_secrets_in_place_verified_and_idempotent(
    kube: KubeServer, kubeconfig: Path, kek: Kek, pairs: list[GeneratedKey]
) -> None:
    first = add_plaintext(kube, pairs[0])
    retired = add_plaintext(kube, pairs[1], **{SEALING_KEY_LABEL: "compromised"})
    dry = keys_cmd(kubeconfig, "wrap", "--kek", kek.url, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("would wrap") == 2 and len(plaintext(kube)) == 2 and kek.unwraps() == 0

    result = keys_cmd(kubeconfig, "wrap", "--kek", kek.url)
    assert result.exit_code == 0, result.output
    assert result.output.count("wrapped SHA256:") == 2
    assert not plaintext(kube)
    by_source = {s["metadata"]["annotations"][WRAPPED_FROM_ANNOTATION]: s for s in wrapped(kube)}
    assert set(by_source) == {first, retired}
    assert by_source[first]["metadata"]["labels"][WRAPPED_KEY_LABEL] == "active"
    assert by_source[retired]["metadata"]["labels"][WRAPPED_KEY_LABEL] == "compromised"  # the label's value kept
    assert by_source[first]["metadata"]["annotations"]["team"] == "platform"
    assert ORIGINAL_CREATION_ANNOTATION in by_source[first]["metadata"]["annotations"]
    assert {kek.open_locally(s).fingerprint for s in wrapped(kube)} == {
        pairs[0].key.fingerprint,
        pairs[1].key.fingerprint,
    }
    assert kek.unwraps() == 2  # each wrapped copy unwrapped once before its plaintext Secret went

    again = keys_cmd(kubeconfig, "wrap", "--kek", kek.url)
    assert again.exit_code == 0 and "nothing to wrap" in again.output
    assert kek.unwraps() == 2
    assert_no_leak({"out": dry.output + result.output + again.output, **cluster_outputs(kube)}, [p.key for p in pairs])


def test_wrap_finishes_an_interrupted_run_and_keeps_the_plaintext_key_when_unwrap_is_refused(
    kube: KubeServer, kubeconfig: Path, kek: Kek, pairs: list[GeneratedKey]
) -> None:
    # Interrupted: the wrapped copy was written, the plaintext Secret not yet deleted.
    add_plaintext(kube, pairs[0])
    kube.create(wrapped_manifest(kek, pairs[0].key, NS))
    done = keys_cmd(kubeconfig, "wrap", "--kek", kek.url)
    assert done.exit_code == 0, done.output
    assert "already wrapped; removed the plaintext copy" in done.output and not plaintext(kube)
    # Refused: the wrapped copy cannot be checked, so the plaintext Secret stays.
    add_plaintext(kube, pairs[1])
    kek.vault.deny(kek.server.client.client_id, ["unwrapKey"])
    refused = keys_cmd(kubeconfig, "wrap", "--kek", kek.url)
    assert refused.exit_code == 2  # a vault that refuses: exit 2, as every connection-level refusal (docs/errors.md)
    kek_id = kek.vault.key_id("kek", kek.vault.versions("kek", "key")[-1])
    assert refused.output == (  # one line: what the vault said, then the vault key as where
        f"error: unwrapKey refused (403 ForbiddenByRbac); {ROLE_HINT}: Key Vault key {kek_id}\n"
    )
    assert len(plaintext(kube)) == 1
    kek.vault.allow(kek.server.client.client_id)
    finished = keys_cmd(kubeconfig, "wrap", "--kek", kek.url)
    assert finished.exit_code == 0, finished.output
    assert not plaintext(kube) and len(wrapped(kube)) == 2
    outputs = {"out": done.output + refused.output + finished.output, **cluster_outputs(kube)}
    assert_no_leak(outputs, [p.key for p in pairs])


def test_wrap_refuses_a_key_secret_whose_certificate_key_type_is_unknown_in_one_line(
    kube: KubeServer, kubeconfig: Path, kek: Kek, pairs: list[GeneratedKey]
) -> None:
    """A tls.crt whose key type `cryptography` does not know (UnsupportedAlgorithm, no ValueError) ended `keys wrap`
    with "internal error"; it is refused in one line naming the Secret, exit 2, and nothing is written."""
    manifest = key_secret_manifest(pairs[0], namespace=NS, prefix="sealed-secrets-key")
    manifest["data"]["tls.crt"] = base64.b64encode(unknown_key_type(pairs[0].certificate_pem)).decode()
    name = kube.create(manifest)["metadata"]["name"]
    result = keys_cmd(kubeconfig, "wrap", "--kek", kek.url)
    assert result.exit_code == 2, result.output
    assert result.output == f"error: tls.crt's key is not RSA: key Secret {NS}/{name}\n"
    assert len(plaintext(kube)) == 1 and not wrapped(kube)


def test_rewrap_moves_keys_to_the_new_kek_version_and_unseal_opens_them(
    kube: KubeServer, kubeconfig: Path, kek: Kek, pairs: list[GeneratedKey], tmp_path: Path
) -> None:
    old_version = kek.vault.versions("kek", "key")[-1]
    for pair in pairs[:2]:
        kube.create(wrapped_manifest(kek, pair.key, NS))
    new_version = kek.vault.add_key("kek", kty="RSA", size=2048)
    dry = keys_cmd(kubeconfig, "rewrap", "--kek", kek.url, "--dry-run")
    assert dry.exit_code == 0 and dry.output.count("would rewrap") == 2
    result = keys_cmd(kubeconfig, "rewrap", "--kek", kek.url)
    assert result.exit_code == 0, result.output
    assert result.output.count(f"with {kek.vault.key_id('kek', new_version)}") == 2
    ids = {base64.b64decode(s["data"]["kek.id"]).decode() for s in wrapped(kube)}
    assert ids == {kek.vault.key_id("kek", new_version)}
    assert kek.vault.count_key_operations("unwrapKey", "kek", version=old_version) == 2
    again = keys_cmd(kubeconfig, "rewrap", "--kek", kek.url)
    assert again.exit_code == 0 and again.output.count("current:") == 2
    # The old version can go: recovery opens the keys with the new one.
    kek.vault.disable_key("kek", old_version)
    backup = tmp_path / "keys.yaml"
    saved = keys_cmd(kubeconfig, "backup", "--to-file", str(backup))
    assert saved.exit_code == 0, saved.output
    items = yaml.safe_load(backup.read_text())["items"]
    assert {i["type"] for i in items} == {"sealkit.io/wrapped-sealing-key"} and "tls.key" not in str(items)
    sealed = tmp_path / "db.yaml"
    cert = load_certificate(pairs[0].certificate_pem)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "app"}}
    sealed.write_text(yaml.safe_dump(seal_secret({**secret, "stringData": {"pw": "hunter2"}}, cert)))
    opened = CliRunner().invoke(cli, ["unseal", "--private-key", str(backup), "-f", str(sealed), *AUTH])
    assert opened.exit_code == 0, opened.output
    assert base64.b64decode(yaml.safe_load(opened.output)["data"]["pw"]) == b"hunter2"
    outputs = {"out": dry.output + result.output + again.output + saved.output, **cluster_outputs(kube)}
    outputs["backup"] = backup.read_text()
    assert_no_leak(outputs, [p.key for p in pairs])


def test_unseal_without_vault_access_says_exactly_that(
    kube: KubeServer, kek: Kek, pairs: list[GeneratedKey], tmp_path: Path
) -> None:
    key_file = tmp_path / "key.yaml"
    key_file.write_text(yaml.safe_dump(wrapped_manifest(kek, pairs[0].key, NS) | {"metadata": {"name": "k"}}))
    sealed = tmp_path / "db.yaml"
    cert = load_certificate(pairs[0].certificate_pem)
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "app"}}
    sealed.write_text(yaml.safe_dump(seal_secret({**secret, "stringData": {"pw": "x"}}, cert)))
    kek.vault.deny(kek.server.client.client_id, ["unwrapKey"])
    refused = CliRunner().invoke(cli, ["unseal", "--private-key", str(key_file), "-f", str(sealed), *AUTH])
    assert refused.exit_code == 2  # keys that cannot be used: exit 2 (docs/errors.md)
    line = refused.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    # What: the vault key and its answer; where: the key file's entry, last (never the vault key first).
    kek_id = kek.vault.key_id("kek", kek.vault.versions("kek", "key")[-1])
    assert line == (
        f"error: a wrapped key; opening it needs unwrap access to its Key Vault key {kek_id} "
        f"(unwrapKey refused (403 ForbiddenByRbac); {ROLE_HINT}): {key_file} document 1 (k)"
    )
    # A command without vault options (verify, lint, reencrypt) names the wrapped key as where.
    offline = CliRunner().invoke(cli, ["verify", "--private-key", str(key_file), str(sealed)])
    assert offline.exit_code == 2
    assert offline.output == (
        "error: a wrapped key; opening it needs access to its Key Vault key (sealkit unseal --private-key unwraps "
        f"it with vault access): {key_file} document 1 (k)\n"
    )
    # The wrapped Secret is no key to tools that read plaintext key files (kubeseal's rule: tls.key or nothing).
    with pytest.raises(Exception, match="a wrapped key Secret"):
        load_private_keys(key_file.read_bytes(), "key.yaml")
    assert_no_leak({"out": refused.output}, [pairs[0].key])


def test_restore_from_the_vault_keeps_wrapped_copies_wrapped(
    kube: KubeServer, kubeconfig: Path, kek: Kek, pairs: list[GeneratedKey]
) -> None:
    from sealkit.escrow import scheme
    from sealkit.wrapping.envelope import wrap_private_key

    escrow_vault = kek.server.add_vault("kv-escrow")
    payload = scheme.build_payload(wrap_private_key(pairs[0].key, kek.client()), "prod")
    escrow_vault.add_secret(payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags))
    vault = ["--vault", escrow_vault.url, "--cluster-name", "prod"]
    listed = keys_cmd(kubeconfig, "list", *vault, "--format", "json")
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert row["escrowed"] == "wrapped" and row["secret"] is None
    result = keys_cmd(kubeconfig, "restore", *vault)
    assert result.exit_code == 0, result.output
    (secret,) = wrapped(kube)
    assert not plaintext(kube) and kek.open_locally(secret).fingerprint == pairs[0].key.fingerprint
    assert kek.unwraps() == 0  # restoring a wrapped copy needs no KEK access
    assert_no_leak({"out": listed.output + result.output, **cluster_outputs(kube)}, [pairs[0].key])
