"""The API resources the emulator serves (kmock's bundled builtins plus loaded CRDs) and their discovery."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import importlib.resources
from collections.abc import Iterator, Mapping
from typing import Any

import kmock

# Builtins whose objects carry metadata.generation (those with a spec/status split).
_NO_GENERATION_KINDS = frozenset({"Namespace", "Node", "PersistentVolume", "PersistentVolumeClaim"})


@dataclasses.dataclass(frozen=True)
class ResourceDef:
    """One group/version/plural as the API server knows it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    verbs: frozenset[str] = frozenset(
        {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
    )
    short_names: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    subresources: frozenset[str] = frozenset()
    schema: Mapping[str, Any] | None = None  # openAPIV3Schema, for CRDs only
    custom: bool = False
    selectable_fields: tuple[str, ...] = ()
    printer_columns: tuple[Mapping[str, Any], ...] = ()  # a CRD version's additionalPrinterColumns

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage_key(self) -> tuple[str, str]:
        """Objects are stored per group+plural, shared by all versions (no conversion)."""
        return (self.group, self.plural)

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def tracks_generation(self) -> bool:
        return self.custom or (self.has_status and self.kind not in _NO_GENERATION_KINDS)

    def discovery_entries(self) -> list[dict[str, Any]]:
        main: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular or self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": sorted(self.verbs),
        }
        if self.short_names:
            main["shortNames"] = sorted(self.short_names)
        if self.categories:
            main["categories"] = sorted(self.categories)
        entries = [main]
        for sub in sorted(self.subresources):
            verbs = ["get", "patch", "update"] if sub in {"status", "scale"} else ["get", "create"]
            entries.append(
                {
                    "name": f"{self.plural}/{sub}",
                    "singularName": "",
                    "namespaced": self.namespaced,
                    "kind": self.kind if sub == "status" else "Status",
                    "verbs": verbs,
                }
            )
        return entries


@functools.cache
def _builtins() -> tuple[ResourceDef, ...]:
    # kmock==0.8 ships this file; its own load_bundled() uses a deprecated importlib API.
    data = importlib.resources.files("kmock._internal").joinpath("resources.json.gz").read_bytes()
    bundle = kmock.ResourcesArray()
    bundle.load_data(gzip.decompress(data))
    found: list[ResourceDef] = []
    for ref in bundle:
        info = bundle[ref]
        if ref.group is None or ref.version is None or ref.plural is None or info.kind is None:
            continue
        found.append(
            ResourceDef(
                group=ref.group,
                version=ref.version,
                plural=ref.plural,
                kind=info.kind,
                namespaced=bool(info.namespaced),
                singular=info.singular or "",
                verbs=frozenset(info.verbs),
                short_names=frozenset(info.shortnames),
                categories=frozenset(info.categories),
                subresources=frozenset(info.subresources),
            )
        )
    return tuple(found)


class ResourceRegistry:
    """Group/version/plural -> ResourceDef, plus the discovery documents built from them."""

    def __init__(self) -> None:
        self._by_gvr: dict[tuple[str, str, str], ResourceDef] = {}

    def load_builtins(self) -> None:
        """Load the builtin resources kmock bundles (taken from a real cluster's discovery)."""
        for res in _builtins():
            self.add(res)

    def add(self, res: ResourceDef) -> None:
        self._by_gvr[(res.group, res.version, res.plural)] = res

    def remove(self, group: str, plural: str) -> None:
        for key in [k for k in self._by_gvr if k[0] == group and k[2] == plural]:
            del self._by_gvr[key]

    def get(self, group: str, version: str, plural: str) -> ResourceDef | None:
        return self._by_gvr.get((group, version, plural))

    def find_kind(self, api_version: str, kind: str) -> ResourceDef | None:
        group, _, version = api_version.rpartition("/")
        for res in self._by_gvr.values():
            if res.group == group and res.version == version and res.kind == kind:
                return res
        return None

    def __iter__(self) -> Iterator[ResourceDef]:
        return iter(list(self._by_gvr.values()))

    def group_versions(self) -> dict[str, list[str]]:
        """Non-core groups with their versions, preferred (first-registered) version first."""
        groups: dict[str, list[str]] = {}
        for group, version, _ in self._by_gvr:
            if group and version not in groups.setdefault(group, []):
                groups[group].append(version)
        return groups

    def api_versions_doc(self) -> dict[str, Any]:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
        }

    def _group_doc(self, group: str, versions: list[str]) -> dict[str, Any]:
        listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": listed, "preferredVersion": listed[0]}

    def api_groups_doc(self) -> dict[str, Any]:
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [self._group_doc(g, vs) for g, vs in sorted(self.group_versions().items())],
        }

    def group_doc(self, group: str) -> dict[str, Any] | None:
        versions = self.group_versions().get(group)
        if not versions:
            return None
        return {"kind": "APIGroup", "apiVersion": "v1", **self._group_doc(group, versions)}

    def resource_list_doc(self, group: str, version: str) -> dict[str, Any] | None:
        entries = [
            entry
            for (g, v, _), res in sorted(self._by_gvr.items())
            if (g, v) == (group, version)
            for entry in res.discovery_entries()
        ]
        if not entries:
            return None
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": entries,
        }

    def root_paths(self) -> list[str]:
        paths = {"/api", "/api/v1", "/apis", "/version", "/healthz", "/livez", "/readyz", "/openapi/v3"}
        for group, versions in self.group_versions().items():
            paths.add(f"/apis/{group}")
            paths.update(f"/apis/{group}/{v}" for v in versions)
        return sorted(paths)
