"""CustomResourceDefinitions: turning a stored CRD into served resources, and reading CRD files."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any

import yaml

from .resources import ResourceDef, ResourceRegistry
from .store import Obj, Store

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


def resource_defs(crd: Mapping[str, Any]) -> list[ResourceDef]:
    """One ResourceDef per served version of a CRD, carrying its schema and subresources."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    defs: list[ResourceDef] = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subresources = frozenset((version.get("subresources") or {}).keys())
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        fields = tuple(f["jsonPath"].lstrip(".") for f in version.get("selectableFields") or [] if "jsonPath" in f)
        defs.append(
            ResourceDef(
                group=spec["group"],
                version=version["name"],
                plural=names["plural"],
                kind=names["kind"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                singular=names.get("singular") or names["kind"].lower(),
                short_names=frozenset(names.get("shortNames") or ()),
                categories=frozenset(names.get("categories") or ()),
                subresources=subresources,
                schema=schema,
                custom=True,
                selectable_fields=fields,
                printer_columns=tuple(c for c in version.get("additionalPrinterColumns") or [] if isinstance(c, dict)),
            )
        )
    return defs


def install_hook(store: Store, registry: ResourceRegistry) -> None:
    """Keep the served resources in step with the CRD objects written through the API."""

    def on_change(res: ResourceDef, etype: str, obj: Obj, old: Obj | None) -> None:
        if res.storage_key != CRD_KEY:
            return
        spec = obj.get("spec") or {}
        plural = (spec.get("names") or {}).get("plural")
        if not spec.get("group") or not plural:
            return
        registry.remove(spec["group"], plural)
        if etype != "DELETED":
            for rdef in resource_defs(obj):
                registry.add(rdef)

    store.hooks.append(on_change)


def read_crd_file(path: str | pathlib.Path) -> dict[str, Any]:
    """The CustomResourceDefinition document(s) in a YAML file (the first CRD found)."""
    text = pathlib.Path(path).read_text(encoding="utf-8")
    for doc in yaml.safe_load_all(text):
        if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
            return doc
    raise ValueError(f"{path}: no CustomResourceDefinition in the file")
