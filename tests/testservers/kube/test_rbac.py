"""RBAC on request: a token's service account gets exactly what its bound Roles/ClusterRoles grant."""

from __future__ import annotations

import pathlib
from typing import Any

import kubernetes as _kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from sealkit_testservers.kube import KubeServer
from sealkit_testservers.kube.rbac import Attributes, rule_allows

kubernetes: Any = _kubernetes  # the generated client's strict types add nothing to contract tests

RBAC = "rbac.authorization.k8s.io/v1"
SS = ("bitnami.com", "v1alpha1", "sealedsecrets")


def _seed(kube: KubeServer) -> None:
    kube.create_namespace("team-a")
    kube.create_namespace("sealkit")
    kube.create(
        {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": {"name": "sealkit:controller"},
            "rules": [
                {"apiGroups": ["bitnami.com"], "resources": ["sealedsecrets"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["bitnami.com"], "resources": ["sealedsecrets/status"], "verbs": ["patch"]},
            ],
        }
    )
    kube.create(
        {
            "apiVersion": RBAC,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "sealkit:controller"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "sealkit:controller"},
            "subjects": [{"kind": "ServiceAccount", "name": "controller", "namespace": "sealkit"}],
        }
    )
    kube.create(
        {
            "apiVersion": RBAC,
            "kind": "Role",
            "metadata": {"name": "one-secret", "namespace": "team-a"},
            "rules": [
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "update"], "resourceNames": ["db"]},
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
            ],
        }
    )
    kube.create(
        {
            "apiVersion": RBAC,
            "kind": "RoleBinding",
            "metadata": {"name": "one-secret", "namespace": "team-a"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "one-secret"},
            "subjects": [{"kind": "ServiceAccount", "name": "controller", "namespace": "sealkit"}],
        }
    )
    kube.create(
        {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "db", "namespace": "team-a"},
            "spec": {"encryptedData": {}},
        }
    )


@pytest.fixture()
def as_controller(kube: KubeServer, tmp_path: pathlib.Path) -> Any:
    _seed(kube)
    kube.add_token("controller-token", "sealkit", "controller")
    kube.enable_rbac()
    config = kube.write_kubeconfig(tmp_path / "sa.kubeconfig", token="controller-token")
    client = kubernetes.config.new_client_from_config(str(config))
    yield client
    client.close()


def _status(call: Any) -> int:
    try:
        call()
    except ApiException as exc:
        return int(exc.status)
    return 200


def test_bound_roles_allow_exactly_what_they_grant(kube: KubeServer, as_controller: Any) -> None:
    core = kubernetes.client.CoreV1Api(as_controller)
    custom = kubernetes.client.CustomObjectsApi(as_controller)
    group, version, plural = SS
    assert _status(lambda: custom.list_cluster_custom_object(group, version, plural)) == 200
    assert (
        _status(
            lambda: custom.patch_namespaced_custom_object_status(
                group, version, "team-a", plural, "db", {"status": {"observedGeneration": 1}}
            )
        )
        == 200
    )
    assert (
        _status(
            lambda: custom.patch_namespaced_custom_object(
                group, version, "team-a", plural, "db", {"metadata": {"labels": {"a": "b"}}}
            )
        )
        == 403
    )  # main resource
    assert _status(lambda: core.create_namespaced_secret("team-a", {"metadata": {"name": "db"}})) == 200
    assert _status(lambda: core.read_namespaced_secret("db", "team-a")) == 200
    assert _status(lambda: core.read_namespaced_secret("other", "team-a")) == 403  # resourceNames
    assert _status(lambda: core.list_namespaced_secret("team-a")) == 403  # no list granted
    assert _status(lambda: core.create_namespaced_secret("default", {"metadata": {"name": "x"}})) == 403  # ns
    assert _status(lambda: core.list_namespace()) == 403
    assert kubernetes.client.CoreApi(as_controller).get_api_versions().versions == ["v1"]  # discovery is open

    denied = kube.denied
    assert [(d.verb, d.path) for d in denied][:2] == [
        ("patch", "/apis/bitnami.com/v1alpha1/namespaces/team-a/sealedsecrets/db"),
        ("get", "/api/v1/namespaces/team-a/secrets/other"),
    ]
    assert denied[0].user == "system:serviceaccount:sealkit:controller"
    assert 'cannot patch resource "sealedsecrets" in API group "bitnami.com"' in denied[0].reason


def test_unknown_token_is_401_and_no_token_is_the_test_admin(kube: KubeServer, tmp_path: pathlib.Path) -> None:
    kube.enable_rbac()
    bad = kubernetes.config.new_client_from_config(str(kube.write_kubeconfig(tmp_path / "bad", token="nope")))
    assert _status(lambda: kubernetes.client.CoreV1Api(bad).list_namespace()) == 401
    admin = kubernetes.config.new_client_from_config(str(kube.write_kubeconfig(tmp_path / "admin")))
    assert _status(lambda: kubernetes.client.CoreV1Api(admin).list_namespace()) == 200
    bad.close()
    admin.close()


@pytest.mark.parametrize(
    ("rule", "attrs", "allowed"),
    [
        (
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            Attributes("delete", "/", True, "apps", "deployments"),
            True,
        ),
        (
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
            Attributes("get", "/", True, "", "secrets", "status"),
            False,
        ),
        (
            {"apiGroups": [""], "resources": ["secrets/*"], "verbs": ["get"]},
            Attributes("get", "/", True, "", "secrets", "status"),
            True,
        ),
        (
            {"apiGroups": [""], "resources": ["*/proxy"], "verbs": ["get"]},
            Attributes("get", "/", True, "", "services", "proxy"),
            True,
        ),
        (
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"], "resourceNames": ["a"]},
            Attributes("list", "/", True, "", "secrets"),
            False,
        ),
        ({"nonResourceURLs": ["/healthz*"], "verbs": ["get"]}, Attributes("get", "/healthz/ping", False), True),
    ],
)
def test_rule_evaluation(rule: dict[str, Any], attrs: Attributes, allowed: bool) -> None:
    assert rule_allows(rule, attrs) is allowed
