"""`sealkit csi verify` against HashiCorp Vault: the real hvac client and the local Vault test servers.

One run over 200 objects reports every failure class (missing path, missing key, permission denied,
deleted version, undecodable value, sealed Vault, unreachable Vault), one line each, and never a
secret value, token or JWT. Logins: a token from the environment or a file, Kubernetes auth with a
service-account token and the spec's role.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sealkit_cli.commands.csi import csi
from sealkit_testservers.vault import VaultServer, service_account_jwt
from tests.support import vaultscenario
from tests.support.vaultscenario import VALUE, Scenario


@pytest.fixture
def vault_b(tmp_path: Path) -> Iterator[VaultServer]:
    server = VaultServer(tmp_path / "vault-b").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scenario(vault_server: VaultServer, vault_b: VaultServer, tmp_path: Path) -> Scenario:
    return vaultscenario.build(tmp_path, vault_server, vault_b)


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    base: dict[str, str | None] = {"VAULT_TOKEN": None, "VAULT_CACERT": None, "HOME": "/nonexistent"}
    return CliRunner().invoke(csi, ["verify", *args], env={**base, **(env or {})})


def check_nothing_secret(result: Result, *secrets: str) -> None:
    assert VALUE not in result.output
    assert "Traceback" not in result.output
    for secret in secrets:
        assert secret not in result.output


def test_one_run_over_200_objects_reports_every_failure_class(scenario: Scenario) -> None:
    result = run(str(scenario.spec), "--vault-cacert", str(scenario.ca_bundle), env={"VAULT_TOKEN": scenario.token})
    check_nothing_secret(result, scenario.token)
    assert result.exit_code == 2  # a sealed and an unreachable Vault: a connection error, as for Key Vault
    rows = [line.split(None, 6) for line in result.output.splitlines() if line.startswith("dev ")]
    assert len(rows) == vaultscenario.TOTAL == 200
    by_file = {row[2]: row for row in rows}
    assert by_file["ok-000"][5] == "ok" and by_file["legacy-007"][5] == "ok"
    assert sum(1 for row in rows if row[5] == "ok") == 150
    assert by_file["missing-path-3"][6] == "path not found: secret/data/shop/missing3 (404)"
    assert by_file["missing-key-2"][6] == "no key 'nope' at secret/data/shop/s002 (keys: other, value)"
    assert by_file["denied-4"][6] == (
        "permission denied: the login's policies do not grant read on secret/data/private/p4"
    )
    assert by_file["deleted-1"][3] == "secret/data/shop/old1?version=1"
    assert by_file["deleted-1"][6] == "version 1 of secret/data/shop/old1?version=1 is deleted or destroyed (404)"
    assert by_file["encoding-0"][6] == "the value of 'text' is not base64: the provider refuses the mount"
    apps = {app: {row[5] for row in rows if row[1] == app} for app in ("sealed", "gone")}
    assert apps == {"sealed": {"not-checked"}, "gone": {"not-checked"}}
    assert "200 Vault reference(s) in 3 Vault(s): 150 ok, 40 failed, 10 not-checked" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3 and errors[-1] == "error: 40 reference(s) failed verification"
    assert any("Vault is sealed (503): unseal it" in e for e in errors)
    assert f"error: cannot reach Vault (connection refused): vault {scenario.unreachable}" in errors


def test_json_output(scenario: Scenario) -> None:
    result = run(
        str(scenario.spec),
        "--format",
        "json",
        "--vault-cacert",
        str(scenario.ca_bundle),
        env={"VAULT_TOKEN": scenario.token},
    )
    check_nothing_secret(result, scenario.token)
    data = json.loads(result.output[: result.output.rindex("}") + 1])
    assert data["ok"] is False
    vault = data["hashicorpVault"]
    assert vault["summary"] == {"ok": 150, "failed": 40, "skipped": 0, "not-checked": 10, "references": 200}
    assert len(vault["errors"]) == 2
    denied = next(o for o in vault["objects"] if o["file"] == "denied-0")
    assert denied["status"] == "failed" and denied["path"] == "secret/data/private/p0"
    assert data["objects"] == []  # no Key Vault object in this spec


def test_problems_only_and_a_clean_app(scenario: Scenario) -> None:
    clean = run(
        str(scenario.spec),
        "--app",
        "shop",
        "--problems-only",
        "--vault-cacert",
        str(scenario.ca_bundle),
        env={"VAULT_TOKEN": scenario.token},
    )
    rows = [line for line in clean.output.splitlines() if line.startswith("dev ")]
    assert len(rows) == 40 and all(" ok " not in row for row in rows)


def test_token_from_a_file_and_no_token(vault_server: VaultServer, tmp_path: Path) -> None:
    vault_server.put_secret("secret", "web/db", {"password": VALUE})
    spec = write_small_spec(tmp_path, vault_server.url)
    token_file = tmp_path / "token"
    token_file.write_text(vault_server.root_token)
    ok = run(str(spec), "--vault-token-file", str(token_file), "--vault-cacert", str(vault_server.ca_path))
    assert ok.exit_code == 0, ok.output
    assert "1 Vault reference(s) in 1 Vault(s): 1 ok" in ok.output
    check_nothing_secret(ok, vault_server.root_token)
    none = run(str(spec), "--vault-cacert", str(vault_server.ca_path))
    assert none.exit_code == 2  # no credential: nothing could be read (docs/errors.md)
    assert "error: no Vault token: set VAULT_TOKEN" in none.output
    assert "ENV" not in none.output  # one line, not one per object


def test_kubernetes_login_with_the_specs_role(vault_server: VaultServer, tmp_path: Path) -> None:
    vault_server.put_secret("secret", "web/db", {"password": VALUE})
    vault_server.add_policy("web", 'path "secret/data/web/*" { capabilities = ["read"] }')
    vault_server.add_role("web", service_account_names=["web"], service_account_namespaces=["team"], policies=["web"])
    spec = write_small_spec(tmp_path, vault_server.url)
    jwt = service_account_jwt("team", "web")
    (tmp_path / "sa.jwt").write_text(jwt)
    args = ["--vault-auth", "kubernetes", "--vault-jwt-file", str(tmp_path / "sa.jwt")]
    ok = run(str(spec), *args, "--vault-cacert", str(vault_server.ca_path))
    assert ok.exit_code == 0, ok.output
    check_nothing_secret(ok, jwt)
    (tmp_path / "sa.jwt").write_text(service_account_jwt("team", "ci"))
    refused = run(str(spec), *args, "--vault-cacert", str(vault_server.ca_path))
    assert refused.exit_code == 2  # the login refused: the Vault cannot be read at all
    assert (
        "error: the Kubernetes login as role 'web' at auth/kubernetes was refused "
        f"(403 service account name not authorized): vault {vault_server.url}"
    ) in refused.output
    as_ci = run(str(spec), *args, "--vault-role", "ci", "--vault-cacert", str(vault_server.ca_path))
    assert "invalid role name" in as_ci.output  # --vault-role replaces the spec's role for the login


def test_address_override(vault_server: VaultServer, tmp_path: Path) -> None:
    vault_server.put_secret("secret", "web/db", {"password": VALUE})
    spec = write_small_spec(tmp_path, "https://vault.example.com:8200")
    result = run(
        str(spec),
        "--vault-address",
        f"https://vault.example.com:8200={vault_server.url}",
        "--vault-cacert",
        str(vault_server.ca_path),
        env={"VAULT_TOKEN": vault_server.root_token},
    )
    assert result.exit_code == 0, result.output
    bad = run(str(spec), "--vault-address", "nonsense")
    assert (
        bad.exit_code == 2
        and "error: give ADDRESS=URL, e.g. https://vault.prod:8200=https://127.0.0.1:8200: --vault-address 'nonsense'\n"
        in bad.output
    )
    for given, shown in (
        ("https://ops:Pl4nted@vault.prod:8200", "https://***@vault.prod:8200"),  # the '=' forgotten
        (
            "https://vault.prod:8200=ftp://ops:Pl4nted@127.0.0.1:8200",
            "https://vault.prod:8200=ftp://***@127.0.0.1:8200",
        ),
    ):
        leaked = run(str(spec), "--vault-address", given)
        assert leaked.exit_code == 2 and "Pl4nted" not in leaked.output, leaked.output
        assert leaked.output.endswith(f": --vault-address '{shown}'\n"), leaked.output


def test_failed_references_exit_1_and_an_unreadable_vault_exits_2(vault_server: VaultServer, tmp_path: Path) -> None:
    """As for Key Vault (docs/errors.md): a reference that fails its check is 1, a Vault that cannot be read is 2."""
    vault_server.put_secret("secret", "web/db", {"other": VALUE})
    spec = write_small_spec(tmp_path, vault_server.url)
    token = {"VAULT_TOKEN": vault_server.root_token}
    missing_key = run(str(spec), "--vault-cacert", str(vault_server.ca_path), env=token)
    assert missing_key.exit_code == 1, missing_key.output
    assert "no key 'password' at secret/data/web/db (keys: other)" in missing_key.output
    vault_server.seal()
    sealed = run(str(spec), "--vault-cacert", str(vault_server.ca_path), env=token)
    assert sealed.exit_code == 2, sealed.output
    assert "Vault is sealed (503): unseal it" in sealed.output
    check_nothing_secret(sealed, vault_server.root_token)


def write_small_spec(root: Path, address: str) -> Path:
    spec = root / "small.yaml"
    spec.write_text(
        "apiVersion: sealkit/v1alpha1\nkind: KeyVaultCsi\nenvironments:\n  dev:\n    overlay: o\n"
        f"    sealingCert: c.pem\n    hashicorpVault: {{address: '{address}', role: web}}\n"
        "applications:\n  web:\n    namespace: team\n    base: b\n    serviceAccount: {name: web}\n"
        "    hashicorpVault:\n      objects:\n"
        "        - {file: db-password, mount: secret, kv: 2, path: web/db, key: password}\n"
    )
    return spec
