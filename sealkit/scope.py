"""Sealing scopes and the RSA-OAEP label each one binds a value to."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from sealkit.bitnami import CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION
from sealkit.errors import InputError


class Scope(StrEnum):
    """Where a sealed value may be opened: only this name and namespace, any name in it, anywhere."""

    STRICT = "strict"
    NAMESPACE_WIDE = "namespace-wide"
    CLUSTER_WIDE = "cluster-wide"

    @classmethod
    def parse(cls, text: str) -> Scope:
        try:
            return cls(text)
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise InputError(f"unknown scope {text!r} (choose one of: {choices})") from None


def label_for(scope: Scope, namespace: str, name: str) -> bytes:
    """The OAEP label: "ns/name" strict, "ns" namespace-wide, "" cluster-wide."""
    if scope is Scope.CLUSTER_WIDE:
        return b""
    if scope is Scope.NAMESPACE_WIDE:
        return namespace.encode()
    return f"{namespace}/{name}".encode()


def _is_true(value: object) -> bool:
    """Bitnami's test, exactly: `== "true"` (a "True" or " true" is no wider scope to its controller)."""
    return value == "true"


def scope_value_problem(annotations: Mapping[str, object] | None) -> str | None:
    """Why a Secret's scope annotations cannot be sealed as written, or None: a value other than "true" or
    "false" ("True", "yes", "1") reads as strict to the controller (and to kubeseal, which seals it strict
    without a word) while its writer most likely meant the wider scope."""
    for key in (CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION):
        value = (annotations or {}).get(key)
        if value is not None and value not in ("true", "false"):
            return f'annotation {key} must be "true" or "false" (the controller reads anything else as false)'
    return None


def scope_from_annotations(annotations: Mapping[str, object] | None) -> Scope:
    """Scope as the controller reads it: cluster-wide beats namespace-wide; neither means strict."""
    annotations = annotations or {}
    if _is_true(annotations.get(CLUSTER_WIDE_ANNOTATION)):
        return Scope.CLUSTER_WIDE
    if _is_true(annotations.get(NAMESPACE_WIDE_ANNOTATION)):
        return Scope.NAMESPACE_WIDE
    return Scope.STRICT


def scope_annotations(scope: Scope) -> dict[str, str]:
    """The annotations that record `scope` on a SealedSecret (none for strict)."""
    if scope is Scope.CLUSTER_WIDE:
        return {CLUSTER_WIDE_ANNOTATION: "true"}
    if scope is Scope.NAMESPACE_WIDE:
        return {NAMESPACE_WIDE_ANNOTATION: "true"}
    return {}
