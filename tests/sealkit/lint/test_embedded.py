"""Secrets nested in other YAML (chart values' extraObjects, manifests in strings) are plaintext Secrets too."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.lint.scanner import Scanner, Source, lint


def findings(text: str) -> list[tuple[int, str, str]]:
    report = Scanner().run([Source("-", None, data=text.encode())])
    return [(f.line, f.rule.id, f.message) for f in report.findings]


HELM_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: shop}
spec:
  chart: {spec: {chart: web}}
  values:
    extraObjects:
      - apiVersion: v1
        kind: Secret
        metadata: {name: web-db}
        stringData: {url: not-a-real-value}
"""


def test_a_secret_in_helm_release_values_is_plaintext() -> None:
    assert findings(HELM_RELEASE) == [
        (
            11,
            "SK101",
            "Secret web-db has stringData in plain text (base64 is an encoding, not encryption) "
            "(inside HelmRelease web spec.values.extraObjects[0])",
        )
    ]


def test_secrets_in_strings_are_found_at_their_lines() -> None:
    one_line = json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "c"}, "data": {"k": "dg=="}})
    values = (
        "extraDeploy:\n"
        "  - |\n"
        "    apiVersion: v1\n"
        "    kind: Secret\n"
        "    metadata: {name: b}\n"
        "    stringData:\n"
        "      k: not-a-real-value\n"
        f"extraManifests: '{one_line}'\n"
        "docs: 'kind: Secret holds data, see the chart notes'\n"  # a string that is not a manifest
    )
    assert [(line, rule) for line, rule, _ in findings(values)] == [(6, "SK101"), (8, "SK101")]


def test_a_list_of_secrets_in_a_configmap_string_and_escaped_spellings() -> None:
    configmap = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: manifests}\ndata:\n  all.yaml: |\n"
        "    apiVersion: v1\n    kind: List\n    items:\n"
        "    - {apiVersion: v1, kind: Secret, metadata: {name: a}, data: {k: dg==}}\n"
    )
    assert [(line, rule) for line, rule, _ in findings(configmap)] == [(9, "SK101")]
    escaped = '{"values": {"x": {"apiVersion": "v1", "kind": "Secr\\u0065t", "stringData": {"k": "v"}}}}\n'
    assert [rule for _, rule, _ in findings(escaped)] == ["SK101"]


def test_what_is_not_a_nested_plaintext_secret() -> None:
    no_values = HELM_RELEASE.replace("stringData: {url: not-a-real-value}", "type: Opaque")
    allowed = HELM_RELEASE.replace(
        "metadata: {name: web-db}", "metadata: {name: web-db, annotations: {sealkit.io/lint-allow-plaintext: ca}}"
    )
    ignored = HELM_RELEASE.replace("namespace: shop}", "namespace: shop, annotations: {sealkit.io/lint-ignore: SK101}}")
    other_group = HELM_RELEASE.replace("- apiVersion: v1", "- apiVersion: example.com/v1")
    sops = "values:\n  x: {kind: Secret, stringData: {k: 'ENC[AES256_GCM,data:x,type:str]'}}\n"
    sops += "sops: {mac: m, version: 3}\n"
    for text in (no_values, allowed, ignored, other_group):
        assert findings(text) == [], text
    assert "SK101" not in [rule for _, rule, _ in findings(sops)]  # a SOPS file is SK106's


def test_secrets_checked_elsewhere_are_reported_once(tmp_path: Path) -> None:
    """Top-level Secrets and List items, kustomization patches (kustomize.py), last-applied copies (SK103)."""
    listed = (
        "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: a}, data: {k: dg==}}\n"
    )
    assert [rule for _, rule, _ in findings(listed)] == ["SK101"]
    copy = json.dumps({"apiVersion": "v1", "kind": "Secret", "stringData": {"k": "v"}})
    annotation = json.dumps({"kubectl.kubernetes.io/last-applied-configuration": copy})
    applied = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {annotation}\n"
    assert [rule for _, rule, _ in findings(applied)] == ["SK103"]
    (tmp_path / "kustomization.yaml").write_text(
        "patches:\n- patch: |\n    apiVersion: v1\n    kind: Secret\n    metadata: {name: a}\n    stringData: {k: v}\n"
    )
    report = lint([tmp_path])
    assert [(f.line, f.rule.id) for f in report.findings] == [(6, "SK101")]


