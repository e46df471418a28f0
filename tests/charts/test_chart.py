"""The Helm chart, rendered by the real helm: lint, Kubernetes schemas, restricted pods, least-privilege RBAC."""

from __future__ import annotations

import copy
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from charttools import CHART, NONDEFAULT_VALUES, ROOT, Render, by_kind, helm_refusal, run_helm

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schema shipped.
KUBE_VERSIONS = ("1.27.0", "1.37.0")
# Kinds kubernetes-validate has no schema for; each is checked by its own test below.
NO_SCHEMA_KINDS = {"ServiceMonitor"}
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
RBAC_KINDS = {"Role", "ClusterRole"}


def render_sets(render: Render, nondefault: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        "default": render(),
        "nondefault": render(nondefault, release="sk", namespace="sealkit"),
    }


@pytest.fixture(scope="module")
def rendered(render: Render, nondefault_values: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return render_sets(render, nondefault_values)


VALUE_SETS = ("default", "nondefault")


# ---- helm lint ------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [None, NONDEFAULT_VALUES], ids=["default", "nondefault"])
def test_helm_lint_strict(helm: str, values: Path | None) -> None:
    args = ["lint", "--strict", str(CHART)]
    if values is not None:
        args += ["--values", str(values)]
    result = run_helm(helm, *args)
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout


def test_nondefault_set_turns_on_everything_optional(rendered: dict[str, list[dict[str, Any]]]) -> None:
    kinds = {o["kind"] for o in rendered["nondefault"]}
    assert {"NetworkPolicy", "ServiceMonitor", "PodDisruptionBudget", "Role", "RoleBinding"} <= kinds
    # Namespaced RBAC: the only cluster-wide grant is reading namespaces, for controller.namespaceSelector.
    cluster_wide = [o for o in rendered["nondefault"] if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    assert {o["metadata"]["name"] for o in cluster_wide} == {"sealkit-namespace-reader"}
    (reader,) = by_kind(cluster_wide, "ClusterRole")
    assert reader["rules"] == [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]}]
    default_kinds = {o["kind"] for o in rendered["default"]}
    assert not {"NetworkPolicy", "ServiceMonitor"} & default_kinds


# ---- Kubernetes schemas ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBE_VERSIONS)
@pytest.mark.parametrize("values", VALUE_SETS)
def test_rendered_objects_validate_against_kubernetes_schemas(
    rendered: dict[str, list[dict[str, Any]]], values: str, version: str
) -> None:
    unchecked = set()
    for obj in rendered[values]:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            unchecked.add(obj["kind"])
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} against Kubernetes {version}: {exc}")
    expected = NO_SCHEMA_KINDS if values == "nondefault" else set()
    assert unchecked == expected


