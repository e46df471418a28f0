"""Key escrow inside the controller: restore before the first key is made, escrow every key the ring holds.

Why a task of its own: escrow must never hold up unsealing. The keeper wakes whenever the key ring changes
(a generated, renewed, restored or brought-in key) and at an interval; it escrows every key with no enabled
copy in the vault (each written, read back and compared), and retries failures with capped exponential
backoff. A failure counts in `sealed_secrets_controller_escrow_failures_total{reason}` and, once per key
until it is escrowed, posts a Warning `ErrEscrowFailed` event on the key's Secret.

At start, with no key Secrets, `restore_if_empty` restores every escrowed key of the cluster before the key
manager decides whether to generate one; if the vault cannot be read it raises, so no key is generated that
would hide the real ones (the caller retries the start).

A newly generated key is escrowed before it is published (`escrow_now`, the key manager's escrow gate).
With a KEK, every copy written is wrapped: a wrapped key is escrowed as its envelope (never opened for it),
a plaintext key Secret's key is wrapped first, and a plaintext escrowed copy is wrapped before it is restored
into a key Secret. All writes go through `KeyWrites`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sealkit.clients.kube.api import KubeClient
from sealkit.errors import SealkitError
from sealkit.escrow.scheme import Escrowable, EscrowError
from sealkit.escrow.sync import INVALID, EscrowStore, EscrowVaultError, failure_reason, restore_from_vault
from sealkit.keys import PrivateKey
from sealkit.keysecrets import held_keys
from sealkit.retry import Backoff
from sealkit.wrapping.envelope import KekError, WrappedKey
from sealkit.wrapping.keysecret import held_wrapped
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.keys.writes import KeyWrites
from sealkit_controller.plumbing.background import BackgroundLoop, woken
from sealkit_controller.plumbing.events import WARNING, EventRecorder
from sealkit_controller.plumbing.pool import Run
from sealkit_controller.plumbing.workqueue import log_unexpected
from sealkit_controller.settings import Settings

logger = logging.getLogger(__name__)

EVENT_REASON = "ErrEscrowFailed"
METRIC_PREFIX = "sealed_secrets_controller"


class EscrowMetrics:
    """The escrow series, registered in the run's registry (prometheus_client imported here only)."""

    def __init__(self, registry: Any = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = registry if registry is not None else CollectorRegistry()
        self.failures = Counter(
            f"{METRIC_PREFIX}_escrow_failures_total",
            "Failed attempts to escrow (or restore) sealing keys in the key vault, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.pending = Gauge(
            f"{METRIC_PREFIX}_escrow_pending_keys",
            "Sealing keys held by the controller without a verified copy in the key vault",
            registry=self.registry,
        )
        self.escrowed = Counter(
            f"{METRIC_PREFIX}_escrowed_keys_total",
            "Sealing keys written to the key vault and verified by reading them back",
            registry=self.registry,
        )
        self.restored = Counter(
            f"{METRIC_PREFIX}_escrow_restored_keys_total",
            "Sealing keys restored from the key vault into key Secrets",
            registry=self.registry,
        )


@dataclass(frozen=True)
class EscrowTarget:
    """Where and as whom keys are escrowed, and how restored key Secrets look."""

    cluster: str
    namespace: str
    key_prefix: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    retry_base_delay: float = 1.0
    retry_max_delay: float = 300.0
    recheck_interval: float = 3600.0  # re-list the vault: a copy deleted there is written again


class EscrowKeeper:
    """Restores at start, then keeps every held key escrowed (see the module docstring)."""

    def __init__(
        self,
        target: EscrowTarget,
        vault: EscrowStore,
        client: KubeClient,
        store: KeyStore,
        run: Run,
        *,
        events: EventRecorder | None = None,
        metrics: EscrowMetrics | None = None,
        writes: KeyWrites | None = None,
        wrap: Callable[[PrivateKey], WrappedKey] | None = None,
    ) -> None:
        self.target = target
        self.vault = vault
        self._client = client
        self._writes = writes or KeyWrites(client, run, target.namespace)
        self._wrap = wrap  # with a KEK: plaintext keys are wrapped before any copy of them is written
        self._store = store
        self._run = run
        self._events = events
        self.metrics = metrics or EscrowMetrics()
        self._wake = asyncio.Event()
        self._background = BackgroundLoop("sealkit-key-escrow", self._loop)
        self._backoff = Backoff(target.retry_base_delay, target.retry_max_delay)
        self.escrowed: set[str] = set()  # fingerprints with a verified (or listed, enabled) copy
        # Copies this process wrote and read back: the gate of a new key trusts only these (a listing shows
        # that a copy exists, not that it reads back).
        self.verified: set[str] = set()
        self._listed_at: float | None = None
        self._reported: set[str] = set()
        self.failures = 0
        store.on_change(lambda added, removed: self._wake.set())

    # --- start: restore before generating ---------------------------------------------------------------

    async def restore_if_empty(self) -> int:
        """With no keys held, restore every escrowed key of the cluster; returns how many were restored."""
        if len(self._store.ring) or self._store.waiting_secret_names():
            return 0
        t = self.target
        try:
            present = {h.fingerprint for h in await self._run(held_keys, self._client, t.namespace)}
            present |= {h.fingerprint for h in await self._run(held_wrapped, self._client, t.namespace)}
            restored = await self._run(
                lambda: restore_from_vault(
                    self._writes.secrets(),
                    self.vault,
                    t.cluster,
                    t.namespace,
                    prefix=t.key_prefix,
                    present=present,
                    labels=t.labels,
                    annotations=t.annotations,
                    prepare=self._wrapped_for_restore if self._wrap is not None else None,
                )
            )
        except EscrowVaultError as exc:
            self.metrics.failures.labels(exc.reason).inc()
            raise EscrowVaultError(
                f"no key Secrets, and the escrowed keys of cluster {t.cluster} cannot be read, so no new key is "
                f"generated yet: {exc.what}",
                exc.reason,
                where=exc.where,
            ) from None
        except (EscrowError, KekError) as exc:
            self.metrics.failures.labels(INVALID if isinstance(exc, EscrowError) else exc.reason).inc()
            what = f"the escrowed keys of cluster {t.cluster} cannot be restored: {exc.what}"
            raise EscrowError(what, where=exc.where) from None
        self.metrics.restored.inc(len(restored))
        self.escrowed.update(r.fingerprint for r in restored)
        if restored:
            logger.info(
                "restored %d escrowed sealing key(s) of cluster %s from %s into %s",
                len(restored),
                t.cluster,
                self.vault.url,
                t.namespace,
            )
        else:
            logger.info("no escrowed sealing keys of cluster %s in %s", t.cluster, self.vault.url)
        return len(restored)

    # --- the escrow loop --------------------------------------------------------------------------------

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    def close(self) -> None:
        close = getattr(self.vault, "close", None)
        if close is not None:
            close()

    def _wrapped_for_restore(self, key: Escrowable) -> Escrowable:
        """With a KEK, a plaintext escrowed copy is wrapped before it becomes a key Secret (in the pool)."""
        if isinstance(key, WrappedKey) or self._wrap is None:
            return key
        return self._wrap(key)

    def pending(self) -> list[PrivateKey]:
        return [key for key in self._store.ring.newest_first() if key.fingerprint not in self.escrowed]

    async def material(self, key: PrivateKey) -> Escrowable:
        """What is escrowed for a held key: an envelope this controller opened, else one wrapped now with the KEK,
        else the envelope it came in, else (no KEK, a plaintext key Secret) the key."""
        envelope = self._store.envelope_of(key.fingerprint, verified=True)
        if envelope is not None:
            return envelope
        if self._wrap is not None:  # a plaintext key, or an envelope this controller has not opened itself
            wrap = self._wrap
            try:
                wrapped: WrappedKey = await self._run(wrap, key)
            except KekError as exc:
                what = f"key {key.fingerprint} not escrowed: {exc.what}"
                raise EscrowVaultError(what, _kek_reason(exc), where=exc.where) from None
            return wrapped
        return self._store.envelope_of(key.fingerprint) or key  # a wrapped key is never escrowed in plaintext

    async def escrow_now(self, material: Escrowable) -> None:
        """The escrow gate of a new key: written and read back before it is published (raises if not)."""
        if material.fingerprint in self.verified:
            return
        try:
            await self._writes.escrow(self.vault, material, self.target.cluster)
        except EscrowError as exc:
            self.metrics.failures.labels(_reason(exc)).inc()
            raise
        self.escrowed.add(material.fingerprint)
        self.verified.add(material.fingerprint)
        self.metrics.escrowed.inc()

    async def sync(self) -> int:
        """One pass: list the vault when due, escrow what is missing; returns how many keys were written."""
        loop = asyncio.get_running_loop()
        if self._listed_at is None or loop.time() - self._listed_at >= self.target.recheck_interval:
            try:
                entries = await self._run(self.vault.entries, self.target.cluster)
            except EscrowError as exc:
                self.metrics.failures.labels(_reason(exc)).inc()
                self.metrics.pending.set(len(self.pending()))
                for key in self.pending():  # their copies cannot be checked (nor written)
                    await self._report(key, exc)
                raise
            self.escrowed = {e.fingerprint for e in entries if e.enabled}
            self._listed_at = loop.time()
        written = 0
        for key in self.pending():
            self.metrics.pending.set(len(self.pending()))
            try:
                await self._writes.escrow(self.vault, await self.material(key), self.target.cluster)
            except EscrowError as exc:
                await self._failed(key, exc)
                raise
            self.escrowed.add(key.fingerprint)
            self.verified.add(key.fingerprint)
            self._reported.discard(key.fingerprint)
            self.metrics.escrowed.inc()
            written += 1
        self.metrics.pending.set(len(self.pending()))
        return written

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            wait = self.target.recheck_interval
            try:
                await self.sync()
                self.failures = 0
            except SealkitError as exc:  # escrow and API errors alike; counted where they happened
                self.failures += 1
                wait = self._backoff.delay(self.failures)
                logger.warning(
                    "key escrow of cluster %s to %s failed (retrying in %.1fs; unsealing goes on): %s",
                    self.target.cluster,
                    self.vault.url,
                    wait,
                    exc,
                )
            except Exception as exc:  # a bug: said where, and retried (a task that ends escrows nothing, silently)
                self.failures += 1
                wait = self._backoff.delay(self.failures)
                log_unexpected(f"key escrow of cluster {self.target.cluster}", exc)
            await woken(self._wake, wait)

    async def _failed(self, key: PrivateKey, exc: EscrowError) -> None:
        """Count the failure; the first one for this key also becomes a Warning event on its Secret."""
        self.metrics.failures.labels(_reason(exc)).inc()
        await self._report(key, exc)

    async def _report(self, key: PrivateKey, exc: EscrowError) -> None:
        if key.fingerprint in self._reported or self._events is None:
            return
        self._reported.add(key.fingerprint)
        secret = await self._secret_of(key.fingerprint)
        if secret is None:
            return
        message = f"escrow of sealing key {key.fingerprint} to {self.vault.url} failed (retrying): {exc}"
        await self._events.post(secret, WARNING, EVENT_REASON, message)

    async def _secret_of(self, fingerprint: str) -> dict[str, Any] | None:
        name = self._store.secret_of(fingerprint)
        if name is None:
            return None
        return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": self.target.namespace}}


def _reason(exc: Exception) -> str:
    return failure_reason(exc)


def _kek_reason(exc: KekError) -> str:
    """The escrow metric reason of a KEK failure while wrapping a copy."""
    return {"disabled": "forbidden", "not_found": "not_found"}.get(exc.reason, exc.reason)


def build_keeper(
    settings: Settings,
    credential: object,
    client: KubeClient,
    store: KeyStore,
    run: Run,
    events: EventRecorder,
    metrics: EscrowMetrics,
    *,
    writes: KeyWrites | None = None,
    wrap: Callable[[PrivateKey], WrappedKey] | None = None,
) -> EscrowKeeper:
    """The keeper for one controller run, from its `Settings` (escrow enabled) and the vault credential."""
    from sealkit.clients.keyvault.escrow import EscrowVault

    # azure-core logs every request (headers included) at INFO; azure-identity logs multi-line warnings.
    logging.getLogger("azure").setLevel(logging.ERROR)
    vault = EscrowVault(
        settings.escrow_vault_url(),
        credential,
        timeout=settings.escrow_timeout,
        verify_challenge_resource=not settings.escrow_accept_challenge_resources,
    )
    target = EscrowTarget(
        cluster=settings.escrow_cluster_name,
        namespace=settings.namespace,
        key_prefix=settings.key_prefix,
        labels=dict(settings.private_key_labels),
        annotations=dict(settings.private_key_annotations),
        retry_base_delay=settings.retry_base_delay,
        retry_max_delay=settings.retry_max_delay,
        recheck_interval=settings.key_check_interval,
    )
    return EscrowKeeper(target, vault, client, store, run, events=events, metrics=metrics, writes=writes, wrap=wrap)
