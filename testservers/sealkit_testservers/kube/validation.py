"""Field validation a real API server does on writes, with its exact wording (apimachinery v0.33).

Why: a lax test double lets a controller write objects a cluster refuses (a Secret data key with a
space, a label value with a slash, a 2 MiB Secret) and the bug surfaces only in production. Each rule
names its source: k8s.io/apimachinery `pkg/util/validation/validation.go` (the Is* checks and their
messages), `pkg/api/validation/objectmeta.go` (ObjectMeta), `pkg/util/validation/field/errors.go`
(how a problem is worded), k8s.io/kubernetes `pkg/apis/core/validation/validation.go` (ValidateSecret,
ValidateConfigMap) and `pkg/apis/coordination/validation/validation.go` (ValidateLease).

A problem is one line `<field>: <Type>: <value>: <detail>` exactly as `field.Error.Error()` prints
it; :func:`.errors.invalid` turns the lines into the 422 Status with its `details.causes`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

# --- the Is* checks (pkg/util/validation/validation.go) ---------------------------------------------------

_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)
_QNAME = re.compile(f"^{_QNAME_FMT}$")
_LABEL_VALUE_FMT = f"({_QNAME_FMT})?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_DNS_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS_LABEL = re.compile(f"^{_DNS_LABEL_FMT}$")
_DNS_SUBDOMAIN_FMT = _DNS_LABEL_FMT + r"(\." + _DNS_LABEL_FMT + ")*"
_DNS_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_DNS_SUBDOMAIN = re.compile(f"^{_DNS_SUBDOMAIN_FMT}$")
_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)
_DNS1035 = re.compile(f"^{_DNS1035_FMT}$")
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
_CONFIG_KEY = re.compile(f"^{_CONFIG_KEY_FMT}$")

MAX_SECRET_SIZE = 1024 * 1024  # core.MaxSecretSize
MAX_CONFIGMAP_SIZE = 1024 * 1024  # ValidateConfigMap compares data+binaryData with core.MaxSecretSize
TOTAL_ANNOTATION_SIZE = 256 * 1024  # TotalAnnotationSizeLimitB
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


def _max_len(length: int) -> str:
    return f"must be no more than {length} characters"


def _regex_error(message: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = [_max_len(253)] if len(value) > 253 else []
    if not _DNS_SUBDOMAIN.match(value):
        errs.append(_regex_error(_DNS_SUBDOMAIN_MSG, _DNS_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_dns1123_label(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _DNS_LABEL.match(value):
        if _DNS_SUBDOMAIN.match(value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(_DNS_LABEL_MSG, _DNS_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _DNS1035.match(value):
        errs.append(_regex_error(_DNS1035_MSG, _DNS1035_FMT, "my-name", "abc-123"))
    return errs


def is_path_segment_name(value: str) -> list[str]:
    if value in {".", ".."}:
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in "/%" if c in value]


def is_qualified_name(value: str) -> list[str]:
    """Label keys, annotation keys (lower-cased first) and finalizers."""
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend(f"prefix part {msg}" for msg in is_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len(63))
    if not _QNAME.match(name):
        errs.append("name part " + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def is_label_value(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not _LABEL_VALUE.match(value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def is_config_map_key(value: str) -> list[str]:
    errs = [_max_len(253)] if len(value) > 253 else []
    if not _CONFIG_KEY.match(value):
        errs.append(_regex_error(_CONFIG_KEY_MSG, _CONFIG_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


# --- problem lines (field/errors.go) ----------------------------------------------------------------------


def go_value(value: Any) -> str:
    """A bad value as `field.Error` prints it: strings quoted (%q), numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def invalid_value(field: str, value: Any, detail: str) -> str:
    return f"{field}: Invalid value: {go_value(value)}: {detail}"


def required(field: str, detail: str = "") -> str:
    return f"{field}: Required value: {detail}" if detail else f"{field}: Required value"


def forbidden(field: str, detail: str) -> str:
    return f"{field}: Forbidden: {detail}"


def too_long(field: str, limit: int) -> str:
    return f"{field}: Too long: may not be more than {limit} bytes"


# --- ObjectMeta (pkg/api/validation/objectmeta.go) --------------------------------------------------------

