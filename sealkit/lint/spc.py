"""SecretProviderClass rules, as the Secrets Store CSI driver and its Azure and Vault providers read a class.

Accept what they accept, refuse what they refuse or silently misread. Each check names its source
(docs/lint.md lists them with the upstream commit): the provider's `pkg/provider/types/
parameters.go` (every parameter is `strings.TrimSpace`d; booleans are `strconv.ParseBool`),
`provider.go` (identity modes, `objects` parsing with go-yaml v3, objectType switch, cloud names
through go-autorest's `EnvironmentFromName`, which upper-cases them), `validate.go`
(objectFormat/objectEncoding compared case-insensitively, `pfx` only for secrets, file names),
and the driver's CRD (v1 served, v1alpha1 deprecated but served; parameters are strings) and
`pkg/util/secretutil` (secretObjects need secretName, type and data; names trimmed).

Classes for HashiCorp Vault (`provider: vault`) are checked by `sealkit.csi.hashicorp.rules`, the rules
`sealkit csi generate` relies on (each names its source in hashicorp/vault-csi-provider); here they
only become findings with lines.

Severities: SK301 error for what the provider rejects or misreads, SK305 warning for deprecated
but served forms, SK306 warning for settings it ignores, SK307 info for template placeholders
(`$VAR`, `${VAR}`, `<...>`) whose value is only known after rendering, SK308 warning for a class
that reads its store without verifying TLS. The value checks shared with `sealkit csi generate`
(vault, object and alias names, GUIDs, tenant, objectType, TLS keys) come from `sealkit.csi.rules`
and `sealkit.csi.hashicorp.rules`: one definition each.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from sealkit.csi import rules
from sealkit.csi.hashicorp import rules as vault_rules
from sealkit.lint import catalog
from sealkit.lint.loader import Manifest, node_at
from sealkit.lint.model import Hit, Rule
from sealkit.validation import type_name

GROUP = "secrets-store.csi.x-k8s.io"
SERVED_VERSIONS = {"v1": None, "v1alpha1": "deprecated: use secrets-store.csi.x-k8s.io/v1"}
AZURE = "azure"
VAULT = vault_rules.PROVIDER
# go-autorest's EnvironmentFromName: the name upper-cased, looked up here; AzureStackCloud reads a file.
PROVIDER_CLOUDS = frozenset(
    {
        "AZURECHINACLOUD",
        "AZUREGERMANCLOUD",
        "AZURECLOUD",
        "AZUREPUBLICCLOUD",
        "AZUREUSGOVERNMENT",
        "AZUREUSGOVERNMENTCLOUD",
    }
)
STACK_CLOUD = "AZURESTACKCLOUD"
_PARSE_BOOL = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
               "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}  # fmt: skip
_PLACEHOLDER = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^<>]*>")
_OCTAL = re.compile(r"[+-]?[0-7]+")
_STRING_FIELDS = tuple(k for k in rules.KNOWN_OBJECT_KEYS if k != "objectVersionHistory")
_NULL_TAG = "tag:yaml.org,2002:null"
_INT_TAG = "tag:yaml.org,2002:int"
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SHAPE_ERRORS = (AttributeError, TypeError, KeyError, ValueError, IndexError)


def is_placeholder(value: str) -> bool:
    """A template placeholder filled in before apply: `$VAR`, `${VAR}`, `<client id>`."""
    return bool(_PLACEHOLDER.search(value))


def is_spc(manifest: Manifest) -> bool:
    return manifest.kind == rules.SPC_KIND and manifest.api_version.startswith(GROUP + "/")


@dataclass
class _Report:
    manifest: Manifest
    hits: list[Hit] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"SecretProviderClass {self.manifest.name or '(unnamed)'}"

    def add(self, rule: Rule, line: int, message: str) -> None:
        self.hits.append(Hit(rule, line, f"{self.label}: {message}"))

    def at(self, rule: Rule, path: tuple[str | int, ...], message: str) -> None:
        self.add(rule, self.manifest.line(*path), message)


@dataclass(frozen=True)
class _Item:
    """One entry of `objects`, as go-yaml v3 fills the provider's KeyVaultObject (then trimmed)."""

    index: int
    line: int
    fields: dict[str, str]
    history: int
    placeholders: frozenset[str]


