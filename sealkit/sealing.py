"""Secret -> SealedSecret, the way kubeseal does it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sealkit import hybrid
from sealkit.bitnami import (
    API_VERSION,
    CLUSTER_WIDE_ANNOTATION,
    KIND,
    LAST_APPLIED_ANNOTATIONS,
    NAMESPACE_WIDE_ANNOTATION,
)
from sealkit.errors import InputError
from sealkit.keys import SealingCertificate
from sealkit.manifest import check_data_key, decode_base64, encode_base64, metadata_of, string_map
from sealkit.scope import Scope, label_for, scope_annotations, scope_from_annotations

_SCOPE_ANNOTATIONS = (CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION)


@dataclass(frozen=True)
class Target:
    """Where a sealed value is meant to open: the label inputs."""

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
        raise InputError(f"{where}: no namespace: give -n/--namespace or use --scope cluster-wide")
    if scope is Scope.STRICT and not name:
        raise InputError(f"{where}: no name: give --name (strict scope binds the value to a name)")
    return Target(scope, namespace or "", name or "")


def secret_items(secret: Mapping[str, Any], where: str) -> dict[str, bytes]:
    """The Secret's values as bytes: `data` decoded, then `stringData` (which wins on a clash)."""
    items: dict[str, bytes] = {}
    data = secret.get("data")
    if data is not None and not isinstance(data, Mapping):
        raise InputError(f"{where}: data is not a mapping")
    for key, value in (data or {}).items():
        check_data_key(str(key), where)
        items[str(key)] = decode_base64(value if value is not None else "", f"{where}: data.{key}")
    for key, value in string_map(secret.get("stringData"), where, "stringData").items():
        check_data_key(key, where)
        items[key] = value.encode()
    return items


def _template_metadata(meta: Mapping[str, Any], name: str, namespace: str | None, where: str) -> dict[str, Any]:
    labels = string_map(meta.get("labels"), where, "metadata.labels")
    annotations = {
        k: v
        for k, v in string_map(meta.get("annotations"), where, "metadata.annotations").items()
        if k not in LAST_APPLIED_ANNOTATIONS and k not in _SCOPE_ANNOTATIONS
    }
    out: dict[str, Any] = {"name": name}
    if namespace:
        out["namespace"] = namespace
    if labels:
        out["labels"] = labels
    if annotations:
        out["annotations"] = annotations
    return out


def seal_secret(
    secret: Mapping[str, Any],
    cert: SealingCertificate,
    *,
    scope: Scope | None = None,
    name: str | None = None,
    namespace: str | None = None,
    allow_empty_data: bool = False,
    where: str = "input",
) -> dict[str, Any]:
    """Seal a Secret into a SealedSecret: scope from `scope`, else the Secret's annotations, else strict.

    `namespace` fills in a missing one and must agree with the Secret's when both are set.
    """
    if not isinstance(secret, Mapping):
        raise InputError(f"{where}: not a Kubernetes object")
    kind, api_version = secret.get("kind"), secret.get("apiVersion")
    if kind != "Secret" or api_version not in ("v1", None):
        raise InputError(f"{where}: a {api_version or '?'}/{kind or '?'} is not a v1 Secret")
    meta = metadata_of(secret, where)
    final_name = name or meta.get("name")
    if not final_name or not isinstance(final_name, str):
        raise InputError(f"{where}: the Secret has no metadata.name (give --name)")
    own_namespace = meta.get("namespace")
    if own_namespace and namespace and own_namespace != namespace:
        raise InputError(f"{where}: the Secret's namespace {own_namespace!r} differs from --namespace {namespace!r}")
    final_namespace = own_namespace or namespace or None
    effective_scope = scope or scope_from_annotations(
        string_map(meta.get("annotations"), where, "metadata.annotations")
    )
    target = resolve_target(effective_scope, final_name, final_namespace, where)

    items = secret_items(secret, where)
    if not items and not allow_empty_data:
        raise InputError(f"{where}: the Secret has no data or stringData (pass --allow-empty-data to seal it anyway)")

    template: dict[str, Any] = {"metadata": _template_metadata(meta, final_name, final_namespace, where)}
    template["type"] = secret.get("type") or "Opaque"
    if secret.get("immutable") is not None:
        template["immutable"] = bool(secret.get("immutable"))

    outer: dict[str, Any] = {"name": final_name}
    if final_namespace:
        outer["namespace"] = final_namespace
    if annotations := scope_annotations(effective_scope):
        outer["annotations"] = annotations
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": outer,
        "spec": {
            "encryptedData": {key: seal_value(cert, items[key], target) for key in sorted(items)},
            "template": template,
        },
    }