# The name rule per kind where it is not the default DNS-1123 subdomain.
_PATH_SEGMENT_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
_DNS_LABEL_KINDS = frozenset({"Namespace"})
_DNS1035_KINDS = frozenset({"Service"})


def name_errors(kind: str, name: str, *, prefix: bool = False) -> list[str]:
    """The messages for a bad `metadata.name` (or `generateName` when `prefix`) of a kind."""
    if kind in _PATH_SEGMENT_KINDS:
        return is_path_segment_name(name) if not prefix else [f"may not contain '{c}'" for c in "/%" if c in name]
    if prefix and len(name) > 1 and name.endswith("-"):
        name = name[:-2] + "a"  # maskTrailingDash
    if kind in _DNS_LABEL_KINDS:
        return is_dns1123_label(name)
    if kind in _DNS1035_KINDS:
        return is_dns1035_label(name)
    return is_dns1123_subdomain(name)


def object_meta(kind: str, meta: Mapping[str, Any], *, custom: bool) -> list[str]:
    """ValidateObjectMetaAccessor: name, generateName, labels, annotations, ownerReferences, finalizers."""
    problems: list[str] = []
    generate = meta.get("generateName")
    if isinstance(generate, str) and generate:
        problems += [
            invalid_value("metadata.generateName", generate, m) for m in name_errors(kind, generate, prefix=True)
        ]
    name = meta.get("name")
    if not name:
        problems.append(required("metadata.name", "name or generateName is required"))
    elif isinstance(name, str):
        problems += [invalid_value("metadata.name", name, m) for m in name_errors(kind, name)]
    generation = meta.get("generation")
    if isinstance(generation, int) and generation < 0:
        problems.append(invalid_value("metadata.generation", generation, "must be greater than or equal to 0"))
    problems += label_problems(meta.get("labels"))
    problems += annotation_problems(meta.get("annotations"))
    problems += owner_reference_problems(meta.get("ownerReferences"))
    problems += finalizer_problems(meta.get("finalizers"), builtin=not custom)
    return problems


def label_problems(values: Any) -> list[str]:
    problems: list[str] = []
    for key, value in (values or {}).items() if isinstance(values, Mapping) else ():
        problems += [invalid_value("metadata.labels", key, m) for m in is_qualified_name(str(key))]
        problems += [invalid_value("metadata.labels", value, m) for m in is_label_value(str(value))]
    return problems


def annotation_problems(values: Any) -> list[str]:
    if not isinstance(values, Mapping):
        return []
    problems: list[str] = []
    for key in values:
        problems += [invalid_value("metadata.annotations", key, m) for m in is_qualified_name(str(key).lower())]
    size = sum(len(str(k)) + len(str(v)) for k, v in values.items())
    if size > TOTAL_ANNOTATION_SIZE:
        problems.append(too_long("metadata.annotations", TOTAL_ANNOTATION_SIZE))
    return problems


def owner_reference_problems(refs: Any) -> list[str]:
    problems: list[str] = []
    controllers: list[str] = []
    for n, ref in enumerate(refs or []) if isinstance(refs, list) else ():
        where = f"metadata.ownerReferences[{n}]"
        if not isinstance(ref, Mapping):
            continue
        for key in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(key):
                problems.append(required(f"{where}.{key}", "must not be empty"))
        if ref.get("controller") is True:
            controllers.append(f"{ref.get('kind')}/{ref.get('name')}")
    if len(controllers) > 1:
        problems.append(
            "metadata.ownerReferences: Invalid value: "
            f'"{controllers}": Only one reference can have Controller set to true. Found "true" in '
            f"references for {controllers[0]} and {controllers[1]}"
        )
    return problems


