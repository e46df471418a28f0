"""The controller's sealing keys in memory: what key Secrets are held, which key seals, when to make a new one.

A `KeyStore` is the one object the unsealing workers and the HTTP server share. It keeps, per key Secret
name, the keys that Secret holds, and publishes an immutable `KeyRing` snapshot on every change, so a worker
thread never sees a ring being edited. It also knows which keys came from wrapped key Secrets (their
envelopes, for escrow) and which wrapped Secrets are known but not opened yet ("waiting": their certificates
count for renewal, so a KEK outage never makes a second key for one period). Decisions about generating keys
are pure functions; the key-Secret formats are `sealkit.keysecrets` and `sealkit.wrapping.keysecret`.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sealkit.certificates import NOT_A_CERTIFICATE, refuse_another_keys_certificate
from sealkit.errors import KeyMaterialError, SealkitError
from sealkit.keys import KeyRing, PrivateKey
from sealkit.keysecrets import creation_time, is_active_key_secret, keys_from_secret, made_by_unsealing
from sealkit.wrapping.envelope import WrappedKey

logger = logging.getLogger(__name__)

EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class Known:
    """A key known by its certificate (fingerprint and date), whether or not its private key is open."""

    fingerprint: str
    not_before: dt.datetime | None


def key_due(
    newest: PrivateKey | Known | None,
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
        # A certificate may be dated up to 9999-12-31: renewal after the calendar's end is never.
        with contextlib.suppress(OverflowError):
            candidates.append(born + renew_period)
    return min(candidates) if candidates else None


# A key Secret made by unsealing a SealedSecret (one planted before the reconciler refused such templates).
UNSEALED_KEY = "made by unsealing a SealedSecret, so not a key of this controller's (a SealedSecret may not plant one)"


def _check_certificate(key: PrivateKey, where: str) -> None:
    """A key Secret's tls.crt, if any, must be its key's certificate: it is what /v1/cert.pem serves for sealing
    (a certificate of another key would have everything sealed to a key the controller may not hold), and its
    NotBefore dates the key (which key is newest, when to renew). Checked here with the Secret as where
    (`keys_from_secret` reads without checking: escrow and renewal read key Secrets for fingerprints only)."""
    refuse_another_keys_certificate(key.certificate_pem, key.public_key, where)


def _certificate_only(key: PrivateKey) -> PrivateKey:
    """The key with its certificate alone (the first in tls.crt, the one checked), PEM-encoded afresh.

    The certificate is served on /v1/cert.pem to anyone who reaches the controller, so nothing else written
    beside it in tls.crt may go along: not a private key pasted after it, not a chain. Bitnami's controller
    also serves the first certificate re-encoded. One that does not parse (checked before it is held) is
    dropped, so nothing is served for it.
    """
    if key.certificate_pem is None:
        return key
    try:
        first = x509.load_pem_x509_certificates(key.certificate_pem)[0]
    except NOT_A_CERTIFICATE:
        return dataclasses.replace(key, certificate_pem=None)
    pem = first.public_bytes(serialization.Encoding.PEM)
    return key if pem == key.certificate_pem else dataclasses.replace(key, certificate_pem=pem)


class KeyStore:
    """Keys by the key Secret that holds them; a fresh KeyRing snapshot after every change.

    `by_creation` is Bitnami's --key-order-priority=SecretCreationTimestamp: a key's age (which key is
    newest, and when renewal is due) is its Secret's creationTimestamp rather than its certificate's
    NotBefore, for brought-in keys whose certificates carry unrelated dates.
    """

    def __init__(self, *, by_creation: bool = False) -> None:
        self.by_creation = by_creation
        self._by_secret: dict[str, list[PrivateKey]] = {}
        self._envelopes: dict[str, WrappedKey] = {}  # held wrapped key Secrets: name -> envelope
        self._verified: set[str] = set()  # those whose envelope this controller opened (or made) itself
        self._waiting: dict[str, Known] = {}  # wrapped key Secrets not opened (yet)
        self._unusable: dict[str, str] = {}  # key Secrets ignored: name -> why (no key material in it)
        self._unusable_wrapped: set[str] = set()  # those of them that are wrapped key Secrets
        self._ring = KeyRing()
        self._listeners: list[Callable[[set[str], set[str]], None]] = []
        # The last parse of each key Secret's data: the watch delivers a Secret `load` has just read (and
        # every update of it), and loading an RSA-4096 private key costs about 0.1 s of CPU, on the event loop.
        self._parsed: dict[str, tuple[Any, list[PrivateKey]]] = {}
        # The latest word on each key Secret name from the watch (or from this controller's own write or read of
        # it), numbered in order: what a listing asked for before that word must not undo (`heard_since`).
        self._heard: dict[str, int] = {}
        self._words = 0

    @property
    def ring(self) -> KeyRing:
        """The current keys (a snapshot: safe to use from any thread while the store changes)."""
        return self._ring

    def newest(self) -> PrivateKey | None:
        """The sealing key: the newest key held (open)."""
        return self._ring.newest()

    def newest_known(self) -> Known | None:
        """The newest key known, open or waiting to be unwrapped: what renewal is decided on."""
        known = [Known(k.fingerprint, k.not_before) for k in self._ring.newest_first()[:1]]
        known += self._waiting.values()
        if not known:
            return None
        return max(known, key=lambda k: k.not_before or EPOCH)

    def envelope_of(self, fingerprint: str, *, verified: bool = False) -> WrappedKey | None:
        """The wrapped form of a held key, if a wrapped key Secret holds it; one this controller opened (or
        made) itself first. `verified`: only such a one (a Secret taken by fingerprint was not opened)."""
        found = None
        for name, envelope in sorted(self._envelopes.items()):
            if envelope.fingerprint == fingerprint:
                if name in self._verified:
                    return envelope
                found = found or envelope
        return None if verified else found

    def opened(self, wrapped: WrappedKey) -> bool:
        """Whether this controller opened (or made) this very envelope, held under any key Secret name: taking it
        again by fingerprint (a listing at takeover, the watch replaying it) keeps it opened by this controller."""
        return any(self._envelopes[name].same_envelope(wrapped) for name in self._verified if name in self._envelopes)

    def secret_of(self, fingerprint: str) -> str | None:
        """A key Secret holding `fingerprint` (open or waiting)."""
        for name, keys in sorted(self._by_secret.items()):
            if any(k.fingerprint == fingerprint for k in keys):
                return name
        for name, known in sorted(self._waiting.items()):
            if known.fingerprint == fingerprint:
                return name
        return None

    def plaintext_secret_names(self) -> list[str]:
        return sorted(name for name in self._by_secret if name not in self._envelopes)

    def wrapped_secret_names(self) -> list[str]:
        return sorted(self._envelopes)

    def waiting_secret_names(self) -> list[str]:
        return sorted(self._waiting)

    def unusable_secret_names(self, *, wrapped: bool = False) -> list[str]:
        """Plaintext (`wrapped`: wrapped) key Secrets labelled active that are ignored (no usable key, another key's
        certificate, a field that does not read, made by unsealing a SealedSecret); `refuse` put them here, a usable
        version or their end takes them out. A wrapped one that reads but does not unwrap is waiting instead."""
        return sorted(name for name in self._unusable if (name in self._unusable_wrapped) == wrapped)

    def unusable_reason(self, name: str) -> str | None:
        """Why this key Secret is ignored (None: it is not an unusable one)."""
        return self._unusable.get(name)

    def refuse(self, name: str, why: str, *, wrapped: bool = False) -> None:
        """A key Secret (`wrapped`: a wrapped one) that cannot be used: its keys (of an earlier version) are dropped,
        and it counts as unusable until it holds a usable key again, is deleted or is no longer labelled active."""
        self.drop(name)
        self._unusable[name] = why
        if wrapped:
            self._unusable_wrapped.add(name)

    def heard(self, name: str) -> None:
        """The watch (or this controller's own create or read) just said what key Secret `name` is now: a listing
        asked for before this word is older than it for that name."""
        self._words += 1
        self._heard[name] = self._words

    def listing_mark(self) -> int:
        """Taken just before a listing of the key Secrets is asked for (see `heard_since`)."""
        return self._words

    def heard_since(self, name: str, mark: int) -> bool:
        """Whether something newer than a listing asked for at `mark` was heard of `name` (the listing may have
        been answered before or after that word: the order of the two is unknown, so the word wins)."""
        return self._heard.get(name, 0) > mark

    def forget_heard(self, keep: set[str], mark: int) -> None:
        """After a listing asked for at `mark`: forget the words on names neither in it nor heard of since."""
        for name in [n for n, word in self._heard.items() if n not in keep and word <= mark]:
            del self._heard[name]

    def fingerprints_of(self, name: str) -> list[str]:
        """The keys one key Secret holds (open or waiting to be unwrapped), by fingerprint."""
        held = [k.fingerprint for k in self._by_secret.get(name, [])]
        waiting = self._waiting.get(name)
        return held + ([waiting.fingerprint] if waiting is not None else [])

    def holds(self, name: str, keys: list[PrivateKey]) -> bool:
        """Whether plaintext key Secret `name` is held with exactly these keys (by fingerprint and date)."""
        held = self._by_secret.get(name)
        if held is None or name in self._envelopes:
            return False
        return {(k.fingerprint, k.not_before) for k in held} == {(k.fingerprint, k.not_before) for k in keys}

    def holds_envelope(self, name: str, wrapped: WrappedKey) -> bool:
        """Whether wrapped key Secret `name` is held (open) with this very envelope, dated alike."""
        envelope = self._envelopes.get(name)
        return (
            envelope is not None
            and name in self._by_secret
            and envelope.same_envelope(wrapped)
            and envelope.not_before == wrapped.not_before
        )

    def _forget_unusable(self, name: str) -> None:
        self._unusable.pop(name, None)
        self._unusable_wrapped.discard(name)

    def is_wrapped(self, name: str) -> bool:
        return name in self._envelopes or name in self._waiting

    def keys_of(self, secret: Mapping[str, Any], where: str) -> list[PrivateKey]:
        """The keys of one key Secret, dated by the configured key order priority."""
        name = str((secret.get("metadata") or {}).get("name") or "")
        if made_by_unsealing(secret):
            raise KeyMaterialError(UNSEALED_KEY, where=where)
        material = (where, secret.get("data"), secret.get("stringData"))
        cached = self._parsed.get(name)
        if cached is not None and cached[0] == material:
            keys = list(cached[1])
        else:
            keys = keys_from_secret(secret, where)
            for key in keys:
                _check_certificate(key, where)
            self._parsed[name] = (copy.deepcopy(material), list(keys))
        created = creation_time(secret) if self.by_creation else None
        if created is None:
            return keys
        # A key without a certificate cannot seal (nothing to serve): dated by its Secret it could be the newest,
        # and /v1/cert.pem answered 503 while a key with a certificate was held. It counts as old, as it does
        # by certificate date.
        return [dataclasses.replace(key, not_before=created) if key.certificate_pem else key for key in keys]

    def secret_names(self) -> list[str]:
        """Every key Secret the store knows of: held, waiting, or ignored as unusable (its next change is news)."""
        return sorted({*self._by_secret, *self._waiting, *self._unusable})

    def on_change(self, listener: Callable[[set[str], set[str]], None]) -> None:
        """Call `listener(added_fingerprints, removed_fingerprints)` after each change."""
        self._listeners.append(listener)

    def _publish(self, *, force: bool = False) -> None:
        """A new ring snapshot; listeners hear of it when keys came or went (or `force`: what is known changed)."""
        before = set(self._ring.fingerprints())
        ring = KeyRing(key for keys in self._by_secret.values() for key in keys)
        self._ring = ring
        after = set(ring.fingerprints())
        added, removed = after - before, before - after
        if added or removed or force:
            for listener in self._listeners:
                listener(added, removed)

    def put(
        self, name: str, keys: list[PrivateKey], *, envelope: WrappedKey | None = None, verified: bool = True
    ) -> None:
        """Hold the keys of one key Secret (`envelope`: it is a wrapped key Secret; `verified`: opened by us)."""
        self._by_secret[name] = [_certificate_only(key) for key in keys]
        self._waiting.pop(name, None)
        self._forget_unusable(name)
        self._verified.discard(name)
        if envelope is not None:
            self._envelopes[name] = envelope
            if verified:
                self._verified.add(name)
        else:
            self._envelopes.pop(name, None)
        self._publish()

    def wait(self, name: str, known: Known) -> None:
        """A wrapped key Secret whose key is not open (yet): counted for renewal, not used."""
        self._waiting[name] = known
        self._forget_unusable(name)
        self._envelopes.pop(name, None)
        self._verified.discard(name)
        self._by_secret.pop(name, None)
        self._publish(force=True)

    def drop(self, name: str) -> bool:
        """Forget one key Secret (deleted or no longer labelled active); True if it was known (held, waiting or
        unusable)."""
        held = self._by_secret.pop(name, None) is not None
        self._parsed.pop(name, None)
        unusable = self._unusable.pop(name, None) is not None
        self._unusable_wrapped.discard(name)
        waiting = self._waiting.pop(name, None) is not None
        self._envelopes.pop(name, None)
        self._verified.discard(name)
        if held or waiting:
            self._publish(force=True)
        return held or waiting or unusable

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
            self.refuse(name, str(exc))
            return None
        previous = {(k.fingerprint, k.not_before) for k in self._by_secret.get(name, [])}
        if previous == {(k.fingerprint, k.not_before) for k in keys}:
            return None
        self.put(name, keys)
        return "loaded"
