"""The controller's sealing keys in memory: what key Secrets are held, which key seals, when to make a new one.

A `KeyStore` is the one object the unsealing workers and (later) the HTTP server share. It keeps, per key
Secret name, the keys that Secret holds, and publishes an immutable `KeyRing` snapshot on every change, so
a worker thread never sees a ring being edited. Decisions about generating keys are pure functions; the
key-Secret format is `sealkit.keysecrets`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sealkit.errors import SealkitError
from sealkit.keys import KeyRing, PrivateKey
from sealkit.keysecrets import creation_time, is_active_key_secret, keys_from_secret

logger = logging.getLogger(__name__)

EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


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
