"""What the Secrets Store CSI driver and its Azure provider reject or silently mishandle.

The CRD checks almost nothing, so these mistakes otherwise surface as pods stuck in
ContainerCreating. The rules work on plain manifest dicts, so they serve both the spec
generator (through the small predicates) and checks of hand-written SecretProviderClasses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from sealkit import validation
from sealkit.errors import shown_url
from sealkit.validation import type_name

SPC_API_VERSION = "secrets-store.csi.x-k8s.io/v1"
SPC_KIND = "SecretProviderClass"
CSI_DRIVER = "secrets-store.csi.k8s.io"
USED_LABEL = "secrets-store.csi.k8s.io/used"

OBJECT_TYPES = ("secret", "key", "cert")
OBJECT_FORMATS = ("pem", "pfx")
OBJECT_ENCODINGS = ("utf-8", "base64", "hex")
CLOUD_NAMES = (
    "AzurePublicCloud",
    "AzureUSGovernmentCloud",
    "AzureChinaCloud",
    "AzureGermanCloud",
    "AzureStackCloud",
)
TLS_KEYS = ("tls.crt", "tls.key")
TLS_TYPE = "kubernetes.io/tls"

# The provider reads these parameter keys, case-sensitively; anything else is ignored.
KNOWN_PARAMETERS = (
    "keyvaultName",
    "tenantID",
    "tenantId",
    "cloudName",
    "cloudEnvFileName",
    "usePodIdentity",
    "useVMManagedIdentity",
    "userAssignedIdentityID",
    "clientID",
    "useAzureTokenProxy",
    "objects",
)
IDENTITY_FLAGS = ("usePodIdentity", "useVMManagedIdentity", "useAzureTokenProxy")
KNOWN_OBJECT_KEYS = (
    "objectName",
    "objectType",
    "objectAlias",
    "objectVersion",
    "objectVersionHistory",
    "objectFormat",
    "objectEncoding",
    "filePermission",
)

MAX_VERSION_HISTORY = 2**31 - 1  # the provider's ObjectVersionHistory is an int32
MAX_PATH_BYTES = 4096  # the driver's atomic writer: a mounted file's path...
MAX_NAME_BYTES = 255  # ...and each of its parts
_VAULT_NAME = re.compile(r"[-A-Za-z0-9]{3,24}")
_OBJECT_NAME = re.compile(r"[-A-Za-z0-9]{1,127}")
_VERSION = re.compile(r"[0-9a-fA-F]{32}")
_FILE_PERMISSION = re.compile(r"0?[0-7]{3}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TENANT_DOMAIN = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9.]{0,251}[A-Za-z0-9])?")


# What a Problem is: refused or misread (the mount fails, or reads something else), a setting that has
# no effect, or a class that works without verifying the secret store's TLS certificate.
INVALID = "invalid"
IGNORED = "ignored"
INSECURE = "insecure"


@dataclass(frozen=True)
class Problem:
    """One thing wrong, at a dotted path inside the checked object."""

    path: str
    message: str
    kind: str = INVALID

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def shown(value: object) -> str:
    """A value from the spec or a class for a message, as YAML writes it: a string quoted (a URL without its
    credentials and query), null, true/false and numbers as such, and a mapping or list by its kind only
    (never Python's repr: `None`, `{'a': 1}`)."""
    if isinstance(value, str):
        return repr(shown_url(value) if "://" in value else value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return f"a {type_name(value)}"


def _choices(values: Iterable[str]) -> str:
    return ", ".join(values)


# --- predicates: each returns a message, or None when the value is fine -------------------------


def vault_name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not _VAULT_NAME.fullmatch(name):
        return f"keyvaultName {shown(name)} must be 3-24 characters of letters, digits and '-'"
    return None


def object_name_problem(name: object) -> str | None:
    if not isinstance(name, str) or not _OBJECT_NAME.fullmatch(name):
        return f"object name {shown(name)} must be 1-127 characters of letters, digits and '-'"
    return None


def object_type_problem(object_type: object) -> str | None:
    if object_type not in OBJECT_TYPES:
        return f"objectType {shown(object_type)} must be one of {_choices(OBJECT_TYPES)} (lowercase)"
    return None


def alias_problem(alias: object) -> str | None:
    if not isinstance(alias, str) or not alias:
        return f"objectAlias {shown(alias)} must be a non-empty relative file name"
    if alias.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", alias):
        return f"objectAlias {shown(alias)} must be relative, not absolute"
    if ".." in alias:  # the provider refuses '..' anywhere in the name, not only as a path element
        return f"objectAlias {shown(alias)} must not contain '..'"
    if alias != alias.strip():  # the provider trims it: 'db ' would be written as 'db', over another file
        return f"objectAlias {shown(alias)} must not begin or end with white space (the provider removes it)"
    parts = alias.split("/")
    if any(part in ("", ".") for part in parts):  # the driver mounts only paths that are already clean
        return f"objectAlias {shown(alias)} must be a clean path: no empty or '.' parts, no '/' at the end"
    if len(alias.encode()) > MAX_PATH_BYTES or any(len(part.encode()) > MAX_NAME_BYTES for part in parts):
        return (
            f"objectAlias must be at most {MAX_PATH_BYTES} bytes, each part at most {MAX_NAME_BYTES} "
            "(the driver's limits)"
        )
    return None


def format_problem(object_format: object, object_type: object) -> str | None:
    if object_type != "secret":
        return f"objectFormat applies only to objectType secret, not {shown(object_type)}"
    if object_format not in OBJECT_FORMATS:
        return f"objectFormat {shown(object_format)} must be one of {_choices(OBJECT_FORMATS)}"
    return None


def encoding_problem(encoding: object, object_type: object) -> str | None:
    if object_type != "secret":
        return f"objectEncoding applies only to objectType secret, not {shown(object_type)}"
    if encoding not in OBJECT_ENCODINGS:
        return f"objectEncoding {shown(encoding)} must be one of {_choices(OBJECT_ENCODINGS)}"
    return None


def version_history_problem(value: object) -> str | None:
    """The provider reads objectVersionHistory into a 32-bit integer: a larger one fails every mount."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"objectVersionHistory must be an unquoted integer, not {shown(value)}"
    if value < 1:
        return f"objectVersionHistory must be at least 1, not {value}"
    if value > MAX_VERSION_HISTORY:
        return f"objectVersionHistory must be at most {MAX_VERSION_HISTORY} (the provider's 32-bit limit), not {value}"
    return None


def file_permission_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _FILE_PERMISSION.fullmatch(value):
        return f'filePermission must be a quoted octal string such as "0440", not {shown(value)}'
    return None


def version_problem(value: object) -> str | None:
    """Empty means latest; otherwise a Key Vault version id (32 hex digits)."""
    if not isinstance(value, str) or (value and not _VERSION.fullmatch(value)):
        return f"objectVersion {shown(value)} must be empty (latest) or a 32-hex-digit Key Vault version"
    return None


def uuid_problem(value: object, what: str) -> str | None:
    """A client or identity id: a string that is not a GUID is not shown (a client secret is often pasted
    into the client id's place)."""
    if isinstance(value, str) and not _UUID.fullmatch(value):
        return f"{what} must be a GUID like 00000000-0000-0000-0000-000000000000 (the value is not shown)"
    if not isinstance(value, str):
        return f"{what} must be a GUID like 00000000-0000-0000-0000-000000000000, not {shown(value)}"
    return None


def tenant_problem(value: object) -> str | None:
    if not isinstance(value, str) or not (_UUID.fullmatch(value) or _TENANT_DOMAIN.fullmatch(value)):
        return f"tenant {shown(value)} must be a tenant GUID or domain"
    return None


def cloud_problem(value: object) -> str | None:
    if value != "" and value not in CLOUD_NAMES:
        return f"cloudName {shown(value)} must be empty (public) or one of {_choices(CLOUD_NAMES)}"
    return None


def tls_keys_problem(keys: Iterable[str]) -> str | None:
    if sorted(keys) != list(TLS_KEYS):
        return f"type kubernetes.io/tls needs exactly the keys {' and '.join(TLS_KEYS)}, got {sorted(keys)}"
    return None


def sync_type_problems(
    secret_type: str, keys: Iterable[str], annotations: Mapping[str, Any] | None = None
) -> list[tuple[str, str]]:
    """A synced Secret's type against its data keys and annotations: (field, message) pairs, the field being
    `type`, `data` or `annotations`. The driver trims the type and then treats kubernetes.io/tls specially (it
    splits each file into tls.crt and tls.key, and fails on any other key); the API server refuses a Secret of
    a type whose required keys (or service-account annotation) are missing, so the pod mounts but the Secret
    never appears. Values are unknown until mounted: only keys and annotations are judged."""
    if secret_type != secret_type.strip():
        return [("type", f"type {shown(secret_type)} must not begin or end with white space (the driver removes it)")]
    names = list(keys)
    if secret_type == TLS_TYPE:
        problem = tls_keys_problem(names)
        return [("data", problem)] if problem else []
    # The API server's checks (sealkit.validation), with a stand-in value per key that passes the content checks.
    stand_ins = dict.fromkeys(names, b"{}")
    found = validation.secret_data_problems(
        stand_ins, secret_type, {str(k): str(v) for k, v in (annotations or {}).items()}
    )
    why = " (the API server refuses the synced Secret: the pod mounts, the Secret never appears)"
    return [("annotations" if p.field == "metadata.annotations" else "data", p.message + why) for p in found]


def case_trap(key: str, known: Iterable[str]) -> str | None:
    """The known key `key` was probably meant as, when it differs only in letter case."""
    for candidate in known:
        if candidate != key and candidate.lower() == key.lower():
            return candidate
    return None


def file_collisions(objects: Sequence[tuple[str, str, int]]) -> list[tuple[int, str]]:
    """Objects whose files would silently replace another's, or not mount: given (label, mounted file,
    versionHistory) per object in order, (index, message) for each object that writes the same file as an
    earlier one, a file inside another object's file (a directory the mount cannot make), or a file inside the
    directory of another's versions (with versionHistory N > 1 the provider writes <file>/0 (the newest),
    <file>/1, ...: an alias <file>/0 would replace one). The driver writes the whole mount in one go."""
    first_of: dict[str, int] = {}
    for i, (_, file, _) in enumerate(objects):
        first_of.setdefault(file, i)
    found: list[tuple[int, str]] = []
    for i, (label, file, _) in enumerate(objects):
        if first_of[file] != i:
            found.append(
                (i, f"two objects write the same file {shown(file)} ({objects[first_of[file]][0]} and {label})")
            )
    for i, (label, file, _) in enumerate(objects):
        parts = file.split("/")
        for depth in range(1, len(parts)):
            other = first_of.get("/".join(parts[:depth]))
            if other is None:
                continue
            other_label, other_file, other_history = objects[other]
            written = "fills with its versions" if other_history > 1 else "writes as a file"
            found.append((i, f"{label} writes {shown(file)} inside {shown(other_file)}, which {other_label} {written}"))
            break
    return found


def mounted_file_name(item: Mapping[str, Any]) -> str:
    """The file the provider writes for an `objects` item: the alias when set, else the name."""
    alias = item.get("objectAlias")
    return str(alias) if alias else str(item.get("objectName", ""))


def synced_file(file: str, history: int) -> str:
    """What `secretObjects` name to read an object mounted as `file`: the file, or with objectVersionHistory above
    1 its newest version `<file>/0` (`<file>` is then the directory of its versions, /0 newest, /1, ...: only /0
    is sure to be there)."""
    return f"{file}/0" if history > 1 else file


def _history(item: Mapping[str, Any]) -> int:
    """An item's objectVersionHistory when it is an integer, else 0 (reported by the item's own checks)."""
    value = item.get("objectVersionHistory")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- whole-manifest checks -----------------------------------------------------------------------


def parse_objects(text: object) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The provider's `objects` parameter (YAML `array:` of YAML strings) as a list of maps."""
    base = "spec.parameters.objects"
    if not isinstance(text, str):
        return [], [Problem(base, "must be a string holding YAML with an 'array:' list")]
    try:
        outer = yaml.safe_load(text)
    except yaml.YAMLError:
        return [], [Problem(base, "is not valid YAML")]
    if not isinstance(outer, dict) or not isinstance(outer.get("array"), list):
        return [], [Problem(base, "must be YAML of the form 'array: [ <YAML string per object> ]'")]
    items: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for i, raw in enumerate(outer["array"]):
        where = f"{base}.array[{i}]"
        if not isinstance(raw, str):
            problems.append(Problem(where, "each item must be a YAML string (use '- |' blocks)"))
            continue
        try:
            item = yaml.safe_load(raw)
        except yaml.YAMLError:
            problems.append(Problem(where, "is not valid YAML"))
            continue
        if not isinstance(item, dict):
            problems.append(Problem(where, "must be a map with objectName and objectType"))
            continue
        items.append(item)
    return items, problems


def _item_problems(item: Mapping[str, Any], where: str) -> list[Problem]:
    problems: list[Problem] = []
    for key in item:
        if key not in KNOWN_OBJECT_KEYS:
            meant = case_trap(str(key), KNOWN_OBJECT_KEYS)
            hint = f" (did you mean {meant}? keys are case-sensitive)" if meant else ""
            problems.append(Problem(f"{where}.{key}", f"unknown key, the provider ignores it{hint}"))
    name, object_type = item.get("objectName"), item.get("objectType")
    checks: list[tuple[str, str | None]] = [
        ("objectName", object_name_problem(name)),
        ("objectType", object_type_problem(object_type)),
    ]
    if "objectAlias" in item:
        checks.append(("objectAlias", alias_problem(item["objectAlias"])))
    if "objectVersion" in item:
        checks.append(("objectVersion", version_problem(item["objectVersion"])))
    if "objectVersionHistory" in item:
        checks.append(("objectVersionHistory", version_history_problem(item["objectVersionHistory"])))
    if "objectFormat" in item:
        checks.append(("objectFormat", format_problem(item["objectFormat"], object_type)))
    if "objectEncoding" in item:
        checks.append(("objectEncoding", encoding_problem(item["objectEncoding"], object_type)))
    if "filePermission" in item:
        checks.append(("filePermission", file_permission_problem(item["filePermission"])))
    problems.extend(Problem(f"{where}.{key}", msg) for key, msg in checks if msg)
    return problems


def _parameter_problems(params: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    base = "spec.parameters"
    for key, value in params.items():
        if not isinstance(value, str):
            problems.append(Problem(f"{base}.{key}", f'must be a string (quote it: "{value}")'))
        if key not in KNOWN_PARAMETERS:
            meant = case_trap(str(key), KNOWN_PARAMETERS)
            hint = f" (did you mean {meant}? keys are case-sensitive)" if meant else ""
            problems.append(Problem(f"{base}.{key}", f"unknown parameter, the provider ignores it{hint}"))
    if "keyvaultName" not in params:
        problems.append(Problem(f"{base}.keyvaultName", "is required"))
    elif msg := vault_name_problem(params["keyvaultName"]):
        problems.append(Problem(f"{base}.keyvaultName", msg))
    tenant = params.get("tenantID", params.get("tenantId"))
    if tenant is None:
        problems.append(Problem(f"{base}.tenantID", "is required"))
    elif msg := tenant_problem(tenant):
        problems.append(Problem(f"{base}.tenantID", msg))
    if "cloudName" in params and (msg := cloud_problem(params["cloudName"])):
        problems.append(Problem(f"{base}.cloudName", msg))
    if params.get("cloudEnvFileName") and params.get("cloudName") != "AzureStackCloud":
        problems.append(Problem(f"{base}.cloudEnvFileName", "is only read with cloudName AzureStackCloud"))
    if params.get("cloudName") == "AzureStackCloud" and not params.get("cloudEnvFileName"):
        problems.append(Problem(f"{base}.cloudEnvFileName", "is required with cloudName AzureStackCloud"))
    problems.extend(_identity_problems(params))
    return problems


def _identity_problems(params: Mapping[str, Any]) -> list[Problem]:
    base = "spec.parameters"
    problems: list[Problem] = []
    enabled = []
    for flag in IDENTITY_FLAGS:
        if flag in params:
            value = str(params[flag]).lower()
            if value not in ("true", "false"):
                problems.append(Problem(f"{base}.{flag}", f'must be "true" or "false", not {shown(params[flag])}'))
            elif value == "true":
                enabled.append(flag)
    if len(enabled) > 1:
        problems.append(Problem(base, f'at most one identity flag may be "true", got {_choices(enabled)}'))
    if "usePodIdentity" in enabled:
        problems.append(Problem(f"{base}.usePodIdentity", "pod identity is deprecated; use workload identity"))
    if params.get("clientID") and "useVMManagedIdentity" in enabled:
        problems.append(
            Problem(
                f"{base}.clientID",
                "clientID with useVMManagedIdentity makes the provider look for a workload-identity "
                "token; drop clientID (use userAssignedIdentityID for a user-assigned VM identity)",
            )
        )
    if "clientID" in params and (msg := uuid_problem(params["clientID"], "clientID")):
        problems.append(Problem(f"{base}.clientID", msg))
    assigned = params.get("userAssignedIdentityID")
    if assigned:
        if "useVMManagedIdentity" not in enabled:
            problems.append(
                Problem(f"{base}.userAssignedIdentityID", 'is ignored unless useVMManagedIdentity is "true"')
            )
        elif msg := uuid_problem(assigned, "userAssignedIdentityID"):
            problems.append(Problem(f"{base}.userAssignedIdentityID", msg))
    return problems


def sync_problems(secret_objects: object, files: set[str]) -> list[Problem]:
    base = "spec.secretObjects"
    if secret_objects is None:
        return []
    if not isinstance(secret_objects, list):
        return [Problem(base, "must be a list")]
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, entry in enumerate(secret_objects):
        where = f"{base}[{i}]"
        if not isinstance(entry, dict):
            problems.append(Problem(where, "must be a map"))
            continue
        name = entry.get("secretName")
        if not name:
            problems.append(Problem(f"{where}.secretName", "is required"))
        elif not isinstance(name, str):
            problems.append(Problem(f"{where}.secretName", "must be a string"))
        elif name in seen:
            problems.append(Problem(f"{where}.secretName", f"Secret {shown(name)} is synced twice in this class"))
        else:
            seen.add(str(name))
        if not entry.get("type"):
            problems.append(Problem(f"{where}.type", "is required (e.g. Opaque)"))
        data = entry.get("data")
        if not isinstance(data, list) or not data:
            problems.append(Problem(f"{where}.data", "needs at least one {objectName, key} entry"))
            continue
        keys: list[str] = []
        for j, row in enumerate(data):
            row_where = f"{where}.data[{j}]"
            if not isinstance(row, dict):
                problems.append(Problem(row_where, "must be a map with objectName and key"))
                continue
            key, object_name = row.get("key"), row.get("objectName")
            if not key:
                problems.append(Problem(f"{row_where}.key", "is required"))
            elif not isinstance(key, str):
                problems.append(Problem(f"{row_where}.key", "must be a string"))
            elif key in keys:
                problems.append(Problem(f"{row_where}.key", f"key {shown(key)} appears twice"))
            else:
                keys.append(str(key))
            if not isinstance(object_name, str) or object_name not in files:
                problems.append(
                    Problem(
                        f"{row_where}.objectName",
                        f"{shown(object_name)} is not a mounted file name (the alias when set, else the object "
                        f"name): expected one of {_choices(sorted(files)) or 'none'}",
                    )
                )
        secret_type, annotations = entry.get("type"), entry.get("annotations")
        if isinstance(secret_type, str):
            annotations = annotations if isinstance(annotations, Mapping) else None
            problems.extend(Problem(f"{where}.{f}", m) for f, m in sync_type_problems(secret_type, keys, annotations))
    return problems


def spc_problems(spc: Mapping[str, Any]) -> list[Problem]:
    """Every rule one SecretProviderClass manifest breaks: the driver's, and the provider's for `azure` and
    `vault` (`sealkit.csi.hashicorp.rules`); other providers' parameters are not checked."""
    problems: list[Problem] = []
    if spc.get("apiVersion") != SPC_API_VERSION:
        problems.append(Problem("apiVersion", f"must be {SPC_API_VERSION}, not {shown(spc.get('apiVersion'))}"))
    if spc.get("kind") != SPC_KIND:
        problems.append(Problem("kind", f"must be {SPC_KIND}, not {shown(spc.get('kind'))}"))
    spec = spc.get("spec")
    if not isinstance(spec, dict):
        return [*problems, Problem("spec", "is required")]
    files: set[str] = set()
    if spec.get("provider") == "azure":
        params = spec.get("parameters")
        if not isinstance(params, dict):
            return [*problems, Problem("spec.parameters", "is required for provider azure")]
        problems.extend(_parameter_problems(params))
        if "objects" not in params:
            problems.append(Problem("spec.parameters.objects", "is required"))
            return problems
        items, parse_problems = parse_objects(params["objects"])
        problems.extend(parse_problems)
        for i, item in enumerate(items):
            problems.extend(_item_problems(item, f"spec.parameters.objects.array[{i}]"))
        written = [(str(item.get("objectName")), mounted_file_name(item), _history(item)) for item in items]
        for i, message in file_collisions(written):
            problems.append(Problem(f"spec.parameters.objects.array[{i}]", message))
        files = {synced_file(file, history) for _, file, history in written}
    elif spec.get("provider") == "vault":
        from sealkit.csi.hashicorp import rules as vault_rules

        vault_problems, vault_files = vault_rules.provider_problems(spec.get("parameters"))
        problems.extend(vault_problems)
        if vault_files is None:
            return problems
        files = vault_files
    elif not spec.get("provider"):
        problems.append(Problem("spec.provider", "is required"))
    else:
        return problems  # another provider: its parameters and file names are unknown here
    problems.extend(sync_problems(spec.get("secretObjects"), files))
    return problems


def _map(value: object) -> Mapping[str, Any]:
    """`value` when it is a mapping, else empty: hand-written manifests may hold any type anywhere."""
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def synced_secret_names(spc: Mapping[str, Any]) -> list[str]:
    entries = _list(_map(spc.get("spec")).get("secretObjects"))
    return [str(e["secretName"]) for e in entries if isinstance(e, dict) and e.get("secretName")]


def duplicate_sync_problems(spcs: Iterable[tuple[str, Mapping[str, Any]]]) -> list[Problem]:
    """Two classes in one namespace syncing one Secret: the last writer silently wins.

    `spcs` pairs a label for messages (a file or spec path) with each manifest.
    """
    owners: dict[tuple[str, str], str] = {}
    problems: list[Problem] = []
    for where, spc in spcs:
        namespace = str(_map(spc.get("metadata")).get("namespace") or "")
        for name in synced_secret_names(spc):
            first = owners.setdefault((namespace, name), where)
            if first != where:
                problems.append(
                    Problem(where, f"Secret {shown(name)} in namespace {shown(namespace)} is also synced by {first}")
                )
    return problems


def pod_spec(workload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec inside a Pod, a pod-template workload or a CronJob."""
    kind = workload.get("kind")
    spec = _map(workload.get("spec"))
    if kind == "Pod":
        return spec if isinstance(workload.get("spec"), Mapping) else None
    if kind == "CronJob":
        spec = _map(_map(spec.get("jobTemplate")).get("spec"))
    inner = _map(spec.get("template")).get("spec")
    return inner if isinstance(inner, dict) else None


def csi_volumes(workload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The Secrets Store CSI volumes of a workload's pod template."""
    spec = pod_spec(workload) or {}
    return [
        v for v in _list(spec.get("volumes")) if isinstance(v, dict) and _map(v.get("csi")).get("driver") == CSI_DRIVER
    ]


def csi_volume_problems(workload: Mapping[str, Any]) -> list[Problem]:
    """Secrets Store CSI volumes the driver would refuse to mount."""
    problems: list[Problem] = []
    for volume in csi_volumes(workload):
        csi = _map(volume["csi"])
        where = f"volumes.{volume.get('name')}.csi"
        if csi.get("readOnly") is not True:
            problems.append(Problem(f"{where}.readOnly", "must be true (the driver refuses writable mounts)"))
        if not _map(csi.get("volumeAttributes")).get("secretProviderClass"):
            problems.append(Problem(f"{where}.volumeAttributes.secretProviderClass", "is required"))
    return problems


def unmounted_sync_problems(
    spcs: Iterable[tuple[str, Mapping[str, Any]]], workloads: Iterable[Mapping[str, Any]]
) -> list[Problem]:
    """Synced Secrets no workload would ever create: sync happens only when a pod mounts the class."""
    mounted: set[tuple[str, str]] = set()
    for workload in workloads:
        namespace = str(_map(workload.get("metadata")).get("namespace") or "")
        for volume in csi_volumes(workload):
            name = _map(_map(volume["csi"]).get("volumeAttributes")).get("secretProviderClass")
            mounted.add((namespace, str(name)))
    problems: list[Problem] = []
    for where, spc in spcs:
        metadata = _map(spc.get("metadata"))
        key = (str(metadata.get("namespace") or ""), str(metadata.get("name")))
        names = synced_secret_names(spc)
        if names and key not in mounted:
            problems.append(
                Problem(
                    where,
                    f"synced Secret(s) {_choices(names)} would never be created: no workload mounts "
                    f"SecretProviderClass {shown(key[1])} in namespace {shown(key[0])}",
                )
            )
    return problems
