"""The HashiCorp Vault provider's rules on plain SecretProviderClass dicts.

Sources (hashicorp/vault-csi-provider v1.7.4 unless noted): `internal/config/config.go` (parseParameters,
validate), `internal/provider/provider.go` (getSecret, keyFromData, decodeValue, response cache),
`internal/client/client.go` (generateSecretRequest, ensureV1Prefix), Vault `http/logical.go` (request
bodies read only for POST/PUT), the Vault KV v2 API (`<mount>/data/<path>`), secrets-store-csi-driver
v1.6.0 `pkg/util/fileutil/atomic_writer.go` (validatePath) and gopkg.in/yaml.v3 (how `objects` decodes).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.csi import rules
from sealkit.csi.hashicorp import rules as vault_rules

OBJECTS = """\
- objectName: db-password
  secretPath: secret/data/orders/db
  secretKey: password
  filePermission: 0440
- objectName: legacy
  secretPath: legacy/orders/api
  secretKey: token
  encoding: base64
- objectName: certs
  secretPath: pki/issue/orders
  method: PUT
  secretArgs: {"common_name": "orders.shop.svc", "ttl": "24h"}
"""


def valid_spc() -> dict[str, Any]:
    return {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {"name": "orders", "namespace": "shop"},
        "spec": {
            "provider": "vault",
            "parameters": {
                "vaultAddress": "https://vault.example.com:8200",
                "roleName": "orders",
                "vaultKubernetesMountPath": "kubernetes",
                "vaultCACertPath": "/vault/tls/ca.crt",
                "objects": OBJECTS,
            },
            "secretObjects": [
                {
                    "secretName": "orders-db",
                    "type": "Opaque",
                    "data": [{"objectName": "db-password", "key": "password"}],
                }
            ],
        },
    }


def found(spc: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(p.path, p.kind, p.message) for p in rules.spc_problems(spc)]


def params(spc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = spc["spec"]["parameters"]
    return result


def test_a_valid_class_has_no_problem() -> None:
    assert found(valid_spc()) == []


def test_upstream_examples_pass() -> None:
    """The provider's own test classes (test/bats/configs/vault-*-secretproviderclass.yaml) are accepted:
    unquoted octal filePermission, PUT with secretArgs and no secretKey (the whole PKI response)."""
    spc = valid_spc()
    params(spc).update(
        {
            "audience": "vault",
            "vaultTLSClientCertPath": "/mnt/tls/client.crt",
            "vaultTLSClientKeyPath": "/mnt/tls/client.key",
            "objects": '- objectName: "secret-1"\n  secretPath: "secret/data/kv1"\n  secretKey: "bar1"\n'
            "  filePermission: 0624\n"
            '- objectName: "certs"\n  secretPath: "pki/issue/example-dot-com"\n  secretArgs:\n'
            '    common_name: "test.example.com"\n    ttl: "24h"\n  method: "PUT"\n',
        }
    )
    del spc["spec"]["secretObjects"]
    assert found(spc) == []


Mutation = Callable[[dict[str, Any]], None]


def _set(key: str, value: Any) -> Mutation:
    return lambda spc: params(spc).__setitem__(key, value)


def _drop(key: str) -> Mutation:
    return lambda spc: params(spc).pop(key)


def _objects(*items: str) -> Mutation:
    """`objects` from items written as `key: value; key: value` (a list of maps, as the provider reads)."""
    if len(items) == 1 and "\n" in items[0]:
        return _set("objects", items[0])
    lines = []
    for item in items:
        fields = [f.strip() for f in item.split(";")]
        lines += [f"- {fields[0]}", *(f"  {f}" for f in fields[1:])]
    return _set("objects", "\n".join(lines) + "\n")


KV = "secretPath: secret/data/x; secretKey: k"


REFUSED: list[tuple[str, Mutation, str, str]] = [
    # config.go validate: `missing 'roleName' in SecretProviderClass definition`
    ("missing role", _drop("roleName"), "spec.parameters.roleName", "is required"),
    # config.go parseParameters reads params["roleName"]: any other spelling is ignored, so the role is missing
    (
        "mis-cased parameter",
        lambda s: params(s).__setitem__("rolename", params(s).pop("roleName")),
        "rolename",
        "did you mean roleName",
    ),
    # config.go: "cannot set both vaultKubernetesMountPath and vaultAuthMountPath"
    ("both mount paths", _set("vaultAuthMountPath", "jwt"), "vaultAuthMountPath", "set together"),
    # config.go: vaultSkipTLSVerify goes through strconv.ParseBool and its error fails the mount
    ("bad boolean", _set("vaultSkipTLSVerify", "yes"), "vaultSkipTLSVerify", "not a Go boolean"),
    # the CRD: parameters is map[string]string
    ("non-string parameter", _set("vaultSkipTLSVerify", False), "vaultSkipTLSVerify", "must be a string"),
    # the Vault API client takes an address, requests go to <address>/v1/...
    ("address with a path", _set("vaultAddress", "https://vault.example.com/ui"), "vaultAddress", "root URL"),
    ("address without a scheme", _set("vaultAddress", "vault:8200"), "vaultAddress", "http(s) URL"),
    # Vault API ConfigureTLS needs both halves of a client certificate
    (
        "half a client certificate",
        _set("vaultTLSClientCertPath", "/tls/c.crt"),
        "vaultTLSClientCertPath",
        "needs vaultTLSClientKeyPath",
    ),
    # files read inside the provider's pods
    ("relative CA path", _set("vaultCACertPath", "ca.crt"), "vaultCACertPath", "absolute path"),
    # config.go: yaml.Unmarshal(objects, &[]Secret) - a map (Azure's `array:` form) does not decode
    ("Azure array form", _objects("array:\n  - |\n    objectName: a\n"), "spec.parameters.objects", "'array:' form"),
    ("string items", _objects("- |\n  objectName: a\n"), "spec.parameters.objects[0]", "must be a map"),
    ("not a list", _set("objects", "objectName: a\n"), "spec.parameters.objects", "YAML list"),
    ("not YAML", _objects("- [unclosed\n"), "spec.parameters.objects", "not valid YAML"),
    # config.go validate: "no secrets configured"
    ("no objects", _drop("objects"), "spec.parameters.objects", "refuses a class with no secrets"),
    ("empty list", _objects("[]\n"), "spec.parameters.objects", "lists no secret"),
    # yaml.v3 refuses duplicate keys in a mapping
    (
        "duplicate key",
        _objects("objectName: a; objectName: b; secretPath: s/data/x; secretKey: k"),
        "objects[0].objectName",
        "set twice",
    ),
    # yaml.v3 into os.FileMode: a quoted string does not decode into an integer
    (
        "quoted filePermission",
        _objects(f'objectName: a; {KV}; filePermission: "0440"'),
        "objects[0].filePermission",
        "unquote it",
    ),
    # Go ParseInt base 0: 644 is decimal 644 = 0o1204, not rw-r--r--
    (
        "decimal filePermission",
        _objects(f"objectName: a; {KV}; filePermission: 644"),
        "objects[0].filePermission",
        "without a leading 0 it is decimal",
    ),
    # secretArgs decodes into map[string]interface{}
    (
        "secretArgs not a map",
        _objects("objectName: a; secretPath: pki/issue/x; method: PUT; secretArgs: [1]"),
        "objects[0].secretArgs",
        "must be a map",
    ),
    # Secret struct yaml tags are case-sensitive: `secretkey` is ignored, so the whole response is written
    (
        "mis-cased object key",
        _objects("objectName: a; secretPath: secret/data/x; secretkey: k"),
        "objects[0].secretkey",
        "did you mean secretKey",
    ),
    # config.go validate: "each `objectName` within a SecretProviderClass must be unique"
    (
        "duplicate objectName",
        _objects(f"objectName: a; {KV}", "objectName: a; secretPath: secret/data/y; secretKey: k"),
        "objects[1].objectName",
        "duplicate objectNames",
    ),
    # driver fileutil validatePath: empty, absolute, '..', and filepath.Clean(p) != p are refused
    ("no objectName", _objects(f"{KV}"), "objects[0].objectName", "is required"),
    ("absolute file", _objects(f"objectName: /etc/a; {KV}"), "objects[0].objectName", "relative"),
    ("dot-dot file", _objects(f"objectName: a/../../b; {KV}"), "objects[0].objectName", "'..'"),
    ("unclean file", _objects(f"objectName: ./a; {KV}"), "objects[0].objectName", "clean path"),
    # client.go: the provider requests /v1/<secretPath>; an empty path reads nothing
    ("no secretPath", _objects("objectName: a; secretKey: k"), "objects[0].secretPath", "is required"),
    # the KV v2 API serves <mount>/data/<path>: a doubled data/ is a path that does not exist
    (
        "doubled data/",
        _objects("objectName: a; secretPath: secret/data/data/x; secretKey: k"),
        "objects[0].secretPath",
        "data/ twice",
    ),
    # client.go passes the method as written; Vault http/logical.go answers other methods with 405
    (
        "lower-case method",
        _objects("objectName: a; secretPath: pki/issue/x; method: put"),
        "objects[0].method",
        "upper case",
    ),
    ("DELETE", _objects(f"objectName: a; {KV}; method: DELETE"), "objects[0].method", "would not read"),
    # provider.go decodeValue: "invalid encoding type. Should be utf-8, base64, or hex"
    (
        "unknown encoding",
        _objects(f"objectName: a; {KV}; encoding: base32"),
        "objects[0].encoding",
        "utf-8, base64 or hex",
    ),
    # the driver syncs a Secret key from a file the mount holds (secretutil GetSecretData)
    (
        "sync names no file",
        lambda s: s["spec"]["secretObjects"][0]["data"][0].__setitem__("objectName", "nope"),
        "objectName",
        "not a mounted file",
    ),
]


@pytest.mark.parametrize(("mutate", "path", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_or_misread(mutate: Mutation, path: str, message: str) -> None:
    spc = valid_spc()
    mutate(spc)
    hits = [(p, kind) for p, kind, m in found(spc) if path in p and message in m]
    assert hits, found(spc)
    assert all(kind == rules.INVALID for _, kind in hits), found(spc)


IGNORED: list[tuple[str, Mutation, str, str]] = [
    # config.go parseParameters reads only its own keys
    ("unknown parameter", _set("vaultRegion", "eu"), "vaultRegion", "ignores it"),
    # CHANGELOG 0.1.0: kubernetesServiceAccountPath and vaultCAPem are ignored
    ("retired parameter", _set("vaultCAPem", "-----BEGIN"), "vaultCAPem", "ignored since provider 0.1.0"),
    # client.New overlays the SPC address only when set: else -vault-addr / VAULT_ADDR / https://127.0.0.1:8200
    ("no address", _drop("vaultAddress"), "vaultAddress", "falls back"),
    # the Vault API client: CACert takes precedence over CAPath
    ("CA directory beside CA file", _set("vaultCADirectory", "/vault/cas"), "vaultCADirectory", "takes precedence"),
    # provider.go getSecret: no secretKey -> json.Marshal(secret), the whole response
    (
        "no secretKey",
        _objects("objectName: a; secretPath: secret/data/x"),
        "objects[0].secretKey",
        "whole JSON response",
    ),
    # client.go sends secretArgs as the body; http/logical.go parses a body only for POST/PUT
    (
        "secretArgs on GET",
        _objects("objectName: a; secretPath: pki/issue/x; secretKey: k; secretArgs: {a: 1}"),
        "objects[0].secretArgs",
        "ignored with method GET",
    ),
    # provider.go caches one response per (secretPath, method) for the mount
    (
        "args differ on one path",
        _objects(
            "objectName: a; secretPath: pki/issue/x; method: PUT; secretArgs: {ttl: 1h}",
            "objectName: b; secretPath: pki/issue/x; method: PUT; secretArgs: {ttl: 2h}",
        ),
        "objects[1].secretArgs",
        "reuses that response",
    ),
    # CHANGELOG 0.1.0: objectVersion is ignored; objectPath renamed secretPath
    (
        "retired object key",
        _objects(f'objectName: a; {KV}; objectVersion: "2"'),
        "objects[0].objectVersion",
        "ignored since provider 0.1.0",
    ),
    # secret/ is KV v2 in Vault's dev mode and the Helm chart's dev server: reads need secret/data/...
    (
        "KV v2 path without data/",
        _objects("objectName: a; secretPath: secret/orders/db; secretKey: k"),
        "objects[0].secretPath",
        "has no data/",
    ),
]


@pytest.mark.parametrize(("mutate", "path", "message"), [c[1:] for c in IGNORED], ids=[c[0] for c in IGNORED])
def test_ignored_or_defaulted(mutate: Mutation, path: str, message: str) -> None:
    spc = valid_spc()
    mutate(spc)
    hits = [(p, kind) for p, kind, m in found(spc) if path in p and message in m]
    assert hits, found(spc)
    assert all(kind == rules.IGNORED for _, kind in hits), found(spc)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        # config.go: vaultSkipTLSVerify true sets the client's Insecure (any certificate accepted)
        (_set("vaultSkipTLSVerify", "True"), "vaultSkipTLSVerify"),
        # an http:// address has no TLS at all
        (_set("vaultAddress", "http://vault.vault.svc:8200"), "vaultAddress"),
    ],
    ids=["skip verify", "plain http"],
)
def test_insecure_tls(mutate: Mutation, path: str) -> None:
    spc = valid_spc()
    mutate(spc)
    assert [kind for p, kind, _ in found(spc) if p.endswith(path)] == [rules.INSECURE], found(spc)


@pytest.mark.parametrize(
    ("text", "mode"),
    [("0440", 0o440), ("0o600", 0o600), ("420", 420), ("0x1a4", 0o644), ("0_644", 0o644), ("0", 0)],
)
def test_file_modes_decode_as_go_parse_int_base_0(text: str, mode: int) -> None:
    """yaml.v3 resolves plain scalars with strconv.ParseInt(s, 0, 64): a leading 0 is octal."""
    assert vault_rules.go_file_mode(text) == mode


@pytest.mark.parametrize("text", ["08", "rw-r--r--", "1.5", "_1", ""])
def test_file_modes_that_do_not_decode(text: str) -> None:
    assert vault_rules.go_file_mode(text) is None


def test_aliases_in_secret_args_cannot_expand() -> None:
    """secretArgs is read with a node budget: a YAML alias bomb inside the objects string is refused."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(12)
    )
    args = "\n".join("    " + line for line in bomb.splitlines())
    text = f"- objectName: a\n  secretPath: pki/issue/x\n  method: PUT\n  secretArgs:\n{args}\n"
    parsed = vault_rules.parse_objects(text)
    assert not parsed.readable
    assert any("larger than" in p.message for p in parsed.problems)