def parse_bool(value: str) -> bool | None:
    """Go's strconv.ParseBool after TrimSpace; empty is false (the provider's default); None if invalid."""
    text = value.strip()
    return False if not text else _PARSE_BOOL.get(text)


# --- objects: the provider's go-yaml v3 reading, with line numbers ------------------------------


def _duplicate_key(node: yaml.MappingNode) -> str | None:
    seen: set[str] = set()
    for key_node, _ in node.value:
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
        if key in seen:
            return key
        seen.add(key)
    return None


class _Lines:
    """Map a line inside the `objects` string (and inside each item string) to the file's line."""

    def __init__(self, manifest: Manifest) -> None:
        self.key_line = manifest.line("spec", "parameters", "objects")
        node = node_at(manifest.node, ("spec", "parameters", "objects"))
        block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
        self.base = int(node.start_mark.line) + 1 if block and node is not None else None

    def outer(self, line0: int) -> int:
        return self.key_line if self.base is None else self.base + line0 + 1

    def item(self, item_node: yaml.Node, line0: int) -> int:
        if isinstance(item_node, yaml.ScalarNode) and item_node.style in ("|", ">"):
            return self.outer(int(item_node.start_mark.line) + 1 + line0)
        return self.outer(int(item_node.start_mark.line))


def _item(report: _Report, lines: _Lines, index: int, item_node: yaml.Node) -> _Item | None:
    where = f"objects item {index + 1}"
    item_line = lines.outer(int(item_node.start_mark.line))  # the `- |` line
    if not isinstance(item_node, yaml.ScalarNode) or item_node.tag == _NULL_TAG:
        report.add(catalog.SPC_INVALID, item_line, f"{where} must be a YAML string ('- |' block): the provider "
                   "cannot read a map or list there")  # fmt: skip
        return None
    try:
        node = yaml.compose(item_node.value, Loader=_LOADER)
    except yaml.YAMLError:
        report.add(catalog.SPC_INVALID, item_line, f"{where} is not valid YAML")
        return None
    if node is None:
        node = yaml.MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(node, yaml.MappingNode):
        report.add(catalog.SPC_INVALID, item_line, f"{where} must be a map of objectName, objectType...")
        return None
    if (duplicate := _duplicate_key(node)) is not None:
        report.add(catalog.SPC_INVALID, item_line, f"{where} sets {duplicate} twice: the provider refuses it")
        return None
    fields: dict[str, str] = {}
    history = 0
    placeholders: set[str] = set()
    ok = True
    for key_node, value_node in node.value:
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
        line = lines.item(item_node, int(key_node.start_mark.line))
        if key not in rules.KNOWN_OBJECT_KEYS:
            meant = rules.case_trap(key, rules.KNOWN_OBJECT_KEYS)
            if meant:
                report.add(catalog.SPC_INVALID, line, f"{where}: {key} is ignored (keys are case-sensitive): did "
                           f"you mean {meant}?")  # fmt: skip
            else:
                report.add(catalog.SPC_IGNORED, line, f"{where}: unknown key {key} is ignored by the provider")
            continue
        if not isinstance(value_node, yaml.ScalarNode):
            report.add(catalog.SPC_INVALID, line, f"{where}: {key} must be a single value, not a map or list")
            ok = False
            continue
        if key == "objectVersionHistory":
            if value_node.tag == _NULL_TAG:
                continue
            if value_node.tag != _INT_TAG or value_node.style in ("'", '"'):
                report.add(catalog.SPC_INVALID, line, f"{where}: objectVersionHistory must be an unquoted integer")
                ok = False
                continue
            try:
                history = int(value_node.value.replace("_", ""), 0)
            except ValueError:
                report.add(catalog.SPC_INVALID, line, f"{where}: objectVersionHistory must be an unquoted integer")
                ok = False
                continue
            if not -rules.MAX_VERSION_HISTORY - 1 <= history <= rules.MAX_VERSION_HISTORY:  # the provider's int32
                report.add(
                    catalog.SPC_INVALID,
                    line,
                    f"{where}: objectVersionHistory must be at most {rules.MAX_VERSION_HISTORY} "
                    "(the provider's 32-bit limit: every mount fails)",
                )
                ok = False
            continue
        value = "" if value_node.tag == _NULL_TAG else str(value_node.value).strip()
        fields[key] = value
        if value and is_placeholder(value):
            placeholders.add(key)
            report.add(catalog.SPC_PLACEHOLDER, line, f"{where}: {key} is a template placeholder: not checked")
    return _Item(index, item_line, fields, history, frozenset(placeholders)) if ok else None


