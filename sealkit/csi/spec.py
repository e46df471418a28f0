"""Loading and validating the CSI spec file (`sealkit-csi.yaml`).

Every problem is reported as `file:line: path: problem`, all of them at once, before anything
is generated: a spec that loads renders SecretProviderClasses the driver and provider accept.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from sealkit.csi import rules
from sealkit.csi.bases import WORKLOAD_KINDS, BaseResources, containers_of, load_base
from sealkit.csi.hashicorp import spec as vault_spec
from sealkit.csi.model import (
    DEFAULT_CREDENTIALS_SECRET,
    DEFAULT_MOUNT_PATH,
    LATEST,
    Application,
    CertSource,
    Environment,
    EnvironmentOverride,
    EnvVar,
    Identity,
    IdentityMode,
    KeyVaultObject,
    ServiceAccount,
    Spec,
    Store,
    SyncedSecret,
    SyncKey,
    VaultObject,
    Workload,
)
from sealkit.csi.rules import shown
from sealkit.csi.yamlio import LinedYaml, load_lined
from sealkit.errors import InputError, shown_url
from sealkit.reading import decode_text, read_file
from sealkit.validation import type_name

API_VERSION = "sealkit/v1alpha1"
KIND = "KeyVaultCsi"
VOLUME_NAME = "secrets-store-inline"

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_ENV_VAR = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
_SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")

T = TypeVar("T")
SpecPath = tuple[str | int, ...]


class SpecError(InputError):
    """The spec has problems; `problems` holds one `file:line: path: problem` line each (lint's form),
    `lines` the same as `path: problem: file:line` (the CLI's `error: <what>: <where>` form)."""

    def __init__(self, problems: list[str], lines: list[str] | None = None) -> None:
        self.problems = problems
        self.lines = lines or problems
        others = len(problems) - 1
        more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
        super().__init__(self.lines[0] + more)


def _fmt(path: SpecPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


class _Reader:
    """Walks the parsed spec, collecting problems with the line each path starts on."""

    def __init__(self, lined: LinedYaml, source: str) -> None:
        self.lined = lined
        self.source = source
        self.problems: list[str] = []
        self.lines: list[str] = []

    def fail(self, path: SpecPath, message: str) -> None:
        line = self.lined.line(path)
        where = f"{self.source}:{line}" if line else self.source
        self.problems.append(f"{where}: {_fmt(path)}: {message}")
        self.lines.append(f"{_fmt(path)}: {message}: {where}")

    def check(self, path: SpecPath, message: str | None) -> bool:
        if message:
            self.fail(path, message)
        return message is None

    def mapping(
        self, path: SpecPath, value: Any, known: Iterable[str], required: Iterable[str] = ()
    ) -> dict[str, Any] | None:
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"must be a map, not a {type_name(value)}")
            return None
        known = tuple(known)
        for key in value:
            if key not in known:
                meant = rules.case_trap(key, known)
                hint = f"did you mean {meant}? keys are case-sensitive" if meant else f"known: {', '.join(known)}"
                self.fail((*path, key), f"unknown key ({hint})")
        for key in required:
            if key not in value:
                self.fail(path, f"{key} is required")
        return value

    def string(self, path: SpecPath, value: Any, pattern: re.Pattern[str] | None = None, what: str = "") -> str | None:
        if not isinstance(value, str) or not value:
            self.fail(path, f"must be a non-empty string, not {shown(value)}")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(path, f"{shown(value)} is not a valid {what}")
            return None
        return value

    def items(self, path: SpecPath, value: Any) -> list[tuple[SpecPath, Any]]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(path, "must be a list")
            return []
        return [((*path, i), item) for i, item in enumerate(value)]

    def versions(
        self,
        path: SpecPath,
        body: Mapping[str, Any],
        env_names: Iterable[str],
        parse: Callable[[_Reader, SpecPath, Any], T | None],
        latest: T,
    ) -> tuple[T, dict[str, T]] | None:
        """An object's `version` (absent: latest), one for all environments or a map of environment to version:
        (the default version, the per-environment ones); None after a problem. `parse` reads one version."""
        raw_version = body.get("version", LATEST)
        if not isinstance(raw_version, dict):
            version = parse(self, (*path, "version"), raw_version)
            return None if version is None else (version, {})
        ok = True
        versions: dict[str, T] = {}
        known = tuple(env_names)
        for env, item in raw_version.items():
            if env not in known:
                self.fail((*path, "version", env), f"unknown environment (known: {', '.join(known)})")
                ok = False
                continue
            version = parse(self, (*path, "version", env), item)
            if version is None:
                ok = False
            else:
                versions[env] = version
        return (latest, versions) if ok else None

    def string_map(self, path: SpecPath, value: Any) -> dict[str, str]:
        out: dict[str, str] = {}
        if value is None:
            return out
        if not isinstance(value, dict):
            self.fail(path, "must be a map of strings")
            return out
        for key, item in value.items():
            if not _LABEL_KEY.fullmatch(key):
                self.fail((*path, key), "is not a valid label or annotation key")
            elif not isinstance(item, str):
                self.fail((*path, key), f"value must be a quoted string, not {shown(item)}")
            else:
                out[key] = item
        return out


def _relative_path(r: _Reader, path: SpecPath, value: Any) -> str | None:
    text = r.string(path, value)
    if text is None:
        return None
    posix = PurePosixPath(text)
    if posix.is_absolute() or ".." in posix.parts:
        r.fail(path, f"{shown(text)} must be a path inside the config repo (relative, without '..')")
        return None
    return posix.as_posix()


# --- identity -----------------------------------------------------------------------------------


def _identity(r: _Reader, path: SpecPath, value: Any) -> Identity | None:
    body = r.mapping(path, value, [m.value for m in IdentityMode])
    if body is None:
        return None
    if len(body) != 1:
        modes = ", ".join(m.value for m in IdentityMode)
        r.fail(path, f"give exactly one identity mode ({modes})")
        return None
    ((key, settings),) = body.items()
    if key not in [m.value for m in IdentityMode]:
        return None
    mode = IdentityMode(key)
    where = (*path, key)
    if mode is IdentityMode.WORKLOAD_IDENTITY:
        fields = r.mapping(where, settings, ["clientID"], required=["clientID"])
        if fields is None or "clientID" not in fields:
            return None
        if not r.check((*where, "clientID"), rules.uuid_problem(fields["clientID"], "clientID")):
            return None
        return Identity(mode, client_id=fields["clientID"])
    if mode is IdentityMode.VM_MANAGED_IDENTITY:
        if isinstance(settings, dict) and "clientID" in settings:
            r.fail(
                (*where, "clientID"),
                "clientID together with VM managed identity makes the provider look for a "
                "workload-identity token; use userAssignedIdentityID for a user-assigned identity",
            )
            return None
        fields = r.mapping(where, settings, ["userAssignedIdentityID"])
        if fields is None:
            return None
        assigned = fields.get("userAssignedIdentityID")
        if assigned is not None and not r.check(
            (*where, "userAssignedIdentityID"), rules.uuid_problem(assigned, "userAssignedIdentityID")
        ):
            return None
        return Identity(mode, user_assigned_identity_id=assigned)
    fields = r.mapping(where, settings, ["secretName"])
    if fields is None:
        return None
    secret = fields.get("secretName", DEFAULT_CREDENTIALS_SECRET)
    if r.string((*where, "secretName"), secret, _DNS_SUBDOMAIN, "Secret name") is None:
        return None
    return Identity(mode, secret_name=secret)


# --- environments -------------------------------------------------------------------------------

_ENV_KEYS = (
    "vault", "tenant", "cloud", "cloudEnvFile", "identity", "hashicorpVault", "overlay", "sealingCert", "sealedSecrets"
)  # fmt: skip
_KEY_VAULT_KEYS = ("vault", "tenant", "cloud", "cloudEnvFile", "identity")
STACK_CLOUD = "AzureStackCloud"  # reads its endpoints from a file in the provider's pod (cloudEnvFileName)
_CERT_KEYS = ("file", "url", "context", "controllerName", "controllerNamespace", "previous")
_URL_SCHEMES = ("https://", "http://")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _url_problem(url: Any) -> str | None:
    """Why a sealingCert URL is refused, or None: an https:// URL, or http:// to this machine only. A
    certificate fetched in clear text can be swapped on the way, and what is then sealed with it (committed,
    in CI, for every run) opens with someone else's key."""
    if not (isinstance(url, str) and url.startswith(_URL_SCHEMES)):
        shown = repr(shown_url(url)) if isinstance(url, str) else f"a {type_name(url)}"
        return f"must be an https:// URL, not {shown}"
    if url.startswith("http://"):
        from urllib.parse import urlsplit

        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        if host not in _LOOPBACK:
            return (
                f"must be an https:// URL, not {shown_url(url)!r} (a certificate fetched in clear text can be "
                "swapped on the way; http:// is only for localhost)"
            )
    return None


def _cert_source(r: _Reader, path: SpecPath, value: Any) -> CertSource | None:
    """`sealingCert`: a file or https URL, or a map naming the committed file, where to fetch it, its history."""
    if isinstance(value, str) and value.startswith(_URL_SCHEMES):
        problem = _url_problem(value)
        if problem:
            r.fail(path, problem)
            return None
        return CertSource(url=value)
    if not isinstance(value, dict):
        file = _relative_path(r, path, value)
        return CertSource(file=file) if file is not None else None
    body = r.mapping(path, value, _CERT_KEYS)
    if body is None:
        return None
    ok = True
    file = _relative_path(r, (*path, "file"), body["file"]) if "file" in body else None
    previous = _relative_path(r, (*path, "previous"), body["previous"]) if "previous" in body else None
    ok = ("file" not in body or file is not None) and ("previous" not in body or previous is not None)
    url = body.get("url")
    problem = None if url is None else _url_problem(url)
    if problem:
        r.fail((*path, "url"), problem)
        ok = False
    context = body.get("context")
    if context is not None and r.string((*path, "context"), context) is None:
        ok = False
    if url is not None and context is not None:
        r.fail(path, "give url or context (where to fetch the certificate), not both")
        ok = False
    if file is None and url is None and context is None:
        r.fail(path, "name the certificate: file, url or context (the kubeconfig context of the cluster)")
        ok = False
    names = {}
    for key, pattern, what in (
        ("controllerName", _DNS_SUBDOMAIN, "Service name"),
        ("controllerNamespace", _DNS_LABEL, "namespace"),
    ):
        if key in body:
            if context is None:
                r.fail((*path, key), "only used with context (the controller is reached in that cluster)")
                ok = False
            elif r.string((*path, key), body[key], pattern, what) is None:
                ok = False
            else:
                names[key] = body[key]
    if not ok:
        return None
    source = CertSource(file=file, url=url, context=context, previous=previous)
    if names:
        source = dataclasses.replace(
            source,
            controller_name=names.get("controllerName", source.controller_name),
            controller_namespace=names.get("controllerNamespace", source.controller_namespace),
        )
    return source


def _sealing_only(r: _Reader, name: str, path: SpecPath, body: dict[str, Any]) -> Environment | None:
    """An environment a spec without applications declares only to seal for: certificate and directories."""
    for key in ("cloud", "cloudEnvFile"):
        if key in body:
            r.fail((*path, key), "only used with a Key Vault (vault, tenant, identity)")
            return None
    overlay = _relative_path(r, (*path, "overlay"), body["overlay"]) if "overlay" in body else None
    source = _cert_source(r, (*path, "sealingCert"), body["sealingCert"]) if "sealingCert" in body else None
    sealed = _relative_path(r, (*path, "sealedSecrets"), body["sealedSecrets"]) if "sealedSecrets" in body else None
    if source is None or ("overlay" in body and overlay is None) or ("sealedSecrets" in body and sealed is None):
        return None
    if sealed is not None and sealed == overlay:
        r.fail((*path, "sealedSecrets"), "must not be the overlay itself: use a directory beside it")
        return None
    cert = source.file or source.url or ""
    return Environment(name, None, None, None, None, overlay, cert, sealed_secrets=sealed, cert_source=source)


def _environment(r: _Reader, name: str, value: Any, with_apps: bool = True) -> Environment | None:
    path: SpecPath = ("environments", name)
    ok = r.check(path, None if _DNS_LABEL.fullmatch(name) else "environment names must be DNS labels")
    # Without applications an environment may be for sealing only: no store settings, no overlay.
    hashicorp = isinstance(value, dict) and vault_spec.KEY in value
    store = (
        hashicorp or with_apps or (isinstance(value, dict) and any(k in value for k in ("vault", "tenant", "identity")))
    )
    required: tuple[str, ...] = ("vault", "tenant", "identity") if store and not hashicorp else ()
    required += ("overlay", "sealingCert") if with_apps else ("sealingCert",)
    body = r.mapping(path, value, _ENV_KEYS, required=required)
    if body is None or not ok:
        return None
    if not store:
        return _sealing_only(r, name, path, body)
    overlay = _relative_path(r, (*path, "overlay"), body.get("overlay")) if "overlay" in body else None
    source = _cert_source(r, (*path, "sealingCert"), body["sealingCert"]) if "sealingCert" in body else None
    sealed = _relative_path(r, (*path, "sealedSecrets"), body["sealedSecrets"]) if "sealedSecrets" in body else None
    if "sealedSecrets" in body and sealed is None:
        ok = False
    if sealed is not None and overlay is not None and sealed == overlay:
        r.fail(
            (*path, "sealedSecrets"),
            "must not be the overlay itself (`csi generate` owns its kustomization.yaml): use a directory beside it",
        )
        ok = False
    hashicorp_vault = None
    if hashicorp:
        extra = [key for key in _KEY_VAULT_KEYS if key in body]
        for key in extra:
            r.fail((*path, key), f"is a Key Vault setting: this environment reads HashiCorp Vault ({vault_spec.KEY})")
        hashicorp_vault = vault_spec.environment_vault(r, (*path, vault_spec.KEY), body[vault_spec.KEY])
        ok = not extra and hashicorp_vault is not None and ok
        identity = None
    else:
        key_vault = body.get("vault")
        tenant = body.get("tenant")
        cloud = body.get("cloud")
        ok = (r.check((*path, "vault"), rules.vault_name_problem(key_vault)) if "vault" in body else False) and ok
        ok = (r.check((*path, "tenant"), rules.tenant_problem(tenant)) if "tenant" in body else False) and ok
        if cloud is not None:
            ok = r.check((*path, "cloud"), rules.cloud_problem(cloud)) and ok
        cloud_env_file = _cloud_env_file(r, path, body)
        ok = (cloud_env_file is not None or cloud != STACK_CLOUD) and ok
        identity = _identity(r, (*path, "identity"), body.get("identity")) if "identity" in body else None
        ok = identity is not None and ok
    if not ok or ("overlay" in body and overlay is None) or source is None:
        return None
    if with_apps and overlay is None:
        return None
    cert = source.file or source.url or ""
    if hashicorp:
        return Environment(
            name, None, None, None, None, overlay, cert, sealed_secrets=sealed, cert_source=source,
            hashicorp_vault=hashicorp_vault,
        )  # fmt: skip
    return Environment(
        name,
        str(key_vault),
        str(tenant),
        cloud or None,
        identity,
        overlay,
        cert,
        sealed_secrets=sealed,
        cert_source=source,
        cloud_env_file=cloud_env_file,
    )


def _cloud_env_file(r: _Reader, path: SpecPath, body: Mapping[str, Any]) -> str | None:
    """`cloudEnvFile`: the provider's cloudEnvFileName, required with AzureStackCloud and read only with it (an
    absolute path in the provider's pod, where its chart mounts the cloud's endpoints)."""
    stack = body.get("cloud") == STACK_CLOUD
    if "cloudEnvFile" not in body:
        if stack:
            r.fail(path, f"cloudEnvFile is required with cloud {STACK_CLOUD} (the provider reads the cloud's "
                   "endpoints from that file; without it every mount fails)")  # fmt: skip
        return None
    where = (*path, "cloudEnvFile")
    if not stack:
        r.fail(where, f"is only read with cloud {STACK_CLOUD}")
        return None
    text = r.string(where, body["cloudEnvFile"])
    if text is None:
        return None
    if not PurePosixPath(text).is_absolute() or any(c in text for c in "\x00\n\r"):
        r.fail(where, f"{shown(text)} must be an absolute path in the provider's pod (e.g. /etc/kubernetes/stack.json)")
        return None
    return text


# --- objects ------------------------------------------------------------------------------------

_OBJECT_KEYS = ("name", "type", "alias", "version", "format", "encoding", "filePermission", "versionHistory")


def _version(r: _Reader, path: SpecPath, value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        r.fail(path, f"version {value} must be quoted (YAML read it as a number)")
        return None
    if value == LATEST:
        return ""
    return value if r.check(path, rules.version_problem(value)) else None


def _object(r: _Reader, path: SpecPath, value: Any, env_names: Iterable[str]) -> KeyVaultObject | None:
    body = r.mapping(path, value, _OBJECT_KEYS, required=("name",))
    if body is None or "name" not in body:
        return None
    ok = r.check((*path, "name"), rules.object_name_problem(body["name"]))
    object_type = body.get("type", "secret")
    ok = r.check((*path, "type"), rules.object_type_problem(object_type)) and ok
    alias = body.get("alias")
    if alias is not None:
        ok = r.check((*path, "alias"), rules.alias_problem(alias)) and ok
    for key, predicate in (
        ("format", rules.format_problem),
        ("encoding", rules.encoding_problem),
    ):
        if key in body:
            ok = r.check((*path, key), predicate(body[key], object_type)) and ok
    if "filePermission" in body:
        ok = r.check((*path, "filePermission"), rules.file_permission_problem(body["filePermission"])) and ok
    if "versionHistory" in body:
        ok = r.check((*path, "versionHistory"), rules.version_history_problem(body["versionHistory"])) and ok
    versioned = r.versions(path, body, env_names, _version, "")
    if versioned is None or not ok:
        return None
    default_version, versions = versioned
    return KeyVaultObject(
        name=body["name"],
        type=object_type,
        alias=alias,
        versions=versions,
        default_version=default_version,
        format=body.get("format"),
        encoding=body.get("encoding"),
        file_permission=body.get("filePermission"),
        version_history=body.get("versionHistory"),
    )


# --- sync and workloads -------------------------------------------------------------------------


def _file_names(objects: Any) -> dict[str, str]:
    """Mounted file name -> object name for every listed object, valid or not (so one bad
    object does not also fail every sync entry that reads it)."""
    files: dict[str, str] = {}
    for raw in objects if isinstance(objects, list) else []:
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            alias = raw.get("alias")
            file = alias if isinstance(alias, str) and alias else raw["name"]
            history = raw.get("versionHistory")
            counted = history if isinstance(history, int) and not isinstance(history, bool) else 0
            files.setdefault(rules.synced_file(file, counted), raw["name"])
    return files


FileSets = list[tuple[Store, Mapping[str, str]]]  # per store the app reads: mounted file -> object name


def _synced_secret(r: _Reader, path: SpecPath, value: Any, file_sets: FileSets) -> SyncedSecret | None:
    body = r.mapping(
        path, value, ("secretName", "type", "labels", "annotations", "data"), required=("secretName", "data")
    )
    if body is None or "secretName" not in body:
        return None
    name = r.string((*path, "secretName"), body["secretName"], _DNS_SUBDOMAIN, "Secret name")
    sync_type = r.string((*path, "type"), body.get("type", "Opaque"))
    labels = r.string_map((*path, "labels"), body.get("labels"))
    annotations = r.string_map((*path, "annotations"), body.get("annotations"))
    data: list[SyncKey] = []
    ok = name is not None and sync_type is not None
    rows = r.items((*path, "data"), body.get("data"))
    if "data" in body and not rows:
        r.fail((*path, "data"), "needs at least one {key, objectName} entry")
        ok = False
    for row_path, row in rows:
        fields = r.mapping(row_path, row, ("key", "objectName"), required=("key", "objectName"))
        if fields is None or "key" not in fields or "objectName" not in fields:
            ok = False
            continue
        key = r.string((*row_path, "key"), fields["key"], _SECRET_KEY, "Secret data key")
        object_name = r.string((*row_path, "objectName"), fields["objectName"])
        if object_name is None:
            ok = False
            continue
        for store, files in file_sets:
            if object_name in files:
                continue
            if store is Store.HASHICORP_VAULT:
                r.fail(
                    (*row_path, "objectName"),
                    f"{shown(object_name)} is not a file the HashiCorp Vault objects write (their files: "
                    f"{', '.join(files) or 'none'})",
                )
            else:
                aliases = [file for file, name in files.items() if name == object_name]
                hint = (
                    f" (object {shown(object_name)} is mounted under its alias {shown(aliases[0])})" if aliases else ""
                )
                if f"{object_name}/0" in files:
                    hint = (
                        f" (with versionHistory the provider writes the versions as files {shown(object_name + '/0')} "
                        f"(the newest), {shown(object_name + '/1')}, ... and {shown(object_name)} is their directory)"
                    )
                r.fail(
                    (*row_path, "objectName"),
                    f"{shown(object_name)} is not a mounted file name (the alias when set, else the object name){hint}",
                )
            ok = False
        if key is None:
            ok = False
        elif key in [d.key for d in data]:
            r.fail((*row_path, "key"), f"key {shown(key)} appears twice")
            ok = False
        else:
            data.append(SyncKey(key, str(object_name)))
    if sync_type is not None:  # white space around the type always; the keys it needs once the rows are read
        found = rules.sync_type_problems(sync_type, (d.key for d in data), annotations)
        for field, message in found if ok else [p for p in found if p[0] == "type"]:
            r.fail((*path, field), message)
        ok = ok and not found
    if not ok or name is None or sync_type is None:
        return None
    return SyncedSecret(name, sync_type, tuple(data), labels, annotations)


def _env_var(
    r: _Reader, path: SpecPath, value: Any, sync: Mapping[str, SyncedSecret], declared: set[str]
) -> EnvVar | None:
    body = r.mapping(path, value, ("name", "secretName", "key"), required=("name", "secretName", "key"))
    if body is None or not {"name", "secretName", "key"} <= body.keys():  # a missing or misspelled key: reported
        return None
    name = r.string((*path, "name"), body["name"], _ENV_VAR, "environment variable name")
    secret_name = r.string((*path, "secretName"), body["secretName"])
    key = r.string((*path, "key"), body["key"])
    if secret_name is None or key is None:
        return None
    secret = sync.get(secret_name)
    if secret is None and secret_name in declared:
        return None  # declared but invalid: already reported there
    if secret is None:
        r.fail((*path, "secretName"), f"{shown(secret_name)} is not a Secret this application syncs")
        return None
    if key not in [d.key for d in secret.data]:
        keys = ", ".join(d.key for d in secret.data)
        r.fail((*path, "key"), f"Secret {shown(secret.name)} has no key {shown(key)} (it has: {keys})")
        return None
    return EnvVar(name, secret.name, key) if name else None


def _workload(
    r: _Reader, path: SpecPath, value: Any, sync: Mapping[str, SyncedSecret], declared: set[str]
) -> Workload | None:
    body = r.mapping(path, value, ("kind", "name", "containers", "mountPath", "env"), required=("kind", "name"))
    if body is None or "kind" not in body or "name" not in body:
        return None
    ok = r.check(
        (*path, "kind"),
        None
        if body["kind"] in WORKLOAD_KINDS
        else f"kind {shown(body['kind'])} must be one of {', '.join(WORKLOAD_KINDS)}",
    )
    name = r.string((*path, "name"), body["name"], _DNS_SUBDOMAIN, "workload name")
    containers = []
    for item_path, item in r.items((*path, "containers"), body.get("containers")):
        if r.string(item_path, item, _DNS_LABEL, "container name") is not None:
            containers.append(item)
    mount_path = body.get("mountPath", DEFAULT_MOUNT_PATH)
    if not (isinstance(mount_path, str) and mount_path.startswith("/") and ":" not in mount_path):
        r.fail((*path, "mountPath"), f"{shown(mount_path)} must be an absolute path")
        ok = False
    env: list[EnvVar] = []
    for item_path, item in r.items((*path, "env"), body.get("env")):
        var = _env_var(r, item_path, item, sync, declared)
        if var is None:
            ok = False
        elif var.name in [e.name for e in env]:
            r.fail((*item_path, "name"), f"environment variable {shown(var.name)} is set twice")
            ok = False
        else:
            env.append(var)
    if not ok or name is None:
        return None
    return Workload(body["kind"], name, tuple(containers), mount_path, tuple(env))


# --- applications -------------------------------------------------------------------------------

_APP_KEYS = (
    "namespace",
    "base",
    "secretProviderClass",
    "serviceAccount",
    "environments",
    "objects",
    "hashicorpVault",
    "sync",
    "workloads",
)


def _collect(
    r: _Reader, path: SpecPath, value: Any, build: Callable[[SpecPath, Any], T | None]
) -> tuple[list[T], bool]:
    out: list[T] = []
    ok = True
    for item_path, item in r.items(path, value):
        built = build(item_path, item)
        if built is None:
            ok = False
        else:
            out.append(built)
    return out, ok


def _maps(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _override(r: _Reader, where: SpecPath, value: Any, env: Environment | None) -> EnvironmentOverride | None:
    """An application's settings for one environment: another Key Vault or identity, or a HashiCorp Vault."""
    fields = r.mapping(where, value, ("vault", "identity", vault_spec.KEY))
    if fields is None:
        return None
    ok = True
    hashicorp = None
    if vault_spec.KEY in fields:
        for key in ("vault", "identity"):
            if key in fields:
                r.fail((*where, key), f"give either Key Vault settings or {vault_spec.KEY}, not both")
                ok = False
        base = env.hashicorp_vault if env is not None else None
        # An environment that did not load has its own problems reported: do not add a missing address.
        hashicorp = vault_spec.override(
            r, (*where, vault_spec.KEY), fields[vault_spec.KEY], base, whole=env is not None
        )
        ok = hashicorp is not None and ok
    elif env is not None and env.hashicorp_vault is not None and ("vault" in fields or "identity" in fields):
        r.fail(
            where,
            f"environment {shown(env.name)} reads HashiCorp Vault: an application cannot switch to Key Vault there "
            "(the environment has no tenant); override hashicorpVault settings instead",
        )
        return None
    vault = fields.get("vault")
    if vault is not None:
        ok = r.check((*where, "vault"), rules.vault_name_problem(vault)) and ok
    identity = _identity(r, (*where, "identity"), fields["identity"]) if "identity" in fields else None
    ok = ("identity" not in fields or identity is not None) and ok
    return EnvironmentOverride(vault, identity, hashicorp) if ok else None


def _unused(r: _Reader, where: SpecPath, store: str) -> None:
    r.fail(where, f"no environment reads this application from {store}: remove these objects, or name {store} "
           "for an environment")  # fmt: skip


def _key_vault_objects(
    r: _Reader, path: SpecPath, body: dict[str, Any], env_names: tuple[str, ...], used: bool, stores: dict[str, Store]
) -> tuple[list[KeyVaultObject], bool]:
    if "objects" not in body:
        kv_envs = [name for name, store in stores.items() if store is Store.KEY_VAULT]
        r.fail(path, f"objects is required: the application reads Key Vault in {', '.join(kv_envs)}")
        return [], False
    if not used:
        _unused(r, (*path, "objects"), "Key Vault")
        return [], False
    objects, objects_ok = _collect(r, (*path, "objects"), body["objects"], lambda p, v: _object(r, p, v, env_names))
    if isinstance(body["objects"], list) and not body["objects"]:
        r.fail((*path, "objects"), "list at least one Key Vault object")
        objects_ok = False
    # Two objects writing one file, or one inside another's file or versions: rules.file_collisions, as lint has it.
    written = [(obj.name, obj.file_name, obj.version_history or 0) for obj in objects]
    for i, message in rules.file_collisions(written):
        r.fail((*path, "objects", i), message)
        objects_ok = False
    return objects, objects_ok


def _vault_objects(
    r: _Reader, path: SpecPath, vault_body: dict[str, Any], env_names: tuple[str, ...], used: bool
) -> tuple[list[VaultObject], bool]:
    where = (*path, vault_spec.KEY, "objects")
    if "objects" not in vault_body:
        r.fail(path, f"{vault_spec.KEY}.objects is required: the application reads HashiCorp Vault")
        return [], False
    if not used:
        _unused(r, where, "HashiCorp Vault")
        return [], False
    objects, ok = _collect(r, where, vault_body["objects"], lambda p, v: vault_spec.vault_object(r, p, v, env_names))
    if isinstance(vault_body["objects"], list) and not vault_body["objects"]:
        r.fail(where, "list at least one Vault object: the provider refuses a class with no secrets")
        ok = False
    seen: dict[str, int] = {}
    for i, obj in enumerate(objects):
        first = seen.setdefault(obj.file, i)
        if first != i:
            r.fail((*where, i, "file"), f"two objects write the file {shown(obj.file)}: the provider refuses duplicate "
                   "objectNames")  # fmt: skip
            ok = False
    return objects, ok


def _matches(pattern: str, value: str) -> bool:
    """Vault's binding match: '*' is anything, a trailing '*' a prefix (kubernetes auth role bindings)."""
    if pattern == "*":
        return True
    return value.startswith(pattern[:-1]) if pattern.endswith("*") else value == pattern


def _role_checks(
    r: _Reader,
    path: SpecPath,
    env: Environment,
    change: EnvironmentOverride | None,
    app_role: Any,
    body: dict[str, Any],
    service_account: ServiceAccount | None,
) -> bool:
    """A role must be named somewhere; when its bindings are stated, the app's account must match them."""
    hashicorp = change.hashicorp_vault if change is not None else None
    role = (
        (hashicorp.role if hashicorp else None)
        or app_role
        or (env.hashicorp_vault.role if env.hashicorp_vault else None)
    )
    if role is None:
        r.fail(
            (*path, vault_spec.KEY),
            f"no Vault role for environment {shown(env.name)}: set {vault_spec.KEY}.role for the application or "
            "the environment (the provider refuses a class without roleName)",
        )
        return False
    namespace = body.get("namespace")
    ok = True
    if (
        service_account is not None
        and role.service_account_names
        and not any(_matches(p, service_account.name) for p in role.service_account_names)
    ):
        r.fail(
            (*path, "serviceAccount"),
            f"Vault role {shown(role.name)} ({env.name}) is bound to service accounts "
            f"{', '.join(role.service_account_names)}, not {shown(service_account.name)}: the login would be refused "
            "(service account name not authorized)",
        )
        ok = False
    if (
        isinstance(namespace, str)
        and role.service_account_namespaces
        and not any(_matches(p, namespace) for p in role.service_account_namespaces)
    ):
        r.fail(
            (*path, "namespace"),
            f"Vault role {shown(role.name)} ({env.name}) is bound to namespaces "
            f"{', '.join(role.service_account_namespaces)}, not {shown(namespace)}: the login would be refused "
            "(namespace not authorized)",
        )
        ok = False
    return ok


def _service_account(r: _Reader, path: SpecPath, body: dict[str, Any], name: str) -> ServiceAccount | None:
    """The application's service account (generated by default, named after it); None after a problem."""
    sa_body = r.mapping((*path, "serviceAccount"), body.get("serviceAccount"), ("name", "create"))
    if sa_body is None:
        return None
    sa_name = r.string((*path, "serviceAccount", "name"), sa_body.get("name", name), _DNS_SUBDOMAIN, "name")
    create = sa_body.get("create", True)
    if not isinstance(create, bool):
        r.fail((*path, "serviceAccount", "create"), "must be true (generate it) or false (annotate the base's)")
        return None
    return ServiceAccount(sa_name, create) if sa_name is not None else None


def _synced_secrets(
    r: _Reader, path: SpecPath, body: dict[str, Any], file_sets: FileSets
) -> tuple[dict[str, SyncedSecret], bool]:
    """The application's synced Secrets by name, and whether all of them (each once) were valid."""
    sync: dict[str, SyncedSecret] = {}
    ok = True
    for item_path, item in r.items((*path, "sync"), body.get("sync")):
        secret = _synced_secret(r, item_path, item, file_sets)
        if secret is None:
            ok = False
        elif secret.name in sync:
            r.fail((*item_path, "secretName"), f"Secret {shown(secret.name)} is synced twice")
            ok = False
        else:
            sync[secret.name] = secret
    return sync, ok


def _app_workloads(
    r: _Reader, path: SpecPath, body: dict[str, Any], sync: Mapping[str, SyncedSecret]
) -> tuple[list[Workload], bool]:
    """The application's workloads, each listed once, and whether all of them were valid."""
    declared = {str(raw.get("secretName")) for raw in _maps(body.get("sync"))}
    workloads, ok = _collect(
        r, (*path, "workloads"), body.get("workloads"), lambda p, v: _workload(r, p, v, sync, declared)
    )
    seen: set[tuple[str, str]] = set()
    for i, workload in enumerate(workloads):
        if (workload.kind, workload.name) in seen:
            r.fail((*path, "workloads", i), f"{workload.kind} {shown(workload.name)} is listed twice")
            ok = False
        seen.add((workload.kind, workload.name))
    return workloads, ok


def _application(
    r: _Reader, name: str, value: Any, envs: Mapping[str, Environment | None], env_stores: Mapping[str, Store]
) -> Application | None:
    path: SpecPath = ("applications", name)
    ok = r.check(path, None if _DNS_LABEL.fullmatch(name) else "application names must be DNS labels")
    body = r.mapping(path, value, _APP_KEYS, required=("namespace", "base"))
    if body is None or not {"namespace", "base"} <= body.keys():
        return None
    env_names = tuple(envs)
    namespace = r.string((*path, "namespace"), body["namespace"], _DNS_LABEL, "namespace")
    base = _relative_path(r, (*path, "base"), body["base"])
    class_name = r.string(
        (*path, "secretProviderClass"),
        body.get("secretProviderClass", name),
        _DNS_SUBDOMAIN,
        "SecretProviderClass name",
    )
    service_account = _service_account(r, path, body, name)

    overrides: dict[str, EnvironmentOverride] = {}
    env_body = r.mapping((*path, "environments"), body.get("environments"), env_names)
    for env_name, override in (env_body or {}).items():
        if env_name not in envs:
            continue
        parsed = _override(r, (*path, "environments", env_name), override, envs[env_name])
        if parsed is None:
            ok = False
        else:
            overrides[env_name] = parsed

    # Which store the app reads in each (valid) environment decides which object lists it needs.
    stores: dict[str, Store] = {}
    for env_name, env in envs.items():
        change = overrides.get(env_name)
        hashicorp = change is not None and change.hashicorp_vault is not None
        # An environment that did not load still says which store it meant (its own problems are reported).
        meant = env.store if env is not None else env_stores.get(env_name, Store.KEY_VAULT)
        stores[env_name] = Store.HASHICORP_VAULT if hashicorp else meant
    used = set(stores.values())

    vault_body = r.mapping((*path, vault_spec.KEY), body.get(vault_spec.KEY), vault_spec.APP_KEYS) or {}
    app_role = None
    if "role" in vault_body:
        app_role = vault_spec.role(r, (*path, vault_spec.KEY, "role"), vault_body["role"])
        ok = app_role is not None and ok
    vault_objects: list[VaultObject] = []
    file_sets: FileSets = []
    objects: list[KeyVaultObject] = []
    objects_ok = True
    if Store.KEY_VAULT in used or "objects" in body:
        objects, objects_ok = _key_vault_objects(r, path, body, env_names, Store.KEY_VAULT in used, stores)
        file_sets.append((Store.KEY_VAULT, _file_names(body.get("objects"))))
    if Store.HASHICORP_VAULT in used or "objects" in vault_body:
        vault_objects, vault_ok = _vault_objects(r, path, vault_body, env_names, Store.HASHICORP_VAULT in used)
        objects_ok = vault_ok and objects_ok
        raw = vault_body.get("objects")
        file_sets.append((Store.HASHICORP_VAULT, {str(o["file"]): str(o["file"]) for o in _maps(raw) if "file" in o}))
    for env_name, env in envs.items():
        if env is not None and stores.get(env_name) is Store.HASHICORP_VAULT:
            ok = _role_checks(r, path, env, overrides.get(env_name), app_role, body, service_account) and ok

    sync, sync_ok = _synced_secrets(r, path, body, file_sets)
    workloads, workloads_ok = _app_workloads(r, path, body, sync)
    if sync and not body.get("workloads") and sync_ok:
        r.fail(
            (*path, "sync"),
            f"synced Secret(s) {', '.join(sync)} would never be created: the driver syncs only while a pod "
            "mounts the class, and no listed workload mounts it",
        )
        sync_ok = False

    if not (ok and objects_ok and sync_ok and workloads_ok) or None in (namespace, base, class_name, service_account):
        return None
    assert namespace is not None and base is not None and class_name is not None and service_account is not None
    return Application(
        name=name,
        namespace=namespace,
        base=base,
        class_name=class_name,
        service_account=service_account,
        objects=tuple(objects),
        sync=tuple(sync.values()),
        workloads=tuple(workloads),
        overrides=overrides,
        vault_objects=tuple(vault_objects),
        vault_role=app_role,
    )


# --- checks across applications and against the bases -----------------------------------------


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _sealed_dirs_checks(r: _Reader, envs: Mapping[str, Environment]) -> None:
    """Each environment's SealedSecrets in a directory of its own: not shared, nested or inside another's overlay
    (lint tells which cluster a file is for by where it sits)."""
    for env in envs.values():
        if env.sealed_secrets is None:
            continue
        for other in envs.values():
            if other.name == env.name:
                continue
            taken = [("sealedSecrets", other.sealed_secrets), ("overlay", other.overlay)]
            for what, directory in taken:
                if directory is not None and (
                    _inside(env.sealed_secrets, directory) or _inside(directory, env.sealed_secrets)
                ):
                    r.fail(
                        ("environments", env.name, "sealedSecrets"),
                        f"{shown(env.sealed_secrets)} overlaps environment {other.name}'s {what} "
                        f"{shown(directory)} (each "
                        "environment's SealedSecrets need a directory of their own)",
                    )
                    break


def _cross_checks(r: _Reader, envs: Mapping[str, Environment], apps: Mapping[str, Application]) -> None:
    overlays: dict[str, str] = {}
    for env in envs.values():
        if env.overlay is None:
            continue
        first = overlays.setdefault(env.overlay, env.name)
        if first != env.name:
            r.fail(
                ("environments", env.name, "overlay"),
                f"environment {shown(first)} already writes to {shown(env.overlay)}",
            )
            continue
        # Nested overlays: generate --env for the outer one took the inner one's files for stale and deleted
        # them, and an application named like the inner directory wrote over its kustomization.yaml.
        for directory, other in overlays.items():
            if other != env.name and (_inside(env.overlay, directory) or _inside(directory, env.overlay)):
                r.fail(
                    ("environments", env.name, "overlay"),
                    f"{shown(env.overlay)} is nested with environment {other}'s overlay {shown(directory)} "
                    "(each environment's generated files need a directory of their own)",
                )
                break
    _sealed_dirs_checks(r, envs)
    classes: dict[tuple[str, str], str] = {}
    synced: dict[tuple[str, str], str] = {}
    for app in apps.values():
        first = classes.setdefault((app.namespace, app.class_name), app.name)
        if first != app.name:
            r.fail(
                ("applications", app.name, "secretProviderClass"),
                f"application {shown(first)} already defines SecretProviderClass {shown(app.class_name)} "
                f"in namespace {shown(app.namespace)}",
            )
        for i, secret in enumerate(app.sync):
            owner = synced.setdefault((app.namespace, secret.name), app.name)
            if owner != app.name:
                r.fail(
                    ("applications", app.name, "sync", i, "secretName"),
                    f"Secret {shown(secret.name)} in namespace {shown(app.namespace)} is also synced by application "
                    f"{shown(owner)}: two SecretProviderClasses would overwrite each other",
                )


def binds_service_account(app: Application, envs: Iterable[Environment]) -> bool:
    """The generated patch sets the pods' service account: workload identity (its federated credential names
    it) or HashiCorp Vault (the role's bindings name it) in some environment."""
    for env in envs:
        if app.store_for(env) is Store.HASHICORP_VAULT or app.identity_for(env).mode is IdentityMode.WORKLOAD_IDENTITY:
            return True
    return False


def _base_checks(r: _Reader, root: Path, app: Application, envs: Mapping[str, Environment]) -> Application:
    path: SpecPath = ("applications", app.name)
    try:
        base: BaseResources = load_base(root / app.base, f"{_fmt((*path, 'base'))}")
    except InputError as exc:
        r.fail((*path, "base"), exc.what)
        return app
    uses_workload_identity = binds_service_account(app, envs.values())
    sa = app.service_account
    if uses_workload_identity:
        has_sa = base.get("ServiceAccount", sa.name) is not None
        if sa.create and has_sa:
            r.fail(
                (*path, "serviceAccount"),
                f"base {app.base} already has ServiceAccount {shown(sa.name)}: set create: false",
            )
        elif not sa.create and not has_sa:
            r.fail((*path, "serviceAccount"), f"base {app.base} has no ServiceAccount {shown(sa.name)} to annotate")
    resolved: list[Workload] = []
    for i, workload in enumerate(app.workloads):
        where = (*path, "workloads", i)
        manifest = base.get(workload.kind, workload.name)
        if manifest is None:
            have = ", ".join(base.names_of(workload.kind)) or "none"
            r.fail(
                (*where, "name"),
                f"base {app.base} has no {workload.kind} {shown(workload.name)} (it has: {have})",
            )
            continue
        namespace = (manifest.get("metadata") or {}).get("namespace")
        if namespace != app.namespace:
            r.fail(
                where,
                f"{workload.kind} {shown(workload.name)} is in namespace {shown(namespace)} in the base, "
                f"not {shown(app.namespace)} "
                "(the class must be in the pod's namespace; set namespace in the base)",
            )
            continue
        resolved.append(_resolve_workload(r, where, app, workload, manifest, uses_workload_identity))
    return dataclasses.replace(app, workloads=tuple(resolved))


def _resolve_workload(
    r: _Reader, where: SpecPath, app: Application, workload: Workload, manifest: Mapping[str, Any], wi: bool
) -> Workload:
    containers = {str(c.get("name")): c for c in containers_of(manifest)}
    for name in workload.containers:
        if name not in containers:
            r.fail(
                (*where, "containers"),
                f"{workload.kind} {shown(workload.name)} has no container {shown(name)} "
                f"(it has: {', '.join(containers)})",
            )
    chosen = workload.containers or tuple(containers)
    pod = rules.pod_spec(manifest) or {}
    if any(isinstance(v, dict) and v.get("name") == VOLUME_NAME for v in pod.get("volumes") or []):
        r.fail(where, f"{workload.kind} {shown(workload.name)} already has a volume named {shown(VOLUME_NAME)}")
    current_sa = pod.get("serviceAccountName") or pod.get("serviceAccount")
    if wi and current_sa and current_sa != app.service_account.name:
        r.fail(
            where,
            f"{workload.kind} {shown(workload.name)} runs as ServiceAccount {shown(current_sa)} but workload "
            f"identity (or the Vault role) would switch it to {shown(app.service_account.name)}: "
            f"set serviceAccount.name: {current_sa}",
        )
    for name in chosen:
        container = containers.get(name) or {}
        for mount in container.get("volumeMounts") or []:
            if isinstance(mount, dict) and mount.get("mountPath") == workload.mount_path:
                r.fail(
                    (*where, "mountPath"),
                    f"container {shown(name)} already mounts something at {workload.mount_path}",
                )
        existing = {e.get("name") for e in container.get("env") or [] if isinstance(e, dict)}
        for var in workload.env:
            if var.name in existing:
                r.fail(
                    (*where, "env"),
                    f"container {shown(name)} already sets environment variable {shown(var.name)}",
                )
    return Workload(
        workload.kind,
        workload.name,
        chosen,
        workload.mount_path,
        workload.env,
        str(manifest.get("apiVersion") or workload.api_version),
    )


# --- entry point --------------------------------------------------------------------------------


def _check_kind(value: Any, source: str) -> None:
    """A document of another kind is one problem, not one per field it lacks."""
    if not isinstance(value, dict) or ("apiVersion" not in value and "kind" not in value):
        return
    if value.get("apiVersion") != API_VERSION or value.get("kind") != KIND:
        what = f"not a sealkit CSI spec (apiVersion must be {API_VERSION}, kind {KIND})"
        raise SpecError([f"{source}:1: {what}"], [f"{what}: {source}"])


def parse_spec(text: str, path: Path, *, check_bases: bool = True) -> Spec:
    """The spec in `text` (read from `path`); raises SpecError listing every problem."""
    source = str(path)
    lined = load_lined(text, source)
    _check_kind(lined.value, source)
    r = _Reader(lined, source)
    top = r.mapping(
        (),
        r.lined.value,
        ("apiVersion", "kind", "environments", "applications"),
        required=("apiVersion", "kind", "environments"),
    )
    if top is None:
        raise SpecError(r.problems, r.lines)
    if "apiVersion" in top and top["apiVersion"] != API_VERSION:
        r.fail(("apiVersion",), f"must be {API_VERSION}")
    if "kind" in top and top["kind"] != KIND:
        r.fail(("kind",), f"must be {KIND}")
    envs: dict[str, Environment] = {}
    env_body = top.get("environments")
    if not isinstance(env_body, dict) or not env_body:
        r.fail(("environments",), "must map at least one environment name to its settings")
        env_body = {}
    all_envs_ok = True
    with_apps = top.get("applications") is not None
    parsed_envs: dict[str, Environment | None] = {}
    env_stores: dict[str, Store] = {}
    for name, value in env_body.items():
        hashicorp = isinstance(value, dict) and vault_spec.KEY in value
        env_stores[str(name)] = Store.HASHICORP_VAULT if hashicorp else Store.KEY_VAULT
        env = _environment(r, str(name), value, with_apps)
        parsed_envs[str(name)] = env
        if env is None:
            all_envs_ok = False
        else:
            envs[env.name] = env
    apps: dict[str, Application] = {}
    app_body = top.get("applications")
    if app_body is None:  # a spec for sealing only
        app_body = {}
    elif not isinstance(app_body, dict) or not app_body:
        r.fail(("applications",), "must map at least one application name to its settings (or leave it out)")
        app_body = {}
    for name, value in app_body.items():
        app = _application(r, str(name), value, parsed_envs, env_stores)
        if app is not None:
            apps[app.name] = app
    _cross_checks(r, envs, apps)
    if not r.problems and all_envs_ok and check_bases:
        apps = {name: _base_checks(r, path.parent, app, envs) for name, app in sorted(apps.items())}
    if r.problems:
        raise SpecError(r.problems, r.lines)
    return Spec(path, dict(sorted(envs.items())), dict(sorted(apps.items())))


def load_spec(path: Path, *, check_bases: bool = True) -> Spec:
    """Read and validate the spec at `path` (and, by default, the bases it names)."""
    if not path.exists() and not path.is_symlink():
        raise InputError("no such spec file", where=path)
    text = decode_text(read_file(path), str(path))
    return parse_spec(text, path, check_bases=check_bases)
