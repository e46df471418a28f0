"""Structural pruning like a real API server: undeclared fields vanish, declared ones and preserved maps stay."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.data import crd_path
from sealkit_testservers.kube import KubeServer
from sealkit_testservers.kube.crds import read_crd_file
from sealkit_testservers.kube.pruning import prune, validate_object

API = "bitnami.com/v1alpha1"
SCHEMA: dict[str, Any] = read_crd_file(crd_path("bitnami.com_sealedsecrets.yaml"))["spec"]["versions"][0]["schema"][
    "openAPIV3Schema"
]


def _sealed(**extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "SealedSecret",
        "metadata": {"name": "s", "namespace": "default"},
        "spec": {"encryptedData": {"k": "AgB"}},
        **extra,
    }


def test_undeclared_status_field_is_dropped_through_the_status_subresource(kube: KubeServer) -> None:
    kube.create(_sealed())
    patched = kube.patch(
        API,
        "SealedSecret",
        "s",
        {
            "status": {
                "observedGeneration": 1,
                "kopf": {"progress": {}},
                "conditions": [{"type": "Synced", "status": "True", "bogus": "x"}],
            }
        },
        "default",
        subresource="status",
    )
    assert patched["status"] == {"observedGeneration": 1, "conditions": [{"type": "Synced", "status": "True"}]}
    stored = kube.get(API, "SealedSecret", "s", "default")
    assert stored is not None and stored["status"] == patched["status"]


def test_undeclared_spec_and_metadata_fields_are_dropped_but_preserved_maps_stay(kube: KubeServer) -> None:
    stored = kube.create(
        {
            **_sealed(),
            "spec": {
                "encryptedData": {"any-key": "AgB", "another": "AgC"},
                "template": {"metadata": {"labels": {"a": "b"}, "custom": "kept"}, "type": "Opaque", "nope": 1},
                "unknown": True,
            },
            "extra": "top",
        }
    )
    assert stored["spec"] == {
        "encryptedData": {"any-key": "AgB", "another": "AgC"},
        "template": {"metadata": {"labels": {"a": "b"}, "custom": "kept"}, "type": "Opaque"},
    }
    assert "extra" not in stored


def test_schema_violations_are_refused() -> None:
    assert validate_object(_sealed(), SCHEMA) == []
    assert validate_object({"spec": {}}, SCHEMA) == ["spec.encryptedData: Required value"]
    problems = validate_object({"spec": {"encryptedData": {}, "template": {"immutable": "yes"}}}, SCHEMA)
    assert problems and "must be of type boolean" in problems[0]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _declared_only(value: Any, schema: dict[str, Any] | None) -> bool:
    """Every key left is declared (or lives under a preserve-unknown / additionalProperties schema)."""
    if schema is None or not isinstance(value, dict | list):
        return True
    if isinstance(value, list):
        return all(_declared_only(v, schema.get("items")) for v in value)
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in props:
            if not _declared_only(item, props[key]):
                return False
        elif isinstance(extra, dict):
            if not _declared_only(item, extra):
                return False
        elif not schema.get("x-kubernetes-preserve-unknown-fields"):
            return False
    return True


@settings(max_examples=200, deadline=None)
@given(
    spec=st.dictionaries(st.sampled_from(["encryptedData", "template", "data", "junk"]), _json, max_size=4),
    status=st.dictionaries(st.sampled_from(["conditions", "observedGeneration", "kopf"]), _json, max_size=3),
)
def test_pruning_keeps_only_declared_fields_and_is_idempotent(spec: dict[str, Any], status: dict[str, Any]) -> None:
    obj = {
        "apiVersion": API,
        "kind": "SealedSecret",
        "metadata": {"name": "x", "junk": 1},
        "spec": spec,
        "status": status,
    }
    once = prune(obj, SCHEMA)
    assert prune(once, SCHEMA) == once
    assert set(once["metadata"]) == {"name"}
    body = {k: v for k, v in once.items() if k not in {"apiVersion", "kind", "metadata"}}
    assert _declared_only(
        body, {**SCHEMA, "properties": {k: v for k, v in SCHEMA["properties"].items() if k in {"spec", "status"}}}
    )
    assert "junk" not in once["spec"] and "kopf" not in once["status"]
