"""The `hashicorpVault` sections of `sealkit-csi.yaml`: an environment's Vault, an application's role,
overrides and objects.

Read by `sealkit.csi.spec` with its reader (problems as `file:line: path: problem`). The values are
checked with the provider's own rules (`sealkit.csi.hashicorp.rules`), and KV paths are written as
`vault kv get` takes them, with the engine version declared, so `data/` is added exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sealkit.csi import rules as azure_rules
from sealkit.csi.hashicorp import rules
from sealkit.csi.model import (
    DEFAULT_AUTH_MOUNT,
    CaCert,
    HashiVault,
    HashiVaultOverride,
    VaultObject,
    VaultRole,
    VaultTls,
)
from sealkit.csi.rules import shown

if TYPE_CHECKING:
    from sealkit.csi.spec import SpecPath, _Reader

KEY = "hashicorpVault"
VAULT_KEYS = ("address", "authMountPath", "namespace", "role", "audience", "tls")
APP_KEYS = ("role", "objects")
OBJECT_KEYS = ("file", "mount", "kv", "path", "key", "version", "encoding", "filePermission", "method", "args")
LATEST = "latest"
_OBJECT_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")  # a Secret or ConfigMap name (DNS subdomain)


def _tls(r: _Reader, path: SpecPath, value: Any) -> VaultTls | None:
    body = r.mapping(path, value, ("caCert", "serverName", "insecureSkipVerify"))
    if body is None:
        return None
    ok = True
    ca_cert = None
    if "caCert" in body:
        ca_cert = _ca_cert(r, (*path, "caCert"), body["caCert"])
        ok = ca_cert is not None
    server_name = body.get("serverName")
    if server_name is not None:
        ok = r.string((*path, "serverName"), server_name) is not None and ok
    insecure = body.get("insecureSkipVerify", False)
    if not isinstance(insecure, bool):
        r.fail((*path, "insecureSkipVerify"), "must be true or false (unquoted)")
        return None
    if insecure and ca_cert is not None:
        r.fail((*path, "insecureSkipVerify"), "cannot be true with a caCert: the provider would ignore the CA")
        ok = False
    return VaultTls(ca_cert, server_name, insecure) if ok else None


def _ca_cert(r: _Reader, path: SpecPath, value: Any) -> CaCert | None:
    body = r.mapping(path, value, ("secret", "configMap", "key", "mountPath"), required=("key", "mountPath"))
    if body is None or not {"key", "mountPath"} <= body.keys():
        return None
    sources = [s for s in ("secret", "configMap") if s in body]
    if len(sources) != 1:
        r.fail(path, "name exactly one of secret or configMap: the object the vault-csi-provider pods mount")
        return None
    source = sources[0]
    name = r.string((*path, source), body[source], _OBJECT_NAME, f"{source} name")
    key = r.string((*path, "key"), body["key"])
    mount_path = body["mountPath"]
    if not (isinstance(mount_path, str) and mount_path.startswith("/") and ".." not in mount_path.split("/")):
        r.fail(
            (*path, "mountPath"),
            f"{shown(mount_path)} must be the absolute directory the provider pods mount it at",
        )
        return None
    if key is not None and ("/" in key or key in (".", "..")):
        r.fail((*path, "key"), f"{shown(key)} must be a key of the {source} (a file name)")
        return None
    if name is None or key is None:
        return None
    return CaCert(source, name, key, mount_path)


def role(r: _Reader, path: SpecPath, value: Any) -> VaultRole | None:
    """`role: orders` or `role: {name, boundServiceAccountNames, boundServiceAccountNamespaces}`."""
    if isinstance(value, str):
        return VaultRole(value) if r.check(path, rules.role_name_problem(value)) else None
    known = ("name", "boundServiceAccountNames", "boundServiceAccountNamespaces")
    body = r.mapping(path, value, known, required=("name",))
    if body is None or "name" not in body:
        return None
    if not r.check((*path, "name"), rules.role_name_problem(body["name"])):
        return None
    lists: list[tuple[str, ...]] = []
    for key in known[1:]:
        names = []
        for item_path, item in r.items((*path, key), body.get(key)):
            if r.string(item_path, item) is not None:
                names.append(item)
        lists.append(tuple(names))
    return VaultRole(body["name"], lists[0], lists[1])


def _fields(r: _Reader, path: SpecPath, body: dict[str, Any]) -> dict[str, Any] | None:
    """The connection fields shared by environments and overrides, checked; None on a problem."""
    out: dict[str, Any] = {}
    ok = True
    if "address" in body:
        ok = r.check((*path, "address"), rules.address_problem(body["address"]))
        out["address"] = body["address"]
    if "authMountPath" in body:
        ok = r.check((*path, "authMountPath"), rules.mount_path_problem(body["authMountPath"], "authMountPath")) and ok
        out["auth_mount_path"] = body["authMountPath"]
    if "namespace" in body:
        ok = r.check((*path, "namespace"), rules.namespace_problem(body["namespace"])) and ok
        out["namespace"] = body["namespace"]
    if "audience" in body:
        ok = r.string((*path, "audience"), body["audience"]) is not None and ok
        out["audience"] = body["audience"]
    if "role" in body:
        out["role"] = role(r, (*path, "role"), body["role"])
        ok = out["role"] is not None and ok
    if "tls" in body:
        out["tls"] = _tls(r, (*path, "tls"), body["tls"])
        ok = out["tls"] is not None and ok
    return out if ok else None


def _plain_http(r: _Reader, path: SpecPath, address: object, tls: VaultTls | None) -> bool:
    """Plain http sends the pod's token and the secrets unencrypted: only with the explicit flag."""
    if isinstance(address, str) and address.startswith("http://") and not (tls and tls.insecure_skip_verify):
        r.fail(
            (*path, "address"),
            f"{address} is plain http: the pods' service-account tokens and the secrets would cross the network "
            "unencrypted; use https, or set tls.insecureSkipVerify: true to accept that explicitly",
        )
        return False
    return True


