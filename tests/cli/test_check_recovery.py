"""`sealkit keys check-recovery`: offline, from escrowed keys (plaintext and wrapped) in the local Key Vault."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit.clients.keyvault.kek import ROLE_HINT
from sealkit.escrow import scheme as escrow
from sealkit.escrow.scheme import EscrowEntry
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret
from sealkit.wrapping.envelope import wrap_private_key
from sealkit_cli.main import cli
from sealkit_testservers.keyvault import KeyVaultServer, Vault
from sealkit_testservers.keyvault.api import VaultApi
from sealkit_testservers.keyvault.https import Request, Response
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


def test_an_escrowed_key_that_does_not_decrypt_counts_as_lost(
    tmp_path: Path, kek: Kek, pairs: list[GeneratedKey]
) -> None:
    """A copy that unwraps but does not open: the row names it, the cause is what is wrong (no where repeated).
    (A KEK the identity may not use is no finding about the key: exit 2, below.)"""
    escrow_vault = kek.server.add_vault("kv-escrow")
    wrapped = wrap_private_key(pairs[0].key, kek.client())
    flipped = bytes([wrapped.ciphertext[0] ^ 1]) + wrapped.ciphertext[1:]
    name = escrow_key(escrow_vault, dataclasses.replace(wrapped, ciphertext=flipped))
    root = repo(tmp_path, pairs[:1])
    corrupted = check(escrow_vault, root)
    assert corrupted.exit_code == 1
    row = f"unusable escrowed key {name} ({pairs[0].key.fingerprint}): "
    assert (
        row + "the encrypted key does not decrypt (corrupted, or not the key of its certificate)\n" in corrupted.output
    )
    assert "app/s0" in corrupted.output
    assert_no_leak({"out": corrupted.output}, [pairs[0].key])


def test_usage_errors(tmp_path: Path, kek: Kek) -> None:
    result = CliRunner().invoke(cli, ["keys", "check-recovery", str(tmp_path), *AUTH])
    assert result.exit_code == 2 and "--vault and --cluster-name" in result.output


# --- a vault that cannot be read is "could not check" (exit 2), never "unusable escrowed key" (exit 1) ---------


def _listed_then(monkeypatch: pytest.MonkeyPatch, after_listing: Callable[[], None]) -> None:
    """Run `after_listing` once the escrow vault's listing has been read: the vault changes mid-run."""
    from sealkit.clients.keyvault.escrow import EscrowVault

    real = EscrowVault.entries

    def entries(self: EscrowVault, cluster: str) -> list[EscrowEntry]:
        found = real(self, cluster)
        after_listing()
        return found

    monkeypatch.setattr(EscrowVault, "entries", entries)


