"""SecretProviderClass reading as the Azure provider does: ParseBool, placeholders, trimming."""

from __future__ import annotations

import pytest

from sealkit.lint import loader, spc


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("True", True), ("TRUE", True), ("1", True), ("t", True), (" T ", True), ("false", False),
     ("0", False), ("F", False), ("", False), ("yes", None), ("tRUE", None), ("on", None)],
)  # fmt: skip
def test_parse_bool_is_gos(text: str, value: bool | None) -> None:
    assert spc.parse_bool(text) is value


@pytest.mark.parametrize("value", ["$KEYVAULT_NAME", "${TENANT}", "<client id of the identity>", "kv-${ENV}"])
def test_placeholders(value: str) -> None:
    assert spc.is_placeholder(value)


@pytest.mark.parametrize("value", ["kv-prod", "7f3c2a10-4b5d-4e6f-8a9b-0c1d2e3f4a5b", "a$", ""])
def test_not_placeholders(value: str) -> None:
    assert not spc.is_placeholder(value)


def hits(text: str) -> list[tuple[str, int, str]]:
    manifest = loader.load_text(text).manifests[0]
    return [(h.rule.id, h.line, h.message) for h in spc.check_spc(manifest)]


BASE = """\
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {name: web}
spec:
  provider: azure
  parameters:
    keyvaultName: kv-web
    tenantID: "7f3c2a10-4b5d-4e6f-8a9b-0c1d2e3f4a5b"
    clientID: "0a1b2c3d-0000-4000-8000-00000000d001"
    objects: |
      array:
        - |
          objectName: db
          objectType: secret
"""


def test_a_clean_class() -> None:
    assert hits(BASE) == []


def test_wrong_typed_fields_are_findings_not_crashes() -> None:
    for broken in ("spec: true", "spec: {provider: azure, parameters: [1]}", "spec: {provider: 3}"):
        text = BASE.split("spec:")[0] + broken + "\n"
        assert {h[0] for h in hits(text)} == {"SK301"}


def test_a_parameter_that_is_not_a_string_is_named_in_yamls_words() -> None:
    text = BASE.replace("keyvaultName: kv-web", "keyvaultName: [kv-web]")
    (hit,) = [h for h in hits(text) if "must be a string" in h[2]]
    assert "parameters.keyvaultName must be a string (quote it), not a list: " in hit[2]


def test_objects_yaml_errors_point_at_objects() -> None:
    text = BASE.replace(
        "      array:\n        - |\n          objectName: db\n          objectType: secret\n", "      array: [broken\n"
    )
    assert [(rule, line) for rule, line, _ in hits(text)] == [("SK301", 10)]


def test_provider_other_than_azure_or_vault_only_gets_driver_checks() -> None:
    text = BASE.replace("provider: azure", "provider: gcp").replace("keyvaultName", "secrets")
    assert hits(text) == []
    assert [h[0] for h in hits(BASE.replace("provider: azure", "provider: Azure"))] == ["SK301"]
    # provider vault has its own rules (tests/sealkit/lint/test_spc_vault.py): Azure parameters are unknown there
    assert "SK306" in {h[0] for h in hits(BASE.replace("provider: azure", "provider: vault"))}


def test_secret_objects_need_mounted_files_and_tls_keys() -> None:
    text = BASE + (
        "  secretObjects:\n"
        "    - secretName: web-tls\n"
        "      type: kubernetes.io/tls\n"
        "      data:\n"
        "        - {objectName: ' db ', key: tls.crt}\n"
        "        - {objectName: other, key: tls.key}\n"
        "    - secretName: web-tls\n"
        "      data: []\n"
    )
    messages = [(rule, line) for rule, line, _ in hits(text)]
    assert messages == [("SK301", 20), ("SK301", 21), ("SK301", 21), ("SK301", 22)], hits(text)


