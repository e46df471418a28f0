"""Reading an app's existing kustomize base, to check the workloads the spec names really exist.

Only what is needed without running kustomize: the `resources` a kustomization lists (files
and nested directories, recursively) and its `namespace`. Generators, components and remote
bases are not followed; patches in the base are assumed not to rename workloads.
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealkit.csi.rules import pod_spec
from sealkit.documents import load_documents
from sealkit.errors import InputError, os_reason
from sealkit.reading import read_file

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


@dataclass
class BaseResources:
    """The objects a base builds, keyed by (kind, name)."""

    objects: dict[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)

    def get(self, kind: str, name: str) -> Mapping[str, Any] | None:
        return self.objects.get((kind, name))

    def names_of(self, kind: str) -> list[str]:
        return sorted(name for k, name in self.objects if k == kind)


def _mode(path: Path) -> int | None:
    """The mode of what `path` names (symlinks followed), None when nothing is there; raises OSError when it
    cannot even be looked up (a name too long, no permission on a directory above it)."""
    try:
        return path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None


def kustomization_file(directory: Path, where: str) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        candidate = directory / name
        try:
            mode = _mode(candidate)
        except OSError as exc:
            raise InputError(f"cannot read {candidate} ({os_reason(exc)})", where=where) from None
        if mode is not None and stat.S_ISREG(mode):
            return candidate
    return None


def _read(path: Path, where: str) -> bytes:
    return read_file(path, where=f"{path} ({where})")


def _load_dir(directory: Path, out: BaseResources, seen: set[Path], where: str) -> None:
    directory = directory.resolve()
    if directory in seen:
        return
    seen.add(directory)
    kfile = kustomization_file(directory, where)
    if kfile is None:
        raise InputError(f"{directory} has no kustomization.yaml", where=where)
    docs = load_documents(_read(kfile, where), str(kfile))
    kustomization = docs[0].obj if docs else {}
    if not isinstance(kustomization, dict):
        raise InputError(f"{kfile} is not a kustomization map", where=where)
    namespace = kustomization.get("namespace")
    found = BaseResources()
    for entry in kustomization.get("resources") or []:
        if not isinstance(entry, str) or "://" in entry or entry.startswith(("github.com/", "git@")):
            continue  # remote bases are not read
        target = directory / entry
        try:
            mode = _mode(target)
        except OSError as exc:  # never a resource silently left out: the workloads checked may be in it
            raise InputError(f"{kfile} lists {entry!r}, which cannot be read ({os_reason(exc)})", where=where) from None
        if mode is not None and stat.S_ISDIR(mode):
            _load_dir(target, found, seen, where)
        elif mode is not None and stat.S_ISREG(mode):
            for doc in load_documents(_read(target, where), str(target)):
                obj = doc.obj
                if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
                    found.objects[(str(obj.get("kind")), str(obj["metadata"].get("name")))] = obj
        else:
            raise InputError(f"{kfile} lists {entry!r}, which does not exist", where=where)
    for key, obj in found.objects.items():
        if namespace and obj.get("kind") != "Namespace":
            obj = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
        out.objects[key] = obj


def load_base(directory: Path, where: str) -> BaseResources:
    """The objects the kustomization in `directory` lists, with its namespace applied."""
    out = BaseResources()
    _load_dir(directory, out, set(), where)
    return out


def containers_of(workload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The containers of a workload's pod template (CronJob: through its job template)."""
    pod = pod_spec(workload) or {}
    return [c for c in pod.get("containers") or [] if isinstance(c, dict)]
