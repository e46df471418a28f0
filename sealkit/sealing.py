"""Secret -> SealedSecret, the way kubeseal does it, refusing what the API server would refuse.

Every field copied into the SealedSecret in clear (name, namespace, type, immutable, labels,
annotations) and every item key is checked by `sealkit.validation` first; errors name the field,
never its content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from sealkit import hybrid
from sealkit.bitnami import (
    API_VERSION,
    CLUSTER_WIDE_ANNOTATION,
    KIND,
    LAST_APPLIED_ANNOTATIONS,
    NAMESPACE_WIDE_ANNOTATION,
)
from sealkit.certificates import SealingCertificate
from sealkit.errors import InputError
from sealkit.manifest import decode_base64, encode_base64, metadata_of
from sealkit.scope import Scope, label_for, scope_annotations, scope_from_annotations, scope_value_problem
from sealkit.validation import (
    Problem,
    annotations_problems,
    data_key_problems,
    immutable_problems,
    labels_problems,
    name_problems,
    namespace_problems,
    raise_first,
    secret_data_problems,
    type_name,
    type_problems,
)

_SCOPE_ANNOTATIONS = (CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION)


class Target(NamedTuple):
    """Where a sealed value is meant to open: the label inputs (a named tuple: cheap to define at start)."""

    scope: Scope
    namespace: str
    name: str

    @property
    def label(self) -> bytes:
        return label_for(self.scope, self.namespace, self.name)


def seal_value(cert: SealingCertificate, value: bytes, target: Target) -> str:
    """One value sealed for `target`, as the base64 text `spec.encryptedData` holds."""
    return encode_base64(hybrid.encrypt(cert.public_key, value, target.label))


def resolve_target(scope: Scope, name: str | None, namespace: str | None, where: str = "input") -> Target:
    """Check that the scope has what its label needs: strict a name and namespace, namespace-wide a namespace."""
    if scope is not Scope.CLUSTER_WIDE and not namespace:
        raise InputError("no namespace: give -n/--namespace or use --scope cluster-wide", where=where)
    if scope is Scope.STRICT and not name:
        raise InputError("no name: give --name (strict scope binds the value to a name)", where=where)
    check_name_flags(name, namespace)
    return Target(scope, namespace or "", name or "")


def check_name_flags(name: str | None, namespace: str | None) -> None:
    """--name and --namespace as the API server checks names; the flag is where (its own value is wrong)."""
    for flag, problems in (
        ("--name", name_problems(name, "--name") if name is not None else []),
        ("--namespace", namespace_problems(namespace, "--namespace") if namespace else []),
    ):
        if problems:
            raise InputError(problems[0].message, where=flag)


def secret_items(secret: Mapping[str, Any], where: str) -> dict[str, bytes]:
    """The Secret's values as bytes: `data` decoded, then `stringData`; a key in both is refused.

    The API server merges stringData over data (stringData wins); sealkit refuses the clash instead,
    so no value is dropped without a word (docs/errors.md).
    """
    data = secret.get("data")
    string_data = secret.get("stringData")
    problems: list[Problem] = []
    if data is not None and not isinstance(data, Mapping):
        problems.append(Problem("data", f"is a {type_name(data)}, not a mapping"))
    if string_data is not None and not isinstance(string_data, Mapping):
        problems.append(Problem("stringData", f"is a {type_name(string_data)}, not a mapping"))
    raise_first(problems, where)
    data = data or {}
    string_data = string_data or {}
    raise_first(data_key_problems(data, "data") + data_key_problems(string_data, "stringData"), where)
    items: dict[str, bytes] = {}
    for key, value in data.items():
        items[key] = decode_base64(value if value is not None else "", f"data[{key}]", where=where)
    for key, value in string_data.items():
        if not isinstance(value, str):
            raise InputError(f"stringData[{key}]: is a {type_name(value)}, not a string (quote it)", where=where)
        if key in items:
            raise InputError(f"stringData[{key}]: the key is also in data (give each key once)", where=where)
        items[key] = value.encode()
    return items


def _kept_annotations(annotations: Mapping[str, str]) -> dict[str, str]:
    """What goes into the template: not the last-applied copies (they hold plaintext), not the scope."""
    return {k: v for k, v in annotations.items() if k not in LAST_APPLIED_ANNOTATIONS and k not in _SCOPE_ANNOTATIONS}


def describe_kind(obj: Mapping[str, Any]) -> str:
    """`apiVersion/kind` for messages when they have the form of an API version and a kind, else a
    description (never an arbitrary value: one may be a pasted secret)."""
    missing = [field for field in ("apiVersion", "kind") if obj.get(field) is None]
    if missing:
        return f"document without {' and '.join(missing)}"
    for field, form in (("apiVersion", _API_VERSION), ("kind", _KIND)):
        value = obj.get(field)
        if not (isinstance(value, str) and form.fullmatch(value)):
            return f"document whose {field} is not a Kubernetes {'API version' if field == 'apiVersion' else 'kind'}"
    return f"{obj['apiVersion']}/{obj['kind']}"


_API_VERSION = re.compile(r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?v[1-9][0-9]{0,2}((alpha|beta)[1-9][0-9]{0,2})?")
_KIND = re.compile(r"[A-Z][A-Za-z0-9]{0,62}")


def seal_secret(
    secret: Mapping[str, Any],
    cert: SealingCertificate,
    *,
    scope: Scope | None = None,
    name: str | None = None,
    namespace: str | None = None,
    allow_empty_data: bool = False,
    where: str = "input",
    check_data: bool = True,
) -> dict[str, Any]:
    """Seal a Secret into a SealedSecret: scope from `scope`, else the Secret's annotations, else strict.

    `namespace` fills in a missing one and must agree with the Secret's when both are set. Every field
    that goes into the SealedSecret in clear is checked as the API server would check it. `check_data=False`
    skips the data rules (size, the keys the type needs) for a caller that checked the full data itself
    and seals a copy without its values (`seal --env`'s skeleton).
    """
    if not isinstance(secret, Mapping):
        raise InputError(f"a {type_name(secret)} is not a Kubernetes object", where=where)
    kind, api_version = secret.get("kind"), secret.get("apiVersion")
    if kind != "Secret" or api_version not in ("v1", None):
        raise InputError(f"a {describe_kind(secret)} is not a v1 Secret", where=where)
    meta = metadata_of(secret, where)
    own_name, own_namespace = meta.get("name"), meta.get("namespace")
    check_name_flags(name, namespace)
    problems: list[Problem] = []
    if own_name is not None and name is None:
        problems += name_problems(own_name)
    if own_namespace is not None:
        problems += namespace_problems(own_namespace)
    problems += labels_problems(meta.get("labels"))
    problems += annotations_problems(meta.get("annotations"))
    problems += type_problems(secret.get("type"))
    problems += immutable_problems(secret.get("immutable"))
    raise_first(problems, where)
    unread = scope_value_problem(meta.get("annotations"))
    if unread:
        raise InputError(unread, where=where)
    final_name = name or own_name
    if not final_name:
        raise InputError("the Secret has no metadata.name (give --name)", where=where)
    if own_namespace and namespace and own_namespace != namespace:
        raise InputError(f"the Secret's namespace {own_namespace} differs from --namespace {namespace}", where=where)
    final_namespace = own_namespace or namespace or None
    labels: dict[str, str] = dict(meta.get("labels") or {})
    all_annotations: dict[str, str] = dict(meta.get("annotations") or {})
    annotations = _kept_annotations(all_annotations)
    effective_scope = scope or scope_from_annotations(all_annotations)
    target = resolve_target(effective_scope, final_name, final_namespace, where)
    secret_type = secret.get("type") or "Opaque"

    items = secret_items(secret, where)
    if not items and not allow_empty_data:
        raise InputError(
            "the Secret has no data or stringData (pass --allow-empty-data to seal it anyway)", where=where
        )
    if check_data:
        raise_first(secret_data_problems(items, secret_type, all_annotations), where)

    template_meta: dict[str, Any] = {"name": final_name}
    if final_namespace:
        template_meta["namespace"] = final_namespace
    if labels:
        template_meta["labels"] = labels
    if annotations:
        template_meta["annotations"] = annotations
    template: dict[str, Any] = {"metadata": template_meta, "type": secret_type}
    if secret.get("immutable") is not None:
        template["immutable"] = secret["immutable"]

    outer: dict[str, Any] = {"name": final_name}
    if final_namespace:
        outer["namespace"] = final_namespace
    if scope_labels := scope_annotations(effective_scope):
        outer["annotations"] = scope_labels
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": outer,
        "spec": {
            "encryptedData": {key: seal_value(cert, items[key], target) for key in sorted(items)},
            "template": template,
        },
    }
