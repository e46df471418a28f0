"""Key Vault CSI rules: hand-written SecretProviderClasses and CSI volumes checked with the same
rules `sealkit csi generate` applies (`sealkit.csi.rules`), and generated output against its spec."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sealkit.csi import rules
from sealkit.errors import SealkitError
from sealkit.lint import catalog, spc
from sealkit.lint.loader import Manifest
from sealkit.lint.model import Hit

WORKLOAD_KINDS = frozenset(
    {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}
)
SPEC_API_VERSION = "sealkit/v1alpha1"
SPEC_KIND = "KeyVaultCsi"

_PROBLEM_LINE = re.compile(r"^(?P<file>.*?):(?P<line>\d+): (?P<message>.*)$")


def pod_spec_path(manifest: Manifest) -> tuple[str, ...]:
    if manifest.kind == "Pod":
        return ("spec",)
    if manifest.kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    return ("spec", "template", "spec")


def is_spc(manifest: Manifest) -> bool:
    return spc.is_spc(manifest)


def is_workload(manifest: Manifest) -> bool:
    return manifest.kind in WORKLOAD_KINDS


def is_csi_spec(manifest: Manifest) -> bool:
    return manifest.api_version == SPEC_API_VERSION and manifest.kind == SPEC_KIND


# `sealkit.csi.rules` expects the shapes the API server enforces (maps where maps belong); on a
# manifest with, say, `spec: true` it raises instead of reporting. Lint reads any YAML, so those
# calls are guarded: a wrong-typed workload is left to kubectl.
_SHAPE_ERRORS = (AttributeError, TypeError, KeyError)


def check_spc(manifest: Manifest) -> Iterator[Hit]:
    """SK301/SK305-SK307: a SecretProviderClass as the driver and the Azure provider read it (`lint.spc`)."""
    yield from spc.check_spc(manifest)


def _volume_line(manifest: Manifest, problem_path: str) -> int:
    parts = problem_path.split(".")
    base = pod_spec_path(manifest)
    pod: Any = manifest.obj
    for part in base:
        pod = pod.get(part) if isinstance(pod, Mapping) else None
    volumes = pod.get("volumes") if isinstance(pod, Mapping) else None
    if len(parts) >= 2 and isinstance(volumes, list):
        for i, volume in enumerate(volumes):
            if isinstance(volume, Mapping) and str(volume.get("name")) == parts[1]:
                return manifest.line(*base, "volumes", i, *parts[2:])
    return manifest.line(*base, "volumes")


def check_csi_volumes(manifest: Manifest) -> Iterator[Hit]:
    """SK302: Secrets Store CSI volumes the driver refuses (`rules.csi_volume_problems`)."""
    if not is_workload(manifest):
        return
    try:
        problems = rules.csi_volume_problems(dict(manifest.obj))
    except _SHAPE_ERRORS:
        return
    for problem in problems:
        yield Hit(
            catalog.CSI_VOLUME_INVALID,
            _volume_line(manifest, problem.path),
            f"{manifest.kind} {manifest.name or '(unnamed)'}: {problem}",
        )


def _spec_problem(display: str, text: str) -> tuple[str, Hit]:
    match = _PROBLEM_LINE.match(text)
    if match and Path(match.group("file")).name == Path(display).name:
        return display, Hit(catalog.CSI_SPEC_INVALID, int(match.group("line")), match.group("message"))
    return display, Hit(catalog.CSI_SPEC_INVALID, 1, text)


def check_generated(spec_file: Path, display: str) -> list[tuple[str, Hit]]:
    """SK303/SK304: load the spec and compare the committed overlays with what it produces now.

    Returns (display path, hit) pairs: stale generated files are reported where they are.
    """
    from sealkit.csi import generate
    from sealkit.csi.spec import SpecError, load_spec

    try:
        plan = generate.plan(load_spec(spec_file))
        result = generate.check(plan)
    except SpecError as exc:
        return [_spec_problem(display, p) for p in exc.problems]
    except SealkitError as exc:
        return [_spec_problem(display, str(exc))]
    root = posixpath.dirname(display.replace("\\", "/"))
    run = f"run `sealkit csi generate --spec {display}`"
    out: list[tuple[str, Hit]] = []
    for diff in result.diffs:
        target = next((line[6:].rstrip("\n") for line in diff.splitlines() if line.startswith("+++ b/")), "")
        missing = "\n--- /dev/null" in "\n" + diff
        what = "is missing" if missing else "differs from what the spec produces now"
        where = posixpath.join(root, target) if target else display
        out.append((where, Hit(catalog.CSI_STALE, 1, f"generated file {what}: {run}")))
    for relpath in result.stale:
        message = f"generated file the spec no longer produces: {run}"
        out.append((posixpath.join(root, relpath), Hit(catalog.CSI_STALE, 1, message)))
    out.extend((display, Hit(catalog.CSI_STALE, 1, problem)) for problem in result.credential_problems)
    return out
