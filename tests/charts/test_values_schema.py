"""values.schema.json: helm refuses wrong types and unknown keys, and accepts every documented value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from charttools import CHART, NONDEFAULT_VALUES, run_helm
from hypothesis import given, settings
from hypothesis import strategies as st

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
DEFAULTS = yaml.safe_load((CHART / "values.yaml").read_text())
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def helm_template(helm: str, tmp_path: Path, values: dict[str, Any]) -> tuple[int, str]:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    result = run_helm(helm, "template", "x", str(CHART), "--values", str(path), check=False)
    return result.returncode, result.stderr


def test_schema_is_valid_and_accepts_the_defaults_and_the_nondefault_set() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert list(VALIDATOR.iter_errors(DEFAULTS)) == []
    assert list(VALIDATOR.iter_errors(yaml.safe_load(NONDEFAULT_VALUES.read_text()))) == []


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"controller": {"keySize": "4096"}}, "/controller/keySize"),
        ({"controller": {"allNamespaces": "false"}}, "/controller/allNamespaces"),
        ({"controller": {"additionalNamespaces": "team-a"}}, "/controller/additionalNamespaces"),
        ({"service": {"port": 80000}}, "/service/port"),
        ({"controller": {"keyRenewPeriod": "30 days"}}, "/controller/keyRenewPeriod"),
        ({"controller": {"logFormat": "xml"}}, "/controller/logFormat"),
        ({"securityContext": {"runAsUser": 0}}, "/securityContext/runAsUser"),
        ({"replicaCount": 0}, "/replicaCount"),
        ({"controller": {"leaderElection": {"leaseDuration": "15"}}}, "/controller/leaderElection/leaseDuration"),
        ({"controller": {"kek": {"url": "https://kv-prod.vault.azure.net/secrets/x"}}}, "/controller/kek/url"),
    ],
)
def test_helm_rejects_a_wrong_type_or_value(helm: str, tmp_path: Path, values: dict[str, Any], where: str) -> None:
    code, stderr = helm_template(helm, tmp_path, values)
    assert code != 0
    assert where in stderr


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"replicas": 2}, "replicas"),
        ({"controller": {"keysize": 4096}}, "keysize"),
        ({"networkPolicy": {"egress": []}}, "egress"),
        ({"securityContext": {"privileged": True, "runAsUser": 1, "runAsGroup": 1, "fsGroup": 1}}, "privileged"),
    ],
)
def test_helm_rejects_an_unknown_key(helm: str, tmp_path: Path, values: dict[str, Any], key: str) -> None:
    code, stderr = helm_template(helm, tmp_path, values)
    assert code != 0
    assert f"additional properties '{key}' not allowed" in stderr


def test_helm_accepts_a_valid_override(helm: str, tmp_path: Path) -> None:
    code, stderr = helm_template(helm, tmp_path, {"controller": {"keySize": 2048, "logLevel": "DEBUG"}})
    assert code == 0, stderr


def object_paths(schema: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every path in the schema whose object is closed (additionalProperties: false)."""
    paths = [prefix] if schema.get("additionalProperties") is False else []
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict):
            paths += object_paths(sub, (*prefix, name))
    return paths


CLOSED = object_paths(SCHEMA)


@settings(max_examples=60, deadline=None)
@given(
    path=st.sampled_from(CLOSED),
    key=st.text(st.characters(categories=["Ll", "Lu", "Nd"]), min_size=1, max_size=12),
    value=st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none()),
)
def test_every_closed_object_rejects_any_unknown_key(path: tuple[str, ...], key: str, value: Any) -> None:
    node = SCHEMA
    for part in path:
        node = node["properties"][part]
    if key in node["properties"]:
        return
    merged = json.loads(json.dumps(DEFAULTS))
    target = merged
    for part in path:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            return
    target[key] = value
    errors = list(VALIDATOR.iter_errors(merged))
    assert any(e.validator == "additionalProperties" for e in errors), (path, key)


def test_every_documented_value_is_in_the_schema() -> None:
    """values.yaml and the schema describe the same keys (the schema closes every object)."""

    def keys(values: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> None:
        for name, value in values.items():
            assert name in schema["properties"], f"{prefix}{name} missing from values.schema.json"
            sub = schema["properties"][name]
            if isinstance(value, dict) and value and "properties" in sub:
                keys(value, sub, f"{prefix}{name}.")

    keys(DEFAULTS, SCHEMA)
    assert set(SCHEMA["properties"]) == set(DEFAULTS)
    assert len(CLOSED) > 10
