"""The controller's copy of a watched SealedSecret: what later attempts read back, kept small.

`Controller` keeps each SealedSecret's last body (in `Tracked`, or parked when out of scope) for the attempts
no watch event starts: retries, a deleted Secret re-created, new keys. As the watch delivers it, a body
carries what no attempt reads (`metadata.managedFields`; kubectl's last-applied-configuration annotation, a
second copy of the whole object, ciphertext included) and a string of its own for every key of every
mapping (the JSON decoder shares them only within one response). `compact` keeps the rest, with the keys
and short values interned (one string for all objects), and shares the status this controller wrote when
the watch brings the same one back, so that a converged object holds one status, not two.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

DROPPED_METADATA = frozenset({"managedFields"})
DROPPED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})
# Strings up to this length are interned (names, reasons, times, versions); ciphertexts are never this short.
SHORT = 32
_SCALARS = frozenset({int, float, bool, type(None)})


def compact(body: Mapping[str, Any], written_status: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A copy of `body` without what reconciling never reads; `written_status` replaces an equal status."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "metadata" and isinstance(value, Mapping):
            value = _metadata(value)
        elif key == "status" and written_status is not None and value == written_status:
            value = written_status
        else:
            value = _shared(value)
        out[_key(key)] = value
    return out


def _metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if key in DROPPED_METADATA:
            continue
        if key == "annotations" and isinstance(value, Mapping):
            out[_key(key)] = {_key(k): _shared(v) for k, v in value.items() if k not in DROPPED_ANNOTATIONS}
        else:
            out[_key(key)] = _shared(value)
    return out


def _key(key: Any) -> Any:
    return sys.intern(key) if type(key) is str else key


def _shared(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return sys.intern(value) if len(value) <= SHORT else value
    if kind is dict:  # what JSON gives: checked before the costlier ABC test below
        return {_key(k): _shared(v) for k, v in value.items()}
    if kind is list:
        return [_shared(v) for v in value]
    if kind in _SCALARS:
        return value
    if isinstance(value, Mapping):
        return {_key(k): _shared(v) for k, v in value.items()}
    return value
