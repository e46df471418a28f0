"""The controller's sealing keys: what key Secrets are held, which key seals, and when to make a new one.

A `KeyStore` is the one object the unsealing workers and (later) the HTTP server share. It keeps, per key
Secret name, the keys that Secret holds, and publishes an immutable `KeyRing` snapshot on every change, so
a worker thread never sees a ring being edited. Decisions about generating keys are pure functions.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sealkit.bitnami import SEALING_KEY_LABEL, SEALING_KEY_LABEL_ACTIVE
from sealkit.errors import SealkitError
from sealkit.keygen import GeneratedKey
from sealkit.keys import KeyRing, PrivateKey, load_private_keys

logger = logging.getLogger("sealkit.controller")

ACTIVE_SELECTOR = f"{SEALING_KEY_LABEL}={SEALING_KEY_LABEL_ACTIVE}"
EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def is_active_key_secret(secret: Mapping[str, Any]) -> bool:
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return labels.get(SEALING_KEY_LABEL) == SEALING_KEY_LABEL_ACTIVE


def looks_like_key_secret(secret: Mapping[str, Any]) -> bool:
    """Carries the key label at all (active or not): relabelling must be seen to drop the key."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return SEALING_KEY_LABEL in labels


def keys_from_secret(secret: Mapping[str, Any], where: str) -> list[PrivateKey]:
    """The keys in one key Secret (PKCS#1 or PKCS#8, with or without tls.crt), as the core parses backups."""
    document = {"apiVersion": "v1", "kind": "Secret", **{k: v for k, v in secret.items() if k != "kind"}}
    return load_private_keys(json.dumps(document).encode(), where)


def key_secret_manifest(
    generated: GeneratedKey,
    *,
    namespace: str,
    prefix: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A key Secret exactly as Bitnami writes one: kubernetes.io/tls, generateName, the active label."""
    metadata: dict[str, Any] = {
        "generateName": prefix,
        "namespace": namespace,
        "labels": {**(labels or {}), SEALING_KEY_LABEL: SEALING_KEY_LABEL_ACTIVE},
    }
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": metadata,
        "data": {
            "tls.crt": base64.b64encode(generated.certificate_pem).decode(),
            "tls.key": base64.b64encode(generated.private_pem).decode(),
        },
    }


def key_due(
    newest: PrivateKey | None,
    now: dt.datetime,
    *,
    renew_period: dt.timedelta,
    cutoff: dt.datetime | None,
) -> dt.datetime | None:
    """When a new key is needed: `now` or earlier means now; None means never (renewal disabled).

    No key: now. The newest key born before the cutoff: at the cutoff (now, once it has passed; a key made
    after it is born after it, so this happens once). Renewal: the newest key's NotBefore plus the renew
    period; the clock is the key's age, so restarts neither delay nor hasten renewal.
    """
    if newest is None:
        return now
    born = newest.not_before or EPOCH
    candidates = []
    # Certificates keep whole seconds: a key made just after the cutoff must not count as before it.
    if cutoff is not None and born < cutoff.replace(microsecond=0):
        candidates.append(cutoff)
    if renew_period > dt.timedelta(0):
        candidates.append(born + renew_period)
    return min(candidates) if candidates else None


def creation_time(secret: Mapping[str, Any]) -> dt.datetime | None:
    """A Secret's metadata.creationTimestamp, if readable."""
    raw = (secret.get("metadata") or {}).get("creationTimestamp")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


class KeyStore:
    """Keys by the key Secret that holds them; a fresh KeyRing snapshot after every change.

    `by_creation` is Bitnami's --key-order-priority=SecretCreationTimestamp: a key's age (which key is
    newest, and when renewal is due) is its Secret's creationTimestamp rather than its certificate's
    NotBefore, for brought-in keys whose certificates carry unrelated dates.
    """

    def __init__(self, *, by_creation: bool = False) -> None:
        self.by_creation = by_creation
        self._by_secret: dict[str, list[PrivateKey]] = {}
        self._ring = KeyRing()
        self._listeners: list[Callable[[set[str], set[str]], None]] = []

    @property
    def ring(self) -> KeyRing:
        """The current keys (a snapshot: safe to use from any thread while the store changes)."""
        return self._ring

    def newest(self) -> PrivateKey | None:
        return self._ring.newest()

    def keys_of(self, secret: Mapping[str, Any], where: str) -> list[PrivateKey]:
        """The keys of one key Secret, dated by the configured key order priority."""
        keys = keys_from_secret(secret, where)
        created = creation_time(secret) if self.by_creation else None
        if created is None:
            return keys
        return [dataclasses.replace(key, not_before=created) for key in keys]

    def secret_names(self) -> list[str]:
        return sorted(self._by_secret)

    def on_change(self, listener: Callable[[set[str], set[str]], None]) -> None:
        """Call `listener(added_fingerprints, removed_fingerprints)` after each change."""
        self._listeners.append(listener)

    def _publish(self) -> None:
        before = set(self._ring.fingerprints())
        ring = KeyRing(key for keys in self._by_secret.values() for key in keys)
        self._ring = ring
        after = set(ring.fingerprints())
        added, removed = after - before, before - after
        if added or removed:
            for listener in self._listeners:
                listener(added, removed)

    def put(self, name: str, keys: list[PrivateKey]) -> None:
        self._by_secret[name] = list(keys)
        self._publish()

    def drop(self, name: str) -> bool:
        """Forget the keys of one Secret (deleted or no longer labelled active); True if it was held."""
        if self._by_secret.pop(name, None) is None:
            return False
        self._publish()
        return True

    def observe_secret(self, secret: Mapping[str, Any], *, deleted: bool = False) -> str | None:
        """Take in a key Secret as seen by a watch; returns what happened, for the log (None: nothing)."""
        meta = secret.get("metadata") or {}
        name = str(meta.get("name") or "")
        if not name:
            return None
        if deleted or not is_active_key_secret(secret):
            if self.drop(name):
                return "deleted" if deleted else "no longer labelled active"
            return None
        where = f"key Secret {meta.get('namespace', '')}/{name}"
        try:
            keys = self.keys_of(secret, where)
        except SealkitError as exc:
            logger.warning("ignoring %s: %s", where, exc)
            self.drop(name)
            return None
        previous = {(k.fingerprint, k.not_before) for k in self._by_secret.get(name, [])}
        if previous == {(k.fingerprint, k.not_before) for k in keys}:
            return None
        self.put(name, keys)
        return "loaded"
