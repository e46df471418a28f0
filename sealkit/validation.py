"""What the API server refuses in a Secret, as one set of checks for `seal`, `lint` and the controller.

Where it sits: the core. `sealkit seal` checks every field it copies into a SealedSecret in clear;
`sealkit lint` (SK209) and the controller check a SealedSecret's template and item keys before a
Secret is built from it, so a bad template becomes a clear finding or status condition instead of
a 422 at apply or create time.

The rules are apimachinery's (k8s.io/apimachinery pkg/util/validation, pkg/api/validation
objectmeta.go; k8s.io/kubernetes pkg/apis/core/validation ValidateSecret): names are DNS-1123
subdomains (at most 253 characters), namespaces DNS-1123 labels (at most 63), data keys
`[-._a-zA-Z0-9]+` (at most 253, not `.`/`..`, not starting with `..`), label and annotation keys
qualified names, label values at most 63 characters, annotations at most 256 KiB in all, data at
most 1 MiB in all, and the keys each well-known Secret type requires. The JSON decoder adds the
types: `type` a string, `immutable` a boolean, labels and annotations maps of strings.

A problem names the field and the rule, never the content: a bad key may be a pasted value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from sealkit.errors import InputError

MAX_NAME = 253
MAX_LABEL = 63
MAX_DATA_KEY = 253
MAX_SECRET_BYTES = 1024 * 1024  # core.MaxSecretSize
MAX_ANNOTATION_BYTES = 256 * 1024  # TotalAnnotationSizeLimitB

_DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_LABEL_RE = re.compile(_DNS_LABEL)
_DNS_SUBDOMAIN_RE = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
_QUALIFIED_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DATA_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")

SUBDOMAIN_RULE = "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253"
LABEL_RULE = "lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63"
DATA_KEY_RULE = "letters, digits, '-', '_' and '.', at most 253 characters, not '.', '..' or starting with '..'"
QUALIFIED_RULE = "an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.'"
LABEL_VALUE_RULE = "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"

# Secret types whose data the API server checks (ValidateSecret), and the keys each requires.
_REQUIRED_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "kubernetes.io/dockercfg": ((".dockercfg",),),
    "kubernetes.io/dockerconfigjson": ((".dockerconfigjson",),),
    "kubernetes.io/basic-auth": (("username", "password"),),  # one of them
    "kubernetes.io/ssh-auth": (("ssh-privatekey",),),
    "kubernetes.io/tls": (("tls.crt",), ("tls.key",)),
}
_JSON_KEYS = {"kubernetes.io/dockercfg": ".dockercfg", "kubernetes.io/dockerconfigjson": ".dockerconfigjson"}
SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"  # noqa: S105 - a Secret type
SERVICE_ACCOUNT_NAME = "kubernetes.io/service-account.name"


class Problem(NamedTuple):
    """One refusal: the field and what is wrong with it (never its content). A named tuple: cheaper to
    define than a dataclass, and `sealkit seal` defines it at every start."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidObject(InputError):
    """An object the API server would refuse (the first problem found; `problems` has them all)."""

    def __init__(self, problems: list[Problem], *, where: str | None = None) -> None:
        super().__init__(str(problems[0]), where=where)
        self.problems = problems


def raise_first(problems: list[Problem], where: str | None) -> None:
    if problems:
        raise InvalidObject(problems, where=where)


