"""kubectl's client flags in `sealkit kubeseal`, against the real controller on the emulator: each one
changes which API server, credentials, identity or timeout the request goes out with."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit_cli.main import cli
from tests.support.cluster import Cluster
from tests.support.sealed import opened, ring

RBAC = "rbac.authorization.k8s.io/v1"
DEAD = "http://127.0.0.1:1"  # nothing listens there
CERT_PATH = "/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem"


def ks(*args: str, env: dict[str, str] | None = None) -> Result:
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SEALED_SECRETS_")}
    clean.update({"KUBECONFIG": None, "POD_NAMESPACE": None, **(env or {})})
    return CliRunner().invoke(cli, ["kubeseal", *args], env=clean)


def fetched(result: Result, cluster: Cluster) -> None:
    assert result.exit_code == 0, result.output
    assert result.stdout.encode() == cluster.keys[0].certificate_pem


def kubeconfig(path: Path, contexts: dict[str, tuple[str, str]], servers: dict[str, str], users: dict[str, Any]) -> str:
    """A kubeconfig: context -> (cluster, user); its current context is the first one."""
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": n, "cluster": {"server": url}} for n, url in servers.items()],
                "users": [{"name": n, "user": body} for n, body in users.items()],
                "contexts": [{"name": n, "context": {"cluster": c, "user": u}} for n, (c, u) in contexts.items()],
                "current-context": next(iter(contexts)),
            }
        )
    )
    return str(path)


def test_server_context_cluster_and_kubeconfig(cluster: Cluster, controller: Any, tmp_path: Path) -> None:
    url = cluster.kube.url
    config = kubeconfig(
        tmp_path / "kc",
        {"broken": ("dead", "nobody"), "working": ("live", "nobody")},
        {"dead": DEAD, "live": url},
        {"nobody": {}},
    )
    broken = ks("--fetch-cert", "--kubeconfig", config)
    assert (
        broken.exit_code == 2
        and "cannot reach the API server (connection refused): http://127.0.0.1:1" in broken.output
    )
    fetched(ks("--fetch-cert", "--kubeconfig", config, "--server", url), cluster)
    fetched(ks("--fetch-cert", "--kubeconfig", config, "-s", url), cluster)
    fetched(ks("--fetch-cert", "--kubeconfig", config, "--context", "working"), cluster)
    fetched(ks("--fetch-cert", "--kubeconfig", config, "--cluster", "live"), cluster)
    fetched(ks("--fetch-cert", env={"SEALED_SECRETS_KUBECONFIG": config, "SEALED_SECRETS_SERVER": url}), cluster)
    fetched(ks("--fetch-cert", env={"KUBECONFIG": config, "SEALED_SECRETS_CONTEXT": "working"}), cluster)
    fetched(ks("--fetch-cert", "--server", url, env={"HOME": str(tmp_path)}), cluster)  # no kubeconfig at all
    unknown = ks("--fetch-cert", "--kubeconfig", config, "--context", "nope")
    assert unknown.exit_code == 2 and f"context 'nope' does not exist: kubeconfig {config}\n" in unknown.output
    unknown = ks("--fetch-cert", "--kubeconfig", config, "--cluster", "nope")
    assert unknown.exit_code == 2 and f"cluster 'nope' does not exist: kubeconfig {config}\n" in unknown.output


def _allow_sealing(cluster: Cluster, subject: dict[str, str]) -> None:
    """A ClusterRole to reach the controller through the proxy (as the chart's service-proxier Role)."""
    cluster.create(
        {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": {"name": "sealing"},
            "rules": [{"apiGroups": [""], "resources": ["services", "services/proxy"], "verbs": ["get", "create"]}],
        }
    )
    cluster.create(
        {
            "apiVersion": RBAC,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "sealing"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "sealing"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", **subject}],
        }
    )


def users_of(cluster: Cluster) -> list[str | None]:
    return [r.user for r in cluster.kube.request_log if r.path.endswith(CERT_PATH)]


@pytest.mark.kube_emulator(rbac=True)
def test_token_user_and_credentials(cluster: Cluster, controller: Any, tmp_path: Path) -> None:
    cluster.kube.add_user_token("alice-token", "alice")
    cluster.kube.add_user_token("mallory-token", "mallory")
    _allow_sealing(cluster, {"kind": "User", "name": "alice"})
    config = kubeconfig(
        tmp_path / "kc",
        {"main": ("live", "mallory")},
        {"live": cluster.kube.url},
        {"mallory": {"token": "mallory-token"}, "alice": {"token": "alice-token"}},
    )
    denied = ks("--fetch-cert", "--kubeconfig", config)
    assert (
        denied.exit_code == 2 and "not allowed to read Service kube-system/sealed-secrets-controller" in denied.output
    )
    fetched(ks("--fetch-cert", "--kubeconfig", config, "--token", "alice-token"), cluster)
    fetched(ks("--fetch-cert", "--kubeconfig", config, "--user", "alice"), cluster)
    fetched(ks("--fetch-cert", "--kubeconfig", config, env={"SEALED_SECRETS_TOKEN": "alice-token"}), cluster)
    assert users_of(cluster) == ["alice"] * 3
    wrong = ks("--fetch-cert", "--kubeconfig", config, "--token", "guess")
    assert wrong.exit_code == 2 and "HTTP 401" in wrong.output and "guess" not in wrong.output


@pytest.mark.kube_emulator(rbac=True)
def test_impersonation(cluster: Cluster, controller: Any, tmp_path: Path) -> None:
    _allow_sealing(cluster, {"kind": "Group", "name": "sealers"})
    admin = str(cluster.kubeconfig)  # the emulator's admin may impersonate anyone
    fetched(ks("--fetch-cert", "--kubeconfig", admin, "--as", "alice", "--as-group", "sealers"), cluster)
    fetched(
        ks("--fetch-cert", "--kubeconfig", admin, "--as", "bob", "--as-group", "x", "--as-group", "sealers"), cluster
    )
    assert users_of(cluster) == ["alice", "bob"]
    alone = ks("--fetch-cert", "--kubeconfig", admin, "--as", "carol")
    assert alone.exit_code == 2 and "not allowed to read Service" in alone.output, "carol is not a sealer"
    with_uid = ks("--fetch-cert", "--kubeconfig", admin, "--as", "dave", "--as-uid", "42", "--as-group", "sealers")
    fetched(with_uid, cluster)


def test_request_timeout(cluster: Cluster, controller: Any) -> None:
    hang = cluster.kube.fail("GET", r"/services/sealed-secrets-controller$", hang=True, times=None)
    try:
        result = ks("--fetch-cert", "--kubeconfig", str(cluster.kubeconfig), "--request-timeout", "1s")
        assert result.exit_code == 2 and "cannot reach the API server" in result.output
    finally:
        cluster.kube.remove_fault(hang)
    fetched(ks("--fetch-cert", "--kubeconfig", str(cluster.kubeconfig), "--request-timeout", "0"), cluster)


def test_namespace_flag_and_the_kubeconfig_context(cluster: Cluster, controller: Any, tmp_path: Path) -> None:
    config = tmp_path / "kc-ns"
    cluster.kube.write_kubeconfig(config, namespace="team-a")
    secret = tmp_path / "s.json"
    secret.write_text(
        json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "dg=="}})
    )
    keys = ring(cluster.keys[0].private_pem)
    from_context = json.loads(ks("-f", str(secret), "--kubeconfig", str(config)).stdout)
    assert from_context["metadata"]["namespace"] == "team-a" and opened(from_context, keys) == {"k": b"v"}
    from_flag = json.loads(ks("-f", str(secret), "--kubeconfig", str(config), "-n", "team-b").stdout)
    assert from_flag["metadata"]["namespace"] == "team-b" and opened(from_flag, keys) == {"k": b"v"}
