"""`sealkit keys list|backup|restore` against the Kubernetes emulator and the local Key Vault (real Azure SDK)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.escrow import scheme as escrow
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_private_keys
from sealkit.keysecrets import key_secret_manifest
from sealkit_cli.main import cli
from sealkit_testservers.keyvault import KeyVaultServer, Vault
from sealkit_testservers.kube import KubeServer
from tests.sealkit.test_certificates import unknown_key_type

NS = "kube-system"


@pytest.fixture(scope="module")
def pairs() -> list[GeneratedKey]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [generate_key_pair(bits=2048, now=start + dt.timedelta(days=30 * i)) for i in range(3)]


@pytest.fixture
def env(keyvault_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("SEALKIT_ESCROW_VAULT", "SEALKIT_ESCROW_CLUSTER_NAME", "KUBECONFIG", "SEALKIT_AZURE_AUTH"):
        monkeypatch.delenv(name, raising=False)
    return keyvault_env


def run(kubeconfig: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["keys", *args, "--kubeconfig", str(kubeconfig), "--controller-namespace", NS])


def vault_args(vault: Vault, cluster: str = "dev") -> list[str]:
    return ["--vault", vault.url, "--cluster-name", cluster, "--auth", "workload-identity", "--timeout", "2"]


def add_key(kube: KubeServer, pair: GeneratedKey, *, active: bool = True) -> str:
    manifest = key_secret_manifest(pair, namespace=NS, prefix="sealed-secrets-key")
    if not active:
        manifest["metadata"]["labels"][SEALING_KEY_LABEL] = "compromised"
    return str(kube.create(manifest)["metadata"]["name"])


def key_secrets(kube: KubeServer) -> list[dict[str, Any]]:
    return [s for s in kube.list("v1", "Secret", NS) if SEALING_KEY_LABEL in (s["metadata"].get("labels") or {})]


def check_clean(result: Result, pairs: list[GeneratedKey]) -> None:
    """No key material in any output, ever; no traceback."""
    assert "PRIVATE KEY" not in result.output and "Traceback" not in result.output
    for pair in pairs:
        body = pair.private_pem.decode().splitlines()[1]
        assert body not in result.output


def test_list_shows_cluster_and_vault_side_by_side(
    kube: KubeServer, kubeconfig: Path, keyvault: Vault, env: dict[str, str], pairs: list[GeneratedKey]
) -> None:
    old, new = add_key(kube, pairs[0]), add_key(kube, pairs[1])
    retired = add_key(kube, pairs[2], active=False)
    payload = escrow.build_payload(pairs[0].key, "dev")
    keyvault.add_secret(payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags))
    # a neighbour cluster whose name starts like ours, and an unrelated secret: not listed
    theirs = escrow.build_payload(pairs[1].key, "dev-eu")
    keyvault.add_secret(theirs.name, theirs.value, content_type=theirs.content_type, tags=dict(theirs.tags))
    keyvault.add_secret("db-password", "x")

    result = run(kubeconfig, "list", *vault_args(keyvault), "--format", "json")
    assert result.exit_code == 0, result.output
    check_clean(result, pairs)
    rows = {r["fingerprint"]: r for r in json.loads(result.output)}
    assert rows[pairs[1].key.fingerprint] == {
        "fingerprint": pairs[1].key.fingerprint,
        "created": "2026-01-31T00:00:00Z",
        "secret": new,
        "active": "sealing",
        "wrappedBy": None,
        "escrowed": "no",
        "vaultSecret": None,
    }
    assert rows[pairs[0].key.fingerprint]["active"] == "yes"
    assert rows[pairs[0].key.fingerprint]["secret"] == old
    assert rows[pairs[0].key.fingerprint]["escrowed"] == "yes"
    assert rows[pairs[0].key.fingerprint]["vaultSecret"] == payload.name
    assert rows[pairs[2].key.fingerprint]["active"] == "no" and rows[pairs[2].key.fingerprint]["secret"] == retired
    assert len(rows) == 3

    table = run(kubeconfig, "list", *vault_args(keyvault))
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == [
        "FINGERPRINT", "CREATED", "KEY", "SECRET", "ACTIVE", "WRAPPED", "ESCROWED", "VAULT", "SECRET"
    ]  # fmt: skip
    assert lines[1].split()[:6] == [pairs[2].key.fingerprint, "2026-03-02T00:00:00Z", retired, "no", "no", "no"]
    check_clean(table, pairs)
    # no reads of values: listing uses names and tags only
    assert not [r for r in keyvault.requests if r.path.startswith("/secrets/")]

    without_vault = run(kubeconfig, "list", "--format", "json")
    assert without_vault.exit_code == 0, without_vault.output
    assert {r["escrowed"] for r in json.loads(without_vault.output)} == {"-"}


def test_backup_to_vault_escrows_each_key_once_with_read_back(
    kube: KubeServer, kubeconfig: Path, keyvault: Vault, env: dict[str, str], pairs: list[GeneratedKey]
) -> None:
    add_key(kube, pairs[0])
    add_key(kube, pairs[1])
    add_key(kube, pairs[2], active=False)
    result = run(kubeconfig, "backup", *vault_args(keyvault))
    assert result.exit_code == 0, result.output
    check_clean(result, pairs)
    for pair in pairs[:2]:
        name = escrow.secret_name("dev", pair.key.fingerprint)
        assert f"escrowed {pair.key.fingerprint} as {name}" in result.output
        stored = keyvault.client().get_secret(name)
        assert stored.properties.content_type == "application/x-pem-file"
        assert stored.properties.tags == {
            "fingerprint": pair.key.fingerprint,
            "cluster": "dev",
            "sealkit-escrow": "1",
            "created": escrow.rfc3339(pair.key.not_before),
        }
        assert load_private_keys(stored.value.encode())[0].fingerprint == pair.key.fingerprint
        # written, then that very version read back before it counted
        versions = keyvault.versions(name, "secret")
        assert len(versions) == 1
        assert any(r.method == "GET" and r.path == f"/secrets/{name}/{versions[0]}" for r in keyvault.requests)
    assert escrow.secret_name("dev", pairs[2].key.fingerprint) not in keyvault.names()  # retired: not escrowed

    again = run(kubeconfig, "backup", *vault_args(keyvault))
    assert again.exit_code == 0, again.output
    assert again.output.count("already escrowed") == 2
    assert all(len(keyvault.versions(n, "secret")) == 1 for n in keyvault.names())


def test_backup_to_file_is_0600_and_restorable(
    kube: KubeServer, kubeconfig: Path, env: dict[str, str], pairs: list[GeneratedKey], tmp_path: Path
) -> None:
    add_key(kube, pairs[0])
    add_key(kube, pairs[2], active=False)
    target = tmp_path / "keys.yaml"
    result = run(kubeconfig, "backup", "--to-file", str(target))
    assert result.exit_code == 0, result.output
    check_clean(result, pairs)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [k.fingerprint for k in load_private_keys(target.read_bytes())] == [pairs[0].key.fingerprint]

    again = run(kubeconfig, "backup", "--to-file", str(target))
    assert again.exit_code == 2 and "exists; pass --force" in again.output
    target.chmod(0o644)
    forced = run(kubeconfig, "backup", "--to-file", str(target), "--force")
    assert forced.exit_code == 0 and stat.S_IMODE(target.stat().st_mode) == 0o600
    dash = run(kubeconfig, "backup", "--to-file", "-")
    assert dash.exit_code == 2 and "not written to standard output" in dash.output
    os.mkfifo(tmp_path / "pipe")  # as /dev/stdout: as root the rename put the key file in its place
    piped = run(kubeconfig, "backup", "--to-file", str(tmp_path / "pipe"), "--force")
    assert piped.output == f"error: key material is not written to a pipe or device; name a file: {tmp_path}/pipe\n"
    assert stat.S_ISFIFO((tmp_path / "pipe").lstat().st_mode)
    (tmp_path / "link.yaml").symlink_to(target)
    linked = run(kubeconfig, "backup", "--to-file", str(tmp_path / "link.yaml"), "--force")
    assert linked.exit_code == 0, linked.output
    assert (tmp_path / "link.yaml").is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o600

    long = tmp_path / "new" / ("k" * 300 + ".yaml")  # ENAMETOOLONG, also as root: the line names the file
    too_long = run(kubeconfig, "backup", f"--to-file={long}")
    assert too_long.exit_code == 2
    assert too_long.output == f"error: cannot write (file name too long): {long}\n"
    assert not long.parent.exists(), "the directory made for it is removed again"

    for secret in key_secrets(kube):
        kube.delete("v1", "Secret", secret["metadata"]["name"], NS)
    restored = run(kubeconfig, "restore", "--from-file", str(target))
    assert restored.exit_code == 0, restored.output
    check_clean(restored, pairs)
    (secret,) = key_secrets(kube)
    assert secret["metadata"]["name"] == "sealed-secrets-key-" + escrow.key_id(pairs[0].key.fingerprint)[:16]
    assert secret["metadata"]["labels"][SEALING_KEY_LABEL] == "active"
    assert secret["type"] == "kubernetes.io/tls"


def test_backup_to_file_that_fails_midway_leaves_no_part_of_a_key_file(
    kube: KubeServer,
    kubeconfig: Path,
    env: dict[str, str],
    pairs: list[GeneratedKey],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full disk (simulated: part of the bytes written, then ENOSPC) leaves no file at PATH, no temporary
    beside it and no directory made for it; with --force the old file stays as it was (were: a partly
    written 0600 key file at PATH, the old one truncated)."""
    import errno
    import os

    add_key(kube, pairs[0])
    real_write = os.write
    out = tmp_path / "out"

    def full(fd: int, data: Any) -> int:
        if Path(f"/proc/self/fd/{fd}").readlink().is_relative_to(out):
            real_write(fd, bytes(data)[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    target = out / "backups" / "keys.yaml"
    failed = run(kubeconfig, "backup", "--to-file", str(target))
    assert failed.output == f"error: cannot write (no space left on device): {target}\n"
    assert failed.exit_code == 2
    assert not out.exists(), "no file, no temporary, no directory made for them"

    out.mkdir()
    target = out / "keys.yaml"
    target.write_bytes(b"the previous backup\n")
    target.chmod(0o600)
    forced = run(kubeconfig, "backup", "--to-file", str(target), "--force")
    assert (forced.exit_code, forced.output) == (2, f"error: cannot write (no space left on device): {target}\n")
    assert [p.name for p in out.iterdir()] == ["keys.yaml"] and target.read_bytes() == b"the previous backup\n"

    monkeypatch.setattr(os, "write", real_write)
    replaced = run(kubeconfig, "backup", "--to-file", str(target), "--force")
    assert replaced.exit_code == 0, replaced.output
    assert [p.name for p in out.iterdir()] == ["keys.yaml"] and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [k.fingerprint for k in load_private_keys(target.read_bytes())] == [pairs[0].key.fingerprint]


def test_restore_from_vault_into_an_empty_namespace(
    kube: KubeServer, kubeconfig: Path, keyvault: Vault, env: dict[str, str], pairs: list[GeneratedKey]
) -> None:
    for pair in pairs[:2]:
        payload = escrow.build_payload(pair.key, "dev")
        keyvault.add_secret(payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags))

    dry = run(kubeconfig, "restore", *vault_args(keyvault), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("would restore") == 2 and key_secrets(kube) == []

    only = run(kubeconfig, "restore", *vault_args(keyvault), "--fingerprint", pairs[1].key.fingerprint)
    assert only.exit_code == 0, only.output
    assert [s["metadata"]["annotations"]["sealkit.io/restored-from"] for s in key_secrets(kube)] == [
        f"{keyvault.url}/secrets/{escrow.secret_name('dev', pairs[1].key.fingerprint)}"
    ]

    result = run(kubeconfig, "restore", *vault_args(keyvault))
    assert result.exit_code == 0, result.output
    check_clean(result, pairs)
    assert f"already in the cluster: {pairs[1].key.fingerprint}" in result.output
    assert f"restored {pairs[0].key.fingerprint}" in result.output
    held = {k.fingerprint: k for s in key_secrets(kube) for k in load_private_keys(json.dumps(s).encode())}
    assert set(held) == {pairs[0].key.fingerprint, pairs[1].key.fingerprint}
    assert held[pairs[0].key.fingerprint].not_before == pairs[0].key.not_before  # certificate restored too

    nothing = run(kubeconfig, "restore", *vault_args(keyvault))
    assert nothing.exit_code == 0 and "nothing to restore" in nothing.output

    unknown = run(kubeconfig, "restore", *vault_args(keyvault), "--fingerprint", "SHA256:" + "A" * 43)
    assert unknown.exit_code == 2
    assert unknown.output == f"error: no such key to restore: --fingerprint SHA256:{'A' * 43}\n"


def test_tampered_escrow_is_not_restored(
    kube: KubeServer, kubeconfig: Path, keyvault: Vault, env: dict[str, str], pairs: list[GeneratedKey]
) -> None:
    """All or none: one copy that is not its key ends the restore before anything is written (exit 2). The line
    says nothing was restored and names the key by name and fingerprint, so the good ones can be restored with
    --fingerprint (it said only the vault secret's name, as if the others had been restored)."""
    payload = escrow.build_payload(pairs[0].key, "dev")
    other = escrow.build_payload(pairs[1].key, "dev")
    keyvault.add_secret(payload.name, other.value, content_type=payload.content_type, tags=dict(payload.tags))
    good = escrow.build_payload(pairs[2].key, "dev")
    keyvault.add_secret(good.name, good.value, content_type=good.content_type, tags=dict(good.tags))
    result = run(kubeconfig, "restore", *vault_args(keyvault))
    assert result.exit_code == 2
    assert result.output == (
        f"error: it holds key {pairs[1].key.fingerprint}, not the key its name is for; nothing restored "
        f"(restore the other keys with --fingerprint): escrowed key {payload.name} ({pairs[0].key.fingerprint})\n"
    )
    check_clean(result, pairs)
    assert key_secrets(kube) == []
    alone = run(kubeconfig, "restore", *vault_args(keyvault), "--fingerprint", pairs[0].key.fingerprint)
    assert alone.exit_code == 2 and "nothing restored: escrowed key" in alone.output
    assert "--fingerprint" not in alone.output, "no other key to restore"
    rest = run(kubeconfig, "restore", *vault_args(keyvault), "--fingerprint", pairs[2].key.fingerprint)
    assert rest.exit_code == 0, rest.output
    assert [k.fingerprint for s in key_secrets(kube) for k in load_private_keys(json.dumps(s).encode())] == [
        pairs[2].key.fingerprint
    ]


def test_a_read_the_vault_refuses_names_the_escrowed_key_being_read(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault_server: KeyVaultServer,
    keyvault: Vault,
    env: dict[str, str],
    pairs: list[GeneratedKey],
) -> None:
    """The identity may list but not get: restore and backup named the vault only ('403 ForbiddenByRbac: this
    identity may not read secrets there ...: Key Vault <url>'), not which escrowed key was being read. Now the
    key comes first (name and fingerprint), then why and the vault; restore says nothing was restored."""
    payload = escrow.build_payload(pairs[0].key, "dev")
    keyvault.add_secret(payload.name, payload.value, content_type=payload.content_type, tags=dict(payload.tags))
    keyvault.deny(keyvault_server.client.client_id, ["secrets/get"])
    key = f"escrowed key {payload.name} ({pairs[0].key.fingerprint}) could not be read: "
    restore = run(kubeconfig, "restore", *vault_args(keyvault))
    assert restore.exit_code == 2, restore.output
    (line,) = restore.output.splitlines()
    assert line.startswith(f"error: {key}403 ForbiddenByRbac: this identity may not read secrets there")
    assert line.endswith(f"; nothing restored: Key Vault {keyvault.url}") and key_secrets(kube) == []
    add_key(kube, pairs[0])
    backup = run(kubeconfig, "backup", *vault_args(keyvault))
    assert backup.exit_code == 2, backup.output
    (line,) = backup.output.splitlines()
    assert line.startswith(f"error: {key}403 ForbiddenByRbac: this identity may not read secrets there")
    assert line.endswith(f": Key Vault {keyvault.url}")
    assert len(keyvault.versions(payload.name, "secret")) == 1, "nothing written over a copy it could not read"
    check_clean(restore, pairs)
    check_clean(backup, pairs)


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("deny", "403 ForbiddenByRbac: this identity may not list secrets"),
        ("stop", "cannot reach the vault"),
    ],
)
def test_vault_failures_are_one_line(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault: Vault,
    env: dict[str, str],
    pairs: list[GeneratedKey],
    setup: str,
    expected: str,
) -> None:
    add_key(kube, pairs[0])
    getattr(keyvault, setup)()
    for command in ("list", "backup", "restore"):
        result = run(kubeconfig, command, *vault_args(keyvault))
        assert result.exit_code == 2, result.output
        (line,) = result.output.strip().splitlines()
        assert line.lower().startswith("error: ") and expected in line
        check_clean(result, pairs)