def test_secret_objects_are_checked_against_object_names() -> None:
    """The driver's sync rules apply to Vault classes with the objectNames as the files."""
    spc = valid_spc()
    spc["spec"]["secretObjects"][0]["data"].append({"objectName": "certs", "key": "certs"})
    assert found(spc) == []
    broken = copy.deepcopy(spc)
    broken["spec"]["secretObjects"][0]["type"] = "kubernetes.io/tls"
    assert any("tls.crt" in m for _, _, m in found(broken))


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.floats(allow_nan=False))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
item = st.fixed_dictionaries({}, optional={k: trees for k in vault_rules.KNOWN_OBJECT_KEYS})
objects_text = st.one_of(
    st.lists(item | trees, max_size=4).map(lambda v: yaml.safe_dump(v)),
    st.text(max_size=80),
    trees,
)
vault_params = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={**{k: trees | st.text(max_size=20) for k in vault_rules.KNOWN_PARAMETERS}, "objects": objects_text},
    ),
    trees,
)


@settings(max_examples=300, deadline=None)
@given(params=vault_params, secret_objects=trees)
def test_the_vault_rules_never_crash(params: Any, secret_objects: Any) -> None:
    """Hand-written classes may hold any type anywhere: problems come back, never an exception."""
    spc = {"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
           "spec": {"provider": "vault", "parameters": params, "secretObjects": secret_objects}}  # fmt: skip
    assert isinstance(rules.spc_problems(spc), list)
