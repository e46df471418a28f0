"""Impersonation as the API server does it (kubectl's --as/--as-group/--as-uid), with the real client."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import kubernetes as _kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from sealkit_testservers.kube import KubeServer

kubernetes: Any = _kubernetes
RBAC = "rbac.authorization.k8s.io/v1"


def message(exc: ApiException) -> str:
    return str(json.loads(exc.body)["message"])


def _bind(kube: KubeServer, name: str, rules: list[dict[str, Any]], subject: dict[str, str]) -> None:
    kube.create({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules})
    kube.create(
        {
            "apiVersion": RBAC,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", **subject}],
        }
    )


def _core(kube: KubeServer, tmp_path: pathlib.Path, token: str | None, **headers: str) -> Any:
    config = kube.write_kubeconfig(tmp_path / f"kc-{token}", token=token)
    api = kubernetes.config.new_client_from_config(str(config))
    for name, value in headers.items():
        api.set_default_header(name.replace("_", "-"), value)
    return kubernetes.client.CoreV1Api(api)


@pytest.mark.kube_emulator(rbac=True, namespaces=["team-a"])
def test_impersonation_needs_the_impersonate_verb_then_runs_as_the_target(
    kube: KubeServer, tmp_path: pathlib.Path
) -> None:
    kube.add_user_token("dev-token", "dev")
    _bind(
        kube,
        "readers",
        [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}],
        {"kind": "Group", "name": "readers"},
    )
    as_alice = _core(kube, tmp_path, "dev-token", Impersonate_User="alice", Impersonate_Group="readers")
    with pytest.raises(ApiException) as refused:
        as_alice.list_namespaced_secret("team-a")
    assert refused.value.status == 403 and 'cannot impersonate resource "users"' in message(refused.value)
    _bind(
        kube,
        "impersonator",
        [
            {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["alice"]},
            {"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"]},
        ],
        {"kind": "User", "name": "dev"},
    )
    assert as_alice.list_namespaced_secret("team-a").items == []
    assert kube.request_log[-1].user == "alice"
    as_bob = _core(kube, tmp_path, "dev-token", Impersonate_User="bob")
    with pytest.raises(ApiException) as not_bob:
        as_bob.list_namespaced_secret("team-a")
    assert 'users "bob" is forbidden: User "dev" cannot impersonate resource "users"' in message(not_bob.value)


@pytest.mark.kube_emulator(rbac=True, namespaces=["team-a"])
def test_the_admin_impersonates_anyone_and_gets_only_their_rights(kube: KubeServer, tmp_path: pathlib.Path) -> None:
    as_bob = _core(kube, tmp_path, None, Impersonate_User="bob")
    with pytest.raises(ApiException) as refused:
        as_bob.list_namespaced_secret("team-a")
    assert refused.value.status == 403 and 'User "bob" cannot list resource "secrets"' in message(refused.value)
    group_only = _core(kube, tmp_path, None, Impersonate_Group="readers")
    with pytest.raises(ApiException) as bad:
        group_only.list_namespaced_secret("team-a")
    assert bad.value.status == 400
