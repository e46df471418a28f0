"""Saying why keys cannot be wrapped or unwrapped: log lines, Kubernetes events, Prometheus series.

Where it sits: the key lifecycle room. The key manager (wrap at generation) and the wrapped-key loader
(unwrap at start and when a wrapped key Secret appears) report here; nothing in a report quotes key
material (KEK errors are one line, `sealkit.wrapping.envelope.KekError`).

- metrics (in the controller's registry): `sealed_secrets_controller_kek_failures_total{operation,reason}`,
  `..._kek_unwraps_total`, `..._kek_available` (1 after a KEK operation succeeded, 0 after one failed),
  and the key inventory: `..._plaintext_keys`, `..._wrapped_keys`, `..._unusable_wrapped_keys`,
  `..._unusable_plaintext_keys`, `..._usable_keys`;
- events: a Warning `ErrUnwrapFailed` on the wrapped key Secret that does not open, and a Warning
  `ErrKeyEncryptionKey` on the controller's own Deployment (or its Pod) when no new key can be wrapped;
  each distinct message once, until the operation succeeds again. A Warning `ErrKeyUnusable` on a plaintext
  key Secret that is ignored (no usable key, another key's certificate, made by unsealing a SealedSecret),
  once per content of that Secret, until it is usable again or gone.
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
from sealkit_controller.plumbing.events import NORMAL, WARNING, EventRecorder

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
            "Wrapped key Secrets whose key could not be unwrapped (yet)",
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
        self._posted: dict[str, str] = {}  # event target -> last message posted
        self._unusable_posted: dict[str, str] = {}  # unusable key Secret -> digest of the content reported
        self._unusable_reports: dict[str, int] = {}  # unusable key Secret -> events decided for it (names them)
        self.last_error: str | None = None

    def inventory(self) -> None:
        """Refresh the key inventory gauges from the store."""
        s = self.store
        self.metrics.plaintext.set(len(s.plaintext_secret_names()))
        self.metrics.wrapped.set(len(s.wrapped_secret_names()))
        self.metrics.unusable.set(len(s.waiting_secret_names()))
        unusable = s.unusable_secret_names()
        self.metrics.unusable_plaintext.set(len(unusable))
        self.metrics.usable.set(len(s.ring))
        for name in set(self._unusable_posted) - set(unusable):  # usable again or gone: a new fault is news
            del self._unusable_posted[name]

    async def key_unusable(self, secret: Mapping[str, Any], why: str) -> None:
        """A plaintext key Secret the store refused (`why`, a one-line cause that quotes no key material): a
        Warning event on it, once per content (data and cause) of that Secret; the gauges refreshed."""
        self.inventory()
        meta = secret.get("metadata") or {}
        name = str(meta.get("name") or "")
        seen = _content_digest(secret, why)
        if self.events is None or not name or self._unusable_posted.get(name) == seen:
            return
        self._unusable_posted[name] = seen
        report = self._unusable_reports[name] = self._unusable_reports.get(name, 0) + 1
        target: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": self.namespace, "uid": meta.get("uid")},
        }
        message = f"the sealing key in this Secret cannot be used; it is ignored (other keys keep working): {why}"
        # Named by the Secret, its content and the report's number in this process: a post retried after an answer
        # that was lost is refused as already made (409), never a second event; a restart's first report of the
        # same content finds the one made before.
        event = f"{name[:200].rstrip('-.')}.{seen[:16]}.{report}"
        posted = await self.events.post(target, WARNING, KEY_UNUSABLE, message, name=event)
        if not posted and self._unusable_posted.get(name) == seen:
            del self._unusable_posted[name]  # not posted (a follower, the API failing): posted when seen again

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
            target = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret, "namespace": self.namespace}}
            await self._post(
                f"Secret/{secret}", target, WARNING, UNWRAP_FAILED, f"cannot unwrap the sealing key: {exc}"
            )
            return
        if operation == ESCROW:
            logger.warning("no new sealing key is published yet (%s; the keys held keep serving): %s", then, exc)
            if self.own is not None:
                await self._post("own", self.own, WARNING, ESCROW_FAILED, str(exc))
            return
        logger.warning("no new sealing key can be wrapped (%s; the keys held keep serving): %s", then, exc)
        if self.own is not None:
            await self._post("own", self.own, WARNING, KEK_FAILED, f"no new sealing key can be wrapped: {exc}")

    async def succeeded(self, operation: str, *, secret: str | None = None) -> None:
        self.metrics.kek_available.set(1)
        if operation == UNWRAP:
            self.metrics.kek_unwraps.inc()
        self.inventory()
        if secret is not None:
            self._posted.pop(f"Secret/{secret}", None)
        elif self._posted.pop("own", None) is not None and self.own is not None:
            self.last_error = None
            await self._post("own", self.own, NORMAL, KEK_RECOVERED, "the key-encryption key works again")
            self._posted.pop("own", None)

    async def _post(self, target: str, obj: dict[str, Any], type_: str, reason: str, message: str) -> None:
        if self.events is None or self._posted.get(target) == message:
            return
        self._posted[target] = message  # no second post of it while this one is on its way
        if not await self.events.post(obj, type_, reason, message) and self._posted.get(target) == message:
            # Not posted (the write fence of a follower, or the API server failing): posted when it happens
            # again, as by the leader this replica may become; marked as posted, it never was.
            del self._posted[target]


def _content_digest(secret: Mapping[str, Any], why: str) -> str:
    """What identifies one reported fault of a key Secret: its data and the cause (kept in memory only)."""
    content = json.dumps([secret.get("data"), secret.get("stringData"), why], sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


def own_object(namespace: str, deployment: str, pod: str) -> dict[str, Any] | None:
    """The controller's own Deployment (when its name is known), else its Pod, as an event's involved object."""
    if deployment:
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": deployment, "namespace": namespace}}
    if pod:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": namespace}}
    return None