def _objects(report: _Report, params: Mapping[str, Any]) -> list[_Item] | None:
    """The provider's reading of `objects`; None when it refuses it (already reported)."""
    path = ("spec", "parameters", "objects")
    raw = params.get("objects")
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        report.at(catalog.SPC_INVALID, path, "objects is not set: the provider refuses the mount")
        return None
    lines = _Lines(report.manifest)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        report.at(catalog.SPC_INVALID, path, "objects is not valid YAML")
        return None
    if not isinstance(node, yaml.MappingNode):
        report.at(catalog.SPC_INVALID, path, "objects must be YAML of the form 'array: [ <YAML string per object> ]'")
        return None
    if (duplicate := _duplicate_key(node)) is not None:
        report.at(catalog.SPC_INVALID, path, f"objects sets {duplicate} twice: the provider refuses it")
        return None
    array = None
    for key_node, value_node in node.value:
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
        if key == "array":
            array = value_node
        elif key.lower() == "array":
            report.add(catalog.SPC_INVALID, lines.outer(int(key_node.start_mark.line)),
                       f"objects: {key} is ignored (keys are case-sensitive): did you mean array?")  # fmt: skip
    if array is None or (isinstance(array, yaml.ScalarNode) and array.tag == _NULL_TAG):
        report.at(catalog.SPC_INVALID, path, "objects lists no object: the provider mounts nothing")
        return None
    if not isinstance(array, yaml.SequenceNode):
        report.at(catalog.SPC_INVALID, path, "objects.array must be a list of YAML strings")
        return None
    if not array.value:
        report.at(catalog.SPC_INVALID, path, "objects lists no object: the provider mounts nothing")
        return None
    items = [_item(report, lines, i, child) for i, child in enumerate(array.value)]
    return [item for item in items if item is not None]


def _check_item(report: _Report, item: _Item) -> None:
    where = f"objects item {item.index + 1}"
    f, held = item.fields, item.placeholders

    def check(key: str, problem: str | None) -> None:
        if problem and key not in held:
            report.add(catalog.SPC_INVALID, item.line, f"{where}: {problem}")

    name, object_type = f.get("objectName", ""), f.get("objectType", "")
    check("objectName", "objectName is required" if not name else rules.object_name_problem(name))
    if "objectType" not in held:
        check("objectType", rules.object_type_problem(object_type))
    object_format, encoding = f.get("objectFormat", ""), f.get("objectEncoding", "")
    if object_format:
        if object_format.lower() not in rules.OBJECT_FORMATS:
            check("objectFormat", f"objectFormat {object_format!r} must be pem or pfx: the provider refuses it")
        elif object_format.lower() == "pfx" and object_type != "secret" and "objectType" not in held:
            check("objectFormat", f"objectFormat pfx works only with objectType secret, not {object_type!r}")
    if encoding:
        check("objectEncoding", rules.encoding_problem(encoding.lower(), object_type))
    alias = f.get("objectAlias", "")
    if alias:
        check("objectAlias", rules.alias_problem(alias))
    version = f.get("objectVersion", "")
    if version and version != "latest":
        check("objectVersion", rules.version_problem(version))
    permission = f.get("filePermission", "")
    if permission and not (_OCTAL.fullmatch(permission) and abs(int(permission, 8)) < 2**31):
        check(
            "filePermission",
            f"filePermission {permission!r} is not an octal number: the provider writes the file with mode 0",
        )


