"""Reading a SealedSecret object: where its values are meant to open, and what it holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sealkit.bitnami import API_VERSION, KIND
from sealkit.errors import InputError
from sealkit.manifest import metadata_of, string_map
from sealkit.scope import Scope, scope_from_annotations
from sealkit.sealing import Target, describe_kind
from sealkit.validation import is_data_key, type_name


@dataclass(frozen=True)
class SealedSecretView:
    """The parts of a SealedSecret that decide how it opens and what it becomes."""

    name: str
    namespace: str
    scope: Scope
    encrypted_data: dict[str, str]
    legacy_data: str | None
    template: dict[str, Any]
    uid: str | None
    where: str
    template_data: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> Target:
        return Target(self.scope, self.namespace, self.name)

    @property
    def template_metadata(self) -> dict[str, Any]:
        meta = self.template.get("metadata")
        return dict(meta) if isinstance(meta, Mapping) else {}


def is_sealed_secret(obj: Any) -> bool:
    return (
        isinstance(obj, Mapping)
        and obj.get("kind") == KIND
        and str(obj.get("apiVersion", "")).startswith("bitnami.com/")
    )


def listed_sealed_secrets(obj: Any) -> list[tuple[int, Any]]:
    """The SealedSecrets inside a List document (`kubectl get sealedsecrets -o yaml` writes one; `kubectl
    apply` creates each item), with their 1-based positions among the items; [] for anything else."""
    if not isinstance(obj, Mapping):
        return []
    kind, items = obj.get("kind"), obj.get("items")
    if not (isinstance(kind, str) and kind.endswith("List") and isinstance(items, list)):
        return []
    return [(n, item) for n, item in enumerate(items, start=1) if is_sealed_secret(item)]


def unreadable_list(obj: Any) -> str | None:
    """Why a List document's items cannot be read (None when they can, or it is no List): `items` that is not a
    list (kubectl cannot decode it, so a SealedSecret in it would be passed over unseen)."""
    if not isinstance(obj, Mapping):
        return None
    kind, items = obj.get("kind"), obj.get("items")
    if isinstance(kind, str) and kind.endswith("List") and items is not None and not isinstance(items, list):
        return f"a {kind} whose items is a {type_name(items)}, not a list (kubectl cannot read it)"
    return None


def item_label(key: Any, position: int) -> str:
    """An item's key for messages when it is a valid Secret key, else its position (never a value)."""
    return key if isinstance(key, str) and is_data_key(key) else f"item {position}"


def parse_sealed_secret(obj: Any, where: str, *, default_namespace: str | None = None) -> SealedSecretView:
    """Validate the shape of a SealedSecret; values stay sealed."""
    if not isinstance(obj, Mapping):
        raise InputError(f"a {type_name(obj)} is not a Kubernetes object", where=where)
    if obj.get("kind") != KIND or obj.get("apiVersion") != API_VERSION:
        raise InputError(f"a {describe_kind(obj)} is not a {API_VERSION} {KIND}", where=where)
    meta = metadata_of(obj, where)
    name = meta.get("name")
    if not name or not isinstance(name, str):
        raise InputError("the SealedSecret has no metadata.name", where=where)
    namespace = meta.get("namespace") or default_namespace or ""
    if not isinstance(namespace, str):
        raise InputError(f"metadata.namespace is a {type_name(namespace)}, not a string", where=where)
    scope = scope_from_annotations(string_map(meta.get("annotations"), where, "metadata.annotations"))
    if scope is not Scope.CLUSTER_WIDE and not namespace:
        raise InputError("the SealedSecret has no metadata.namespace, which its scope needs", where=where)
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        raise InputError("the SealedSecret has no spec", where=where)
    encrypted = spec.get("encryptedData") or {}
    if not isinstance(encrypted, Mapping):
        raise InputError(f"spec.encryptedData is a {type_name(encrypted)}, not a mapping", where=where)
    encrypted_data: dict[str, str] = {}
    for position, (key, value) in enumerate(encrypted.items(), start=1):
        if not isinstance(value, str):
            label = item_label(key, position)
            raise InputError(f"spec.encryptedData[{label}] is a {type_name(value)}, not a string", where=where)
        encrypted_data[str(key)] = value
    legacy = spec.get("data")
    if legacy is not None and not isinstance(legacy, str):
        raise InputError(f"spec.data is a {type_name(legacy)}, not a string", where=where)
    if legacy and encrypted_data:
        raise InputError("spec.data (deprecated) and spec.encryptedData cannot be used together", where=where)
    template = spec.get("template") or {}
    if not isinstance(template, Mapping):
        raise InputError(f"spec.template is a {type_name(template)}, not a mapping", where=where)
    template_data = string_map(template.get("data"), where, "spec.template.data")
    uid = meta.get("uid") if isinstance(meta.get("uid"), str) else None
    return SealedSecretView(
        name=name,
        namespace=namespace,
        scope=scope,
        encrypted_data=encrypted_data,
        legacy_data=legacy or None,
        template=dict(template),
        uid=uid,
        where=where,
        template_data=template_data,
    )
