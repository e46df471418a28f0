"""Test support: open what a command produced with the matching private key, with the core's unseal."""

from __future__ import annotations

import base64
from typing import Any

from sealkit import hybrid
from sealkit.keys import KeyRing, load_private_keys
from sealkit.unsealing import unseal


def ring(*private_pems: bytes | str) -> KeyRing:
    keys = KeyRing()
    for pem in private_pems:
        for key in load_private_keys(pem.encode() if isinstance(pem, str) else pem):
            keys.add(key)
    return keys


def opened(sealed: dict[str, Any], keys: KeyRing, **where: str) -> dict[str, bytes]:
    """The Secret data a SealedSecret opens to, optionally moved to another name/namespace first."""
    obj = {**sealed, "metadata": {**sealed.get("metadata", {}), **where}}
    return {k: base64.b64decode(v) for k, v in (unseal(obj, keys).secret.get("data") or {}).items()}


def opened_raw(value: str, keys: KeyRing, label: bytes) -> bytes:
    """One `--raw` value (bare base64) opened for its scope label ("ns/name", "ns" or "")."""
    (key,) = list(keys)
    return hybrid.decrypt(key.key, base64.b64decode(value, validate=True), label)
