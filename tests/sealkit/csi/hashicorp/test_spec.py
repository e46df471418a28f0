"""The spec's HashiCorp Vault sections: what loads, what each refusal says, and how overrides resolve.

The refusals are the provider's rules before merge (each names its source): hashicorp/vault-csi-provider
`internal/config/config.go` refuses a class without `roleName` and with duplicate objectNames, and falls
back to its own address without `vaultAddress`; `internal/provider/provider.go` writes the whole JSON
response without `secretKey`; the Vault KV v2 API serves `<mount>/data/<path>` (a forgotten or doubled
`data/` is a 404); hashicorp/vault-plugin-auth-kubernetes refuses a login whose service account or
namespace the role does not bind (`path_login.go`); the driver syncs only files the mount holds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sealkit.csi.model import Store, VaultRole
from sealkit.csi.spec import SpecError, load_spec
from tests.sealkit.csi.conftest import CLIENT_ID, TENANT

ADDRESS = "https://vault.dev.example.internal:8200"


def vault_spec() -> dict[str, Any]:
    """dev and prod on HashiCorp Vault; one app with KV v2 and v1 objects, a PKI object, sync and env."""
    return {
        "apiVersion": "sealkit/v1alpha1",
        "kind": "KeyVaultCsi",
        "environments": {
            "dev": {
                "overlay": "clusters/dev/apps",
                "sealingCert": "cert.pem",
                "hashicorpVault": {
                    "address": ADDRESS,
                    "authMountPath": "kubernetes-dev",
                    "tls": {"caCert": {"configMap": "vault-ca", "key": "ca.crt", "mountPath": "/vault/ca"}},
                },
            },
            "prod": {
                "overlay": "clusters/prod/apps",
                "sealingCert": "cert.pem",
                "hashicorpVault": {
                    "address": "https://vault.example.com:8200",
                    "namespace": "team/prod",
                    "audience": "vault",
                    "role": "team-default",
                    "tls": {
                        "caCert": {"secret": "vault-tls", "key": "ca.crt", "mountPath": "/vault/tls"},
                        "serverName": "vault.example.com",
                    },
                },
            },
        },
        "applications": {
            "web": {
                "namespace": "team",
                "base": "apps/web/base",
                "serviceAccount": {"name": "web", "create": True},
                "hashicorpVault": {
                    "role": {
                        "name": "web",
                        "boundServiceAccountNames": ["web"],
                        "boundServiceAccountNamespaces": ["team"],
                    },
                    "objects": [
                        {"file": "db-password", "mount": "secret", "kv": 2, "path": "web/db", "key": "password"},
                        {
                            "file": "api-key",
                            "mount": "secret",
                            "kv": 2,
                            "path": "web/api",
                            "key": "key",
                            "version": {"prod": 4},
                            "filePermission": "0440",
                        },
                        {
                            "file": "legacy",
                            "mount": "legacy",
                            "kv": 1,
                            "path": "team/token",
                            "key": "token",
                            "encoding": "base64",
                        },
                        {
                            "file": "certs.json",
                            "path": "pki/issue/web",
                            "method": "PUT",
                            "args": {"common_name": "web.team.svc", "ttl": "24h"},
                        },
                    ],
                },
                "sync": [{"secretName": "web-db", "data": [{"key": "password", "objectName": "db-password"}]}],
                "workloads": [
                    {
                        "kind": "Deployment",
                        "name": "web",
                        "containers": ["app"],
                        "env": [{"name": "DB_PASSWORD", "secretName": "web-db", "key": "password"}],
                    },
                ],
            }
        },
    }


Mutation = Callable[[dict[str, Any]], None]


def app(spec: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = spec["applications"]["web"]
    return result


def objects(spec: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = app(spec)["hashicorpVault"]["objects"]
    return result


def dev(spec: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = spec["environments"]["dev"]["hashicorpVault"]
    return result


def problems(make_repo: Callable[[dict[str, Any]], Path], spec: dict[str, Any]) -> list[str]:
    try:
        load_spec(make_repo(spec))
    except SpecError as exc:
        return exc.problems
    return []


def test_the_vault_spec_loads(make_repo: Callable[[dict[str, Any]], Path]) -> None:
    spec = load_spec(make_repo(vault_spec()))
    web = spec.applications["web"]
    dev_env, prod_env = spec.environments["dev"], spec.environments["prod"]
    assert web.store_for(dev_env) is Store.HASHICORP_VAULT
    assert [o.api_path("dev") for o in web.vault_objects] == [
        "secret/data/web/db",  # KV v2: data/ added exactly once
        "secret/data/web/api",
        "legacy/team/token",  # KV v1: no data/
        "pki/issue/web",  # another engine: as written
    ]
    assert web.vault_objects[1].api_path("prod") == "secret/data/web/api?version=4"
    vault = web.hashicorp_vault_for(prod_env)
    assert (vault.namespace, vault.audience, vault.auth_mount_path) == ("team/prod", "vault", "kubernetes")
    assert vault.role == VaultRole("web", ("web",), ("team",))  # the app's role beats the environment's
    assert web.hashicorp_vault_for(dev_env).tls.ca_cert is not None
    assert web.hashicorp_vault_for(dev_env).tls.ca_cert.path == "/vault/ca/ca.crt"  # type: ignore[union-attr]


REFUSALS: list[tuple[str, Mutation, str]] = [
    # config.go validate: "missing 'roleName'": no role in the app, the environment or an override
    ("missing role", lambda s: (app(s)["hashicorpVault"].pop("role"), s["environments"]["prod"]["hashicorpVault"].pop("role")), "no Vault role for environment 'dev'"),  # noqa: E501
    # the spec always names the Vault (the provider would fall back to its own -vault-addr)
    ("missing address", lambda s: dev(s).pop("address"), "environments.dev.hashicorpVault: address is required"),
    ("address with a path", lambda s: dev(s).__setitem__("address", ADDRESS + "/v1"), "root URL"),
    # KV v2 serves <mount>/data/<path>: the spec's path never carries data/, the generator adds it once
    ("doubled data/", lambda s: objects(s)[0].__setitem__("path", "data/web/db"), "the generator adds data/ itself"),
    ("mount ending in data", lambda s: objects(s)[0].__setitem__("mount", "secret/data"), "name the KV v2 mount itself"),  # noqa: E501
    ("raw KV v2 path", lambda s: objects(s).append({"file": "raw", "path": "secret/data/web/db", "key": "k"}), "looks like a raw KV v2 path"),  # noqa: E501
    # the engine version must be declared so data/ is never forgotten
    ("kv without mount", lambda s: objects(s)[0].pop("mount"), "mount is required with kv"),
    ("mount without kv", lambda s: objects(s)[0].pop("kv"), "kv (1 or 2) is required with mount"),
    ("kv 3", lambda s: objects(s)[0].__setitem__("kv", 3), "must be 1 or 2"),
    ("version on KV v1", lambda s: objects(s)[2].__setitem__("version", 2), "KV v2 only"),
    # provider.go getSecret: no secretKey writes the whole JSON response
    ("secretKey missing", lambda s: objects(s)[0].pop("key"), "key is required"),
    # config.go validate: duplicate objectNames are refused
    ("duplicate file", lambda s: objects(s)[1].__setitem__("file", "db-password"), "two objects write the file 'db-password'"),  # noqa: E501
    # driver fileutil validatePath
    ("file with ..", lambda s: objects(s)[0].__setitem__("file", "../x"), "must not contain '..'"),
    # the driver syncs only files the mount holds
    ("sync names no file", lambda s: app(s)["sync"][0]["data"][0].__setitem__("objectName", "db.txt"), "not a file the HashiCorp Vault objects write"),  # noqa: E501
    # vault-plugin-auth-kubernetes path_login.go: "service account name not authorized"
    ("service account not bound", lambda s: app(s)["serviceAccount"].__setitem__("name", "other"), "is bound to service accounts web, not 'other'"),  # noqa: E501
    ("namespace not bound", lambda s: app(s)["hashicorpVault"]["role"].__setitem__("boundServiceAccountNamespaces", ["ops"]), "is bound to namespaces ops, not 'team'"),  # noqa: E501
    # Vault http/logical.go reads a body only for POST/PUT
    ("args with GET", lambda s: objects(s)[3].pop("method"), "needs method PUT or POST"),
    ("method on a KV read", lambda s: objects(s)[0].__setitem__("method", "PUT"), "applies to other secrets engines"),
    ("lower-case method", lambda s: objects(s)[3].__setitem__("method", "put"), "upper case"),
    # provider.go decodeValue
    ("unknown encoding", lambda s: objects(s)[2].__setitem__("encoding", "base32"), "utf-8, base64 or hex"),
    # the provider reads vaultSkipTLSVerify and the CA from its own pods; both at once would ignore the CA
    ("skip verify with a CA", lambda s: dev(s)["tls"].__setitem__("insecureSkipVerify", True), "cannot be true with a caCert"),  # noqa: E501
    ("plain http", lambda s: dev(s).update(address="http://vault.vault.svc:8200", tls={}), "is plain http"),
    ("CA from both kinds", lambda s: dev(s)["tls"]["caCert"].__setitem__("secret", "x"), "exactly one of secret or configMap"),  # noqa: E501
    # an environment names one store
    ("Key Vault keys in a Vault environment", lambda s: s["environments"]["dev"].__setitem__("tenant", TENANT), "is a Key Vault setting"),  # noqa: E501
    ("Key Vault objects nobody reads", lambda s: app(s).__setitem__("objects", [{"name": "x"}]), "no environment reads this application from Key Vault"),  # noqa: E501
    ("no Vault objects", lambda s: app(s)["hashicorpVault"].pop("objects"), "hashicorpVault.objects is required"),
    ("switching to Key Vault in a Vault environment", lambda s: app(s).__setitem__("environments", {"dev": {"vault": "web-kv"}}), "cannot switch to Key Vault there"),  # noqa: E501
    ("case slip", lambda s: objects(s)[0].__setitem__("Key", "x"), "unknown key"),
]  # fmt: skip


@pytest.mark.parametrize(("mutate", "message"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_refusals(make_repo: Callable[[dict[str, Any]], Path], mutate: Mutation, message: str) -> None:
    spec = vault_spec()
    mutate(spec)
    found = problems(make_repo, spec)
    assert any(message in p for p in found), found
    assert all("sealkit-csi.yaml" in p for p in found), found  # every problem says file:line: path


def test_a_refusal_names_the_line(make_repo: Callable[[dict[str, Any]], Path]) -> None:
    spec = vault_spec()
    objects(spec)[0]["path"] = "data/web/db"
    (problem,) = problems(make_repo, spec)
    assert "sealkit-csi.yaml:" in problem
    assert "applications.web.hashicorpVault.objects[0].path: path 'data/web/db' starts with data/" in problem


def test_the_workload_must_run_as_the_account_the_role_binds(make_repo: Callable[[dict[str, Any]], Path]) -> None:
    """The base's CronJob runs as default; a base workload running as another account is refused, as
    for workload identity (the generated patch would switch it)."""
    spec = vault_spec()
    app(spec)["serviceAccount"] = {"name": "web-existing", "create": False}
    app(spec)["hashicorpVault"]["role"]["boundServiceAccountNames"] = ["web-*"]  # Vault's trailing glob
    assert problems(make_repo, spec) == []
    spec["applications"]["web"]["serviceAccount"] = {"name": "web-existing", "create": True}
    assert any("already has ServiceAccount 'web-existing'" in p for p in problems(make_repo, spec))


def test_overrides(make_repo: Callable[[dict[str, Any]], Path]) -> None:
    """An app may change its Vault per environment, or read Vault in a Key Vault environment."""
    spec = vault_spec()
    spec["environments"]["kv"] = {
        "vault": "web-kv",
        "tenant": TENANT,
        "overlay": "clusters/kv/apps",
        "sealingCert": "cert.pem",
        "identity": {"workloadIdentity": {"clientID": CLIENT_ID}},
    }
    app(spec)["environments"] = {
        "dev": {"hashicorpVault": {"namespace": "team/dev", "role": "web-dev"}},
        "kv": {"hashicorpVault": {"address": "https://vault.other.example:8200"}},
    }
    loaded = load_spec(make_repo(spec))
    web = loaded.applications["web"]
    dev_vault = web.hashicorp_vault_for(loaded.environments["dev"])
    assert (dev_vault.address, dev_vault.namespace, dev_vault.role) == (ADDRESS, "team/dev", VaultRole("web-dev"))
    kv_env = loaded.environments["kv"]
    assert web.store_for(kv_env) is Store.HASHICORP_VAULT
    assert web.hashicorp_vault_for(kv_env).address == "https://vault.other.example:8200"
    broken = copy.deepcopy(spec)
    app(broken)["environments"]["kv"] = {"hashicorpVault": {"role": "x"}}
    assert any("address is required" in p for p in problems(make_repo, broken))


def test_an_app_can_read_both_stores(make_repo: Callable[[dict[str, Any]], Path]) -> None:
    """Key Vault objects in Key Vault environments, Vault objects in Vault ones; sync must work in both."""
    spec = vault_spec()
    spec["environments"]["kv"] = {
        "vault": "web-kv",
        "tenant": TENANT,
        "overlay": "clusters/kv/apps",
        "sealingCert": "cert.pem",
        "identity": {"workloadIdentity": {"clientID": CLIENT_ID}},
    }
    app(spec)["objects"] = [{"name": "db", "alias": "db-password"}]
    loaded = load_spec(make_repo(spec))
    assert loaded.applications["web"].stores(loaded.environments.values()) == set(Store)
    app(spec)["objects"] = [{"name": "db"}]
    assert any("'db-password' is not a mounted file name" in p for p in problems(make_repo, spec))
    del app(spec)["objects"]
    assert any("objects is required: the application reads Key Vault in kv" in p for p in problems(make_repo, spec))