def _could_not_check(result: Result, name: str, why: str, where: str, done: str = "read") -> None:
    """Exit 2, one `error:` line naming the key being read, why, and the vault; no report, no 'unusable' row."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: could not check recovery: escrowed key {name} could not be {done}: {why}")
    assert lines[0].endswith(f": {where}"), lines[0]
    assert "unusable" not in result.output


ESCROW_FAILURES: dict[str, tuple[Callable[[Vault, str, str], None], str]] = {
    # The identity may list but not get (a role assignment scoped to the listing, or removed mid-run).
    "403": (lambda vault, name, client: vault.deny(client, ["secrets/get"]), "403 ForbiddenByRbac: "),
    "500": (
        lambda vault, name, client: vault.fail(500, "InternalServerError", times=None, path=f"/secrets/{name}"),
        "500 InternalServerError: ",
    ),
    "throttled": (
        lambda vault, name, client: vault.throttle(times=None, retry_after=0.01, path=f"/secrets/{name}"),
        "throttled (429 Throttled)",
    ),
    "401": (
        lambda vault, name, client: vault.fail(401, "Unauthorized", times=None, path=f"/secrets/{name}"),
        "",
    ),
    "unreachable": (lambda vault, name, client: vault.stop(), "cannot reach the vault ("),
}


@pytest.mark.parametrize("failure", list(ESCROW_FAILURES))
def test_an_escrow_vault_that_fails_after_listing_is_exit_2_not_an_unusable_key(
    tmp_path: Path, kek: Kek, pairs: list[GeneratedKey], monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """Reads that fail for transport or permission reasons (403, 401, 5xx, throttled past the retries, the vault
    gone) after the listing were rows `unusable escrowed key ...` and exit 1: 'your escrow is broken' when the
    vault could not be read. Now the run ends with one line naming the key, why and the vault (exit 2)."""
    escrow_vault = kek.server.add_vault("kv-escrow")
    names = [escrow_key(escrow_vault, pair.key) for pair in pairs[:2]]
    root = repo(tmp_path, pairs[:2])
    first = _first_read(pairs[:2], names)
    fault, why = ESCROW_FAILURES[failure]
    _listed_then(monkeypatch, lambda: fault(escrow_vault, first, kek.server.client.client_id))
    result = check(escrow_vault, root, "--max-retry-wait", "0.01")
    _could_not_check(result, first, why, f"Key Vault {escrow_vault.url}")
    assert_no_leak({"out": result.output}, [p.key for p in pairs])


def _answer_for(monkeypatch: pytest.MonkeyPatch, vault: str, answer: Response) -> dict[str, str]:
    """Vault `vault` (added after this) answers `answer` (200 or not) to a 200 GET under `rule["path"]`: a proxy's
    page, a vault that lies. Returns the rule, to set the path once the secret's name is known."""
    real = VaultApi.handle
    rule = {"path": "/nothing"}

    def handle(self: VaultApi, request: Request) -> Response:
        response = real(self, request)
        hit = self.vault.name == vault and request.method == "GET" and request.path.startswith(rule["path"])
        return answer if hit and response.status == 200 else response

    monkeypatch.setattr(VaultApi, "handle", handle)
    return rule


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (Response(200, b"<html>sign in</html>", {"Content-Type": "text/html"}), "the vault's answer is not JSON"),
        (Response.json(200, {"value": 1, "id": "x"}), "the vault's answer is not what Key Vault sends ("),
    ],
)
def test_an_answer_that_is_not_key_vault_s_is_exit_2(
    tmp_path: Path,
    kek: Kek,
    pairs: list[GeneratedKey],
    monkeypatch: pytest.MonkeyPatch,
    answer: Response,
    why: str,
) -> None:
    """A proxy's sign-in page or a body of another shape where the escrowed copy should be says nothing about the
    key: the vault could not be read (exit 2), not 'unusable escrowed key' (exit 1)."""
    rule = _answer_for(monkeypatch, "kv-escrow", answer)
    escrow_vault = kek.server.add_vault("kv-escrow")
    name = escrow_key(escrow_vault, pairs[0].key)
    root = repo(tmp_path, pairs[:1])
    rule["path"] = f"/secrets/{name}"
    result = check(escrow_vault, root)
    _could_not_check(result, name, why, f"Key Vault {escrow_vault.url}")


def _first_read(pairs: list[GeneratedKey], names: list[str]) -> str:
    """The escrowed key read first (restore order: oldest certificate first, then name)."""
    order = sorted(zip(pairs, names, strict=True), key=lambda pn: (pn[0].key.not_before, pn[1]))
    return order[0][1]


def test_a_kek_that_cannot_be_used_for_permission_or_transport_is_exit_2(
    tmp_path: Path, kek: Kek, pairs: list[GeneratedKey]
) -> None:
    """The job's identity may read the escrowed copy but not unwrap it (no Crypto User on the KEK), or the KEK's
    vault is gone: the check could not be done (exit 2), the escrow is not broken."""
    escrow_vault = kek.server.add_vault("kv-escrow")
    wrapped = wrap_private_key(pairs[0].key, kek.client())
    name = escrow_key(escrow_vault, wrapped)
    root = repo(tmp_path, pairs[:1])
    kek.vault.deny(kek.server.client.client_id, ["unwrapKey"])
    refused = check(escrow_vault, root)
    why = f"unwrapKey refused (403 ForbiddenByRbac); {ROLE_HINT}"
    _could_not_check(refused, name, why, f"Key Vault key {wrapped.kek_id}", "unwrapped")
    kek.vault.allow(kek.server.client.client_id)
    kek.vault.stop()
    gone = check(escrow_vault, root)
    _could_not_check(gone, name, "cannot reach the vault (", f"Key Vault key {wrapped.kek_id}", "unwrapped")
    assert_no_leak({"refused": refused.output, "gone": gone.output}, [pairs[0].key])