def type_name(value: Any) -> str:
    """What a value is, in YAML's words (never the value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return "date or other value"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# --- single values --------------------------------------------------------------------------------------


def is_dns_subdomain(value: str) -> bool:
    return len(value) <= MAX_NAME and _DNS_SUBDOMAIN_RE.fullmatch(value) is not None


def is_dns_label(value: str) -> bool:
    return len(value) <= MAX_LABEL and _DNS_LABEL_RE.fullmatch(value) is not None


def is_data_key(value: str) -> bool:
    return (
        len(value) <= MAX_DATA_KEY
        and _DATA_KEY_RE.fullmatch(value) is not None
        and value not in (".", "..")
        and not value.startswith("..")
    )


def is_qualified_name(value: str) -> bool:
    prefix, slash, name = value.rpartition("/")
    if slash and (not prefix or not is_dns_subdomain(prefix)):
        return False
    return len(name) <= MAX_LABEL and _QUALIFIED_RE.fullmatch(name) is not None


def is_label_value(value: str) -> bool:
    return value == "" or (len(value) <= MAX_LABEL and _QUALIFIED_RE.fullmatch(value) is not None)


def name_problems(value: Any, field: str = "metadata.name") -> list[Problem]:
    """An object name: a DNS-1123 subdomain."""
    if not isinstance(value, str):
        return [Problem(field, f"is a {type_name(value)}, not a string")]
    if not is_dns_subdomain(value):
        return [Problem(field, f"is not a valid Kubernetes name ({SUBDOMAIN_RULE} characters)")]
    return []


def namespace_problems(value: Any, field: str = "metadata.namespace") -> list[Problem]:
    """A namespace: a DNS-1123 label."""
    if not isinstance(value, str):
        return [Problem(field, f"is a {type_name(value)}, not a string")]
    if not is_dns_label(value):
        return [Problem(field, f"is not a valid namespace name ({LABEL_RULE} characters)")]
    return []


def type_problems(value: Any, field: str = "type") -> list[Problem]:
    if value is not None and not isinstance(value, str):
        return [Problem(field, f"is a {type_name(value)}, not a string")]
    return []


def immutable_problems(value: Any, field: str = "immutable") -> list[Problem]:
    if value is not None and not isinstance(value, bool):
        return [Problem(field, f"is a {type_name(value)}, not true or false")]
    return []


def _string_map(value: Any, field: str) -> tuple[list[tuple[int, Any, Any]], list[Problem]]:
    if value is None:
        return [], []
    if not isinstance(value, Mapping):
        return [], [Problem(field, f"is a {type_name(value)}, not a mapping of strings")]
    entries = [(i + 1, key, item) for i, (key, item) in enumerate(value.items())]
    problems: list[Problem] = []
    for position, key, item in entries:
        if not isinstance(key, str):
            problems.append(Problem(field, f"the {ordinal(position)} key is a {type_name(key)}, not a string"))
        elif not isinstance(item, str):
            label = key if is_qualified_name(key) else f"the {ordinal(position)} entry"
            problems.append(Problem(f"{field}[{label}]", f"is a {type_name(item)}, not a string (quote it)"))
    return entries, problems


def labels_problems(value: Any, field: str = "metadata.labels") -> list[Problem]:
    entries, problems = _string_map(value, field)
    if problems:
        return problems
    for position, key, item in entries:
        if not is_qualified_name(key):
            problems.append(Problem(field, f"the {ordinal(position)} key is not a valid label key ({QUALIFIED_RULE})"))
        elif not is_label_value(item):
            problems.append(Problem(f"{field}[{key}]", f"is not a valid label value ({LABEL_VALUE_RULE})"))
    return problems


def annotations_problems(value: Any, field: str = "metadata.annotations") -> list[Problem]:
    entries, problems = _string_map(value, field)
    if problems:
        return problems
    for position, key, _ in entries:
        if not is_qualified_name(key.lower()):
            problems.append(
                Problem(field, f"the {ordinal(position)} key is not a valid annotation key ({QUALIFIED_RULE})")
            )
    if sum(len(key.encode()) + len(item.encode()) for _, key, item in entries) > MAX_ANNOTATION_BYTES:
        problems.append(Problem(field, "are larger than 256 KiB in all"))
    return problems


def data_key_problems(keys: Iterable[Any], field: str) -> list[Problem]:
    problems: list[Problem] = []
    for position, key in enumerate(keys, start=1):
        if not isinstance(key, str):
            problems.append(Problem(field, f"the {ordinal(position)} key is a {type_name(key)}, not a string"))
        elif not is_data_key(key):
            problems.append(Problem(field, f"the {ordinal(position)} key is not a valid Secret key ({DATA_KEY_RULE})"))
    return problems


# --- a whole Secret --------------------------------------------------------------------------------------


def secret_data_problems(
    items: Mapping[str, bytes],
    secret_type: str | None,
    annotations: Mapping[str, str] | None = None,
    *,
    read_values: bool = True,
) -> list[Problem]:
    """The data as the API server checks it: 1 MiB in all, the keys the type requires, and (`read_values`)
    what the type requires a value to hold: a `.dockercfg`/`.dockerconfigjson` a JSON object. Without
    `read_values` only the names and sizes are looked at (verify: its answer must say nothing about a value
    of a SealedSecret the caller copied, whose item it can rename and whose type it can set)."""
    problems: list[Problem] = []
    if sum(len(value) for value in items.values()) > MAX_SECRET_BYTES:
        problems.append(Problem("data", "is larger than the API server's 1 MiB limit for a Secret"))
    kind = secret_type or "Opaque"
    for alternatives in _REQUIRED_KEYS.get(kind, ()):
        if not any(key in items for key in alternatives):
            needed = " or ".join(alternatives)
            problems.append(Problem("data", f"a {kind} Secret needs the key {needed}"))
    if kind == "kubernetes.io/ssh-auth" and "ssh-privatekey" in items and not items["ssh-privatekey"]:
        problems.append(Problem("data[ssh-privatekey]", "must not be empty"))
    json_key = _JSON_KEYS.get(kind)
    if json_key and json_key in items and read_values:
        import json  # only for the Secret types holding JSON; not at the CLI's start-up

        try:
            parsed = json.loads(items[json_key])
        except (ValueError, RecursionError):
            parsed = None
        if not isinstance(parsed, dict):
            problems.append(Problem(f"data[{json_key}]", "is not a JSON object"))
    if kind == SERVICE_ACCOUNT_TOKEN and not (annotations or {}).get(SERVICE_ACCOUNT_NAME):
        problems.append(Problem("metadata.annotations", f"a {kind} Secret needs the {SERVICE_ACCOUNT_NAME} annotation"))
    return problems


def metadata_problems(meta: Mapping[str, Any], prefix: str = "metadata") -> list[Problem]:
    """Labels and annotations (and name/namespace when present) of an ObjectMeta."""
    problems: list[Problem] = []
    if meta.get("name") is not None:
        problems += name_problems(meta.get("name"), f"{prefix}.name")
    if meta.get("namespace") is not None:
        problems += namespace_problems(meta.get("namespace"), f"{prefix}.namespace")
    problems += labels_problems(meta.get("labels"), f"{prefix}.labels")
    problems += annotations_problems(meta.get("annotations"), f"{prefix}.annotations")
    return problems


def template_problems(spec: Mapping[str, Any]) -> list[Problem]:
    """A SealedSecret's `spec.template` and item keys: what would make the Secret built from it invalid.

    Checks the types the CRD schema also enforces (for files not yet applied), the formats it does not
    (label keys and values, annotation keys, item keys), and the keys of `spec.encryptedData` and
    `spec.template.data`, which become the Secret's data keys.
    """
    problems: list[Problem] = []
    template = spec.get("template")
    if template is None:
        template = {}
    if not isinstance(template, Mapping):
        return [Problem("spec.template", f"is a {type_name(template)}, not a mapping")]
    meta = template.get("metadata")
    if meta is not None and not isinstance(meta, Mapping):
        problems.append(Problem("spec.template.metadata", f"is a {type_name(meta)}, not a mapping"))
    elif meta:
        problems += metadata_problems(meta, "spec.template.metadata")
    problems += type_problems(template.get("type"), "spec.template.type")
    problems += immutable_problems(template.get("immutable"), "spec.template.immutable")
    encrypted = spec.get("encryptedData")
    if isinstance(encrypted, Mapping):
        problems += data_key_problems(encrypted, "spec.encryptedData")
    data = template.get("data")
    if isinstance(data, Mapping):
        problems += data_key_problems(data, "spec.template.data")
    return problems
