"""Malformed input never crashes the scanner: random YAML-ish text, random bytes, and valid
manifests with random mutations (Kubernetes-shaped keys with wrong types) all end in findings."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealkit.lint import loader
from sealkit.lint.config import LintConfig
from sealkit.lint.discovery import discover
from sealkit.lint.scanner import Scanner, Source
from sealkit.lint.sealed import SealedChecks

TOKENS = st.sampled_from([*"abkind:{}[]-,&*!|>'\"#%@` \n\t?0123456789=<.", "---\n", "...\n", "  ", "&a ", "*a", "<<: "])
YAML_TEXT = st.lists(TOKENS, max_size=120).map("".join)
JUNK = st.lists(TOKENS, max_size=6).map("".join)
KINDS = [
    "Secret",
    "SealedSecret",
    "SecretProviderClass",
    "ConfigMap",
    "Deployment",
    "CronJob",
    "Pod",
    "List",
    "Kustomization",
]
API_VERSIONS = [
    "v1",
    "bitnami.com/v1alpha1",
    "secrets-store.csi.x-k8s.io/v1",
    "apps/v1",
    "batch/v1",
    "",
    "helm.toolkit.fluxcd.io/v2",
]
FIELDS = ["metadata", "spec", "data", "stringData", "encryptedData", "template", "annotations", "labels", "name",
          "namespace", "containers", "env", "volumes", "csi", "parameters", "objects", "secretObjects", "items",
          "valueFrom", "secretKeyRef", "values", "sops", "tls.key", "jobTemplate"]  # fmt: skip

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30), st.sampled_from(KINDS + FIELDS))
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5)),
    max_leaves=25,
)
manifests = st.fixed_dictionaries(
    {"apiVersion": st.sampled_from(API_VERSIONS), "kind": st.sampled_from(KINDS)},
    optional={f: values for f in FIELDS[:8]},
)

SCANNER_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scan(data: bytes, display: str = "fuzz.yaml") -> None:
    report = Scanner(LintConfig(root=Path("/nonexistent")), SealedChecks(frozenset({4096}))).run(
        [Source(display, None, data)]
    )
    lines = max(1, len(data.decode("utf-8", "replace").splitlines()) + 1)  # YAML also breaks lines at \r, \x85
    for finding in report.findings:
        assert 1 <= finding.line <= lines, finding
        assert "\n" not in finding.message


@SCANNER_SETTINGS
@given(YAML_TEXT)
def test_yamlish_text(text: str) -> None:
    scan(text.encode())


@SCANNER_SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    result = loader.load_bytes(data)
    assert isinstance(result.manifests, list)
    scan(data)


@SCANNER_SETTINGS
@given(st.lists(manifests, min_size=1, max_size=3))
def test_kubernetes_shaped_objects_with_wrong_types(objects: list[dict[str, Any]]) -> None:
    scan(yaml.safe_dump_all(objects).encode())


@SCANNER_SETTINGS
@given(st.lists(manifests, min_size=1, max_size=2), st.integers(0, 400), JUNK)
def test_valid_manifests_with_a_splice(objects: list[dict[str, Any]], at: int, junk: str) -> None:
    text = yaml.safe_dump_all(objects)
    at = min(at, len(text))
    scan((text[:at] + junk + text[at:]).encode())


# Every kind of file lint reads, by name: random bytes, YAML-ish text, and real corpus files
# (leaks, legitimate material, rule cases) with random mutations; all end in findings, never raise.
DATA = Path(__file__).resolve().parents[2] / "data"
SEEDS = sorted(p for base in ("leaks", "legit", "lint/rules") for p in (DATA / base).rglob("*") if p.is_file())
NAMES = ["x.yaml", "x.json", ".env", "prod.env", "kustomization.yaml", "blob.bin", "secret.sops.yaml", "kubeconfig"]


@st.composite
def mutated_seed(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(SEEDS)).read_bytes()[:4000]
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        cut = draw(st.integers(0, 20))
        data = data[:at] + draw(st.binary(max_size=12) | JUNK.map(str.encode)) + data[at + cut :]
    return data


def scan_named(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, data in files.items():
            (root / name).write_bytes(data)
        report = Scanner(LintConfig(root=root)).run(discover([root]))
        assert report.files == len(files)
        assert all(f.rule.id != "SK009" for f in report.findings), report.findings
        assert all("\n" not in f.message for f in report.findings)


@SCANNER_SETTINGS
@given(st.dictionaries(st.sampled_from(NAMES), st.one_of(st.binary(max_size=300), YAML_TEXT.map(str.encode),
                                                           mutated_seed()), min_size=1, max_size=4))  # fmt: skip
def test_any_file_of_any_kind(files: dict[str, bytes]) -> None:
    scan_named(files)