@pytest.mark.parametrize("change", ["deleted", "disabled"])
def test_an_escrowed_copy_deleted_or_disabled_after_listing_is_still_unusable(
    tmp_path: Path, kek: Kek, pairs: list[GeneratedKey], monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """What the vault says about the key itself (gone, disabled) stays a finding: the key would not come back."""
    escrow_vault = kek.server.add_vault("kv-escrow")
    name = escrow_key(escrow_vault, pairs[0].key)
    root = repo(tmp_path, pairs[:1])
    act = escrow_vault.delete if change == "deleted" else escrow_vault.disable
    _listed_then(monkeypatch, lambda: act(name))
    result = check(escrow_vault, root)
    assert result.exit_code == 1, result.output
    row = f"unusable escrowed key {name} ({pairs[0].key.fingerprint}): "
    cause = "not found (" if change == "deleted" else "the secret is disabled (SecretDisabled)"
    assert row + cause in result.output
    assert "would be lost: " in result.output and result.stderr == ""


@pytest.mark.parametrize("change", ["disabled", "key_ops"])
def test_a_kek_disabled_or_without_unwrap_makes_the_key_unusable(
    tmp_path: Path, kek: Kek, pairs: list[GeneratedKey], change: str
) -> None:
    """A KEK that is disabled, or does not permit unwrapKey, would not open the key in a rebuilt cluster either."""
    escrow_vault = kek.server.add_vault("kv-escrow")
    name = escrow_key(escrow_vault, wrap_private_key(pairs[0].key, kek.client()))
    root = repo(tmp_path, pairs[:1])
    if change == "disabled":
        kek.vault.disable_key(kek.name)
    else:
        kek.vault.set_key_ops(kek.name, ["wrapKey"])
    result = check(escrow_vault, root)
    assert result.exit_code == 1, result.output
    assert f"unusable escrowed key {name} ({pairs[0].key.fingerprint}): " in result.output
    assert result.stderr == ""


def test_a_listing_that_fails_is_exit_2_before_any_report(tmp_path: Path, kek: Kek, pairs: list[GeneratedKey]) -> None:
    """The start of the run: a listing the vault refuses or fails is the vault named, exit 2, no report."""
    escrow_vault = kek.server.add_vault("kv-escrow")
    escrow_key(escrow_vault, pairs[0].key)
    root = repo(tmp_path, pairs[:1])
    escrow_vault.deny(kek.server.client.client_id, ["secrets/list"])
    refused = check(escrow_vault, root)
    assert refused.exit_code == 2 and refused.stdout == "", refused.output
    assert refused.stderr.startswith("error: 403 ForbiddenByRbac: this identity may not list secrets there")
    assert refused.stderr.endswith(f": Key Vault {escrow_vault.url}\n") and refused.stderr.count("\n") == 1


def test_a_copy_disabled_in_the_listing_is_named_in_the_report(
    tmp_path: Path, kek: Kek, pairs: list[GeneratedKey]
) -> None:
    """A disabled copy is never used (as a restore would not use it), but it was skipped without a word: the report
    now names it, text and JSON. Not a finding by itself (a key retired on purpose): what needs it is lost."""
    escrow_vault = kek.server.add_vault("kv-escrow")
    escrow_key(escrow_vault, pairs[0].key)
    disabled = escrow_key(escrow_vault, pairs[1].key)
    escrow_vault.disable(disabled)
    line = (
        f"disabled escrowed key {disabled} ({pairs[1].key.fingerprint}): "
        "the copy is disabled in the vault, so it is not used\n"
    )
    only_the_first = check(escrow_vault, repo(tmp_path / "a", pairs[:1]))
    assert only_the_first.exit_code == 0, only_the_first.output
    assert only_the_first.stdout.startswith(line) and only_the_first.stdout.endswith("all open\n")
    assert "checked against 1 escrowed key(s)" in only_the_first.stdout and only_the_first.stderr == ""
    both = check(escrow_vault, repo(tmp_path / "b", pairs[:2]))
    assert both.exit_code == 1 and both.stdout.startswith(line)
    assert "would be lost: " in both.stdout and "app/s1" in both.stdout
    report = json.loads(check(escrow_vault, repo(tmp_path / "c", pairs[:1]), "--format", "json").stdout)
    assert report["disabled"] == [{"name": disabled, "fingerprint": pairs[1].key.fingerprint}]
    assert report["ready"] is True
