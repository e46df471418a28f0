"""Structural-schema pruning, defaulting and basic validation of custom objects, as a real API server does.

Why: a cluster silently drops fields its CRD schema does not declare (e.g. an undeclared `status.kopf`),
so a test double that keeps them lets tests pass on writes that would vanish in production.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# metadata is decoded into ObjectMeta by the real server: anything else in it disappears.
OBJECT_META_FIELDS = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)


_ONLY: dict[tuple[int, str], tuple[Mapping[str, Any], dict[str, Any]]] = {}


def only(schema: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The root schema restricted to one top-level property (cached per schema object)."""
    cache_key = (id(schema), key)
    cached = _ONLY.get(cache_key)
    if cached is not None and cached[0] is schema:  # the schema is kept alive, so its id is not reused
        return cached[1]
    props = schema.get("properties") or {}
    found = {
        **schema,
        "properties": {key: props[key]} if key in props else {},
        "required": [r for r in schema.get("required") or [] if r == key],
    }
    _ONLY[cache_key] = (schema, found)
    return found


def prune_metadata(meta: Any) -> Any:
    if not isinstance(meta, dict):
        return meta
    return {k: v for k, v in meta.items() if k in OBJECT_META_FIELDS}


def _prune(value: Any, schema: Mapping[str, Any] | None, *, embedded: bool = False) -> Any:
    if schema is None:
        return value
    if isinstance(value, dict):
        props: Mapping[str, Any] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        embedded = embedded or bool(schema.get("x-kubernetes-embedded-resource"))
        result: dict[str, Any] = {}
        for key, item in value.items():
            if item is None and not (props.get(key) or {}).get("nullable") and (key in props or extra):
                continue  # non-nullable nulls are pruned before defaulting
            if key in props:
                result[key] = _prune(item, props[key])
            elif isinstance(extra, Mapping):
                result[key] = _prune(item, extra)
            elif embedded and key in {"apiVersion", "kind"}:
                result[key] = item
            elif embedded and key == "metadata":
                result[key] = prune_metadata(item)
            elif preserve or extra is True:
                result[key] = item
        for key, sub in props.items():  # defaulting of absent fields
            if key not in result and isinstance(sub, Mapping) and "default" in sub:
                result[key] = _prune(copy.deepcopy(sub["default"]), sub)
        return result
    if isinstance(value, list):
        items = schema.get("items")
        return [_prune(item, items if isinstance(items, Mapping) else None) for item in value]
    return value


def prune(obj: Mapping[str, Any], schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """Drop every field the openAPIV3Schema does not declare; apiVersion/kind/metadata always stay."""
    result = dict(obj)
    if schema is None:
        return result
    body = {k: v for k, v in obj.items() if k not in {"apiVersion", "kind", "metadata"}}
    pruned = _prune(body, schema)
    return {
        **{k: obj[k] for k in ("apiVersion", "kind") if k in obj},
        "metadata": prune_metadata(obj.get("metadata") or {}),
        **pruned,
    }


def dropped(before: Any, after: Any, path: str = "") -> list[str]:
    """The fields in `before` that pruning removed from `after`, as dotted paths (for fieldValidation=Strict)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key, value in before.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in after:
                if value is not None:
                    found.append(where)
            else:
                found += dropped(value, after[key], where)
        return found
    if isinstance(before, list) and isinstance(after, list):
        return [p for n, (b, a) in enumerate(zip(before, after, strict=False)) for p in dropped(b, a, f"{path}[{n}]")]
    return []


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "integer": (int,),
    "number": (int, float),
}


def validate(value: Any, schema: Mapping[str, Any] | None, path: str = "") -> list[str]:
    """Type, required and enum checks; returns the API-server-style problem lines (empty when valid)."""
    if schema is None:
        return []
    where = path or "<root>"
    problems: list[str] = []
    expected = schema.get("type")
    if value is None:
        return [] if schema.get("nullable") else [f'{where}: Invalid value: "null": must not be null']
    if schema.get("x-kubernetes-int-or-string"):
        if isinstance(value, bool) or not isinstance(value, int | str):
            problems.append(f"{where}: Invalid value: must be an integer or a string")
        return problems
    if isinstance(expected, str) and expected in _TYPES:
        ok = isinstance(value, _TYPES[expected]) and not (isinstance(value, bool) and expected != "boolean")
        if expected == "integer" and isinstance(value, float) and value.is_integer():
            ok = True
        if not ok:
            return [f'{where}: Invalid value: "{type(value).__name__}": {where} in body must be of type {expected}']
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(f'"{v}"' for v in schema["enum"])
        problems.append(f'{where}: Unsupported value: "{value}": supported values: {allowed}')
    if isinstance(value, dict):
        for key in schema.get("required") or []:
            if key not in value:
                problems.append(f"{path + '.' if path else ''}{key}: Required value")
        props: Mapping[str, Any] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key) if key in props else extra if isinstance(extra, Mapping) else None
            problems.extend(validate(item, sub, f"{path + '.' if path else ''}{key}"))
    elif isinstance(value, list):
        items = schema.get("items")
        for n, item in enumerate(value):
            problems.extend(validate(item, items if isinstance(items, Mapping) else None, f"{where}[{n}]"))
    return problems


def validate_object(obj: Mapping[str, Any], schema: Mapping[str, Any] | None) -> list[str]:
    if schema is None:
        return []
    body = {k: v for k, v in obj.items() if k not in {"apiVersion", "kind", "metadata"}}
    root = {
        **schema,
        "properties": {
            k: v for k, v in (schema.get("properties") or {}).items() if k not in {"apiVersion", "kind", "metadata"}
        },
    }
    return validate(body, root)
