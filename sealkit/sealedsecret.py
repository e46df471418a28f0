"""Reading a SealedSecret object: where its values are meant to open, and what it holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sealkit.bitnami import API_VERSION, KIND
from sealkit.errors import InputError
from sealkit.manifest import metadata_of, string_map
from sealkit.scope import Scope, scope_from_annotations
from sealkit.sealing import Target


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


def parse_sealed_secret(obj: Any, where: str, *, default_namespace: str | None = None) -> SealedSecretView:
    """Validate the shape of a SealedSecret; values stay sealed."""
    if not isinstance(obj, Mapping):
        raise InputError(f"{where}: not a Kubernetes object")
    if obj.get("kind") != KIND or obj.get("apiVersion") != API_VERSION:
        raise InputError(
            f"{where}: a {obj.get('apiVersion') or '?'}/{obj.get('kind') or '?'} is not a {API_VERSION} {KIND}"
        )
    meta = metadata_of(obj, where)
    name = meta.get("name")
    if not name or not isinstance(name, str):
        raise InputError(f"{where}: the SealedSecret has no metadata.name")
    namespace = meta.get("namespace") or default_namespace or ""
    scope = scope_from_annotations(string_map(meta.get("annotations"), where, "metadata.annotations"))
    if scope is not Scope.CLUSTER_WIDE and not namespace:
        raise InputError(f"{where}: the SealedSecret has no metadata.namespace (give -n/--namespace)")
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        raise InputError(f"{where}: the SealedSecret has no spec")
    encrypted = spec.get("encryptedData") or {}
    if not isinstance(encrypted, Mapping):
        raise InputError(f"{where}: spec.encryptedData is not a mapping")
    encrypted_data = {str(k): v for k, v in encrypted.items()}
    for key, value in encrypted_data.items():
        if not isinstance(value, str):
            raise InputError(f"{where}: spec.encryptedData.{key} is not a string")
    legacy = spec.get("data")
    if legacy is not None and not isinstance(legacy, str):
        raise InputError(f"{where}: spec.data is not a string")
    if legacy and encrypted_data:
        raise InputError(f"{where}: spec.data (deprecated) and spec.encryptedData cannot be used together")
    template = spec.get("template") or {}
    if not isinstance(template, Mapping):
        raise InputError(f"{where}: spec.template is not a mapping")
    template_data = string_map(template.get("data"), where, "spec.template.data")
    uid = meta.get("uid") if isinstance(meta.get("uid"), str) else None
    return SealedSecretView(
        name=name,
        namespace=str(namespace),
        scope=scope,
        encrypted_data=encrypted_data,
        legacy_data=legacy or None,
        template=dict(template),
        uid=uid,
        where=where,
        template_data=template_data,
    )
