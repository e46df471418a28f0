"""Token and Kubernetes auth, ACL policies, sealed state and namespaces through the real hvac client."""

from __future__ import annotations

import pytest
from hvac import exceptions

from sealkit_testservers.vault import VaultServer, service_account_jwt

DENIED = "1 error occurred:\n\t* permission denied\n\n"


@pytest.fixture
def app_vault(vault_server: VaultServer) -> VaultServer:
    vault_server.put_secret("secret", "app/db", {"password": "p"})
    vault_server.put_secret("secret", "other/db", {"password": "q"})
    vault_server.add_policy(
        "app-read",
        """
        path "secret/data/app/*" { capabilities = ["read"] }
        path "secret/metadata/app/*" { capabilities = ["list", "read"] }
        """,
    )
    vault_server.add_role(
        "app", service_account_names=["app"], service_account_namespaces=["prod"], policies=["app-read"]
    )
    return vault_server


def test_token_auth_and_lookup_self(app_vault: VaultServer) -> None:
    token = app_vault.issue_token(["app-read"], ttl=600)
    client = app_vault.client(token)
    assert client.is_authenticated()
    me = client.auth.token.lookup_self()["data"]
    assert me["policies"] == ["default", "app-read"]
    assert 0 < me["ttl"] <= 600
    assert client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)["data"]["data"] == {
        "password": "p"
    }
    assert not app_vault.client("hvs.unknown").is_authenticated()
    app_vault.revoke_token(token)
    with pytest.raises(exceptions.Forbidden) as info:
        client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)
    assert info.value.errors == ["permission denied"]


def test_policy_refusal_is_vaults_multierror_403(app_vault: VaultServer) -> None:
    client = app_vault.client(app_vault.issue_token(["app-read"]))
    with pytest.raises(exceptions.Forbidden) as info:
        client.secrets.kv.v2.read_secret_version("other/db", raise_on_deleted_version=True)
    assert info.value.errors == [DENIED]
    with pytest.raises(exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version("nomount/x", mount_point="nomount", raise_on_deleted_version=True)
    assert [r.status for r in app_vault.requests if r.path.endswith("other/db")] == [403]
    with pytest.raises(exceptions.Forbidden):
        app_vault.client("").secrets.kv.v2.read_secret_version(
            "app/db", raise_on_deleted_version=True
        )  # no token at all


def test_policy_priority_and_deny(vault_server: VaultServer) -> None:
    vault_server.put_secret("secret", "team/a/key", {"v": "1"})
    vault_server.put_secret("secret", "team/b/key", {"v": "2"})
    vault_server.add_policy("broad", {"secret/data/team/*": ["read"]})
    vault_server.add_policy("carve", {"secret/data/team/b/*": ["deny"], "secret/data/+/a/key": ["read"]})
    client = vault_server.client(vault_server.issue_token(["broad", "carve"]))
    assert client.secrets.kv.v2.read_secret_version("team/a/key", raise_on_deleted_version=True)["data"]["data"] == {
        "v": "1"
    }
    with pytest.raises(exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version("team/b/key", raise_on_deleted_version=True)
    with pytest.raises(ValueError, match="unknown capability"):
        vault_server.add_policy("bad", {"x/*": ["raed"]})


def test_kubernetes_login(app_vault: VaultServer) -> None:
    client = app_vault.client("")
    answer = client.auth.kubernetes.login("app", service_account_jwt("prod", "app"))
    auth = answer["auth"]
    assert auth["policies"] == ["default", "app-read"]
    assert auth["metadata"]["service_account_name"] == "app"
    assert auth["metadata"]["service_account_namespace"] == "prod"
    assert auth["lease_duration"] == 3600
    assert client.token == auth["client_token"]  # hvac adopts the token
    assert client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)["data"]["data"] == {
        "password": "p"
    }
    with pytest.raises(exceptions.Forbidden):
        client.secrets.kv.v2.read_secret_version("other/db", raise_on_deleted_version=True)


@pytest.mark.parametrize(
    ("role", "namespace", "account", "error", "message"),
    [
        ("app", "prod", "intruder", exceptions.Forbidden, "service account name not authorized"),
        ("app", "dev", "app", exceptions.Forbidden, "namespace not authorized"),
        ("nope", "prod", "app", exceptions.InvalidRequest, 'invalid role name "nope"'),
    ],
)
def test_kubernetes_login_refusals(
    app_vault: VaultServer, role: str, namespace: str, account: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        app_vault.client("").auth.kubernetes.login(role, service_account_jwt(namespace, account))
    assert info.value.errors == [message]  # type: ignore[attr-defined]


def test_kubernetes_login_other_mount_and_bad_jwt(app_vault: VaultServer) -> None:
    app_vault.add_role(
        "ci", service_account_names=["*"], service_account_namespaces=["ci-*"], policies=[], mount="k8s-ci"
    )
    client = app_vault.client("")
    assert client.auth.kubernetes.login("ci", service_account_jwt("ci-main", "runner"), mount_point="k8s-ci")
    with pytest.raises(exceptions.Forbidden):
        app_vault.client("").auth.kubernetes.login("app", "not-a-jwt")
    with pytest.raises(exceptions.InvalidPath):
        app_vault.client("").auth.kubernetes.login("app", service_account_jwt("prod", "app"), mount_point="nope")


def test_sealed_vault(app_vault: VaultServer) -> None:
    client = app_vault.client()
    app_vault.seal()
    assert client.sys.is_sealed()
    assert client.sys.read_seal_status()["sealed"] is True
    health = client.sys.read_health_status(method="GET")
    assert health.status_code == 503  # hvac hands non-200 health answers back as the response
    assert health.json()["sealed"] is True
    with pytest.raises(exceptions.VaultDown) as info:
        client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)
    assert info.value.errors == ["Vault is sealed"]
    with pytest.raises(exceptions.VaultDown):
        app_vault.client("").auth.kubernetes.login("app", service_account_jwt("prod", "app"))
    app_vault.unseal()
    assert client.sys.read_health_status(method="GET")["sealed"] is False
    assert client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)["data"]["data"] == {
        "password": "p"
    }


def test_namespaces_isolate_paths_policies_roles_and_tokens(vault_server: VaultServer) -> None:
    vault_server.add_namespace("team-a")
    vault_server.put_secret("secret", "app/db", {"password": "root-ns"})
    vault_server.put_secret("secret", "app/db", {"password": "team-a"}, namespace="team-a")
    vault_server.add_policy("read", {"secret/data/*": ["read"]}, namespace="team-a")
    vault_server.add_role(
        "app",
        service_account_names=["app"],
        service_account_namespaces=["a"],
        policies=["read"],
        namespace="team-a",
    )
    client = vault_server.client("", namespace="team-a")
    client.auth.kubernetes.login("app", service_account_jwt("a", "app"))
    assert client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)["data"]["data"] == {
        "password": "team-a"
    }
    outside = vault_server.client(client.token)  # the same token in the root namespace
    with pytest.raises(exceptions.Forbidden):
        outside.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)
    root = vault_server.client(namespace="team-a")  # a root-namespace root token reaches children
    assert root.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)["data"]["data"] == {
        "password": "team-a"
    }
    with pytest.raises(exceptions.InvalidPath):  # the root namespace has no Kubernetes auth mount
        vault_server.client("").auth.kubernetes.login("app", service_account_jwt("a", "app"))
    assert {r.namespace for r in vault_server.requests} == {"", "team-a"}