def finalizer_problems(values: Any, *, builtin: bool) -> list[str]:
    problems: list[str] = []
    for n, value in enumerate(values or []) if isinstance(values, list) else ():
        text = str(value)
        problems += [invalid_value("metadata.finalizers", text, m) for m in is_qualified_name(text)]
        if builtin and "/" not in text and text not in STANDARD_FINALIZERS:
            problems.append(
                invalid_value(
                    f"metadata.finalizers[{n}]",
                    text,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return problems


# --- kinds ------------------------------------------------------------------------------------------------


def decoded_size(value: Any) -> int:
    try:
        return len(base64.b64decode(str(value), validate=True))
    except (binascii.Error, ValueError):
        return len(str(value))


def secret(obj: Mapping[str, Any]) -> list[str]:
    """ValidateSecret: data keys, 1 MiB in all, and the keys each well-known type requires."""
    problems: list[str] = []
    data = obj.get("data") or {}
    total = 0
    for key, value in data.items():
        problems += [invalid_value(f"data[{key}]", key, m) for m in is_config_map_key(str(key))]
        total += decoded_size(value)
    if total > MAX_SECRET_SIZE:
        problems.append(too_long("data", MAX_SECRET_SIZE))
    kind = obj.get("type") or "Opaque"
    annotations_ = (obj.get("metadata") or {}).get("annotations") or {}
    if kind == "kubernetes.io/service-account-token" and not annotations_.get("kubernetes.io/service-account.name"):
        problems.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif kind == "kubernetes.io/dockercfg" and ".dockercfg" not in data:
        problems.append(required("data[.dockercfg]"))
    elif kind == "kubernetes.io/dockerconfigjson" and ".dockerconfigjson" not in data:
        problems.append(required("data[.dockerconfigjson]"))
    elif kind == "kubernetes.io/basic-auth" and "username" not in data and "password" not in data:
        problems += [required("data[username]"), required("data[password]")]
    elif kind == "kubernetes.io/ssh-auth" and not decoded_size(data.get("ssh-privatekey", "")):
        problems.append(required("data[ssh-privatekey]"))
    elif kind == "kubernetes.io/tls":
        if "tls.crt" not in data:
            problems.append(required("data[tls.crt]"))
        if "tls.key" not in data:
            problems.append(required("data[tls.key]"))
    return problems


def config_map(obj: Mapping[str, Any]) -> list[str]:
    """ValidateConfigMap: keys of data and binaryData, no key in both, 1 MiB in all."""
    problems: list[str] = []
    data = obj.get("data") or {}
    binary = obj.get("binaryData") or {}
    total = 0
    for key, value in data.items():
        problems += [invalid_value(f"data[{key}]", key, m) for m in is_config_map_key(str(key))]
        total += len(str(value).encode())
    for key, value in binary.items():
        problems += [invalid_value(f"binaryData[{key}]", key, m) for m in is_config_map_key(str(key))]
        if key in data:
            problems.append(invalid_value(f"data[{key}]", key, "duplicate of key present in binaryData"))
        total += decoded_size(value)
    if total > MAX_CONFIGMAP_SIZE:
        problems.append(too_long("", MAX_CONFIGMAP_SIZE))  # field.NewPath(""): the whole object
    return problems


def lease(obj: Mapping[str, Any]) -> list[str]:
    """ValidateLeaseSpec: a positive duration, non-negative transitions."""
    spec = obj.get("spec") or {}
    problems: list[str] = []
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        problems.append(invalid_value("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if isinstance(transitions, int) and transitions < 0:
        problems.append(invalid_value("spec.leaseTransitions", transitions, "must be greater than or equal to 0"))
    if spec.get("preferredHolder") and not spec.get("strategy"):
        problems.append(forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"))
    return problems


def core_event(obj: Mapping[str, Any]) -> list[str]:
    """legacyValidateEvent (core/validation/events.go): core/v1 Events skip ObjectMeta validation entirely."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace") or ""
    involved = (obj.get("involvedObject") or {}).get("namespace") or ""
    problems: list[str] = []
    mismatch = (not involved and namespace not in {"", "default"}) or (involved and namespace != involved)
    if not obj.get("eventTime") and mismatch:
        problems.append(invalid_value("involvedObject.namespace", involved, "does not match event.namespace"))
    problems += [invalid_value("namespace", namespace, m) for m in is_dns1123_subdomain(namespace)]
    return problems


# Kinds whose writes skip the ObjectMeta checks (their own rule replaces them).
SKIP_OBJECT_META = frozenset({("", "events")})

KIND_RULES = {
    ("", "events"): core_event,
    ("", "secrets"): secret,
    ("", "configmaps"): config_map,
    ("coordination.k8s.io", "leases"): lease,
}
