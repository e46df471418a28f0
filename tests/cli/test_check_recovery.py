"""`sealkit keys check-recovery`: offline, from escrowed keys (plaintext and wrapped) in the local Key Vault."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit.clients.keyvault.kek import ROLE_HINT
from sealkit.escrow import scheme as escrow
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret
from sealkit.wrapping.envelope import wrap_private_key
from sealkit_cli.main import cli
from sealkit_testservers.keyvault import KeyVaultServer, Vault
from tests.support.wrapped import Kek, assert_no_leak

AUTH = ["--auth", "workload-identity", "--timeout", "2"]


@pytest.fixture(scope="module")
def pairs() -> list[GeneratedKey]:
    return [generate_key_pair(bits=2048) for _ in range(3)]


@pytest.fixture
def kek(keyvault_server: KeyVaultServer, keyvault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Kek:
    for name in ("SEALKIT_ESCROW_VAULT", "SEALKIT_ESCROW_CLUSTER_NAME", "SEALKIT_AZURE_AUTH"):
        monkeypatch.delenv(name, raising=False)
    vault = keyvault_server.add_vault("kv-kek")
    vault.add_key("kek", kty="RSA", size=2048)
    return Kek(keyvault_server, vault)


def escrow_key(vault: Vault, material: object, cluster: str = "prod") -> str:
    payload = escrow.build_payload(material, cluster)  # type: ignore[arg-type]
    vault.add_secret(payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags))
    return payload.name


def repo(tmp_path: Path, pairs: list[GeneratedKey]) -> Path:
    """One SealedSecret per key (key i seals app/s<i>), plus a file that is not a SealedSecret."""
    root = tmp_path / "repo"
    (root / "secrets").mkdir(parents=True)
    for i, pair in enumerate(pairs):
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"s{i}", "namespace": "app"}}
        sealed = seal_secret({**secret, "stringData": {"v": str(i)}}, load_certificate(pair.certificate_pem))
        (root / "secrets" / f"s{i}.yaml").write_text(yaml.safe_dump(sealed))
    (root / "README.md").write_text("not yaml")
    return root


def check(vault: Vault, root: Path, *extra: str) -> Result:
    args = ["keys", "check-recovery", str(root), "--vault", vault.url, "--cluster-name", "prod", *AUTH, *extra]
    return CliRunner().invoke(cli, args)


def test_every_sealed_secret_opens_from_plaintext_and_wrapped_escrowed_keys(
    tmp_path: Path, kek: Kek, pairs: list[GeneratedKey]
) -> None:
    escrow_vault = kek.server.add_vault("kv-escrow")
    client = kek.client()
    escrow_key(escrow_vault, pairs[0].key)
    escrow_key(escrow_vault, wrap_private_key(pairs[1].key, client))
    lost_name = escrow_key(escrow_vault, wrap_private_key(pairs[2].key, client))
    root = repo(tmp_path, pairs)
    ok = check(escrow_vault, root)
    assert ok.exit_code == 0, ok.output
    assert "3 SealedSecret(s) in 3 file(s) checked against 3 escrowed key(s) of cluster prod" in ok.output
    assert ok.output.strip().endswith("all open")
    assert kek.unwraps() == 2
    # One escrowed key is gone: exactly the SealedSecret it sealed would be lost.
    escrow_vault.delete(lost_name)
    lost = check(escrow_vault, root)
    assert lost.exit_code == 1, lost.output
    lines = [line for line in lost.output.splitlines() if line.startswith("would be lost")]
    assert len(lines) == 1 and lines[0].startswith(f"would be lost: {root / 'secrets' / 's2.yaml'}: app/s2: item 'v': ")
    assert lines[0].endswith(": sealed with another key or for another name or namespace"), "the file is not repeated"
    report = json.loads(check(escrow_vault, root, "--format", "json").output)
    assert [(x["namespace"], x["name"]) for x in report["lost"]] == [("app", "s2")] and report["ready"] is False
    assert_no_leak({"ok": ok.output, "lost": lost.output}, [p.key for p in pairs])


def test_an_escrowed_key_that_does_not_unwrap_counts_as_lost(
    tmp_path: Path, kek: Kek, pairs: list[GeneratedKey]
) -> None:
    escrow_vault = kek.server.add_vault("kv-escrow")
    wrapped = wrap_private_key(pairs[0].key, kek.client())
    name = escrow_key(escrow_vault, wrapped)
    root = repo(tmp_path, pairs[:1])
    kek.vault.deny(kek.server.client.client_id, ["unwrapKey"])
    result = check(escrow_vault, root)
    assert result.exit_code == 1
    row = f"unusable escrowed key {name} ({pairs[0].key.fingerprint}): "
    assert (
        row + f"unwrapKey refused (403 ForbiddenByRbac); {ROLE_HINT}: Key Vault key {wrapped.kek_id}\n" in result.output
    )
    assert "app/s0" in result.output
    assert_no_leak({"out": result.output}, [pairs[0].key])
    # A copy that unwraps but does not open: the row names it, the cause is what is wrong (no where repeated).
    kek.vault.allow(kek.server.client.client_id)
    flipped = bytes([wrapped.ciphertext[0] ^ 1]) + wrapped.ciphertext[1:]
    escrow_key(escrow_vault, dataclasses.replace(wrapped, ciphertext=flipped))
    corrupted = check(escrow_vault, root)
    assert corrupted.exit_code == 1
    assert (
        row + "the encrypted key does not decrypt (corrupted, or not the key of its certificate)\n" in corrupted.output
    )


def test_usage_errors(tmp_path: Path, kek: Kek) -> None:
    result = CliRunner().invoke(cli, ["keys", "check-recovery", str(tmp_path), *AUTH])
    assert result.exit_code == 2 and "--vault and --cluster-name" in result.output
