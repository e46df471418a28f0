"""The `vault` provider's class as rendered: what the provider reads back from it, and `generate --check`.

The `objects` string is read back the way the provider reads it (hashicorp/vault-csi-provider
`internal/config/config.go`: gopkg.in/yaml.v3 into `[]Secret`), here with `sealkit.csi.hashicorp.rules`,
which mirrors that decoding (octal `filePermission` as a plain integer, `secretArgs` as a map).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sealkit.csi.hashicorp import render
from sealkit.csi.hashicorp import rules as vault_rules
from sealkit.csi.model import CaCert, HashiVault, VaultObject, VaultRole, VaultTls
from sealkit_cli.commands.csi import csi

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "vault-csi"

OBJECTS = (
    VaultObject("db-password", "web/db", mount="secret", kv=2, key="password", file_permission="0440"),
    VaultObject("api key.txt", "web/api", mount="team/kv", kv=2, key="key: x", versions={"prod": 7}),
    VaultObject("legacy", "team/token", mount="legacy", kv=1, key="token", encoding="base64"),
    VaultObject(
        "certs.json", "pki/issue/web", method="PUT", args={"common_name": "web.team.svc", "alt_names": ["a", "b"]}
    ),
)


def test_objects_read_back_as_the_provider_reads_them() -> None:
    text = render.objects_parameter(OBJECTS, "prod")
    parsed = vault_rules.parse_objects(text)
    assert parsed.readable and parsed.problems == []
    fields = [item.fields for item in parsed.items]
    assert fields[0] == {"objectName": "db-password", "secretPath": "secret/data/web/db", "secretKey": "password"}
    assert parsed.items[0].mode == 0o440  # a plain octal integer: yaml.v3 refuses a quoted one
    assert fields[1]["secretPath"] == "team/kv/data/web/api?version=7"
    assert fields[1]["secretKey"] == "key: x"  # quoted where YAML would read it otherwise
    assert fields[1]["objectName"] == "api key.txt"
    assert fields[2] == {
        "objectName": "legacy",
        "secretPath": "legacy/team/token",
        "secretKey": "token",
        "encoding": "base64",
    }
    assert parsed.items[3].args == {"common_name": "web.team.svc", "alt_names": ["a", "b"]}
    assert fields[3]["method"] == "PUT" and "secretKey" not in fields[3]
    assert yaml.safe_load(text)[1]["secretPath"] == "team/kv/data/web/api?version=7"
    assert "?version" not in render.objects_parameter(OBJECTS, "dev")


def test_parameters_in_a_fixed_order_all_strings() -> None:
    ca = CaCert("secret", "vault-tls", "ca.crt", "/vault/tls/")
    vault = HashiVault(
        "https://vault.example.com:8200",
        auth_mount_path="k8s",
        namespace="team/prod",
        role=VaultRole("web"),
        audience="vault",
        tls=VaultTls(ca, "vault.example.com"),
    )
    params = render.parameters(vault, OBJECTS[:1], "prod")
    assert list(params) == [
        "vaultAddress",
        "roleName",
        "vaultKubernetesMountPath",
        "vaultNamespace",
        "audience",
        "vaultCACertPath",
        "vaultTLSServerName",
        "objects",
    ]
    assert params["vaultCACertPath"] == "/vault/tls/ca.crt"
    assert all(isinstance(v, str) for v in params.values())


@pytest.mark.parametrize(
    ("address", "skip"), [("https://vault.example.com:8200", "true"), ("http://vault.vault.svc:8200", None)]
)
def test_the_insecure_flag(address: str, skip: str | None) -> None:
    """`tls.insecureSkipVerify` renders vaultSkipTLSVerify only where there is TLS to skip."""
    vault = HashiVault(address, role=VaultRole("web"), tls=VaultTls(insecure_skip_verify=True))
    assert render.parameters(vault, OBJECTS[:1], "dev").get("vaultSkipTLSVerify") == skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "vault-csi"
    shutil.copytree(EXAMPLE, target)
    return target


def test_generate_check_on_vault_output(repo: Path) -> None:
    """`--check` works as for Key Vault: stale output is a diff and exit 1; generate fixes it."""
    spec = repo / "sealkit-csi.yaml"
    runner = CliRunner()
    ok = runner.invoke(csi, ["generate", "--spec", str(spec), "--check"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("up to date: 27 generated files")
    spec.write_text(spec.read_text().replace("role: billing\n", "role: billing-v2\n"))
    stale = runner.invoke(csi, ["generate", "--spec", str(spec), "--check"])
    assert stale.exit_code == 1
    assert "-    roleName: billing" in stale.output and "+    roleName: billing-v2" in stale.output
    assert "error: 2 generated file(s) are stale" in stale.output  # dev and staging; prod overrides the role
    fixed = runner.invoke(csi, ["generate", "--spec", str(spec)])
    assert "wrote 2 file(s), 25 unchanged" in fixed.output
    assert runner.invoke(csi, ["generate", "--spec", str(spec), "--check"]).exit_code == 0