def _parameters(report: _Report, params: Mapping[str, Any]) -> dict[str, str]:
    """Typed and trimmed parameters; reports non-strings, case traps and unknown keys."""
    out: dict[str, str] = {}
    for key, value in params.items():
        path = ("spec", "parameters", str(key))
        if not isinstance(value, str):
            shown = "null" if value is None else f"a {type_name(value)}"
            report.at(catalog.SPC_INVALID, path, f"parameters.{key} must be a string (quote it), not {shown}: the "
                      "API server refuses the class")  # fmt: skip
            continue
        if key not in rules.KNOWN_PARAMETERS:
            meant = rules.case_trap(str(key), rules.KNOWN_PARAMETERS)
            if meant:
                report.at(catalog.SPC_INVALID, path, f"parameter {key} is ignored (names are case-sensitive): did "
                          f"you mean {meant}?")  # fmt: skip
            else:
                report.at(catalog.SPC_IGNORED, path, f"unknown parameter {key} is ignored by the provider")
            continue
        out[str(key)] = value.strip()
    for key, value in out.items():
        if key != "objects" and value and is_placeholder(value):
            report.at(catalog.SPC_PLACEHOLDER, ("spec", "parameters", key), f"{key} is a template placeholder: not "
                      "checked")  # fmt: skip
    return out


def _held(params: Mapping[str, str], key: str) -> bool:
    return is_placeholder(params.get(key, ""))


def _azure(report: _Report, raw: Mapping[str, Any]) -> set[str] | None:
    """The Azure provider's parameters; the mounted file names, or None when unknown."""
    params = _parameters(report, raw)

    def at(key: str) -> tuple[str, ...]:
        return ("spec", "parameters", key)

    vault = params.get("keyvaultName", "")
    if not vault:
        report.at(catalog.SPC_INVALID, at("keyvaultName"), "keyvaultName is not provided: the provider refuses it")
    elif not _held(params, "keyvaultName") and (problem := rules.vault_name_problem(vault)):
        report.at(catalog.SPC_INVALID, at("keyvaultName"), problem)
    tenant_key = "tenantID" if params.get("tenantID") else "tenantId"
    tenant = params.get(tenant_key, "")
    if not tenant:
        report.at(catalog.SPC_INVALID, at("tenantID"), "tenantID is not provided: the provider refuses it")
    else:
        if not _held(params, tenant_key) and (problem := rules.tenant_problem(tenant)):
            report.at(catalog.SPC_INVALID, at(tenant_key), problem)
        if tenant_key == "tenantId":
            report.at(catalog.SPC_DEPRECATED, at("tenantId"), "tenantId is deprecated: use tenantID")
    cloud = params.get("cloudName", "")
    if cloud and not _held(params, "cloudName"):
        if cloud.upper() == STACK_CLOUD:
            if not params.get("cloudEnvFileName"):
                report.at(catalog.SPC_IGNORED, at("cloudName"), "AzureStackCloud reads its endpoints from "
                          "cloudEnvFileName, which is not set")  # fmt: skip
        elif cloud.upper() not in PROVIDER_CLOUDS:
            report.at(
                catalog.SPC_INVALID,
                at("cloudName"),
                f"cloudName {cloud!r} is not a cloud the provider knows "
                "(AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud, AzureGermanCloud, AzureStackCloud)",
            )
    if params.get("cloudEnvFileName") and cloud.upper() != STACK_CLOUD:
        report.at(catalog.SPC_IGNORED, at("cloudEnvFileName"), "cloudEnvFileName is read only with cloudName "
                  "AzureStackCloud")  # fmt: skip
    _identity(report, params)
    items = _objects(report, raw)
    if items is None:
        return None
    for item in items:
        _check_item(report, item)
    known = [item for item in items if not item.placeholders & {"objectName", "objectAlias"}]
    # The same file twice, or one inside another's file or versions: the check `sealkit csi generate` makes.
    written = [
        (
            item.fields.get("objectName") or f"objects item {item.index + 1}",
            item.fields.get("objectAlias") or item.fields.get("objectName", ""),
            item.history,
        )
        for item in known
    ]
    for i, message in rules.file_collisions(written):
        report.add(catalog.SPC_INVALID, known[i].line, f"objects item {known[i].index + 1}: {message}")
    if len(known) != len(items):
        return None
    return {rules.synced_file(file, history) for _, file, history in written}  # what secretObjects can name


