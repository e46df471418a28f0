"""Saying why keys cannot be wrapped or unwrapped: log lines, Kubernetes events, Prometheus series.

Where it sits: the key lifecycle room. The key manager (wrap at generation) and the wrapped-key loader
(unwrap at start and when a wrapped key Secret appears) report here; nothing in a report quotes key
material (KEK errors are one line, `sealkit.wrapping.envelope.KekError`).

- metrics (in the controller's registry): `sealed_secrets_controller_kek_failures_total{operation,reason}`,
  `..._kek_unwraps_total`, `..._kek_available` (1 after a KEK operation succeeded, 0 after one failed),
  and the key inventory: `..._plaintext_keys`, `..._wrapped_keys`, `..._unusable_wrapped_keys`,
  `..._unusable_plaintext_keys`, `..._usable_keys`;
- events: a Warning `ErrUnwrapFailed` on the wrapped key Secret that does not read or open, and a Warning
  `ErrKeyEncryptionKey` on the controller's own Deployment (or its Pod) when no new key can be wrapped;
  each distinct message once, until the operation succeeds again (for a key Secret: until it is usable again
  or gone). A Warning `ErrKeyUnusable` on a plaintext key Secret that is ignored (no usable key, another key's
  certificate, made by unsealing a SealedSecret), once per content of that Secret, until it is usable again or
  gone. Events on key Secrets are named by the Secret and the fault, so a retried post or a restart's first
  report makes no second event.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from sealkit.errors import SealkitError
from sealkit.wrapping.envelope import KekError
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.plumbing.events import NORMAL, WARNING, EventRecorder, event_name_prefix

logger = logging.getLogger(__name__)

METRIC_PREFIX = "sealed_secrets_controller"
UNWRAP_FAILED = "ErrUnwrapFailed"
KEY_UNUSABLE = "ErrKeyUnusable"
KEK_FAILED = "ErrKeyEncryptionKey"
KEK_RECOVERED = "KeyEncryptionKeyAvailable"
ESCROW_FAILED = "ErrEscrowFailed"
WRAP = "wrap"
UNWRAP = "unwrap"
ESCROW = "escrow"  # a new key held back until its escrowed copy is safe (counted by the escrow metrics)
_ON_KEY = "key"  # an event target kind: a key Secret, by name
_OWN = ("own", "")  # an event target: the controller's own Deployment or Pod


def reason_of(exc: Exception) -> str:
    """The metric reason of a KEK failure (key material that does not open is `invalid`)."""
    return str(getattr(exc, "reason", "") or "invalid")


class KeyMetrics:
    """The KEK and key inventory series (prometheus_client imported here only)."""

    def __init__(self, registry: Any = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = registry if registry is not None else CollectorRegistry()
        p = METRIC_PREFIX
        self.kek_failures = Counter(
            f"{p}_kek_failures_total",
            "Failed wrap/unwrap operations with the key-encryption key, by operation and reason",
            ["operation", "reason"],
            registry=self.registry,
        )
        self.kek_unwraps = Counter(
            f"{p}_kek_unwraps_total",
            "Wrapped sealing keys opened through the key-encryption key (once per key, at start or when it appears)",
            registry=self.registry,
        )
        self.kek_available = Gauge(
            f"{p}_kek_available",
            "1 while the last operation with the key-encryption key succeeded, 0 after one failed",
            registry=self.registry,
        )
        self.plaintext = Gauge(
            f"{p}_plaintext_keys",
            "Sealing keys held in plaintext key Secrets (with a KEK configured, run `sealkit keys wrap`)",
            registry=self.registry,
        )
        self.wrapped = Gauge(
            f"{p}_wrapped_keys",
            "Sealing keys held from wrapped key Secrets (open in memory only)",
            registry=self.registry,
        )
        self.unusable = Gauge(
            f"{p}_unusable_wrapped_keys",
            "Wrapped key Secrets labelled active whose key is not open: not unwrapped (yet), or refused as read",
            registry=self.registry,
        )
        self.unusable_plaintext = Gauge(
            f"{p}_unusable_plaintext_keys",
            "Plaintext key Secrets labelled active whose key cannot be used (ignored; see their ErrKeyUnusable event)",
            registry=self.registry,
        )
        self.usable = Gauge(
            f"{p}_usable_keys", "Sealing keys the controller can open SealedSecrets with", registry=self.registry
        )


class KekReport:
    """Logs, counts and posts events about KEK operations and the key inventory."""

    def __init__(
        self,
        store: KeyStore,
        metrics: KeyMetrics,
        *,
        namespace: str,
        events: EventRecorder | None = None,
        own: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.namespace = namespace
        self.events = events
        self.own = own  # the controller's Deployment or Pod, as an event's involved object
        # What was reported last, by event target (OWN, or a key Secret's name): the message, or for a key Secret
        # the digest of its fault; a report equal to it is not posted again.
        self._posted: dict[tuple[str, str], str] = {}
        self._reports: dict[str, int] = {}  # key Secret -> events decided for it (numbers their names)
        self.last_error: str | None = None

    def inventory(self) -> None:
        """Refresh the key inventory gauges from the store; a key Secret the store no longer counts as unusable
        (usable again, deleted, no longer labelled active) has its next fault reported as news."""
        s = self.store
        self.metrics.plaintext.set(len(s.plaintext_secret_names()))
        self.metrics.wrapped.set(len(s.wrapped_secret_names()))
        self.metrics.unusable.set(len(s.waiting_secret_names()) + len(s.unusable_secret_names(wrapped=True)))
        unusable = s.unusable_secret_names()
        self.metrics.unusable_plaintext.set(len(unusable))
        self.metrics.usable.set(len(s.ring))
        faulty = {*unusable, *s.unusable_secret_names(wrapped=True), *s.waiting_secret_names()}
        for target in [t for t in self._posted if t[0] == _ON_KEY and t[1] not in faulty]:
            del self._posted[target]

    async def key_unusable(self, secret: Mapping[str, Any], why: str) -> None:
        """A plaintext key Secret the store refused (`why`, a one-line cause that quotes no key material): a
        Warning event on it, once per content (data and cause) of that Secret; the gauges refreshed."""
        self.inventory()
        meta = secret.get("metadata") or {}
        name = str(meta.get("name") or "")
        if name:
            message = f"the sealing key in this Secret cannot be used; it is ignored (other keys keep working): {why}"
            await self._post_on_secret(name, meta.get("uid"), KEY_UNUSABLE, message, _content_digest(secret, why))

    async def failed(
        self, operation: str, exc: SealkitError, *, secret: str | None = None, retry_in: float | None = None
    ) -> None:
        """One failure: a log line, the counters, and (once per message) an event."""
        reason = reason_of(exc)
        if operation != ESCROW:
            self.metrics.kek_failures.labels(operation, reason).inc()
            if isinstance(exc, KekError) or reason != "invalid":
                self.metrics.kek_available.set(0)
        self.last_error = str(exc)
        self.inventory()
        then = f"retrying in {retry_in:.1f}s" if retry_in is not None else "not retried until the Secret changes"
        if secret is not None:
            logger.warning(
                "wrapped key Secret %s/%s cannot be used (%s; other keys keep working): %s",
                self.namespace,
                secret,
                then,
                exc,
            )
            message = f"cannot unwrap the sealing key: {exc}"
            await self._post_on_secret(secret, None, UNWRAP_FAILED, message, _digest(message))
            return
        if operation == ESCROW:
            logger.warning("no new sealing key is published yet (%s; the keys held keep serving): %s", then, exc)
            if self.own is not None:
                await self._post(_OWN, self.own, WARNING, ESCROW_FAILED, str(exc))
            return
        logger.warning("no new sealing key can be wrapped (%s; the keys held keep serving): %s", then, exc)
        if self.own is not None:
            await self._post(_OWN, self.own, WARNING, KEK_FAILED, f"no new sealing key can be wrapped: {exc}")

    async def succeeded(self, operation: str, *, secret: str | None = None) -> None:
        self.metrics.kek_available.set(1)
        if operation == UNWRAP:
            self.metrics.kek_unwraps.inc()
        self.inventory()  # an opened key Secret is no longer unusable: its next fault is news
        if secret is None and self._posted.pop(_OWN, None) is not None and self.own is not None:
            self.last_error = None
            await self._post(_OWN, self.own, NORMAL, KEK_RECOVERED, "the key-encryption key works again")
            self._posted.pop(_OWN, None)

    async def _post_on_secret(self, name: str, uid: Any, reason: str, message: str, fault: str) -> None:
        """A Warning on a key Secret, once per `fault` (a digest) while the Secret stays unusable. Named by the
        Secret, the fault and the report's number in this process: a post retried after an answer that was lost is
        refused as already made (409), never a second event; a restart's first report of the same fault finds the
        one made before."""
        if self.events is None or self._posted.get((_ON_KEY, name)) == fault:
            return
        number = self._reports[name] = self._reports.get(name, 0) + 1
        meta = {"name": name, "namespace": self.namespace, **({"uid": uid} if uid else {})}
        target = {"apiVersion": "v1", "kind": "Secret", "metadata": meta}
        event = f"{event_name_prefix(name, 'secret')}.{fault[:16]}.{number}"
        await self._post((_ON_KEY, name), target, WARNING, reason, message, seen=fault, name=event)

    async def _post(
        self,
        target: tuple[str, str],
        obj: dict[str, Any],
        type_: str,
        reason: str,
        message: str,
        *,
        seen: str | None = None,
        name: str | None = None,
    ) -> None:
        """Post unless what it reports (`seen`, else the message) was the last thing posted on `target`."""
        seen = message if seen is None else seen
        if self.events is None or self._posted.get(target) == seen:
            return
        self._posted[target] = seen  # no second post of it while this one is on its way
        if not await self.events.post(obj, type_, reason, message, name=name) and self._posted.get(target) == seen:
            # Not posted (the write fence of a follower, or the API server failing): posted when it happens
            # again, as by the leader this replica may become; marked as posted, it never was.
            del self._posted[target]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _content_digest(secret: Mapping[str, Any], why: str) -> str:
    """What identifies one reported fault of a key Secret: its data and the cause (kept in memory only)."""
    return _digest(json.dumps([secret.get("data"), secret.get("stringData"), why], sort_keys=True, default=str))


def own_object(namespace: str, deployment: str, pod: str) -> dict[str, Any] | None:
    """The controller's own Deployment (when its name is known), else its Pod, as an event's involved object."""
    if deployment:
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": deployment, "namespace": namespace}}
    if pod:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": namespace}}
    return None
