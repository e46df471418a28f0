"""values.schema.json: helm refuses wrong types and unknown keys, and accepts every documented value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from charttools import CHART, NONDEFAULT_VALUES, container, controller_refusal, helm_refusal, run_helm
from charttools import helm_template as helm_run
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
        ({"controller": {"kek": {"url": "https://kv-prod.vault.azure.net/secrets/x"}}}, "controller.kek.url"),
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


# ---- values the API server (or Prometheus, or a node drain) would trip over, refused by helm ----------

SECURITY = {"runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532}

REFUSED = [
    # Names: the Service's is a DNS-1035 label; "<name>-metrics" must fit in 63 characters.
    pytest.param({"fullnameOverride": "a.b"}, "/fullnameOverride", id="fullname-dot"),
    pytest.param({"fullnameOverride": "a" * 56}, "metrics Service", id="fullname-metrics-too-long"),
    pytest.param({"nameOverride": "sealkit controller"}, "/nameOverride", id="name-not-a-label-value"),
    pytest.param({"serviceAccount": {"name": "Sealkit_SA"}}, "/serviceAccount/name", id="service-account"),
    pytest.param({"priorityClassName": "High Priority"}, "/priorityClassName", id="priority-class"),
    pytest.param({"imagePullSecrets": [{"name": "Registry Key"}]}, "/imagePullSecrets/0/name", id="pull-secret"),
    pytest.param(
        {"metrics": {"serviceMonitor": {"namespace": "Monitoring"}}}, "/metrics/serviceMonitor/namespace", id="sm-ns"
    ),
    # Labels: valid, and none the chart sets itself (a duplicate key; pods the Deployment's selector misses).
    pytest.param({"commonLabels": {"app.kubernetes.io/name": "x"}}, "commonLabels", id="common-label-chart-key"),
    pytest.param({"commonLabels": {"team name": "x"}}, "commonLabels", id="common-label-key"),
    pytest.param({"commonLabels": {"team": "platform team"}}, "commonLabels", id="common-label-value"),
    pytest.param({"podLabels": {"app.kubernetes.io/instance": "x"}}, "podLabels", id="pod-label-selector-key"),
    pytest.param({"podLabels": {"app.kubernetes.io/component": "x"}}, "podLabels", id="pod-label-component"),
    pytest.param(
        {"commonLabels": {"release": "a"}, "metrics": {"serviceMonitor": {"labels": {"release": "b"}}}},
        "metrics.serviceMonitor.labels",
        id="monitor-label-twice",
    ),
    pytest.param({"nodeSelector": {"kubernetes.io/os": "linux os"}}, "nodeSelector", id="node-selector"),
    # The image reference the kubelet pulls.
    pytest.param({"image": {"repository": "ghcr.io/sealkit/sealkit:0.1.0"}}, "image.repository", id="repo-tag"),
    pytest.param({"image": {"repository": "ghcr.io/Sealkit/sealkit"}}, "image.repository", id="repo-upper"),
    pytest.param({"image": {"repository": ""}}, "/image/repository", id="repo-empty"),
    pytest.param({"image": {"tag": "0.1 rc"}}, "image.tag", id="tag-space"),
    pytest.param({"image": {"tag": "sha256:" + "0" * 64}}, "image.tag", id="tag-is-digest"),
    pytest.param({"image": {"digest": "sha256:ABC"}}, "/image/digest", id="digest"),
    pytest.param({"image": {"tag": 1.10}}, "/image/tag", id="tag-number"),
    # Prometheus' duration syntax, and a scrape that outlasts its interval.
    pytest.param(
        {"metrics": {"serviceMonitor": {"interval": "1.5m"}}}, "/metrics/serviceMonitor/interval", id="sm-interval"
    ),
    pytest.param(
        {"metrics": {"serviceMonitor": {"enabled": True, "interval": "10s", "scrapeTimeout": "30s"}}},
        "metrics.serviceMonitor.scrapeTimeout",
        id="sm-timeout",
    ),
    # RBAC subjects as the API server takes them.
    pytest.param(
        {"rbac": {"serviceProxier": {"subjects": [{"kind": "Group", "name": "g", "apiGroup": "rbac"}]}}},
        "/rbac/serviceProxier/subjects/0/apiGroup",
        id="subject-group-api",
    ),
    pytest.param(
        {
            "rbac": {
                "serviceProxier": {
                    "subjects": [{"kind": "ServiceAccount", "name": "s", "apiGroup": "rbac.authorization.k8s.io"}]
                }
            }
        },
        "/rbac/serviceProxier/subjects/0/apiGroup",
        id="subject-sa-api",
    ),
    # Scope: additionalNamespaces would narrow nothing while every namespace is watched.
    pytest.param(
        {"controller": {"additionalNamespaces": ["team-a"]}}, "controller.additionalNamespaces", id="scope-ignored"
    ),
    # NetworkPolicy peers.
    pytest.param(
        {"networkPolicy": {"enabled": True, "apiServer": {"cidrs": ["999.0.0.1/32"]}}},
        "networkPolicy.apiServer.cidrs",
        id="cidr",
    ),
    pytest.param(
        {"networkPolicy": {"enabled": True, "apiServer": {"cidrs": ["10.0.0.1"]}}},
        "networkPolicy.apiServer.cidrs",
        id="cidr-no-prefix",
    ),
    # A PodDisruptionBudget no healthy replica can pass blocks every node drain.
    pytest.param({"pdb": {"minAvailable": 2}}, "pdb.minAvailable", id="pdb-min-all"),
    pytest.param({"pdb": {"minAvailable": "60%"}}, "pdb.minAvailable", id="pdb-min-percent-rounds-up"),
    pytest.param({"replicaCount": 1, "pdb": {"minAvailable": 1}}, "pdb.minAvailable", id="pdb-min-one-replica"),
    pytest.param({"pdb": {"maxUnavailable": 0}}, "pdb.maxUnavailable", id="pdb-max-0"),
    pytest.param({"pdb": {"maxUnavailable": "0%"}}, "pdb.maxUnavailable", id="pdb-max-0-percent"),
    pytest.param({"pdb": {"minAvailable": "150%"}}, "/pdb/minAvailable", id="pdb-percent"),
    # Numbers past what Kubernetes holds (int32), and Helm's `int` wrapping a huge one negative.
    pytest.param({"replicaCount": 10**10}, "/replicaCount", id="replicas-huge"),
    pytest.param({"replicaCount": 2.5}, "/replicaCount", id="replicas-float"),
    pytest.param({"replicaCount": "2"}, "/replicaCount", id="replicas-string"),
    pytest.param({"livenessProbe": {"timeoutSeconds": 10**12}}, "/livenessProbe/timeoutSeconds", id="probe-huge"),
    pytest.param({"metrics": {"port": 0}}, "/metrics/port", id="metrics-port-0"),
    pytest.param({"service": {"port": 65536}}, "/service/port", id="service-port-65536"),
    # The security context: never root, never a writable root filesystem (fixed by the chart).
    pytest.param({"securityContext": {**SECURITY, "runAsUser": 0}}, "/securityContext/runAsUser", id="uid-0"),
    pytest.param({"securityContext": {**SECURITY, "runAsGroup": 0}}, "/securityContext/runAsGroup", id="gid-0"),
    pytest.param({"securityContext": {**SECURITY, "fsGroup": 0}}, "/securityContext/fsGroup", id="fsgroup-0"),
    pytest.param({"securityContext": {**SECURITY, "runAsUser": 2**31}}, "/securityContext/runAsUser", id="uid-huge"),
    pytest.param({"securityContext": {**SECURITY, "runAsUser": -1}}, "/securityContext/runAsUser", id="uid-neg"),
    *(
        pytest.param({"securityContext": {**SECURITY, key: value}}, f"'{key}' not allowed", id=key)
        for key, value in {
            "runAsNonRoot": False,
            "readOnlyRootFilesystem": False,
            "allowPrivilegeEscalation": True,
            "capabilities": {"add": ["SYS_ADMIN"]},
            "seccompProfile": {"type": "Unconfined"},
        }.items()
    ),
    # Values set to null (how `--set x=null` drops a default) are missing, not a template crash.
    pytest.param({"controller": {"kek": None}}, "controller.kek is missing", id="null-object"),
    pytest.param({"securityContext": None}, "securityContext is missing", id="null-security"),
    pytest.param({"replicaCount": None}, "replicaCount is missing", id="null-replicas"),
]


@pytest.mark.parametrize(("values", "named"), REFUSED)
def test_helm_refuses_what_would_fail_at_apply_or_later(
    helm: str, tmp_path: Path, values: dict[str, Any], named: str
) -> None:
    message = helm_refusal(helm_run(helm, tmp_path, values))
    assert named in message


def test_a_release_name_that_cannot_name_the_service_is_refused(helm: str) -> None:
    result = run_helm(helm, "template", "1st-controller", str(CHART), check=False)
    assert "cannot name the Service" in helm_refusal(result)
    assert run_helm(helm, "template", "1st-controller", str(CHART), "--set", "fullnameOverride=sk").returncode == 0


def value_paths(values: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, value in values.items():
        out.append((*prefix, name))
        if isinstance(value, dict):
            out += value_paths(value, (*prefix, name))
    return out


def nested(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {path[-1]: value}
    for name in reversed(path[:-1]):
        out = {name: out}
    return out


# Values whose default a user may drop with null: the chart does without them.
NULLABLE = {
    "commonLabels",
    "imagePullSecrets",
    "controller.workers",
    "controller.threads",
    "controller.trustedProxies",
    "pdb.minAvailable",
    "pdb.maxUnavailable",
    "resources",
    "resources.limits",
    "nodeSelector",
    "tolerations",
    "affinity",
    "topologySpreadConstraints",
    "podAnnotations",
    "podLabels",
}


@pytest.mark.parametrize("path", value_paths(DEFAULTS), ids=".".join)
def test_a_value_set_to_null_renders_or_is_refused_clearly(helm: str, tmp_path: Path, path: tuple[str, ...]) -> None:
    """`--set key=null` drops a default: the templates do without it, or helm names it missing (never a
    nil-pointer crash in a template, never a flag rendered from nothing). The same check refuses
    `helm upgrade --reuse-values` from a chart version that had no such key (see test_chart.py)."""
    dotted = ".".join(path)
    result = helm_run(helm, tmp_path, nested(path, None))
    if result.returncode != 0:
        assert dotted not in NULLABLE, result.stderr
        message = helm_refusal(result)
        assert f"{dotted} is missing" in message or f"missing property '{path[-1]}'" in message, message
        return
    assert "%!" not in result.stdout and "<nil>" not in result.stdout
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert controller_refusal(container(objects)["args"], namespace="default") is None