def _identity(report: _Report, params: Mapping[str, str]) -> None:
    def at(key: str) -> tuple[str, ...]:
        return ("spec", "parameters", key)

    enabled: list[str] = []
    for flag in rules.IDENTITY_FLAGS:
        if flag not in params or _held(params, flag):
            continue
        value = parse_bool(params[flag])
        if value is None:
            report.at(catalog.SPC_INVALID, at(flag), f"{flag} must be true or false (Go's ParseBool: true, false, 1, "
                      "0, t, f...): the provider refuses the mount")  # fmt: skip
        elif value:
            enabled.append(flag)
    if len(enabled) > 1:
        report.at(catalog.SPC_INVALID, at(enabled[1]), f"two identity modes at once ({', '.join(enabled)}): the "
                  "provider refuses the mount")  # fmt: skip
    if "usePodIdentity" in enabled:
        report.at(catalog.SPC_DEPRECATED, at("usePodIdentity"), "pod identity (aad-pod-identity) is deprecated: use "
                  "workload identity (clientID)")  # fmt: skip
    client = params.get("clientID", "")
    if client:
        if not _held(params, "clientID") and (problem := rules.uuid_problem(client, "clientID")):
            report.at(catalog.SPC_INVALID, at("clientID"), problem)
        other = [f for f in enabled if f in ("usePodIdentity", "useVMManagedIdentity")]
        if other:
            report.at(
                catalog.SPC_INVALID,
                at("clientID"),
                f"clientID (workload identity) together with {other[0]}: "
                "two identity modes at once; the provider then also needs a workload-identity token",
            )
    elif "useAzureTokenProxy" in enabled:
        report.at(catalog.SPC_INVALID, at("useAzureTokenProxy"), "useAzureTokenProxy needs clientID: the provider "
                  "refuses the mount")  # fmt: skip
    assigned = params.get("userAssignedIdentityID", "")
    if assigned:
        if "useVMManagedIdentity" not in enabled:
            report.at(catalog.SPC_INVALID, at("userAssignedIdentityID"), "userAssignedIdentityID is ignored unless "
                      "useVMManagedIdentity is true: another identity would be used")  # fmt: skip
        elif not _held(params, "userAssignedIdentityID") and (
            problem := rules.uuid_problem(assigned, "userAssignedIdentityID")
        ):
            report.at(catalog.SPC_INVALID, at("userAssignedIdentityID"), problem)