def environment_vault(r: _Reader, path: SpecPath, value: Any) -> HashiVault | None:
    """An environment's `hashicorpVault`: where its Vault is and how pods log in."""
    body = r.mapping(path, value, VAULT_KEYS, required=("address",))
    if body is None or "address" not in body:
        return None
    fields = _fields(r, path, body)
    if fields is None or not _plain_http(r, path, body["address"], fields.get("tls")):
        return None
    return HashiVault(
        address=fields["address"].rstrip("/"),
        auth_mount_path=fields.get("auth_mount_path", DEFAULT_AUTH_MOUNT),
        namespace=fields.get("namespace"),
        role=fields.get("role"),
        audience=fields.get("audience"),
        tls=fields.get("tls") or VaultTls(),
    )


def override(
    r: _Reader, path: SpecPath, value: Any, base: HashiVault | None, *, whole: bool = True
) -> HashiVaultOverride | None:
    """An application's per-environment `hashicorpVault`: changes to the environment's Vault, or (in a
    Key Vault environment, `base` None and `whole`) a whole Vault for this application, with its address."""
    need_address = base is None and whole
    body = r.mapping(path, value, VAULT_KEYS, required=("address",) if need_address else ())
    if body is None or (need_address and "address" not in body):
        return None
    fields = _fields(r, path, body)
    if fields is None:
        return None
    address = fields.get("address") or (base.address if base else None)
    tls = fields.get("tls") or (base.tls if base else None)
    if not _plain_http(r, path, address, tls):
        return None
    if "address" in fields:
        fields["address"] = fields["address"].rstrip("/")
    return HashiVaultOverride(**fields)


def _version(r: _Reader, path: SpecPath, value: Any) -> int | None:
    if value == LATEST:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        r.fail(path, f"version {shown(value)} must be latest or a KV v2 version number (1, 2, ...)")
        return None
    return value


def _args(r: _Reader, path: SpecPath, value: Any) -> dict[str, object] | None:
    if not isinstance(value, dict) or not value:
        r.fail(path, "must be a map of the arguments the engine takes (e.g. common_name, ttl)")
        return None
    for key, item in value.items():
        if isinstance(item, dict | list) and not _json_like(item):
            r.fail((*path, key), "must hold strings, numbers, booleans, lists or maps")
            return None
    return dict(value)


