"""Every spec the driver or provider would reject or mishandle is refused with a clear message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sealkit.csi.spec import SpecError, load_spec

Spec = dict[str, Any]


def app(spec: Spec) -> dict[str, Any]:
    result: dict[str, Any] = spec["applications"]["web"]
    return result


def obj(spec: Spec, i: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = app(spec)["objects"][i]
    return result


def second_app(spec: Spec) -> None:
    spec["applications"]["other"] = {
        "namespace": "team",
        "base": "apps/web/base",
        "objects": [{"name": "x"}],
        "sync": [{"secretName": "web-db", "data": [{"key": "k", "objectName": "x"}]}],
        "workloads": [{"kind": "CronJob", "name": "nightly"}],
        "serviceAccount": {"name": "web-existing", "create": False},
    }


def sets(target: Callable[[Spec], dict[str, Any]], key: str, value: Any) -> Callable[[Spec], None]:
    def mutate(spec: Spec) -> None:
        target(spec)[key] = value

    return mutate


def env(name: str) -> Callable[[Spec], dict[str, Any]]:
    return lambda spec: spec["environments"][name]


def sync(i: int) -> Callable[[Spec], dict[str, Any]]:
    return lambda spec: app(spec)["sync"][i]


def workload(i: int) -> Callable[[Spec], dict[str, Any]]:
    return lambda spec: app(spec)["workloads"][i]


REFUSALS: list[tuple[str, Callable[[Spec], None], str, str]] = [
    ("base-missing", sets(app, "base", "apps/none"), "applications.web.base", "has no kustomization.yaml"),
    # A value of the wrong type is named in YAML's words, never Python's (it read 'not list', 'not str').
    (
        "sa-not-a-map",
        sets(app, "serviceAccount", ["web"]),
        "applications.web.serviceAccount",
        "must be a map, not a list",
    ),
    (
        "identity-a-string",
        sets(env("dev"), "identity", "wi"),
        "environments.dev.identity",
        "must be a map, not a string",
    ),
    # (id, mutation, expected path, expected message part)
    ("vault-too-short", sets(env("dev"), "vault", "kv"), "environments.dev.vault", "must be 3-24 characters"),
    ("vault-too-long", sets(env("dev"), "vault", "k" * 25), "environments.dev.vault", "must be 3-24 characters"),
    ("vault-bad-char", sets(env("prod"), "vault", "web_prod"), "environments.prod.vault", "letters, digits and '-'"),
    (
        "vault-override",
        sets(app, "environments", {"prod": {"vault": "a.b.c"}}),
        "applications.web.environments.prod.vault",
        "must be 3-24",
    ),
    (
        "type-plural",
        sets(obj, "type", "secrets"),
        "applications.web.objects[0].type",
        "must be one of secret, key, cert",
    ),
    ("type-case", sets(obj, "type", "Secret"), "applications.web.objects[0].type", "(lowercase)"),
    ("alias-absolute", sets(obj, "alias", "/etc/db"), "applications.web.objects[0].alias", "must be relative"),
    ("alias-dotdot", sets(obj, "alias", "../db"), "applications.web.objects[0].alias", "must not contain '..'"),
    ("alias-inner-dotdot", sets(obj, "alias", "a/../../b"), "applications.web.objects[0].alias", "'..'"),
    # generate --env dev took prod's files under clusters/dev/apps/prod for stale ones and deleted them.
    (
        "overlay-nested",
        sets(env("prod"), "overlay", "clusters/dev/apps/prod"),
        "environments.prod.overlay",
        "'clusters/dev/apps/prod' is nested with environment dev's overlay 'clusters/dev/apps'",
    ),
    # The provider trims every field: 'tls-cert ' is written as 'tls-cert', over the other object's file.
    (
        "alias-white-space",
        sets(obj, "alias", "tls-cert "),
        "applications.web.objects[0].alias",
        "must not begin or end with white space (the provider removes it)",
    ),
    # The driver mounts only clean paths (Go's filepath.Clean(path) == path) within its length limits.
    ("alias-dot-part", sets(obj, "alias", "./db.txt"), "applications.web.objects[0].alias", "must be a clean path"),
    ("alias-slash-end", sets(obj, "alias", "db/"), "applications.web.objects[0].alias", "must be a clean path"),
    ("alias-double-slash", sets(obj, "alias", "a//b"), "applications.web.objects[0].alias", "must be a clean path"),
    ("alias-long-part", sets(obj, "alias", "a/" + "b" * 256), "applications.web.objects[0].alias", "at most 255"),
    # With versionHistory 2 'signing' is a directory of files signing/0, signing/1: an alias there replaces one.
    (
        "alias-inside-versions",
        sets(obj, "alias", "signing/0"),
        "applications.web.objects[0]",
        "db-password writes 'signing/0' inside 'signing', which signing fills with its versions",
    ),
    (
        "alias-inside-a-file",
        sets(obj, "alias", "tls-cert/db"),
        "applications.web.objects[0]",
        "db-password writes 'tls-cert/db' inside 'tls-cert', which tls-cert writes as a file",
    ),
    (
        "sync-versions-directory",
        lambda s: sync(0)(s)["data"][0].update(objectName="signing"),
        "applications.web.sync[0].data[0].objectName",
        "the provider writes the versions as files 'signing/0' (the newest)",
    ),
    (
        "same-file",
        sets(lambda s: obj(s, 1), "alias", "db.txt"),
        "applications.web.objects[1]",
        "two objects write the same file 'db.txt'",
    ),
    (
        "same-file-alias-equals-name",
        sets(lambda s: obj(s, 2), "alias", "tls-cert"),
        "applications.web.objects[2]",
        "two objects write the same file 'tls-cert'",
    ),
    ("same-synced-secret", second_app, "applications.other.sync[0].secretName", "is also synced by application 'web'"),
    (
        "sync-unmounted",
        sets(app, "workloads", []),
        "applications.web.sync",
        "would never be created",
    ),
    (
        "sync-object-name-not-alias",
        lambda s: sync(0)(s)["data"][0].update(objectName="db-password"),
        "applications.web.sync[0].data[0].objectName",
        "mounted under its alias 'db.txt'",
    ),
    (
        "sync-object-name-unknown",
        lambda s: sync(0)(s)["data"][0].update(objectName="nope"),
        "applications.web.sync[0].data[0].objectName",
        "is not a mounted file name",
    ),
    (
        "tls-missing-key",
        lambda s: sync(1)(s)["data"].pop(),
        "applications.web.sync[1].data",
        "needs exactly the keys tls.crt and tls.key",
    ),
    (
        "tls-extra-key",
        lambda s: sync(1)(s)["data"].append({"key": "ca.crt", "objectName": "tls-cert"}),
        "applications.web.sync[1].data",
        "needs exactly the keys tls.crt and tls.key",
    ),
    (
        "sync-type-spaced",  # the driver trims it, then splits tls.crt/tls.key: ' kubernetes.io/tls' escaped the check
        lambda s: sync(1)(s).update(type=" kubernetes.io/tls"),
        "applications.web.sync[1].type",
        "type ' kubernetes.io/tls' must not begin or end with white space",
    ),
    (
        "sync-ssh-auth-key",
        lambda s: sync(0)(s).update(type="kubernetes.io/ssh-auth"),
        "applications.web.sync[0].data",
        "a kubernetes.io/ssh-auth Secret needs the key ssh-privatekey (the API server refuses the synced Secret",
    ),
    (
        "sync-dockerconfigjson-key",
        lambda s: sync(0)(s).update(type="kubernetes.io/dockerconfigjson"),
        "applications.web.sync[0].data",
        "needs the key .dockerconfigjson",
    ),
    (
        "sync-service-account-annotation",
        lambda s: sync(0)(s).update(type="kubernetes.io/service-account-token"),
        "applications.web.sync[0].annotations",
        "needs the kubernetes.io/service-account.name annotation",
    ),
    (
        "clientid-with-vm",
        sets(env("prod"), "identity", {"vmManagedIdentity": {"clientID": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}}),
        "environments.prod.identity.vmManagedIdentity.clientID",
        "clientID together with VM managed identity",
    ),
    (
        "two-identity-modes",
        sets(env("dev"), "identity", {"vmManagedIdentity": None, "servicePrincipal": None}),
        "environments.dev.identity",
        "give exactly one identity mode",
    ),
    (
        "format-on-key",
        sets(lambda s: obj(s, 2), "format", "pem"),
        "applications.web.objects[2].format",
        "objectFormat applies only to objectType secret",
    ),
    (
        "encoding-on-cert",
        lambda s: obj(s, 2).update(type="cert", encoding="base64"),
        "applications.web.objects[2].encoding",
        "objectEncoding applies only to objectType secret",
    ),
    (
        "bad-encoding",
        sets(obj, "encoding", "latin1"),
        "applications.web.objects[0].encoding",
        "must be one of utf-8, base64, hex",
    ),
    (
        "history-quoted",
        sets(lambda s: obj(s, 2), "versionHistory", "2"),
        "applications.web.objects[2].versionHistory",
        "must be an unquoted integer",
    ),
    (
        "history-float",
        sets(lambda s: obj(s, 2), "versionHistory", 2.5),
        "applications.web.objects[2].versionHistory",
        "must be an unquoted integer",
    ),
    (
        "history-bool",
        sets(lambda s: obj(s, 2), "versionHistory", True),
        "applications.web.objects[2].versionHistory",
        "must be an unquoted integer",
    ),
    (
        "workload-not-in-base",
        sets(workload(0), "name", "webb"),
        "applications.web.workloads[0].name",
        "has no Deployment 'webb' (it has: web)",
    ),
    (
        "workload-wrong-kind",
        sets(workload(1), "kind", "StatefulSet"),
        "applications.web.workloads[1].name",
        "has no StatefulSet 'nightly'",
    ),
    (
        "container-not-in-workload",
        sets(workload(0), "containers", ["api"]),
        "applications.web.workloads[0].containers",
        "has no container 'api'",
    ),
    (
        "case-trap",
        sets(env("prod"), "identity", {"vmManagedIdentity": {"userAssignedIdentityId": "x"}}),
        "userAssignedIdentityId",
        "did you mean userAssignedIdentityID",
    ),
    (
        "file-permission-unquoted",
        sets(obj, "filePermission", 420),
        "applications.web.objects[0].filePermission",
        "quoted octal string",
    ),
    ("version-bad", sets(obj, "version", "v2"), "applications.web.objects[0].version", "32-hex-digit"),
    (
        "version-unknown-env",
        sets(obj, "version", {"staging": "latest"}),
        "applications.web.objects[0].version.staging",
        "unknown environment",
    ),
    (
        "env-unknown-secret",
        lambda s: workload(0)(s)["env"][0].update(secretName="nope"),
        "applications.web.workloads[0].env[0].secretName",
        "is not a Secret this application syncs",
    ),
    (
        "env-misspelled-field",
        lambda s: workload(0)(s)["env"].__setitem__(0, {"name": "DB_PASSWORD", "ecretName": "web-db", "key": "k"}),
        "applications.web.workloads[0].env[0]",
        "ecretName",
    ),
    (
        "env-unknown-key",
        lambda s: workload(0)(s)["env"][0].update(key="pass"),
        "applications.web.workloads[0].env[0].key",
        "has no key 'pass'",
    ),
    (
        "sa-create-clash",
        sets(app, "serviceAccount", {"name": "web-existing"}),
        "applications.web.serviceAccount",
        "set create: false",
    ),
    (
        "sa-annotate-missing",
        sets(app, "serviceAccount", {"name": "ghost", "create": False}),
        "applications.web.serviceAccount",
        "no ServiceAccount 'ghost'",
    ),
    (
        "env-clash",
        lambda s: workload(0)(s)["env"][0].update(name="LOG_LEVEL"),
        "applications.web.workloads[0].env",
        "already sets environment variable 'LOG_LEVEL'",
    ),
    (
        "namespace-mismatch",
        sets(app, "namespace", "other"),
        "applications.web.workloads[0]",
        "is in namespace 'team' in the base",
    ),
    ("tenant-bad", sets(env("dev"), "tenant", "not a tenant"), "environments.dev.tenant", "tenant GUID or domain"),
    (
        "cloud-bad",
        sets(env("prod"), "cloud", "AzureCloud"),
        "environments.prod.cloud",
        "must be empty (public) or one of",
    ),
    # AzureStackCloud reads its endpoints from cloudEnvFileName: without it every mount fails.
    (
        "stack-cloud-without-env-file",
        sets(env("prod"), "cloud", "AzureStackCloud"),
        "environments.prod",
        "cloudEnvFile is required with cloud AzureStackCloud",
    ),
    (
        "env-file-without-stack-cloud",
        sets(env("prod"), "cloudEnvFile", "/etc/kubernetes/azurestack.json"),
        "environments.prod.cloudEnvFile",
        "is only read with cloud AzureStackCloud",
    ),
    (
        "env-file-relative",
        lambda spec: env("prod")(spec).update(cloud="AzureStackCloud", cloudEnvFile="azurestack.json"),
        "environments.prod.cloudEnvFile",
        "must be an absolute path in the provider's pod",
    ),
    (
        "env-file-not-a-string",
        lambda spec: env("prod")(spec).update(cloud="AzureStackCloud", cloudEnvFile=["/a"]),
        "environments.prod.cloudEnvFile",
        "must be a non-empty string",
    ),
    (
        "client-id-bad",
        sets(env("dev"), "identity", {"workloadIdentity": {"clientID": "abc"}}),
        "environments.dev.identity.workloadIdentity.clientID",
        "must be a GUID",
    ),
    (
        "overlay-escapes",
        sets(env("dev"), "overlay", "../elsewhere"),
        "environments.dev.overlay",
        "inside the config repo",
    ),
    (
        "same-overlay",
        sets(env("prod"), "overlay", "clusters/dev/apps"),
        "environments.prod.overlay",
        "already writes to",
    ),
    (
        "mount-relative",
        sets(workload(1), "mountPath", "secrets"),
        "applications.web.workloads[1].mountPath",
        "absolute path",
    ),
    # A value of the wrong type is shown as YAML writes it, or by its kind: never Python's repr (it read
    # "keyvaultName None", "{'a': 1}", "['x']", "True").
    ("vault-null", sets(env("dev"), "vault", None), "environments.dev.vault", "keyvaultName null must be 3-24"),
    ("vault-map", sets(env("dev"), "vault", {"a": 1}), "environments.dev.vault", "keyvaultName a mapping must be"),
    ("vault-true", sets(env("dev"), "vault", True), "environments.dev.vault", "keyvaultName true must be"),
    ("tenant-list", sets(env("dev"), "tenant", ["t"]), "environments.dev.tenant", "tenant a list must be"),
    ("ns-null", sets(app, "namespace", None), "applications.web.namespace", "non-empty string, not null"),
    (
        "version-map",
        sets(obj, "version", {"dev": {"x": 1}}),
        "applications.web.objects[0].version.dev",
        "objectVersion a mapping must be empty",
    ),
    # The provider reads objectVersionHistory into an int32: a larger one fails every mount.
    (
        "history-past-int32",
        sets(obj, "versionHistory", 2**31),
        "applications.web.objects[0].versionHistory",
        "must be at most 2147483647 (the provider's 32-bit limit), not 2147483648",
    ),
]


@pytest.mark.parametrize(("mutate", "path", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_refused_with_file_path_and_problem(
    spec_dict: Spec, make_repo: Callable[[Spec], Path], mutate: Callable[[Spec], None], path: str, message: str
) -> None:
    mutate(spec_dict)
    spec_path = make_repo(spec_dict)
    with pytest.raises(SpecError) as err:
        load_spec(spec_path)
    matching = [p for p in err.value.problems if path in p and message in p]
    assert matching, err.value.problems
    assert all(p.startswith(f"{spec_path}:") for p in err.value.problems)
    assert all(f": {spec_path}:" in line for line in err.value.lines)


def test_a_client_id_that_is_not_a_guid_is_not_shown(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    """A client secret is often pasted where the client id goes: the line names the field, not the value."""
    pasted = "Abc8Q~Pl4nted.Client-Secret_Value"
    spec_dict["environments"]["dev"]["identity"]["workloadIdentity"]["clientID"] = pasted
    with pytest.raises(SpecError) as err:
        load_spec(make_repo(spec_dict))
    assert pasted not in str(err.value.problems)
    assert "clientID must be a GUID like 00000000-0000-0000-0000-000000000000 (the value is not shown)" in str(
        err.value
    )


def test_a_synced_version_is_a_file_under_the_object(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    """With versionHistory the provider writes <file>/0 (the newest), <file>/1, ...: /0 is always there."""
    spec_dict["applications"]["web"]["sync"][0]["data"].append({"key": "signing", "objectName": "signing/0"})
    web = load_spec(make_repo(spec_dict)).applications["web"]
    assert [row.object_name for row in web.sync[0].data] == ["db.txt", "signing/0"]


def test_the_valid_spec_loads(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    spec = load_spec(make_repo(spec_dict))
    web = spec.applications["web"]
    assert [w.containers for w in web.workloads] == [("app",), ("job",)]
    assert [w.api_version for w in web.workloads] == ["apps/v1", "batch/v1"]
    assert web.objects[0].version_for("prod") == "0123456789abcdef0123456789abcdef"
    assert web.objects[0].version_for("dev") == ""


def test_problem_names_the_line(tmp_path: Path, spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    spec_path = make_repo(spec_dict)
    lines = spec_path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if "web-prod-kv" in line)
    lines[index] = lines[index].replace("web-prod-kv", "x")
    spec_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SpecError) as err:
        load_spec(spec_path)
    assert err.value.problems == [
        f"{spec_path}:{index + 1}: environments.prod.vault: "
        "keyvaultName 'x' must be 3-24 characters of letters, digits and '-'"
    ]
    assert err.value.lines == [
        "environments.prod.vault: keyvaultName 'x' must be 3-24 characters of letters, digits and '-': "
        f"{spec_path}:{index + 1}"
    ]


def test_all_problems_are_reported_at_once(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    spec_dict["environments"]["dev"]["vault"] = "kv"
    spec_dict["applications"]["web"]["objects"][0]["type"] = "password"
    with pytest.raises(SpecError) as err:
        load_spec(make_repo(spec_dict))
    assert len(err.value.problems) == 2
    assert "(and 1 more problem)" in str(err.value)


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "sealkit-csi.yaml"
    path.write_text("apiVersion: sealkit/v1alpha1\nkind: KeyVaultCsi\nkind: KeyVaultCsi\n")
    with pytest.raises(Exception, match=r"mapping key 'kind' is given twice .*: .*sealkit-csi.yaml document 1 line 3"):
        load_spec(path)


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no such spec file"):
        load_spec(tmp_path / "nope.yaml")


def test_unknown_keys_are_refused(spec_dict: Spec, make_repo: Callable[[Spec], Path]) -> None:
    spec_dict["applications"]["web"]["objects"][0]["objectAlias"] = "x"
    with pytest.raises(SpecError, match=r"objects\[0\]\.objectAlias: unknown key"):
        load_spec(make_repo(spec_dict))


def test_a_base_resource_that_cannot_be_looked_up_is_a_problem_naming_it(
    spec_dict: Spec, make_repo: Callable[[Spec], Path]
) -> None:
    """A resource whose name no file system takes (ENAMETOOLONG, also as root) is refused, never left out
    as if it held no workloads."""
    spec_path = make_repo(spec_dict)
    kfile = spec_path.parent.resolve() / "apps" / "web" / "base" / "kustomization.yaml"  # as the base is read
    entry = "r" * 300 + ".yaml"
    kfile.write_text(kfile.read_text().replace("serviceaccount.yaml]", f"serviceaccount.yaml, {entry}]"))
    with pytest.raises(SpecError) as err:
        load_spec(spec_path)
    assert [p.split(": ", 1)[1] for p in err.value.problems] == [
        f"applications.web.base: {kfile} lists '{entry}', which cannot be read (file name too long)"
    ]


def test_a_base_directory_that_cannot_be_looked_up_is_a_problem_naming_it(
    spec_dict: Spec, make_repo: Callable[[Spec], Path]
) -> None:
    spec_dict["applications"]["web"]["base"] = "apps/" + "b" * 300
    spec_path = make_repo(spec_dict)
    with pytest.raises(SpecError) as err:
        load_spec(spec_path)
    kfile = spec_path.parent.resolve() / "apps" / ("b" * 300) / "kustomization.yaml"
    assert [p.split(": ", 1)[1] for p in err.value.problems] == [
        f"applications.web.base: cannot read {kfile} (file name too long)"
    ]