_KEYS = st.text(st.sampled_from("abcdefgXYZ_-"), min_size=1, max_size=8).filter(lambda k: k not in ("kind", "y", "n"))


@settings(max_examples=60, deadline=None)
@given(wrappers=st.lists(st.one_of(_KEYS, st.integers(min_value=0, max_value=2)), max_size=6), flow=st.booleans())
def test_a_secret_at_any_depth_is_found_once_at_its_values(wrappers: list[str | int], flow: bool) -> None:
    secret: object = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "deep"}, "stringData": {"k": "v"}}
    for wrapper in reversed(wrappers):
        secret = [*([None] * wrapper), secret] if isinstance(wrapper, int) else {wrapper: secret}
    text = yaml.safe_dump({"top": secret}, default_flow_style=flow, sort_keys=False)
    found = findings(text)
    assert [rule for _, rule, _ in found] == ["SK101"]
    line = found[0][0]
    assert "stringData" in text.splitlines()[line - 1] or flow


def test_a_secret_in_chart_values_held_by_a_configmap_names_the_configmap() -> None:
    """Flux `valuesFrom` a ConfigMap: Helm renders the Secret in its values' extraObjects; the finding says
    where the values are (it said only 'inside extraObjects[0]', which no file of the repo holds at the top)."""
    configmap = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-values, namespace: shop}\ndata:\n  values.yaml: |\n"
        "    replicaCount: 2\n    extraObjects:\n      - apiVersion: v1\n        kind: Secret\n"
        "        metadata: {name: web-db}\n        stringData:\n          password: not-a-real-value\n"
    )
    assert findings(configmap) == [
        (
            11,
            "SK101",
            "Secret web-db has stringData in plain text (base64 is an encoding, not encryption) (inside "
            "extraObjects[0] of a string at ConfigMap web-values data.values.yaml)",
        )
    ]


def test_a_secret_spelt_with_escapes_inside_a_string_is_found() -> None:
    """A JSON manifest in a ConfigMap string (single-quoted: YAML leaves its escapes to the JSON reader) with
    `Secr\\u0065t`: kubectl and Helm read a Secret, lint passed the string over as not saying "Secret"."""
    configmap = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n"
        '  all.json: \'{"apiVersion": "v1", "kind": "Secr\\u0065t", "metadata": {"name": "a"}, '
        '"stringD\\u0061ta": {"k": "v"}}\'\n'
    )
    assert [(line, rule) for line, rule, _ in findings(configmap)] == [(5, "SK101")]
    path = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  dir: \'{"path": "C:\\\\temp"}\'\n'
    assert findings(path) == []


def test_a_manifest_nested_deeper_than_lint_looks_is_an_error() -> None:
    """Three strings deep is read; a fourth level holding YAML was passed over in silence (two levels were read,
    a third was not), now SK005. Plain text that deep is only text."""
    secret = json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "deep"}, "stringData": {"k": "v"}})

    def configmap(levels: int, inner: str = secret) -> str:
        for _ in range(levels):
            inner = json.dumps({"inner": inner})
        obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"x": inner}}
        return yaml.safe_dump(obj)

    assert [rule for _, rule, _ in findings(configmap(2))] == ["SK101"]  # three strings: data.x, inner, inner
    ((_, rule, message),) = findings(configmap(3))
    assert rule == "SK005" and "is YAML 4 strings deep (at most 3): no Secret in it was looked for" in message
    assert findings(configmap(3, "plain\\ntext with a \\\\ backslash")) == []