def _sync(report: _Report, entries: Any, files: set[str] | None) -> None:
    """The driver's secretObjects: secretName, type and data each needed; names and keys trimmed."""
    if entries is None:
        return
    base: tuple[str | int, ...] = ("spec", "secretObjects")
    if not isinstance(entries, list):
        report.at(catalog.SPC_INVALID, base, "secretObjects must be a list")
        return
    names: set[str] = set()
    for i, entry in enumerate(entries):
        where = (*base, i)
        if not isinstance(entry, Mapping):
            report.at(catalog.SPC_INVALID, where, f"secretObjects[{i}] must be a map")
            continue
        name = entry.get("secretName")
        label = f"secretObjects[{i}]"
        if not isinstance(name, str) or not name.strip():
            report.at(catalog.SPC_INVALID, (*where, "secretName"), f"{label}.secretName is required: the driver "
                      "skips the entry")  # fmt: skip
        elif name.strip() in names:
            report.at(catalog.SPC_INVALID, (*where, "secretName"), f"Secret {name.strip()!r} is synced twice in "
                      "this class: the last entry wins")  # fmt: skip
        else:
            names.add(name.strip())
        secret_type = entry.get("type")
        if not isinstance(secret_type, str) or not secret_type:
            report.at(catalog.SPC_INVALID, (*where, "type"), f"{label}.type is required (e.g. Opaque): the driver "
                      "skips the entry")  # fmt: skip
        data = entry.get("data")
        if not isinstance(data, list) or not data:
            report.at(catalog.SPC_INVALID, (*where, "data"), f"{label}.data needs at least one {{objectName, key}}")
            continue
        keys: list[str] = []
        for j, row in enumerate(data):
            row_where = (*where, "data", j)
            if not isinstance(row, Mapping):
                report.at(catalog.SPC_INVALID, row_where, f"{label}.data[{j}] must be a map of objectName and key")
                continue
            key, object_name = row.get("key"), row.get("objectName")
            key = key.strip() if isinstance(key, str) else ""
            object_name = object_name.strip() if isinstance(object_name, str) else ""
            if not key:
                report.at(catalog.SPC_INVALID, (*row_where, "key"), f"{label}.data[{j}].key is required")
            elif key in keys:
                report.at(catalog.SPC_INVALID, (*row_where, "key"), f"{label}.data key {key!r} appears twice: the "
                          "last wins")  # fmt: skip
            else:
                keys.append(key)
            if not object_name:
                report.at(catalog.SPC_INVALID, (*row_where, "objectName"), f"{label}.data[{j}].objectName is required")
            elif files is not None and object_name not in files and not is_placeholder(object_name):
                versions = ""
                if f"{object_name}/0" in files:
                    versions = (f" ({object_name!r} is the directory of an object's versions, objectVersionHistory "
                                f"above 1: its newest is {object_name + '/0'!r})")  # fmt: skip
                report.at(catalog.SPC_INVALID, (*row_where, "objectName"), f"{label}.data[{j}].objectName "
                          f"{object_name!r} is not a mounted file (the alias when set, else the object name)"
                          f"{versions}: expected one of {', '.join(sorted(files)) or 'none'}")  # fmt: skip
        if isinstance(secret_type, str) and not is_placeholder(secret_type):
            # The driver trims the type (then splits tls.crt/tls.key for kubernetes.io/tls); the API server
            # checks the keys (and annotation) the type requires.
            annotations = entry.get("annotations")
            annotations = annotations if isinstance(annotations, Mapping) else None
            for part, problem in rules.sync_type_problems(secret_type.strip(), keys, annotations):
                report.at(catalog.SPC_INVALID, (*where, part if part in entry else "type"), problem)


def check_spc(manifest: Manifest) -> Iterator[Hit]:
    """SK301/SK305/SK306/SK307 for one SecretProviderClass."""
    if not is_spc(manifest):
        return
    report = _Report(manifest)
    try:
        _check(report)
    except _SHAPE_ERRORS:
        report.at(catalog.SPC_INVALID, ("spec",), "fields have types the driver cannot read")
    yield from report.hits


def _check(report: _Report) -> None:
    manifest = report.manifest
    version = manifest.api_version.partition("/")[2]
    if version not in SERVED_VERSIONS:
        report.at(catalog.SPC_INVALID, ("apiVersion",), f"{manifest.api_version} is not served by the driver "
                  f"(use {GROUP}/v1)")  # fmt: skip
    elif (note := SERVED_VERSIONS[version]) is not None:
        report.at(catalog.SPC_DEPRECATED, ("apiVersion",), f"{manifest.api_version} is {note}")
    spec = manifest.obj.get("spec")
    if not isinstance(spec, Mapping):
        report.at(catalog.SPC_INVALID, ("spec",), "spec is required")
        return
    provider = spec.get("provider")
    if not isinstance(provider, str) or not provider.strip():
        report.at(catalog.SPC_INVALID, ("spec", "provider"), "spec.provider is required")
        return
    params = spec.get("parameters")
    if params is not None and not isinstance(params, Mapping):
        report.at(catalog.SPC_INVALID, ("spec", "parameters"), "spec.parameters must be a map of strings")
        return
    files: set[str] | None = None
    if provider == AZURE:
        files = _azure(report, params or {})
    elif provider == VAULT:
        files = _vault(report, params or {})
    elif provider.strip().lower() in (AZURE, VAULT):
        report.at(catalog.SPC_INVALID, ("spec", "provider"), f"provider {provider!r} matches no installed provider "
                  f"(names are case-sensitive): use {provider.strip().lower()}")  # fmt: skip
    _sync(report, spec.get("secretObjects"), files)


