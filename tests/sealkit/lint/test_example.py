"""The GitOps example lints clean (also opened with its cluster key and checked against its cert);
copies with a planted mistake yield the matching finding."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sealkit.keys import KeyRing, load_certificate, load_private_keys
from sealkit.lint.config import LintConfig
from sealkit.lint.envs import load_index
from sealkit.lint.scanner import LintReport, lint
from sealkit.lint.sealed import SealedChecks, offline_opener

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "gitops"
PLANTED = ROOT / "tests" / "data" / "lint" / "planted"


def full_checks() -> SealedChecks:
    """Key sizes against dev's certificate (prod's is 4096-bit too), opening with both clusters' keys."""
    cert = load_certificate((EXAMPLE / "clusters" / "example-cluster-cert.pem").read_bytes())
    ring = KeyRing(
        key
        for name in ("example-cluster-key.pem", "example-prod-key.pem")
        for key in load_private_keys((ROOT / "tests" / "data" / name).read_bytes())
    )
    return SealedChecks(frozenset({cert.public_key.key_size}), offline_opener(ring))


def describe(report: LintReport) -> list[str]:
    return [f"{f.path}:{f.line} {f.rule.id} {f.message}" for f in report.findings]


def test_example_lints_clean_with_every_check() -> None:
    report = lint([EXAMPLE], LintConfig(root=EXAMPLE), full_checks())
    assert report.findings == [], describe(report)
    yaml_files = [p for p in EXAMPLE.rglob("*") if p.suffix in (".yaml", ".yml")]
    assert report.files >= len(yaml_files) >= 30
    assert report.objects >= len(yaml_files) - 1


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "gitops"
    shutil.copytree(EXAMPLE, copy)
    return copy


def plant(repo: Path, fixture: str, where: str) -> Path:
    target = repo / where / fixture
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(PLANTED / fixture, target)
    return target


def findings_in(repo: Path, path: Path) -> list[tuple[str, int]]:
    report = lint([repo], LintConfig(root=repo), full_checks())
    others = [f for f in report.findings if f.path != str(path)]
    assert others == [], describe(report)
    return [(f.rule.id, f.line) for f in report.findings]


def test_planted_plaintext_secret(example_copy: Path) -> None:
    path = plant(example_copy, "plaintext-secret.yaml", "clusters/dev/secrets")
    assert findings_in(example_copy, path) == [("SK101", 8)]


def test_planted_scope_on_template_only(example_copy: Path) -> None:
    path = plant(example_copy, "scope-on-template.sealedsecret.yaml", "clusters/dev/secrets")
    found = findings_in(example_copy, path)
    assert ("SK205", 14) in found, found  # the annotation on the template
    assert ("SK204", 5) in found, found  # strict without a namespace
    assert {rule for rule, _ in found} == {"SK204", "SK205"}


def test_planted_misspelled_spc_parameter(example_copy: Path) -> None:
    path = plant(example_copy, "misspelled-parameter.spc.yaml", "clusters/dev/apps/reporting")
    report = lint([example_copy], LintConfig(root=example_copy), full_checks())
    assert {(f.path, f.rule.id) for f in report.findings} == {(str(path), "SK301")}
    messages = {f.line: f.message for f in report.findings}
    assert "did you mean keyvaultName" in messages[11]
    assert "keyvaultName is not provided" in messages[10]


def test_editing_generated_output_is_caught(example_copy: Path) -> None:
    spc = example_copy / "clusters/prod/apps/orders/secretproviderclass.yaml"
    spc.write_text(spc.read_text().replace("sealkit-prod-kv", "sealkit-other-kv"))
    report = lint([example_copy], LintConfig(root=example_copy))
    assert [(f.path, f.rule.id) for f in report.findings] == [(str(spc), "SK303")]


def test_example_environments_lint_clean_and_a_moved_file_is_the_wrong_cluster(example_copy: Path) -> None:
    """The example seals per environment; a prod file copied into dev's directory is SK210 naming both."""
    environments = load_index(example_copy / "sealkit-csi.yaml")
    clean = lint([example_copy], LintConfig(root=example_copy), full_checks(), environments=environments)
    assert clean.findings == [], describe(clean)
    source = example_copy / "clusters/prod/secrets/shop.orders-partner-api.sealedsecret.yaml"
    moved = example_copy / "clusters/dev/secrets/shop.orders-partner-api.sealedsecret.yaml"
    moved.write_bytes(source.read_bytes())  # a copy-paste slip in review
    report = lint([example_copy], LintConfig(root=example_copy), full_checks(), environments=environments)
    found = [(f.path, f.rule.id, f.severity.label) for f in report.findings]
    assert (str(moved), "SK210", "error") in found, describe(report)
    (message,) = [f.message for f in report.findings if f.rule.id == "SK210"]
    assert "was sealed for environment prod" in message
    assert "sits in environment dev's directory clusters/dev/secrets" in message
    # Without the environments, only opening it with dev's key could tell (SK208, --private-key).
    assert {f.rule.id for f in report.findings} == {"SK210"}
