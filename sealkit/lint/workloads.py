"""Where pod specs keep their containers, env and Secret references (paths kept for line numbers)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sealkit.lint.csi import is_workload, pod_spec_path
from sealkit.lint.loader import Manifest

CONTAINER_GROUPS = ("initContainers", "containers", "ephemeralContainers")
YamlPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SecretRef:
    """A workload's use of a Secret by name; `what` says how, for messages."""

    name: str
    path: YamlPath
    what: str


def pod_spec(manifest: Manifest) -> tuple[YamlPath, Mapping[str, Any]] | None:
    if not is_workload(manifest):
        return None
    node: Any = manifest.obj
    path = pod_spec_path(manifest)
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return (path, node) if isinstance(node, Mapping) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def containers(manifest: Manifest) -> Iterator[tuple[YamlPath, Mapping[str, Any]]]:
    found = pod_spec(manifest)
    if found is None:
        return
    base, spec = found
    for group in CONTAINER_GROUPS:
        for i, container in enumerate(_list(spec.get(group))):
            if isinstance(container, Mapping):
                yield (*base, group, i), container


def env_values(manifest: Manifest) -> Iterator[tuple[YamlPath, str, str]]:
    """(path of the value, variable name, literal value) for every `env[].value`."""
    for path, container in containers(manifest):
        for j, entry in enumerate(_list(container.get("env"))):
            if isinstance(entry, Mapping) and isinstance(entry.get("value"), str):
                yield (*path, "env", j, "value"), str(entry.get("name", "")), entry["value"]


def _required(ref: Any, key: str) -> str | None:
    if not isinstance(ref, Mapping) or ref.get("optional") is True:
        return None
    name = ref.get(key)
    return name if isinstance(name, str) and name else None


def secret_refs(manifest: Manifest) -> Iterator[SecretRef]:
    """Every non-optional Secret the pod needs: env, envFrom, volumes, CSI credentials, pull secrets."""
    found = pod_spec(manifest)
    if found is None:
        return
    base, spec = found
    for path, container in containers(manifest):
        cname = container.get("name", "?")
        for j, entry in enumerate(_list(container.get("env"))):
            if name := _required(_get(entry, "valueFrom", "secretKeyRef"), "name"):
                yield SecretRef(
                    name, (*path, "env", j, "valueFrom", "secretKeyRef", "name"), f"env {_get(entry, 'name')}"
                )
        for j, entry in enumerate(_list(container.get("envFrom"))):
            if name := _required(_get(entry, "secretRef"), "name"):
                yield SecretRef(name, (*path, "envFrom", j, "secretRef", "name"), f"envFrom of container {cname}")
    for i, volume in enumerate(_list(spec.get("volumes"))):
        vname = _get(volume, "name")
        if name := _required(_get(volume, "secret"), "secretName"):
            yield SecretRef(name, (*base, "volumes", i, "secret", "secretName"), f"volume {vname}")
        if name := _required(_get(volume, "csi", "nodePublishSecretRef"), "name"):
            yield SecretRef(name, (*base, "volumes", i, "csi", "nodePublishSecretRef", "name"), f"CSI volume {vname}")
        for k, source in enumerate(_list(_get(volume, "projected", "sources"))):
            if name := _required(_get(source, "secret"), "name"):
                yield SecretRef(
                    name, (*base, "volumes", i, "projected", "sources", k, "secret", "name"), f"volume {vname}"
                )
    for i, entry in enumerate(_list(spec.get("imagePullSecrets"))):
        if name := _required(entry, "name"):
            yield SecretRef(name, (*base, "imagePullSecrets", i, "name"), "imagePullSecrets")
