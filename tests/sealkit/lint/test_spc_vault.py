"""`sealkit lint` on HashiCorp Vault SecretProviderClasses: the provider's rules (`sealkit.csi.hashicorp.
rules`, sources in hashicorp/vault-csi-provider) as findings on the right lines, placeholders noted, the
Vault example clean, and generated output with `tls.insecureSkipVerify` warned about (SK308)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from sealkit.lint import loader, spc
from sealkit.lint.config import LintConfig
from sealkit.lint.scanner import lint
from sealkit_cli.commands.csi import csi

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "vault-csi"

BASE = """\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: orders, namespace: shop}
spec:
  provider: vault
  parameters:
    vaultAddress: https://vault.example.com:8200
    roleName: orders
    objects: |
      - objectName: db-password
        secretPath: secret/data/orders/db
        secretKey: password
      - objectName: token
        secretPath: legacy/orders/api
        secretKey: token
"""


def hits(text: str) -> list[tuple[str, int, str]]:
    manifest = loader.load_text(text).manifests[0]
    return [(h.rule.id, h.line, h.message) for h in spc.check_spc(manifest)]


def test_a_clean_class() -> None:
    assert hits(BASE) == []


def test_findings_point_at_the_line_inside_objects() -> None:
    """config.go validate refuses duplicate objectNames: the finding is on the second item's name."""
    text = BASE.replace("objectName: token", "objectName: db-password")
    ((rule, line, message),) = hits(text)
    assert (rule, line) == ("SK301", 13)
    assert message == (
        "SecretProviderClass orders: objects item 2: objectName 'db-password' is also the objectName of item 1: "
        "the provider refuses duplicate objectNames"
    )


def test_missing_role_and_a_mis_cased_key() -> None:
    """config.go: roleName is required; the Secret struct's yaml tags are case-sensitive."""
    text = BASE.replace("roleName: orders", "RoleName: orders").replace("secretKey: token", "SecretKey: token")
    found = {(rule, line) for rule, line, _ in hits(text)}
    assert found == {("SK301", 6), ("SK301", 8), ("SK301", 15)}


def test_placeholders_are_noted_not_judged() -> None:
    text = BASE.replace("https://vault.example.com:8200", "${VAULT_ADDR}").replace("secret/data/orders/db", "$DB_PATH")
    assert [(rule, line) for rule, line, _ in hits(text)] == [("SK307", 7), ("SK307", 11)]


def test_the_vault_example_lints_clean() -> None:
    report = lint([EXAMPLE], LintConfig(root=EXAMPLE))
    assert report.findings == [], [f"{f.path}:{f.line} {f.rule.id} {f.message}" for f in report.findings]
    assert report.files >= 30


def test_generated_insecure_output_is_warned_about(tmp_path: Path) -> None:
    """The spec writes vaultSkipTLSVerify only with the explicit tls.insecureSkipVerify flag, and lint
    then warns (SK308) on every generated class; the generated output is otherwise clean."""
    repo = tmp_path / "vault-csi"
    shutil.copytree(EXAMPLE, repo)
    spec = repo / "sealkit-csi.yaml"
    text = spec.read_text()
    dev_tls = "      tls:\n        caCert:                      # mounted into the vault-csi-provider pods (Helm: csi.volumes)\n          configMap: vault-ca\n          key: ca.crt\n          mountPath: /vault/ca\n"  # noqa: E501
    assert dev_tls in text
    spec.write_text(text.replace(dev_tls, "      tls:\n        insecureSkipVerify: true\n"))
    generated = CliRunner().invoke(csi, ["generate", "--spec", str(spec)])
    assert generated.exit_code == 0, generated.output
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    report = lint([repo], LintConfig(root=repo))
    found = sorted((Path(f.path).relative_to(repo).as_posix(), f.rule.id) for f in report.findings)
    assert found == [
        ("clusters/dev/apps/billing/secretproviderclass.yaml", "SK308"),
        ("clusters/dev/apps/orders/secretproviderclass.yaml", "SK308"),
    ]
