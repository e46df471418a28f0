"""Which Secrets the repo provides, and which workload references nothing provides (SK401)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sealkit.csi import rules
from sealkit.lint import catalog
from sealkit.lint.csi import is_spc
from sealkit.lint.loader import Manifest
from sealkit.lint.model import Hit
from sealkit.lint.workloads import secret_refs
from sealkit.sealedsecret import is_sealed_secret


def provided_names(manifest: Manifest) -> Iterator[str]:
    """Names of the Secrets an object makes: itself, a sealed one, CSI syncs, ESO and cert-manager targets."""
    obj = manifest.obj
    spec = obj.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    if (manifest.kind == "Secret" or is_sealed_secret(obj)) and manifest.name:
        yield manifest.name
    elif is_spc(manifest):
        entries = spec.get("secretObjects")
        if isinstance(entries, list):  # rules.synced_secret_names assumes the API server's shapes
            yield from rules.synced_secret_names({"spec": {"secretObjects": entries}})
    elif manifest.kind == "ExternalSecret" and manifest.api_version.startswith("external-secrets.io/"):
        target = spec.get("target")
        name = target.get("name") if isinstance(target, Mapping) else None
        yield name if isinstance(name, str) and name else manifest.name
    elif (
        manifest.kind == "Certificate"
        and manifest.api_version.startswith("cert-manager.io/")
        and isinstance(spec.get("secretName"), str)
    ):
        yield spec["secretName"]


def generated_names(kustomization: Mapping[str, Any], namespace: str) -> Iterator[tuple[str, str]]:
    """(namespace, name) of each kustomize secretGenerator (kustomize rewrites references to its hash)."""
    for entry in kustomization.get("secretGenerator") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            ns = entry.get("namespace")
            yield (ns if isinstance(ns, str) and ns else namespace), entry["name"]


@dataclass
class Reference:
    path: str
    line: int
    namespace: str
    name: str
    message: str


@dataclass
class SecretIndex:
    """Provided Secrets by name -> namespaces ("" when unknown: it matches any namespace)."""

    provided: dict[str, set[str]] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)

    def provide(self, namespace: str, name: str) -> None:
        self.provided.setdefault(name, set()).add(namespace)

    def add_manifest(self, path: str, manifest: Manifest, namespace: str, *, refs: bool = True) -> None:
        for name in provided_names(manifest):
            self.provide(namespace, name)
        if not refs:
            return
        for ref in secret_refs(manifest):
            where = f"{namespace}/{manifest.name}" if namespace else manifest.name or "(unnamed)"
            self.references.append(
                Reference(
                    path,
                    manifest.line(*ref.path),
                    namespace,
                    ref.name,
                    f"{manifest.kind} {where} needs Secret {ref.name} ({ref.what}), but nothing in the linted "
                    "paths provides it",
                )
            )

    def missing(self, known: Iterable[tuple[str, str]] = ()) -> Iterator[tuple[str, Hit]]:
        for namespace, name in known:
            self.provide(namespace, name)
        for ref in self.references:
            namespaces = self.provided.get(ref.name)
            if namespaces is not None and ("" in namespaces or not ref.namespace or ref.namespace in namespaces):
                continue
            yield ref.path, Hit(catalog.SECRET_REF_MISSING, ref.line, ref.message)