def _json_like(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_like(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def _kv_checks(r: _Reader, path: SpecPath, body: dict[str, Any], kv: Any, mount: Any) -> bool:
    """A KV secret's own rules: engine version, mount, path, a key, and nothing of other engines."""
    ok = r.check((*path, "kv"), rules.kv_version_problem(kv))
    ok = r.check((*path, "mount"), rules.kv_mount_problem(mount, kv)) and ok
    ok = r.check((*path, "path"), rules.kv_path_problem(body["path"], kv)) and ok
    if "key" not in body:
        r.fail(path, "key is required: without secretKey the provider writes the whole JSON response "
               "(metadata and every key of the secret) into the file")  # fmt: skip
        ok = False
    for name in ("method", "args"):
        if name in body:
            r.fail((*path, name), f"{name} applies to other secrets engines, not to a KV read")
            ok = False
    if kv != 2 and "version" in body:
        r.fail((*path, "version"), "version applies to KV v2 only (KV v1 keeps no versions)")
        ok = False
    return ok


def _engine_checks(r: _Reader, path: SpecPath, body: dict[str, Any]) -> bool:
    """Another secrets engine's path: its own rules, and no KV version."""
    ok = r.check((*path, "path"), _engine_path_problem(body["path"]))
    if "version" in body:
        r.fail((*path, "version"), "version applies to KV v2 secrets (declare mount and kv: 2)")
        ok = False
    return ok


def vault_object(r: _Reader, path: SpecPath, value: Any, env_names: Iterable[str]) -> VaultObject | None:
    """One Vault object: a KV secret's key (`mount`, `kv`, `path`, `key`), or another engine's path."""
    body = r.mapping(path, value, OBJECT_KEYS, required=("file", "path"))
    if body is None or not {"file", "path"} <= body.keys():
        return None
    ok = r.check((*path, "file"), rules.file_name_problem(body["file"]))
    kv = body.get("kv")
    mount = body.get("mount")
    if (kv is None) != (mount is None):
        missing = "kv (1 or 2)" if kv is None else "mount"
        r.fail(path, f"{missing} is required with {'mount' if kv is None else 'kv'}: a KV secret names its mount "
               "and the engine version, so data/ is added exactly when KV v2 needs it")  # fmt: skip
        return None
    ok = (_kv_checks(r, path, body, kv, mount) if kv is not None else _engine_checks(r, path, body)) and ok
    key = body.get("key")
    if key is not None:
        ok = r.string((*path, "key"), key) is not None and ok
    method = body.get("method")
    if method is not None:
        ok = r.check((*path, "method"), rules.method_problem(method)) and ok
    args = None
    if "args" in body and kv is None:
        args = _args(r, (*path, "args"), body["args"])
        ok = args is not None and ok
        if method in (None, "GET"):
            r.fail((*path, "args"), "needs method PUT or POST: Vault reads no request body on GET, so the provider's "
                   "secretArgs would be ignored")  # fmt: skip
            ok = False
    if "encoding" in body:
        encoding = body["encoding"]
        ok = r.check((*path, "encoding"), rules.encoding_problem(encoding)) and ok
        if isinstance(encoding, str) and encoding != encoding.lower():
            r.fail((*path, "encoding"), f"write {shown(encoding.lower())} (lower case)")
            ok = False
    if "filePermission" in body:
        ok = r.check((*path, "filePermission"), azure_rules.file_permission_problem(body["filePermission"])) and ok
    versioned = r.versions(path, body, env_names, _version, 0)
    if versioned is None or not ok:
        return None
    default_version, versions = versioned
    return VaultObject(
        file=body["file"],
        path=body["path"],
        mount=mount,
        kv=kv,
        key=key,
        method=method if method not in (None, "GET") else None,
        args=args or {},
        versions=versions,
        default_version=default_version,
        encoding=body.get("encoding"),
        file_permission=body.get("filePermission"),
    )


def _engine_path_problem(path: object) -> str | None:
    problem = rules.secret_path_problem(path)
    if problem or not isinstance(path, str):
        return problem.replace("secretPath", "path") if problem else "path is required"
    parts = path.strip("/").split("?")[0].split("/")
    if "data" in parts[1:-1] or path.strip("/").startswith("v1/"):
        return (
            f"path {shown(path)} looks like a raw KV v2 path: declare the secret as mount, kv: 2 and its path without "
            "data/ (e.g. mount: secret, kv: 2, path: orders/db) so data/ is never forgotten or doubled"
        )
    if "?" in path:
        return f"path {shown(path)}: give KV v2 versions with version:, other parameters with method PUT/POST and args"
    return None
