"""SealedSecret status inside Bitnami's CRD schema (anything else is pruned by a real API server).

`conditions[0]` is `Synced` (Bitnami's printer columns read it), then `Ready`, then kstatus' two
"abnormal-true" conditions, present only while they are True (sigs.k8s.io/cli-utils kstatus, which Flux,
Argo CD and `kubectl wait` rules follow): `Stalled` when no retry can help until something changes (no key
opens it, a bad template, an unmanaged or immutable Secret in the way, the API server refusing the Secret),
`Reconciling` while a retry is pending after API trouble. `observedGeneration` is the generation handled.
So kstatus computes Failed for a stalled object, InProgress while it is retried or a new generation waits,
and Current once it is unsealed.

A new status is produced only when something a reader can see changed: times alone never cause a write,
so Argo CD and Flux are not woken by status churn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sealkit.escrow.scheme import rfc3339

SYNCED = "Synced"
READY = "Ready"
STALLED = "Stalled"
RECONCILING = "Reconciling"
UNSEALED = "Unsealed"
ERR_UNSEAL_FAILED = "ErrUnsealFailed"
ERR_UPDATE_FAILED = "ErrUpdateFailed"
# Reasons of Stalled and Reconciling (one CamelCase word each, as kstatus wants).
UNSEAL_FAILED = "UnsealFailed"  # no key held opens it, the data is damaged, or its template does not render
INVALID_SECRET = "InvalidSecret"  # noqa: S105 - a reason; the Secret it describes breaks the API server's rules
SECRET_NOT_MANAGED = "SecretNotManaged"  # noqa: S105 - a reason, not a secret; a Secret of that name exists and is not the SealedSecret's
SECRET_IMMUTABLE = "SecretImmutable"  # noqa: S105 - a reason, not a secret; the Secret is immutable (or of another type) and would have to change
UNEXPECTED_ERROR = "UnexpectedError"  # the controller failed unexpectedly (a bug) on this object
RETRYING = "RetryingAfterError"  # API trouble (conflicts, throttling, server errors): retried with backoff
_KSTATUS = (STALLED, RECONCILING)


@dataclass(frozen=True)
class Outcome:
    """What the last reconcile of one SealedSecret came to; `reason` is one of Bitnami's event reasons.

    `stalled` (a reason) when no retry can help until the object, its Secret or the keys change;
    `reconciling` (a reason) when a retry is pending. At most one of them is set.
    """

    ok: bool
    reason: str
    message: str = ""
    stalled: str = ""
    reconciling: str = ""


def status_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """A SealedSecret's status as a mapping: an older CRD keeps any status (`x-kubernetes-preserve-unknown-fields`),
    so one written by hand may be a string or a list; that reads as no status, and the next write replaces it."""
    current = body.get("status")
    return current if isinstance(current, Mapping) else {}


def conditions_of(current: Any) -> list[Mapping[str, Any]]:
    """The conditions of a status (anything), each a mapping; a status or list of another shape has none."""
    conditions = current.get("conditions") if isinstance(current, Mapping) else None
    return [c for c in conditions if isinstance(c, Mapping)] if isinstance(conditions, list) else []


def _visible(condition: Mapping[str, Any]) -> tuple[Any, ...]:
    return (condition.get("type"), condition.get("status"), condition.get("reason"), condition.get("message") or "")


def _condition(kind: str, outcome: Outcome, message: str, old: Mapping[str, Any] | None, now: str) -> dict[str, Any]:
    status = "True" if outcome.ok else "False"
    new = {"type": kind, "status": status, "reason": outcome.reason, "message": message}
    if old is not None and _visible(old) == _visible(new):
        return {**new, **{k: old[k] for k in ("lastTransitionTime", "lastUpdateTime") if k in old}}
    transition = now if old is None or old.get("status") != status else old.get("lastTransitionTime") or now
    return {**new, "lastTransitionTime": transition, "lastUpdateTime": now}


def next_status(
    current: Any,
    generation: int | None,
    outcome: Outcome,
    now: dt.datetime,
    *,
    secret_name: str,
) -> dict[str, Any] | None:
    """The status to write, or None when the current one already says the same (`current`: as read, any shape)."""
    conditions = conditions_of(current)
    current = current if isinstance(current, Mapping) else {}
    by_type = {c.get("type"): c for c in conditions}
    stamp = rfc3339(now)
    synced_message = "" if outcome.ok else outcome.message
    ready_message = f"Secret {secret_name} is up to date" if outcome.ok else outcome.message
    synced = _condition(SYNCED, outcome, synced_message, by_type.get(SYNCED), stamp)
    ready = _condition(READY, outcome, ready_message, by_type.get(READY), stamp)
    abnormal = []
    for kind, reason in ((STALLED, outcome.stalled), (RECONCILING, outcome.reconciling)):
        if reason:  # abnormal-true: present only while True
            flag = Outcome(True, reason)
            abnormal.append(_condition(kind, flag, outcome.message, by_type.get(kind), stamp))
    others = [dict(c) for c in conditions if c.get("type") not in (SYNCED, READY, *_KSTATUS)]
    status: dict[str, Any] = {"conditions": [synced, ready, *abnormal, *others]}
    if generation is not None:
        status["observedGeneration"] = generation
    unchanged = current.get("observedGeneration") == status.get("observedGeneration") and [
        _visible(c) for c in conditions
    ] == [_visible(c) for c in status["conditions"]]
    return None if unchanged else status