# --- the HashiCorp Vault provider ----------------------------------------------------------------

_VAULT_RULES = {
    rules.INVALID: catalog.SPC_INVALID,
    rules.IGNORED: catalog.SPC_IGNORED,
    rules.INSECURE: catalog.SPC_INSECURE,
}
_OBJECT_PATH = re.compile(r"objects\[(\d+)\](?:\.(.+))?")


class _VaultLines:
    """File lines of the `objects` list's items and their keys (the list is one YAML string)."""

    def __init__(self, manifest: Manifest, text: object) -> None:
        self.lines = _Lines(manifest)
        self.items: list[yaml.Node] = []
        try:
            node = yaml.compose(text, Loader=_LOADER) if isinstance(text, str) else None
        except (yaml.YAMLError, RecursionError):
            node = None
        if isinstance(node, yaml.SequenceNode):
            self.items = list(node.value)

    def at(self, index: int, key: str | None) -> int:
        if index >= len(self.items):
            return self.lines.key_line
        item = self.items[index]
        if key and isinstance(item, yaml.MappingNode):
            for key_node, _ in item.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                    return self.lines.outer(int(key_node.start_mark.line))
        return self.lines.outer(int(item.start_mark.line))


def _named(key: str, message: str) -> str:
    """`key message`, unless the message already starts with the key's name."""
    return message if message.startswith(key) else f"{key} {message}"


def _vault(report: _Report, raw: Mapping[str, Any]) -> set[str] | None:
    """The Vault provider's rules (`sealkit.csi.hashicorp.rules`) as findings; the file names, or None."""
    held = {str(k) for k, v in raw.items() if isinstance(v, str) and k != "objects" and is_placeholder(v)}
    for key in sorted(held):
        report.at(catalog.SPC_PLACEHOLDER, ("spec", "parameters", key), f"{key} is a template placeholder: not checked")
    parsed = vault_rules.parse_objects(raw.get("objects"))
    held_items: set[str] = set()
    for item in parsed.items:
        for key, value in item.fields.items():
            if value and is_placeholder(value):
                held_items.add(f"objects[{item.index}].{key}")
    problems, files = vault_rules.provider_problems(raw, "")
    lines = _VaultLines(report.manifest, raw.get("objects"))
    for problem in problems:
        path = problem.path.lstrip(".")
        if path in held or path in held_items:
            continue
        rule = _VAULT_RULES[problem.kind]
        if match := _OBJECT_PATH.fullmatch(path):
            index, key = int(match.group(1)), match.group(2)
            text = _named(key, problem.message) if key else problem.message
            report.add(rule, lines.at(index, key), f"objects item {index + 1}{':' if key else ''} {text}")
        elif path:
            report.at(rule, ("spec", "parameters", path), _named(path, problem.message))
        else:
            report.at(rule, ("spec", "parameters"), f"parameters {problem.message}")
    for held_path in sorted(held_items):
        match = _OBJECT_PATH.fullmatch(held_path)
        assert match is not None
        index, key = int(match.group(1)), match.group(2)
        report.add(catalog.SPC_PLACEHOLDER, lines.at(index, key), f"objects item {index + 1}: {key} is a template "
                   "placeholder: not checked")  # fmt: skip
    if files is None or any(p.endswith(".objectName") for p in held_items):
        return None
    return files
