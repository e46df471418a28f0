"""Server-side printing: `meta.k8s.io/v1` Table answers for `kubectl get` (Accept: ...;as=Table;...).

Why: kubectl asks the server for a Table and prints its columns; without one it falls back to NAME/AGE,
so `kubectl get secrets` or `kubectl get sealedsecrets` would not look as on a cluster. Columns follow
the real printers: CRDs use their `additionalPrinterColumns` (apiextensions-apiserver tableconvertor:
Name first, dates as ages, missing values null), a few builtins their columns from
pkg/printers/internalversion/printers.go, everything else the default Name / Created At
(apiserver pkg/registry/rest/table.go).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any

from .resources import ResourceDef

NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace.",
    "priority": 0,
}


def wants_table(accept: str) -> bool:
    return "as=Table" in accept and "g=meta.k8s.io" in accept


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24 % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def age(timestamp: Any) -> str:
    if not isinstance(timestamp, str) or not timestamp:
        return "<unknown>"
    try:
        when = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<invalid>"
    return human_duration((datetime.datetime.now(datetime.UTC) - when).total_seconds())


# --- JSONPath as printer columns use it (.a.b, [0], ['k'], [?(@.f=="v")], [*]) -----------------------------

_STEP = re.compile(r"""\.([^.\[]+)|\[(\d+|\*)\]|\['([^']*)'\]|\[\?\(@\.([\w.-]+)\s*==\s*["']([^"']*)["']\)\]""")


def jsonpath(obj: Any, path: str) -> Any:
    """The first value `path` selects in `obj`, or None."""
    nodes = [obj]
    text = path.strip().removeprefix("{").removesuffix("}").removeprefix("$")
    pos = 0
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None:
            return None
        pos = match.end()
        key, index, quoted, filter_key, filter_value = match.groups()
        found: list[Any] = []
        for node in nodes:
            if key is not None or quoted is not None:
                name = key if key is not None else quoted
                if isinstance(node, Mapping) and name in node:
                    found.append(node[name])
            elif index is not None and isinstance(node, list):
                found.extend(node if index == "*" else node[int(index) : int(index) + 1])
            elif filter_key is not None and isinstance(node, list):
                found.extend(
                    item
                    for item in node
                    if isinstance(item, Mapping) and str(jsonpath(item, "." + filter_key)) == filter_value
                )
        nodes = found
    return nodes[0] if nodes else None


def _cell(kind: str, value: Any) -> Any:
    """apiextensions' cellForJSONValue: typed values, dates as ages, anything else null."""
    if value is None:
        return None
    if kind == "integer" and isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "date" and isinstance(value, str):
        return age(value)
    return None


# --- column sets ---------------------------------------------------------------------------------------------

Column = tuple[dict[str, Any], Callable[[Mapping[str, Any]], Any]]


def _col(name: str, kind: str, value: Callable[[Mapping[str, Any]], Any], priority: int = 0) -> Column:
    return {"name": name, "type": kind, "format": "", "description": "", "priority": priority}, value


def _created(obj: Mapping[str, Any]) -> Any:
    return age((obj.get("metadata") or {}).get("creationTimestamp"))


def _involved(obj: Mapping[str, Any]) -> str:
    ref = obj.get("involvedObject") or {}
    return f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}"


_BUILTIN: dict[tuple[str, str], list[Column]] = {
    ("", "secrets"): [
        _col("Type", "string", lambda o: o.get("type", "Opaque")),
        _col("Data", "string", lambda o: len(o.get("data") or {})),
        _col("Age", "string", _created),
    ],
    ("", "configmaps"): [
        _col("Data", "string", lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
        _col("Age", "string", _created),
    ],
    ("", "namespaces"): [
        _col("Status", "string", lambda o: (o.get("status") or {}).get("phase", "")),
        _col("Age", "string", _created),
    ],
    ("", "serviceaccounts"): [
        _col("Secrets", "string", lambda o: len(o.get("secrets") or [])),
        _col("Age", "string", _created),
    ],
    ("coordination.k8s.io", "leases"): [
        _col("Holder", "string", lambda o: (o.get("spec") or {}).get("holderIdentity", "")),
        _col("Age", "string", _created),
    ],
    ("", "events"): [
        _col("Last Seen", "string", lambda o: age(o.get("lastTimestamp") or o.get("eventTime"))),
        _col("Type", "string", lambda o: o.get("type", "")),
        _col("Reason", "string", lambda o: o.get("reason", "")),
        _col("Object", "string", _involved),
        _col("Message", "string", lambda o: o.get("message", "")),
    ],
}

_DEFAULT: list[Column] = [
    _col("Created At", "date", lambda o: (o.get("metadata") or {}).get("creationTimestamp")),
]


def _column_value(kind: str, path: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda obj: _cell(kind, jsonpath(obj, path))


def _crd_columns(res: ResourceDef) -> list[Column]:
    specs = res.printer_columns or ({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},)
    columns: list[Column] = []
    for spec in specs:
        kind, path = str(spec.get("type", "string")), str(spec.get("jsonPath", ""))
        definition = {
            "name": spec.get("name", ""),
            "type": kind,
            "format": spec.get("format", ""),
            "description": spec.get("description", ""),
            "priority": int(spec.get("priority", 0)),
        }
        columns.append((definition, _column_value(kind, path)))
    return columns


def columns_for(res: ResourceDef) -> list[Column]:
    if res.custom:
        return _crd_columns(res)
    return _BUILTIN.get(res.storage_key, _DEFAULT)


def table(
    res: ResourceDef, items: list[Mapping[str, Any]], list_meta: Mapping[str, Any], include: str = "Metadata"
) -> dict[str, Any]:
    """A Table of `items`; `include` is the includeObject parameter (None, Metadata, Object)."""
    columns = columns_for(res)
    rows = []
    for obj in items:
        row: dict[str, Any] = {"cells": [(obj.get("metadata") or {}).get("name")] + [fn(obj) for _, fn in columns]}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata") or {},
            }
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_meta),
        "columnDefinitions": [NAME_COLUMN] + [definition for definition, _ in columns],
        "rows": rows,
    }