def objects_block(*items: str) -> str:
    """BASE with its objects replaced by these items (each 'key: value' lines)."""
    body = "".join("        - |\n" + "".join(f"          {line}\n" for line in item.splitlines()) for item in items)
    return BASE.split("      array:\n")[0] + "      array:\n" + body


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            (
                "objectName: signing\nobjectType: key\nobjectVersionHistory: 3",
                "objectName: b\nobjectType: secret\nobjectAlias: signing/0",
            ),
            "objects item 2: b writes 'signing/0' inside 'signing', which signing fills with its versions",
        ),
        (
            ("objectName: a\nobjectType: secret", "objectName: b\nobjectType: secret\nobjectAlias: a/b"),
            "objects item 2: b writes 'a/b' inside 'a', which a writes as a file",
        ),
        (
            ("objectName: a\nobjectType: secret", "objectName: b\nobjectType: secret\nobjectAlias: ' a '"),
            "objects item 2: two objects write the same file 'a' (a and b)",
        ),
    ],
    ids=["inside-versions", "inside-file", "same-file-trimmed"],
)
def test_an_object_replacing_or_inside_another_ones_files_is_refused(items: tuple[str, ...], message: str) -> None:
    """As the spec refuses them (sealkit.csi.rules.file_collisions): one object silently replaced another."""
    text = objects_block(*items)
    assert [(rule, msg.endswith(message)) for rule, _, msg in hits(text)] == [("SK301", True)], hits(text)
    assert hits(objects_block(items[0], items[1].replace("objectAlias", "# objectAlias"))) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "type: ' kubernetes.io/tls'\n      data: [{objectName: db, key: password}]",
            "exactly the keys tls.crt and tls.key",
        ),
        ("type: kubernetes.io/ssh-auth\n      data: [{objectName: db, key: id_rsa}]", "needs the key ssh-privatekey"),
        ("type: kubernetes.io/dockerconfigjson\n      data: [{objectName: db, key: config}]", "key .dockerconfigjson"),
        ("type: kubernetes.io/basic-auth\n      data: [{objectName: db, key: user}]", "key username or password"),
        (
            "type: kubernetes.io/service-account-token\n      data: [{objectName: db, key: token}]",
            "needs the kubernetes.io/service-account.name annotation",
        ),
    ],
    ids=["tls-trimmed", "ssh-auth", "dockerconfigjson", "basic-auth", "service-account-token"],
)
def test_a_synced_secret_type_gets_the_keys_it_needs(entry: str, message: str) -> None:
    """The driver trims the type; the API server refuses a Secret of a type without its keys (the pod mounts,
    the Secret never appears)."""
    text = BASE + f"  secretObjects:\n    - secretName: web\n      {entry}\n"
    found = hits(text)
    line = 17 if "annotation" in message else 18  # the type's line when the annotations are missing, else data's
    assert [(rule, at) for rule, at, _ in found] == [("SK301", line)], found
    assert message in found[0][2], found
    fixed = entry.replace("key: password", "key: tls.crt}, {objectName: db, key: tls.key").replace(
        "id_rsa", "ssh-privatekey"
    )
    fixed = fixed.replace("key: config", "key: .dockerconfigjson").replace("key: user", "key: username")
    fixed = fixed.replace("\n      data", "\n      annotations: {kubernetes.io/service-account.name: web}\n      data")
    assert hits(BASE + f"  secretObjects:\n    - secretName: web\n      {fixed}\n") == []


@pytest.mark.parametrize("history", [2, 3])
def test_a_sync_naming_a_versioned_objects_directory_is_refused(history: int) -> None:
    """With objectVersionHistory above 1 the provider writes `signing/0` (the newest), `signing/1`, ...: a sync
    entry naming `signing` reads a directory, and the synced Secret never appears. The spec refuses it
    (sealkit.csi.spec, whose rule lint calls); lint passed it. `signing/0` passes."""
    versioned = objects_block(f"objectName: signing\nobjectType: secret\nobjectVersionHistory: {history}")
    sync = "  secretObjects:\n    - secretName: web\n      type: Opaque\n      data: [{objectName: %s, key: key}]\n"
    (hit,) = hits(versioned + sync % "signing")
    assert hit[0] == "SK301" and hit[1] == versioned.count("\n") + 4
    assert "'signing' is the directory of an object's versions, objectVersionHistory above 1: its newest is" in hit[2]
    assert hits(versioned + sync % "signing/0") == []
    plain = objects_block("objectName: signing\nobjectType: secret\nobjectVersionHistory: 1")
    assert hits(plain + sync % "signing") == []
