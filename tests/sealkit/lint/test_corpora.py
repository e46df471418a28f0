"""The two corpora of issue #17: every planted leak is an error naming its file (and no planted
value is ever printed); legitimate material (SealedSecrets, public keys and certificates, SOPS done
right, upstream-form SecretProviderClasses and provider-accepted variants) gives no error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from sealkit.lint import loader
from sealkit.lint.config import LintConfig
from sealkit.lint.model import Severity
from sealkit.lint.scanner import LintReport, lint
from sealkit_cli.main import cli

from .keyfiles import write_keys

DATA = Path(__file__).resolve().parents[2] / "data"
LEAKS = DATA / "leaks"
LEGIT = DATA / "legit"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "gitops"

# Committed leak files -> the rule that must find each.
COMMITTED_LEAKS = {
    "manifests/db-secret.json": "SK101",
    "manifests/backup-list.json": "SK101",
    "manifests/rendered.json": "SK101",
    "kustomize/kustomization.yaml": "SK105",
    "kustomize/settings.properties": "SK105",
    "kustomize/api.token": "SK105",
    "flux/apps.yaml": "SK503",
    "helm/release.yaml": "SK503",
    ".env": "SK503",
    "sops/secret.sops.yaml": "SK106",
}
OVERSIZED = "rendered/all-in-one.yaml"


def describe(report: LintReport) -> list[str]:
    return [f"{f.path}:{f.line} {f.severity.label} {f.rule.id} {f.message}" for f in report.findings]


@pytest.fixture
def leaks(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The committed leaks, the generated keys and an oversized file, outside any git tree."""
    root = tmp_path / "repo"
    shutil.copytree(LEAKS, root)
    (root / "SOURCES.md").unlink()
    expected = dict(COMMITTED_LEAKS)
    expected.update({relative: "SK104" for relative in write_keys(root)})
    big = root / OVERSIZED
    big.parent.mkdir(parents=True)
    with big.open("wb") as handle:
        handle.write(b"# rendered\n" + b"x" * (loader.DEFAULT_MAX_INPUT_BYTES + 1))
    expected[OVERSIZED] = "SK004"
    return root, expected


def test_every_planted_leak_is_an_error_naming_its_file(leaks: tuple[Path, dict[str, str]]) -> None:
    root, expected = leaks
    report = lint([root], LintConfig(root=root))
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        if finding.severity >= Severity.ERROR:
            found.setdefault(Path(finding.path).relative_to(root).as_posix(), set()).add(finding.rule.id)
    missed = {path: rule for path, rule in expected.items() if rule not in found.get(path, set())}
    assert missed == {}, describe(report)
    assert len(expected) >= 28 and report.files == len(expected)


def test_no_planted_value_is_ever_printed(leaks: tuple[Path, dict[str, str]]) -> None:
    root, _ = leaks
    (root / OVERSIZED).unlink()
    for fmt in ("text", "json", "sarif"):
        result = CliRunner().invoke(cli, ["lint", "--format", fmt, str(root)])
        assert result.exit_code == 1
        assert "LEAK-" not in result.output and "TEVBSy" not in result.output
        assert "BEGIN" not in result.output and "AGE-SECRET-KEY-1" not in result.output
        if fmt == "json":
            assert json.loads(result.stdout)["summary"]["failed"] is True


def _public_material(root: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (root / "public").mkdir()
    (root / "public" / "signing.pub.pem").write_bytes(
        key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)
    )
    (root / "public" / "id_ed25519.pub").write_bytes(
        ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH)
    )
    (root / "public" / "signing.pub.der").write_bytes(
        key.public_key().public_bytes(ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo)
    )
    cert = x509.load_pem_x509_certificate((EXAMPLE / "clusters" / "example-cluster-cert.pem").read_bytes())
    (root / "public" / "cluster.der").write_bytes(cert.public_bytes(ser.Encoding.DER))


def test_legitimate_corpus_gives_no_error(tmp_path: Path) -> None:
    root = tmp_path / "legit"
    shutil.copytree(LEGIT, root)
    shutil.copytree(EXAMPLE, root / "gitops")  # SealedSecrets, kustomize, generated SPCs, a public cert
    _public_material(root)
    report = lint([root], LintConfig(root=root))
    errors = [f for f in report.findings if f.severity >= Severity.ERROR]
    assert errors == [], describe(report)
    spc_files = sorted((root / "spc").glob("*.yaml"))
    assert len(spc_files) >= 15
    assert report.files > 70


def test_upstream_forms_and_variants_are_only_warned_or_noted(tmp_path: Path) -> None:
    report = lint([LEGIT / "spc"], LintConfig(root=LEGIT / "spc"))
    assert {f.rule.id for f in report.findings} <= {"SK305", "SK307"}, describe(report)
    variants = [f for f in report.findings if "variant-" in f.path and "v1alpha1" not in f.path]
    assert variants == [], describe(report)
