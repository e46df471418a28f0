"""The driver/provider rules on SecretProviderClass manifests (reused by checks of hand-written ones)."""

from __future__ import annotations

import copy
import re
import string
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealkit.csi import rules

OBJECTS = """\
array:
  - |
    objectName: db-password
    objectType: secret
    objectAlias: db.txt
  - |
    objectName: tls
    objectType: secret
    objectFormat: pem
  - |
    objectName: signing
    objectType: key
    objectVersionHistory: 2
"""


def valid_spc() -> dict[str, Any]:
    return {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "web", "namespace": "team"},
        "spec": {
            "provider": "azure",
            "parameters": {
                "keyvaultName": "web-kv",
                "tenantID": "11111111-2222-3333-4444-555555555555",
                "useVMManagedIdentity": "true",
                "userAssignedIdentityID": "99999999-8888-4777-8666-555555555555",
                "objects": OBJECTS,
            },
            "secretObjects": [
                {"secretName": "web-db", "type": "Opaque", "data": [{"objectName": "db.txt", "key": "password"}]},
                {
                    "secretName": "web-tls",
                    "type": "kubernetes.io/tls",
                    "data": [{"objectName": "tls", "key": "tls.crt"}, {"objectName": "tls", "key": "tls.key"}],
                },
            ],
        },
    }


def params(spc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = spc["spec"]["parameters"]
    return result


def objects(text: str) -> Callable[[dict[str, Any]], None]:
    def mutate(spc: dict[str, Any]) -> None:
        params(spc)["objects"] = text

    return mutate


def one_object(item: str) -> Callable[[dict[str, Any]], None]:
    indented = "".join(f"    {line}\n" for line in item.splitlines())
    return objects(f"array:\n  - |\n{indented}")


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("vault-short", lambda s: params(s).update(keyvaultName="ab"), "spec.parameters.keyvaultName", "3-24"),
    ("vault-missing", lambda s: params(s).pop("keyvaultName"), "spec.parameters.keyvaultName", "is required"),
    ("tenant-missing", lambda s: params(s).pop("tenantID"), "spec.parameters.tenantID", "is required"),
    (
        "not-a-string",
        lambda s: params(s).update(useVMManagedIdentity=True),
        "spec.parameters.useVMManagedIdentity",
        "must be a string",
    ),
    (
        "case-trap",
        lambda s: params(s).update(userAssignedIdentityId="x"),
        "spec.parameters.userAssignedIdentityId",
        "did you mean userAssignedIdentityID",
    ),
    (
        "client-id-with-vm",
        lambda s: params(s).update(clientID="aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"),
        "spec.parameters.clientID",
        "workload-identity token",
    ),
    (
        "two-flags",
        lambda s: params(s).update(useAzureTokenProxy="true"),
        "spec.parameters",
        "at most one identity flag",
    ),
    (
        "uai-without-vm",
        lambda s: params(s).update(useVMManagedIdentity="false"),
        "spec.parameters.userAssignedIdentityID",
        "is ignored unless",
    ),
    ("cloud", lambda s: params(s).update(cloudName="Azure"), "spec.parameters.cloudName", "must be empty (public)"),
    (
        "stack-cloud-without-env-file",
        lambda s: params(s).update(cloudName="AzureStackCloud"),
        "spec.parameters.cloudEnvFileName",
        "is required with cloudName AzureStackCloud",
    ),
    ("objects-not-array", objects("- objectName: x\n"), "spec.parameters.objects", "array:"),
    ("objects-item-map", objects("array:\n  - objectName: x\n"), "spec.parameters.objects.array[0]", "YAML string"),
    (
        "type",
        one_object("objectName: x\nobjectType: Secret"),
        "array[0].objectType",
        "must be one of secret, key, cert",
    ),
    (
        "alias-abs",
        one_object("objectName: x\nobjectType: secret\nobjectAlias: /x"),
        "array[0].objectAlias",
        "must be relative",
    ),
    (
        "alias-dotdot",
        one_object("objectName: x\nobjectType: secret\nobjectAlias: a/../../x"),
        "array[0].objectAlias",
        "'..'",
    ),
    (
        "format-on-cert",
        one_object("objectName: x\nobjectType: cert\nobjectFormat: pem"),
        "array[0].objectFormat",
        "only to objectType secret",
    ),
    (
        "encoding-on-key",
        one_object("objectName: x\nobjectType: key\nobjectEncoding: hex"),
        "array[0].objectEncoding",
        "only to objectType secret",
    ),
    (
        "history-quoted",
        one_object('objectName: x\nobjectType: key\nobjectVersionHistory: "2"'),
        "array[0].objectVersionHistory",
        "unquoted integer",
    ),
    (
        "object-key-case",
        one_object("objectName: x\nobjectType: key\nobjectalias: y"),
        "array[0].objectalias",
        "did you mean objectAlias",
    ),
    (
        "same-file",
        objects(
            "array:\n  - |\n    objectName: a\n    objectType: secret\n"
            "  - |\n    objectName: b\n    objectType: secret\n    objectAlias: a\n"
        ),
        "spec.parameters.objects.array[1]",
        "two objects write the same file 'a' (a and b)",
    ),
    (
        "alias-in-versions",  # versionHistory 3 writes signing/0, /1, /2: this alias would replace the newest
        objects(
            "array:\n  - |\n    objectName: signing\n    objectType: key\n    objectVersionHistory: 3\n"
            "  - |\n    objectName: b\n    objectType: secret\n    objectAlias: signing/0\n"
        ),
        "spec.parameters.objects.array[1]",
        "b writes 'signing/0' inside 'signing', which signing fills with its versions",
    ),
    (
        "alias-in-file",
        objects(
            "array:\n  - |\n    objectName: a\n    objectType: secret\n"
            "  - |\n    objectName: b\n    objectType: secret\n    objectAlias: a/b\n"
        ),
        "spec.parameters.objects.array[1]",
        "b writes 'a/b' inside 'a', which a writes as a file",
    ),
    (
        "sync-name-not-file",
        lambda s: s["spec"]["secretObjects"][0]["data"][0].update(objectName="db-password"),
        "secretObjects[0].data[0].objectName",
        "not a mounted file name",
    ),
    (
        "tls-keys",
        lambda s: s["spec"]["secretObjects"][1]["data"].pop(),
        "secretObjects[1].data",
        "exactly the keys tls.crt and tls.key",
    ),
    (
        "sync-type-spaced",  # the driver trims it and then splits tls.crt/tls.key: the check must see it too
        lambda s: s["spec"]["secretObjects"][0].update(type=" kubernetes.io/tls"),
        "secretObjects[0].type",
        "must not begin or end with white space",
    ),
    (
        "sync-dockerconfigjson",
        lambda s: s["spec"]["secretObjects"][0].update(type="kubernetes.io/dockerconfigjson"),
        "secretObjects[0].data",
        "needs the key .dockerconfigjson (the API server refuses the synced Secret",
    ),
    (
        "sync-service-account-token",
        lambda s: s["spec"]["secretObjects"][0].update(type="kubernetes.io/service-account-token"),
        "secretObjects[0].annotations",
        "needs the kubernetes.io/service-account.name annotation",
    ),
    ("sync-type-missing", lambda s: s["spec"]["secretObjects"][0].pop("type"), "secretObjects[0].type", "is required"),
    (
        "sync-twice",
        lambda s: s["spec"]["secretObjects"][1].update(secretName="web-db"),
        "secretObjects[1].secretName",
        "synced twice",
    ),
    ("api-version", lambda s: s.update(apiVersion="secrets-store.csi.x-k8s.io/v1alpha1"), "apiVersion", "must be"),
]