def test_the_validator_catches_a_misspelt_field(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """Proof the schema check above has teeth: strict mode refuses an unknown field."""
    deployment = copy.deepcopy(by_kind(rendered["default"], "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSIONS[0], strict=True)


def test_service_monitor_scrapes_the_metrics_service(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """ServiceMonitor has no bundled schema: check its shape and that it selects the metrics port."""
    objects = rendered["nondefault"]
    (monitor,) = by_kind(objects, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    spec = monitor["spec"]
    assert set(spec) == {"namespaceSelector", "selector", "endpoints"}
    assert spec["namespaceSelector"] == {"matchNames": ["sealkit"]}
    (endpoint,) = spec["endpoints"]
    assert set(endpoint) == {"port", "path", "interval", "scrapeTimeout"}
    assert endpoint["path"] == "/metrics"
    assert re.fullmatch(r"\d+[smh]", endpoint["interval"])
    selected = [
        s
        for s in by_kind(objects, "Service")
        if spec["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]
    assert [s["metadata"]["name"] for s in selected] == ["sealkit-metrics"]
    assert [p["name"] for p in selected[0]["spec"]["ports"]] == [endpoint["port"]]
    assert selected[0]["spec"]["ports"][0]["port"] == 8081


def test_chart_crd_is_the_packaged_crd() -> None:
    """Helm cannot reach outside the chart, so the CRD is copied: both copies must say the same."""

    def content(path: Path) -> list[str]:
        return [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]

    chart_copy = CHART / "crds" / "bitnami.com_sealedsecrets.yaml"
    packaged = ROOT / "sealkit" / "data" / "crds" / "bitnami.com_sealedsecrets.yaml"
    assert content(chart_copy) == content(packaged)
    assert yaml.safe_load(chart_copy.read_text())["metadata"]["name"] == "sealedsecrets.bitnami.com"


def test_crd_is_rendered_with_include_crds_and_skippable(helm: str, rendered: dict[str, list[dict[str, Any]]]) -> None:
    assert [o["metadata"]["name"] for o in by_kind(rendered["default"], "CustomResourceDefinition")] == [
        "sealedsecrets.bitnami.com"
    ]
    # In crds/, not templates/: installed before the templates on `helm install` (skipped with --skip-crds,
    # or left alone when it already exists), never part of the release, so never deleted on uninstall.
    plain = run_helm(helm, "template", "x", str(CHART)).stdout
    assert "CustomResourceDefinition" not in plain
    assert not list((CHART / "templates").glob("*crd*"))


# ---- Pod Security "restricted" --------------------------------------------------------------------

RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    kind = obj.get("kind")
    if kind == "Pod":
        return [obj["spec"]]
    if kind == "CronJob":
        return [obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]]
    if kind in POD_KINDS:
        return [obj["spec"]["template"]["spec"]]
    return []


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What keeps a pod spec from Pod Security "restricted" (plus this chart's read-only root rule)."""
    problems: list[str] = []
    psc = pod.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            problems.append(f"pod {field}")
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"volume {volume['name']}: {sorted(kinds)}")
    containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
    if not containers:
        problems.append("no containers")
    tmp_volumes = {v["name"] for v in pod.get("volumes") or [] if "emptyDir" in v}
    for container in containers:
        name = container["name"]
        csc = container.get("securityContext") or {}
        if csc.get("privileged"):
            problems.append(f"{name}: privileged")
        if csc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation not false")
        caps = csc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f"{name}: capabilities not dropping ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities")
        if csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
            problems.append(f"{name}: runAsNonRoot not true")
        if csc.get("runAsUser", psc.get("runAsUser")) == 0:
            problems.append(f"{name}: runs as uid 0")
        seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccompProfile {seccomp}")
        if any(p.get("hostPort") for p in container.get("ports") or []):
            problems.append(f"{name}: hostPort")
        if csc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: root filesystem writable")
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts") or []}
        if mounts.get("/tmp") not in tmp_volumes:
            problems.append(f"{name}: no emptyDir at /tmp")
    return problems


@pytest.mark.parametrize("values", VALUE_SETS)
def test_every_pod_spec_is_restricted(rendered: dict[str, list[dict[str, Any]]], values: str) -> None:
    pods = [p for obj in rendered[values] for p in pod_specs(obj)]
    assert len(pods) == 1
    for pod in pods:
        assert restricted_violations(pod) == []


BREAKAGES = {
    "privileged": lambda p: p["containers"][0]["securityContext"].update(privileged=True),
    "escalation": lambda p: p["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
    "caps": lambda p: p["containers"][0]["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
    "add-caps": lambda p: p["containers"][0]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
    "root": lambda p: (
        p["securityContext"].pop("runAsNonRoot"),
        p["containers"][0]["securityContext"].pop("runAsNonRoot"),
    ),
    "uid0": lambda p: p["containers"][0]["securityContext"].update(runAsUser=0),
    "seccomp": lambda p: (
        p["securityContext"].pop("seccompProfile"),
        p["containers"][0]["securityContext"].pop("seccompProfile"),
    ),
    "hostpath": lambda p: p["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
    "hostnetwork": lambda p: p.update(hostNetwork=True),
    "writable-root": lambda p: p["containers"][0]["securityContext"].update(readOnlyRootFilesystem=False),
    "no-tmp": lambda p: p["containers"][0].update(volumeMounts=[]),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_restricted_check_catches_each_violation(rendered: dict[str, list[dict[str, Any]]], breakage: str) -> None:
    pod = copy.deepcopy(pod_specs(by_kind(rendered["default"], "Deployment")[0])[0])
    BREAKAGES[breakage](pod)
    assert restricted_violations(pod)


def test_replicas_with_leader_election_roll_and_spread(rendered: dict[str, list[dict[str, Any]]]) -> None:
    (deployment,) = by_kind(rendered["default"], "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    pod = spec["template"]["spec"]
    selector = spec["selector"]["matchLabels"]
    (term,) = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"] == {
        "topologyKey": "kubernetes.io/hostname",
        "labelSelector": {"matchLabels": selector},
    }
    spread = pod["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in spread] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    assert all(
        c["whenUnsatisfiable"] == "ScheduleAnyway" and c["labelSelector"]["matchLabels"] == selector for c in spread
    )
    assert "--leader-elect=true" in pod["containers"][0]["args"]
    (pdb,) = by_kind(rendered["default"], "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1 and "maxUnavailable" not in pdb["spec"]
    # The Service reaches every ready replica: it selects the pods by the Deployment's own labels only.
    (service,) = [s for s in by_kind(rendered["default"], "Service") if s["spec"]["ports"][0]["name"] == "http"]
    assert service["spec"]["selector"] == selector and not service["spec"].get("publishNotReadyAddresses")
    assert (service["spec"].get("sessionAffinity") or "None") == "None"


def test_one_replica_runs_without_a_lease_and_never_two_at_once(render: Render) -> None:
    objects = render({"replicaCount": 1})
    (deployment,) = by_kind(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    assert "affinity" not in pod and "topologySpreadConstraints" not in pod
    assert "--leader-elect=false" in pod["containers"][0]["args"]
    assert not [o for o in objects if o["metadata"]["name"].endswith("-leader-election")]
    (pdb,) = by_kind(objects, "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1 and "minAvailable" not in pdb["spec"]  # never blocks a drain


def test_leader_election_rbac_is_its_lease_in_its_namespace(rendered: dict[str, list[dict[str, Any]]]) -> None:
    roles = [o for o in rendered["default"] if o["metadata"]["name"].endswith("-leader-election")]
    assert sorted(o["kind"] for o in roles) == ["Role", "RoleBinding"]
    (role,) = by_kind(roles, "Role")
    assert role["metadata"]["namespace"] == "kube-system"
    assert role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": ["sealed-secrets-controller"],
            "verbs": ["get", "update"],
        },
    ]
    (deployment,) = by_kind(rendered["default"], "Deployment")
    assert (
        "--leader-elect-lease-name=sealed-secrets-controller"
        in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    )
    assert not any(
        r.get("apiGroups") == ["coordination.k8s.io"]
        for o in rendered["default"]
        if o["kind"] == "ClusterRole"
        for r in o["rules"]
    )


def test_probes_and_resources(rendered: dict[str, list[dict[str, Any]]]) -> None:
    (deployment,) = by_kind(rendered["default"], "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8080, "metrics": 8081}
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}


# ---- RBAC ----------------------------------------------------------------------------------------


def rules_of(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{o['kind']}/{o['metadata']['name']}", r) for o in objects if o["kind"] in RBAC_KINDS for r in o["rules"]]


@pytest.mark.parametrize("values", VALUE_SETS)
def test_no_rbac_rule_uses_a_wildcard(rendered: dict[str, list[dict[str, Any]]], values: str) -> None:
    rules = rules_of(rendered[values])
    assert rules
    for where, rule in rules:
        for field in ("verbs", "resources", "apiGroups", "resourceNames", "nonResourceURLs"):
            for item in rule.get(field) or []:
                assert "*" not in item, f"{where}: {field} {item!r}"


def test_wildcard_check_would_notice(render: Render) -> None:
    """The check above reads every rule: a rendered wildcard (here injected) is found."""
    objects = render()
    role = next(o for o in objects if o["kind"] == "ClusterRole")
    role["rules"].append({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]})
    assert any("*" in r.get("resources", []) for _, r in rules_of(objects))


UNSEALER_RULES = [
    {"apiGroups": ["bitnami.com"], "resources": ["sealedsecrets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["bitnami.com"], "resources": ["sealedsecrets/status"], "verbs": ["patch"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "create", "update"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
]


def test_cluster_wide_rbac_is_exactly_the_unsealer_rules(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["default"]
    (cluster_role,) = by_kind(objects, "ClusterRole")
    assert cluster_role["rules"] == UNSEALER_RULES
    (binding,) = by_kind(objects, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == cluster_role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "sealed-secrets-controller", "namespace": "kube-system"}
    ]
    roles = {r["metadata"]["name"]: r for r in by_kind(objects, "Role")}
    assert set(roles) == {
        "sealed-secrets-controller-key-admin",
        "sealed-secrets-controller-service-proxier",
        "sealed-secrets-controller-leader-election",
    }
    assert all(r["metadata"]["namespace"] == "kube-system" for r in roles.values())
    assert roles["sealed-secrets-controller-key-admin"]["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch", "create"]}
    ]


def test_namespaced_rbac_covers_only_the_watched_namespaces(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["nondefault"]
    unsealers = [r for r in by_kind(objects, "Role") if r["metadata"]["name"] == "sealkit-unsealer"]
    assert sorted(r["metadata"]["namespace"] for r in unsealers) == ["sealkit", "team-a", "team-b"]
    # controller.oldGcBehavior deletes Secrets itself: the one extra verb it needs.
    with_delete = [
        {**rule, "verbs": [*rule["verbs"], "delete"]} if rule["resources"] == ["secrets"] else rule
        for rule in UNSEALER_RULES
    ]
    assert all(r["rules"] == with_delete for r in unsealers)
    bindings = [b for b in by_kind(objects, "RoleBinding") if b["metadata"]["name"] == "sealkit-unsealer"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["sealkit", "team-a", "team-b"]
    for binding in bindings:
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "sealkit-controller", "namespace": "sealkit"}]
    (deployment,) = by_kind(objects, "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--all-namespaces=false" in args
    assert "--additional-namespaces=team-a,team-b" in args


def test_service_proxier_role_is_limited_to_the_controller_service(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["default"]
    role = next(r for r in by_kind(objects, "Role") if r["metadata"]["name"].endswith("-service-proxier"))
    assert role["rules"][0] == {
        "apiGroups": [""],
        "resources": ["services"],
        "resourceNames": ["sealed-secrets-controller"],
        "verbs": ["get"],
    }
    proxy = role["rules"][1]
    assert proxy["resources"] == ["services/proxy"] and proxy["verbs"] == ["get", "create"]
    assert "http:sealed-secrets-controller:http" in proxy["resourceNames"]
    binding = next(b for b in by_kind(objects, "RoleBinding") if b["metadata"]["name"].endswith("-service-proxier"))
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}
    ]


def test_service_proxier_can_be_switched_off(render: Render) -> None:
    objects = render({"rbac": {"serviceProxier": {"create": False}}})
    assert not [o for o in objects if o["metadata"]["name"].endswith("-service-proxier")]
    assert by_kind(objects, "ClusterRole")


# ---- Services, names, NOTES ----------------------------------------------------------------------


def test_default_install_matches_kubeseal_defaults(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """`helm install sealed-secrets-controller ... -n kube-system` is what kubeseal and `sealkit cert` look for."""
    services = {s["metadata"]["name"]: s for s in by_kind(rendered["default"], "Service")}
    api = services["sealed-secrets-controller"]
    assert api["metadata"]["namespace"] == "kube-system"
    assert api["metadata"]["labels"]["app.kubernetes.io/name"] == "sealkit"
    assert api["spec"]["ports"][0] == {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    metrics = services["sealed-secrets-controller-metrics"]
    assert metrics["spec"]["ports"] == [{"name": "metrics", "port": 8081, "targetPort": "metrics", "protocol": "TCP"}]
    (deployment,) = by_kind(rendered["default"], "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    for service in services.values():
        assert service["spec"]["selector"].items() <= pod_labels.items()


def notes(helm: str, release: str, namespace: str, *values: str) -> str:
    result = run_helm(helm, "install", release, str(CHART), "--namespace", namespace, "--dry-run=client", *values)
    return result.stdout.split("NOTES:", 1)[1]


def test_notes_print_the_flags_that_find_the_service(helm: str) -> None:
    text = notes(helm, "sk", "sealkit")
    assert "sealkit cert --controller-name sk --controller-namespace sealkit" in text
    assert "kubeseal --controller-name sk --controller-namespace sealkit --fetch-cert" in text
    default = notes(helm, "sealed-secrets-controller", "kube-system")
    assert "  sealkit cert > cert.pem" in default
    assert "--controller-name" not in default


def test_network_policy_allows_the_api_ports_and_the_api_server_only(rendered: dict[str, list[dict[str, Any]]]) -> None:
    (policy,) = by_kind(rendered["nondefault"], "NetworkPolicy")
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = spec["ingress"]
    assert [p["port"] for p in ingress["ports"]] == ["http", "metrics"]
    assert ingress["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    (egress,) = spec["egress"]
    assert egress["to"] == [{"ipBlock": {"cidr": "10.0.0.1/32"}}, {"ipBlock": {"cidr": "192.168.10.0/24"}}]
    assert egress["ports"] == [{"port": 6443, "protocol": "TCP"}]


def test_network_policy_needs_the_api_server_address(helm: str) -> None:
    result = run_helm(helm, "template", "x", str(CHART), "--set", "networkPolicy.enabled=true", check=False)
    assert result.returncode != 0
    assert "networkPolicy.apiServer.cidrs" in result.stderr


def test_pdb_values(render: Render, rendered: dict[str, list[dict[str, Any]]]) -> None:
    (nondefault,) = by_kind(rendered["nondefault"], "PodDisruptionBudget")
    assert nondefault["spec"]["minAvailable"] == 0 and "maxUnavailable" not in nondefault["spec"]
    (explicit,) = by_kind(render({"pdb": {"maxUnavailable": 1}}), "PodDisruptionBudget")
    assert explicit["spec"]["maxUnavailable"] == 1 and "minAvailable" not in explicit["spec"]
    assert not by_kind(render({"pdb": {"enabled": False}}), "PodDisruptionBudget")


def test_image_reference(rendered: dict[str, list[dict[str, Any]]]) -> None:
    def image(values: str) -> str:
        (deployment,) = by_kind(rendered[values], "Deployment")
        return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])

    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert image("default") == f"ghcr.io/sealkit/sealkit:{chart['appVersion']}"
    assert image("nondefault").startswith("registry.example.test/sealkit/controller@sha256:")


# ---- upgrades -------------------------------------------------------------------------------------

SELECTOR = {"app.kubernetes.io/name": "sealkit", "app.kubernetes.io/instance": "sealed-secrets-controller"}
# Values added since the chart's first version: a release made by an older version lacks them.
ADDED_SINCE_FIRST_VERSION = [
    ("replicaCount",),
    ("topologySpreadConstraints",),
    ("controller", "trustedProxies"),
    ("controller", "metricsOmitSecretLabels"),
    ("controller", "logInfoStdout"),
    ("controller", "escrow"),
    ("controller", "leaderElection"),
    ("controller", "kek"),
]


def first_version_defaults() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    for path in ADDED_SINCE_FIRST_VERSION:
        parent = values
        for name in path[:-1]:
            parent = parent[name]
        del parent[path[-1]]
    # Its defaults where they differ from today's (a values file copied from it says these).
    values["controller"].update(kubeclientQps=0, workers=4, threads=8)
    values["pdb"].update(enabled=False, maxUnavailable=1)
    values["resources"]["limits"]["cpu"] = "1"
    return values


def test_the_deployment_selector_never_changes(render: Render) -> None:
    """A live Deployment's selector is immutable: whatever the values, the chart selects by these two labels."""
    for values in (
        None,
        {"commonLabels": {"team": "platform"}, "podLabels": {"tier": "security"}, "replicaCount": 1},
        first_version_defaults(),
    ):
        (deployment,) = by_kind(render(values), "Deployment")
        assert deployment["spec"]["selector"] == {"matchLabels": SELECTOR}


def test_an_upgrade_from_an_older_version_on_a_cluster(helm: str, tmp_path: Path) -> None:
    """The real helm against the Kubernetes emulator: `helm upgrade` from a release an older chart version made."""
    from sealkit_testservers.kube import KubeProcess

    old = tmp_path / "old-chart"
    (old / "templates").mkdir(parents=True)
    (old / "Chart.yaml").write_text("apiVersion: v2\nname: sealkit\nversion: 0.0.1\n")
    (old / "values.yaml").write_text(yaml.safe_dump(first_version_defaults()))
    (old / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old-release\n")
    with KubeProcess(tmp_path / "kubeconfig") as kube:
        env = {"KUBECONFIG": str(kube.kubeconfig), "HOME": str(tmp_path), "HELM_CACHE_HOME": str(tmp_path)}

        def upgrade(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [helm, "upgrade", "sealed-secrets-controller", str(CHART), "--namespace", "kube-system", *args],
                capture_output=True,
                text=True,
                env={**os.environ, **env},
                timeout=180,
                check=False,
            )

        install = [
            "install",
            "sealed-secrets-controller",
            str(old),
            "--namespace",
            "kube-system",
            "--set",
            "controller.workers=3",
        ]
        installed = subprocess.run([helm, *install], capture_output=True, text=True, env={**os.environ, **env})
        assert installed.returncode == 0, installed.stderr
        # --reuse-values keeps the old version's defaults, which lack what this version added: refused in one
        # line that names the value and the way out (before: a nil pointer deep in a template).
        message = helm_refusal(upgrade("--reuse-values"))
        assert "replicaCount is missing" in message and "--reset-then-reuse-values" in message
        reset = upgrade("--reset-then-reuse-values")
        assert reset.returncode == 0, reset.stderr
        # Several replicas to one and back: the strategy and the Lease Role follow.
        for replicas in ("1", "3"):
            changed = upgrade("--reuse-values", "--set", f"replicaCount={replicas}")
            assert changed.returncode == 0, changed.stderr
        # A different selector is refused before anything is applied, naming both selectors.
        message = helm_refusal(upgrade("--reuse-values", "--set", "nameOverride=other"))
        assert "selector cannot change" in message and '"app.kubernetes.io/name":"other"' in message