def test_bad_input_is_one_line(
    kube: KubeServer, kubeconfig: Path, keyvault: Vault, env: dict[str, str], tmp_path: Path
) -> None:
    url = keyvault.url
    both = "escrow needs both --vault and --cluster-name; this one is missing"
    cases = [
        (
            ["backup"],
            "error: backup needs a file or an escrow vault (or both): --to-file, or --vault and --cluster-name",
        ),
        (["restore", "--vault", url], f"error: {both}: --cluster-name\n"),
        (["restore", "--cluster-name", "dev"], f"error: {both}: --vault\n"),
        (["list", "--vault", url, "--cluster-name", "Dev"], "with a letter or digit: --cluster-name"),
        (["list", "--vault", "http://127.0.0.1:1", "--cluster-name", "dev"], "must be an https:// URL"),
        (["restore", "--vault", url, "--cluster-name", "dev"], f"error: no escrowed keys for cluster dev: {url}\n"),
        (
            ["backup", "-o", str(tmp_path / "k.yaml")],
            f"error: no active key Secrets to back up: namespace {NS} at http",
        ),
    ]
    for args, message in cases:
        result = run(kubeconfig, *args, "--auth", "workload-identity")
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


def test_default_credential_and_vault_url_override(
    kube: KubeServer,
    kubeconfig: Path,
    keyvault_server: KeyVaultServer,
    env: dict[str, str],
    pairs: list[GeneratedKey],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A vault named as in Azure, reached through $SEALKIT_VAULT_URL_<NAME>; DefaultAzureCredential via env."""
    vault = keyvault_server.add_vault("kv-prod")
    add_key(kube, pairs[0])
    monkeypatch.setenv("SEALKIT_VAULT_URL_KV_PROD", vault.url)
    monkeypatch.setenv("SEALKIT_ESCROW_VAULT", "kv-prod")
    monkeypatch.setenv("SEALKIT_ESCROW_CLUSTER_NAME", "prod")
    result = run(kubeconfig, "backup")
    assert result.exit_code == 0, result.output
    assert vault.names() == [escrow.secret_name("prod", pairs[0].key.fingerprint)]


def test_help_imports_neither_cluster_nor_cloud_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom sealkit_cli.main import cli\n"
        "try:\n    cli.main(args=['keys', 'restore', '--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'kopf', 'kubernetes', 'azure', 'kmock'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_key_secret_it_cannot_read_stops_list_backup_and_restore(
    kube: KubeServer, kubeconfig: Path, pairs: list[GeneratedKey], tmp_path: Path
) -> None:
    """A key Secret whose key does not parse was skipped with a bare 'ignoring key Secret ...' line on stderr:
    a backup then went on without its key (exit 0), and restore could not tell that key was there. One line
    naming the Secret now, and nothing written (the controller still skips it and goes on: tests/controller)."""
    add_key(kube, pairs[0])
    broken = key_secret_manifest(pairs[1], namespace=NS, prefix="sealed-secrets-key")
    broken["data"]["tls.key"] = "bm90IGEga2V5"  # base64 of 'not a key'
    name = str(kube.create(broken)["metadata"]["name"])
    target = tmp_path / "keys.yaml"
    for args in (["list"], ["backup", "--to-file", str(target)], ["restore", "--from-file", str(target)]):
        if args[0] == "restore":
            target.write_bytes(pairs[0].private_pem)
        result = run(kubeconfig, *args)
        assert result.exit_code == 2, (args, result.output)
        (line,) = result.output.splitlines()
        assert line.startswith("error: tls.key holds no PEM private key: ") and f"key Secret {NS}/{name}" in line, line
        check_clean(result, pairs)
        target.unlink(missing_ok=True)
    assert not target.exists()


def test_restore_refuses_a_key_secret_whose_certificate_is_another_keys(
    kube: KubeServer, kubeconfig: Path, env: dict[str, str], pairs: list[GeneratedKey], tmp_path: Path
) -> None:
    """A backup whose tls.crt belongs to another key was 'restored', then the controller ignored that key
    with a warning (and `sealkit cert`, `sealkit dev` would hand out a certificate whose key it does not
    hold). Refused now, before anything is written, naming the document."""
    manifest = key_secret_manifest(pairs[0], namespace=NS, prefix="sealed-secrets-key")
    manifest["metadata"]["name"] = "sealed-secrets-keyabc"
    other = dict(manifest, data={**manifest["data"], "tls.crt": base64.b64encode(pairs[1].certificate_pem).decode()})
    garbled = dict(manifest, data={**manifest["data"], "tls.crt": base64.b64encode(b"not a certificate").decode()})
    pem = pairs[0].private_pem + pairs[1].certificate_pem
    unknown = unknown_key_type(pairs[0].certificate_pem)
    cases = [
        (
            yaml.safe_dump(other),
            "tls.crt is the certificate of another key, not of tls.key",
            " document 1 (sealed-secrets-keyabc)",
        ),
        (
            yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [manifest, garbled]}),
            "tls.crt does not parse",
            " document 1 item 2 (sealed-secrets-keyabc)",
        ),
        (pem.decode(), "the certificate is the certificate of another key, not of the private key", ""),
        (  # a key type `cryptography` does not know (UnsupportedAlgorithm): it was an internal error
            yaml.safe_dump(dict(manifest, data={**manifest["data"], "tls.crt": base64.b64encode(unknown).decode()})),
            "tls.crt's key is not RSA",
            " document 1 (sealed-secrets-keyabc)",
        ),
    ]
    for i, (text, what, where) in enumerate(cases):
        backup = tmp_path / f"keys{i}.yaml"
        backup.write_text(text)
        result = run(kubeconfig, "restore", "--from-file", str(backup))
        assert result.exit_code == 2, result.output
        assert result.output == f"error: {what}; nothing restored: {backup}{where}\n"
        check_clean(result, pairs)
        assert key_secrets(kube) == []
    fine = tmp_path / "fine.yaml"
    fine.write_text(yaml.safe_dump(manifest))
    restored = run(kubeconfig, "restore", "--from-file", str(fine))
    assert restored.exit_code == 0, restored.output
    assert len(key_secrets(kube)) == 1