def test_a_valid_class_has_no_problems() -> None:
    assert rules.spc_problems(valid_spc()) == []


@pytest.mark.parametrize(("mutate", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule(mutate: Callable[[dict[str, Any]], None], path: str, message: str) -> None:
    spc = valid_spc()
    mutate(spc)
    found = [str(p) for p in rules.spc_problems(spc)]
    assert any(path in p and message in p for p in found), found


def test_a_versioned_object_is_synced_from_its_newest_version() -> None:
    """With objectVersionHistory above 1 the provider writes the object's versions under a directory of its name
    (/0 newest): a sync entry naming the directory gets no file (the pod mounts, the Secret never appears),
    one naming `<file>/0` is what the driver reads. spc_problems passed the directory and refused /0."""
    spc = valid_spc()
    params(spc)["objects"] = OBJECTS.replace("objectType: secret\n    objectFormat: pem", "objectType: secret\n"
                                             "    objectFormat: pem\n    objectVersionHistory: 3")  # fmt: skip
    assert "objectVersionHistory: 3" in params(spc)["objects"]
    found = [str(p) for p in rules.spc_problems(spc)]
    assert any("secretObjects[1].data[0].objectName" in p and "'tls' is not a mounted file name" in p for p in found)
    for row in spc["spec"]["secretObjects"][1]["data"]:
        row["objectName"] = "tls/0"
    assert rules.spc_problems(spc) == []


def test_other_providers_get_only_generic_checks() -> None:
    spc = valid_spc()
    spc["spec"] = {"provider": "gcp", "parameters": {"secrets": "x"}, "secretObjects": [{"secretName": "s"}]}
    assert rules.spc_problems(spc) == []


def test_two_classes_syncing_one_secret_in_a_namespace() -> None:
    first, second, elsewhere = valid_spc(), copy.deepcopy(valid_spc()), copy.deepcopy(valid_spc())
    second["metadata"]["name"] = "web2"
    elsewhere["metadata"]["namespace"] = "other"
    problems = rules.duplicate_sync_problems([("a.yaml", first), ("b.yaml", second), ("c.yaml", elsewhere)])
    assert [str(p) for p in problems] == [
        "b.yaml: Secret 'web-db' in namespace 'team' is also synced by a.yaml",
        "b.yaml: Secret 'web-tls' in namespace 'team' is also synced by a.yaml",
    ]


def deployment(volume_csi: dict[str, Any], namespace: str = "team") -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"template": {"spec": {"volumes": [{"name": "kv", "csi": volume_csi}]}}},
    }


