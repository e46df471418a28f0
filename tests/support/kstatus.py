"""kstatus' status computation for custom resources, as the sigs.k8s.io/cli-utils kstatus README defines it.

Test support: what Flux's health checks, Argo CD and `kubectl wait`-style tools conclude from an object's
status. No Python port exists, so this follows the README's rules for a resource with no type-specific rules:
Terminating while deletion is pending; InProgress while `status.observedGeneration` differs from
`metadata.generation`; then the abnormal-true conditions (`Reconciling` True: InProgress; `Stalled` True:
Failed); then `Ready` (True: Current, False: InProgress); with none of them, Current.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CURRENT = "Current"
IN_PROGRESS = "InProgress"
FAILED = "Failed"
TERMINATING = "Terminating"
NOT_FOUND = "NotFound"


@dataclass(frozen=True)
class Result:
    status: str
    message: str = ""
    reason: str = ""


def _conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [c for c in (obj.get("status") or {}).get("conditions") or [] if isinstance(c, Mapping)]


def compute(obj: Mapping[str, Any] | None) -> Result:
    """The kstatus status of one object (None: not found)."""
    if obj is None:
        return Result(NOT_FOUND)
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return Result(TERMINATING, "Resource scheduled for deletion")
    generation = meta.get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is not None and observed is not None and observed != generation:
        return Result(
            IN_PROGRESS,
            f"{obj.get('kind')} generation is {generation}, but latest observed generation is {observed}",
            "LatestGenerationNotObserved",
        )
    conditions = _conditions(obj)
    for condition in conditions:
        if condition.get("type") == "Reconciling" and condition.get("status") == "True":
            return Result(IN_PROGRESS, str(condition.get("message") or ""), str(condition.get("reason") or ""))
        if condition.get("type") == "Stalled" and condition.get("status") == "True":
            return Result(FAILED, str(condition.get("message") or ""), str(condition.get("reason") or ""))
    for condition in conditions:
        if condition.get("type") == "Ready":
            if condition.get("status") == "True":
                return Result(CURRENT, str(condition.get("message") or ""))
            if condition.get("status") == "False":
                return Result(IN_PROGRESS, str(condition.get("message") or ""), str(condition.get("reason") or ""))
    return Result(CURRENT, "Resource is current")
