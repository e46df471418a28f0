"""Malformed input never crashes the scanner: random YAML-ish text, random bytes, and valid
manifests with random mutations (Kubernetes-shaped keys with wrong types) all end in findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealkit.lint import loader
from sealkit.lint.config import LintConfig
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