def test_unmounted_sync() -> None:
    csi = {"driver": rules.CSI_DRIVER, "readOnly": True, "volumeAttributes": {"secretProviderClass": "web"}}
    assert rules.unmounted_sync_problems([("web.yaml", valid_spc())], [deployment(csi)]) == []
    problems = rules.unmounted_sync_problems([("web.yaml", valid_spc())], [deployment(csi, "other")])
    assert len(problems) == 1
    assert "would never be created" in str(problems[0])


def test_csi_volume_must_be_read_only() -> None:
    csi = {"driver": rules.CSI_DRIVER, "volumeAttributes": {"secretProviderClass": "web"}}
    assert [str(p) for p in rules.csi_volume_problems(deployment(csi))] == [
        "volumes.kv.csi.readOnly: must be true (the driver refuses writable mounts)"
    ]


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_.", max_size=30))
def test_vault_name_rule_matches_the_provider(name: str) -> None:
    expected_ok = re.fullmatch(r"[-A-Za-z0-9]{3,24}", name) is not None
    assert (rules.vault_name_problem(name) is None) == expected_ok


@given(st.lists(st.sampled_from(["a", "b.txt", "..", ".", "dir"]), min_size=1, max_size=4), st.booleans())
def test_alias_rule(parts: list[str], absolute: bool) -> None:
    alias = ("/" if absolute else "") + "/".join(parts)
    problem = rules.alias_problem(alias)
    assert (problem is None) == (not absolute and ".." not in parts and "." not in parts)


@given(st.text(alphabet=" \t\n\u00a0ab/.", min_size=1, max_size=12))
def test_alias_rule_refuses_what_the_driver_would_mount_elsewhere(alias: str) -> None:
    """The provider trims white space and the driver mounts only clean paths: an alias that either would
    change is refused (it could land on another object's file)."""
    parts = alias.split("/")
    changed = alias != alias.strip() or any(part in ("", ".") for part in parts)
    if changed:
        assert rules.alias_problem(alias) is not None


@pytest.mark.parametrize(
    ("secret_type", "keys", "annotations", "expected"),
    [
        ("Opaque", ["password"], None, []),
        ("kubernetes.io/tls", ["tls.crt", "tls.key"], None, []),
        ("kubernetes.io/tls ", ["tls.crt", "tls.key"], None, ["type"]),
        ("\tOpaque", ["password"], None, ["type"]),
        ("kubernetes.io/tls", ["tls.crt"], None, ["data"]),
        ("kubernetes.io/dockerconfigjson", [".dockerconfigjson"], None, []),
        ("kubernetes.io/dockerconfigjson", ["config.json"], None, ["data"]),
        ("kubernetes.io/dockercfg", ["config"], None, ["data"]),
        ("kubernetes.io/basic-auth", ["password"], None, []),
        ("kubernetes.io/basic-auth", ["user"], None, ["data"]),
        ("kubernetes.io/ssh-auth", ["ssh-privatekey", "known_hosts"], None, []),
        ("kubernetes.io/ssh-auth", ["id_rsa"], None, ["data"]),
        ("kubernetes.io/service-account-token", ["token"], {"kubernetes.io/service-account.name": "web"}, []),
        ("kubernetes.io/service-account-token", ["token"], None, ["annotations"]),
        ("example.com/custom", ["anything"], None, []),
    ],
)
def test_sync_type_problems_are_the_drivers_and_the_api_servers(
    secret_type: str, keys: list[str], annotations: dict[str, str] | None, expected: list[str]
) -> None:
    assert [field for field, _ in rules.sync_type_problems(secret_type, keys, annotations)] == expected
