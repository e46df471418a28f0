"""Whether and how to write the unsealed Secret over what is already in the cluster (pure decisions).

Bitnami's rules: a Secret this SealedSecret controls is replaced; an unowned one is left alone unless it
says `sealedsecrets.bitnami.com/managed: "true"` (taken over: data, labels, annotations, owner replaced) or
`.../patch: "true"` (data, labels, annotations merged in; ownership taken only when also managed). Nothing
is written when the result equals what exists, and an immutable Secret's data is never rewritten (its
metadata is, as the API server allows).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sealkit.bitnami import GROUP, KIND, MANAGED_ANNOTATION, PATCH_ANNOTATION


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    NOTHING = "nothing"
    UNMANAGED = "unmanaged"
    IMMUTABLE = "immutable"


@dataclass(frozen=True)
class Plan:
    action: Action
    body: dict[str, Any] | None = None
    message: str = ""


def _clone(value: Any) -> Any:
    """A deep copy of JSON data (mappings, lists, scalars): what `copy.deepcopy` did here, at under half its cost."""
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _clone(item) for key, item in value.items()}
    return value


def _annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def is_managed(secret: Mapping[str, Any]) -> bool:
    return _annotations(secret).get(MANAGED_ANNOTATION) == "true"


def is_patched(secret: Mapping[str, Any]) -> bool:
    return _annotations(secret).get(PATCH_ANNOTATION) == "true"


def controlled_by(secret: Mapping[str, Any], owner_uid: str | None) -> bool:
    """Kubernetes' IsControlledBy: a controller ownerReference with this owner's uid."""
    if not owner_uid:
        return False
    refs = (secret.get("metadata") or {}).get("ownerReferences") or []
    return any(isinstance(r, Mapping) and r.get("controller") and r.get("uid") == owner_uid for r in refs)


def made_by_earlier(secret: Mapping[str, Any], name: str, owner_uid: str | None) -> bool:
    """Controlled by an earlier SealedSecret of this name (deleted, then created again: another uid)."""
    refs = (secret.get("metadata") or {}).get("ownerReferences") or []
    return any(
        isinstance(r, Mapping)
        and r.get("controller")
        and r.get("kind") == KIND
        and str(r.get("apiVersion") or "").startswith(f"{GROUP}/")
        and r.get("name") == name
        and r.get("uid") != owner_uid
        for r in refs
    )


def should_recreate(deleted_secret: Mapping[str, Any], owner_uid: str | None) -> bool:
    """A deleted Secret comes back only if the SealedSecret controlled it or it was marked managed."""
    return controlled_by(deleted_secret, owner_uid) or is_managed(deleted_secret)


def _data(secret: Mapping[str, Any]) -> dict[str, Any]:
    return dict(secret.get("data") or {})


def _comparable(secret: Mapping[str, Any]) -> tuple[Any, ...]:
    meta = secret.get("metadata") or {}
    return (
        dict(secret.get("data") or {}),
        dict(meta.get("labels") or {}),
        dict(meta.get("annotations") or {}),
        [dict(r) for r in meta.get("ownerReferences") or []],
        secret.get("type") or "Opaque",
        bool(secret.get("immutable")),
    )


def immutable_message(namespace: str, name: str) -> str:
    return (
        f"the target Secret {namespace}/{name} is immutable: its data cannot change; "
        "delete the Secret to let the controller re-create it from the SealedSecret"
    )


def unmanaged_message(name: str) -> str:
    return f'Resource "{name}" already exists and is not managed by SealedSecret'


def plan_write(
    desired: Mapping[str, Any],
    existing: Mapping[str, Any] | None,
    owner_uid: str | None,
    stamp: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Plan:
    """What to do so that the cluster holds `desired` (the core's unsealed Secret, a fresh dict handed over:
    a CREATE plan's body is `desired` itself, not a copy; an update is built on a copy of `existing`).

    `stamp` (the provenance record) is applied to the body as it would be written, before it is compared
    with `existing`: the record may cover the whole result, merged entries included."""
    finish = stamp or (lambda body: body)
    if existing is None:
        return Plan(Action.CREATE, finish(dict(desired)))
    name = str((existing.get("metadata") or {}).get("name") or "")
    namespace = str((existing.get("metadata") or {}).get("namespace") or "")
    patched = is_patched(existing)
    if not (controlled_by(existing, owner_uid) or is_managed(existing) or patched):
        return Plan(Action.UNMANAGED, message=unmanaged_message(name))
    new = _clone(existing)
    meta = new.setdefault("metadata", {})
    want_meta = desired.get("metadata") or {}
    if patched:
        new["data"] = {**(existing.get("data") or {}), **(desired.get("data") or {})}
        meta["labels"] = {**(meta.get("labels") or {}), **(want_meta.get("labels") or {})}
        meta["annotations"] = {**(meta.get("annotations") or {}), **(want_meta.get("annotations") or {})}
        if is_managed(existing):
            meta["ownerReferences"] = _clone(want_meta.get("ownerReferences") or [])
    else:
        new["data"] = dict(desired.get("data") or {})
        meta["labels"] = dict(want_meta.get("labels") or {})
        meta["annotations"] = dict(want_meta.get("annotations") or {})
        meta["ownerReferences"] = _clone(want_meta.get("ownerReferences") or [])
    new["type"] = desired.get("type") or existing.get("type") or "Opaque"
    if "immutable" in desired:
        new["immutable"] = bool(desired["immutable"])
    for key in ("labels", "annotations", "ownerReferences"):
        if not meta.get(key):
            meta.pop(key, None)
    new = finish(new)
    if _comparable(new) == _comparable(existing):
        return Plan(Action.NOTHING)
    old_type, new_type = existing.get("type") or "Opaque", new["type"]
    if old_type != new_type:
        return Plan(
            Action.IMMUTABLE,
            message=f"the target Secret {namespace}/{name} has type {old_type!r} and a Secret's type cannot "
            f"change to {new_type!r}: delete the Secret to let the controller re-create it",
        )
    if existing.get("immutable") and (not new.get("immutable") or _data(new) != _data(existing)):
        # Its data (and the flag) cannot change; its metadata can, as for any Secret: a SealedSecret re-sealed
        # with the same values (a new ciphertext, so a new provenance record) or with new labels still applies.
        return Plan(Action.IMMUTABLE, message=immutable_message(namespace, name))
    new.pop("stringData", None)
    return Plan(Action.UPDATE, new)
