"""Loading, generating and renewing the controller's sealing keys: the one place key lifecycle decisions are made.

At start the key Secrets of the controller's namespace are listed (Bitnami's plaintext ones and sealkit's
wrapped ones, which `WrappedKeyLoader` unwraps once each); afterwards the Secret watch keeps the `KeyStore`
current (`observe_secret`), and every replica lists them again every `key_resync_interval` (`resync`: what the
watch missed, such as a deletion during a watch that resumed by listing again, is taken in quietly). A
background task makes a new key when none is known, when the newest predates the cutoff, or when the newest's
NotBefore is older than the renew period. "Known" includes wrapped keys not opened yet, so a KEK outage never
leads to a second key for one period.

Never two keys for one period, even across leaders: before making a key the key Secrets are listed again
(the decision is taken from the cluster's keys, not from a watch that may lag), and the new key Secret's
name is fixed by the key it follows (`keysecrets.successor_secret_name`), so a second controller deciding
the same renewal gets a 409 and takes the key that is there. With leader election only the leader runs
this (and its writes pass the lease fence, in the Kubernetes client and in `KeyWrites`).

Making a key (`generate`), in order, each step fail-closed:

1. generate the key pair in memory (kept across failed attempts, so retries never make a second key);
2. with a KEK: wrap it and unwrap the result to check it (`sealkit.wrapping.envelope.wrap_verified`); with
   the KEK unreachable or refusing, nothing is written, the keys held keep serving, and it is retried;
3. with escrow: write the escrowed copy (wrapped, with a KEK) and read it back (`escrow_gate`): a key is
   never published before its copy is safe, so the previous key keeps sealing until then;
4. write the key Secret (wrapped with a KEK: a plaintext key is never written then) through `KeyWrites`,
   the one seam for key writes, under the successor name; only then does the key enter the store and
   become the newest.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sealkit.clients.kube.api import ApiError, KubeClient
from sealkit.errors import SealkitError
from sealkit.escrow.scheme import Escrowable, EscrowError
from sealkit.escrow.sync import failure_reason
from sealkit.keygen import generate_key_pair
from sealkit.keys import PrivateKey
from sealkit.keysecrets import (
    ACTIVE_SELECTOR,
    creation_time,
    is_active_key_secret,
    key_secret_manifest,
    keys_from_secret,
    successor_secret_name,
)
from sealkit.retry import Backoff
from sealkit.wrapping.envelope import KekError, KeyWrapper, WrappedKey, wrap_verified
from sealkit.wrapping.keysecret import (
    is_wrapped_key_secret,
    looks_like_wrapped_key_secret,
    wrapped_from_secret,
    wrapped_key_manifest,
)
from sealkit.wrapping.names import WRAPPED_SELECTOR
from sealkit_controller.keys.kekreport import ESCROW, WRAP, KekReport, KeyMetrics
from sealkit_controller.keys.keystore import KeyStore, key_due
from sealkit_controller.keys.unwrapper import WrappedKeyLoader
from sealkit_controller.keys.writes import KeyWrites
from sealkit_controller.plumbing.background import BackgroundLoop, woken
from sealkit_controller.plumbing.pool import Run
from sealkit_controller.plumbing.workqueue import log_unexpected
from sealkit_controller.settings import Settings

logger = logging.getLogger(__name__)

_NAME_ATTEMPTS = 5
# A resync waits its interval less up to this share of it, at random: replicas started together do not list together.
RESYNC_JITTER = 0.2
_JITTER = random.SystemRandom().random  # timing only: nothing secret depends on it
EscrowGate = Callable[[Escrowable], Awaitable[None]]


@dataclasses.dataclass
class _Prepared:
    """A generated key on its way to being written: kept across failed attempts."""

    key: PrivateKey
    wrapped: WrappedKey | None
    manifest: dict[str, Any]

    @property
    def material(self) -> Escrowable:
        return self.wrapped if self.wrapped is not None else self.key


class KeyUnavailable(SealkitError):
    """No new key could be made safely now; the keys held keep serving. `operation`: wrap or escrow."""

    def __init__(self, message: str, *, operation: str, reason: str, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.operation = operation
        self.reason = reason


class KeyManager:
    """Keeps at least one current key in `store`: see the module docstring for the order of a generation."""

    def __init__(
        self,
        settings: Settings,
        client: KubeClient,
        store: KeyStore,
        run: Run,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        *,
        writes: KeyWrites | None = None,
        kek: Callable[[], KeyWrapper] | None = None,
        wrap_new_keys: bool = False,
        report: KekReport | None = None,
        loader: WrappedKeyLoader | None = None,
        jitter: Callable[[], float] = _JITTER,
    ) -> None:
        self._settings = settings
        self._client = client
        self._store = store
        self._run = run
        self._clock = clock
        self.writes = writes or KeyWrites(client, run, settings.namespace)
        self._kek = kek
        self.wrap_new_keys = wrap_new_keys
        self.report = report or KekReport(store, KeyMetrics(), namespace=settings.namespace)
        self._backoff = Backoff(settings.retry_base_delay, settings.retry_max_delay)
        self.loader = loader or WrappedKeyLoader(
            store, self._need_kek, run, self.report, namespace=settings.namespace, backoff=self._backoff
        )
        self.escrow_gate: EscrowGate | None = None
        self._prepared: _Prepared | None = None
        self._wake = asyncio.Event()
        self._background = BackgroundLoop("sealkit-key-renewal", self._loop)
        # Every replica, leader or not, lists the key Secrets again now and then (`resync`); one listing at a time.
        self._resyncing = BackgroundLoop("sealkit-key-resync", self._resync_loop)
        self._listing = asyncio.Lock()
        self._jitter = jitter
        self.resync_failures = 0
        self._reports: set[asyncio.Task[None]] = set()  # events about unusable key Secrets seen by the watch
        self.failures = 0
        store.on_change(lambda added, removed: self._wake.set())

    def _need_kek(self) -> KeyWrapper:
        if self._kek is None:
            raise KekError("wrapped keys need a KEK, and none is configured", "credential", where="--kek-url")
        return self._kek()

    # --- what is held ---------------------------------------------------------------------------------

    async def load(self) -> int:
        """Read every active key Secret (plaintext and wrapped) in the namespace; returns how many keys are open.

        The listing is authoritative for what it saw: a key Secret the store (or the wrapped key loader) knows that
        is not in it leaves the key ring (`_forget_unlisted`), and one in it is taken as listed. Except for a name
        the watch spoke of after the listing was asked for (`KeyStore.heard_since`): the listing may be older than
        that word, so the watch's state of it stands (a key the watch added is not dropped, one it removed is not
        brought back)."""
        async with self._listing:
            return await self._load()

    async def _list(self) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
        """A listing of the active key Secrets, plaintext and wrapped, with the mark it was asked for at; key Secrets
        known here and missing from it are forgotten (`_forget_unlisted`)."""
        namespace = self._settings.namespace
        mark = self._store.listing_mark()
        secrets = await self._run(self._client.list_secrets, namespace, ACTIVE_SELECTOR)
        wrapped = await self._run(self._client.list_secrets, namespace, WRAPPED_SELECTOR)
        self._forget_unlisted({_name_of(s) for s in [*secrets, *wrapped]}, mark)
        return mark, secrets, wrapped

    async def _load(self) -> int:
        namespace = self._settings.namespace
        mark, secrets, wrapped = await self._list()
        refused: list[tuple[dict[str, Any], str]] = []
        for secret in secrets:
            name = _name_of(secret)
            if self._store.heard_since(name, mark):
                continue
            try:
                keys = self._store.keys_of(secret, f"key Secret {namespace}/{name}")
            except SealkitError as exc:
                logger.warning("ignoring key Secret %s/%s: %s", namespace, name, exc)
                self._store.refuse(name, str(exc))
                refused.append((secret, str(exc)))
                continue
            self._store.put(name, keys)
        for secret, why in refused:
            self._report_unusable(secret, why)
        await self.loader.load([s for s in wrapped if not self._store.heard_since(_name_of(s), mark)])
        held = len(self._store.ring)
        logger.info(
            "loaded %d sealing key(s) from %d key Secret(s) and %d wrapped key Secret(s) in %s",
            held,
            len(secrets),
            len(wrapped),
            namespace,
        )
        plaintext = self._store.plaintext_secret_names()
        if self.wrap_new_keys and plaintext:
            logger.warning(
                "%d sealing key(s) in %s still rest in plaintext key Secrets (%s): run `sealkit keys wrap` "
                "to wrap them with the KEK",
                len(plaintext),
                namespace,
                ", ".join(plaintext),
            )
        self.report.inventory()
        return held

    async def resync(self) -> int:
        """The periodic listing every replica takes (`start_resync`): the key ring reconciled with the key Secrets as
        listed, as `load` does, but quietly: a key Secret as the store already has it costs nothing (no parse, no RSA,
        no vault call, no report) and says nothing; only what the watch missed is logged (a key Secret gone, one
        that came or changed, one refused for a new fault). Returns how many key Secrets it changed.

        Why: a watch that resumed by listing again (Kopf's answer to 410 Gone) reports nothing for objects deleted
        meanwhile, and nothing tells the handlers it happened; without this, a follower kept a deleted key, and
        served its certificate if it was the newest, until it took over or restarted."""
        namespace = self._settings.namespace
        async with self._listing:
            dropped = set(self._store.secret_names()) | self.loader.secret_names()
            mark, secrets, wrapped = await self._list()
            dropped -= set(self._store.secret_names()) | self.loader.secret_names()
            wrapped_names = {_name_of(s) for s in wrapped}
            changed = len(dropped)
            for secret in secrets:
                name = _name_of(secret)
                if self._store.heard_since(name, mark) or name in wrapped_names:
                    continue  # the watch's word stands; a Secret labelled both ways is the wrapped listing's
                changed += self._resync_plaintext(secret, name)
            for secret in wrapped:
                name = _name_of(secret)
                if self._store.heard_since(name, mark) or self.loader.unchanged(secret):
                    continue
                what = self.loader.observe(secret) or "taken in"
                changed += 1
                logger.info(
                    "key Secret %s/%s %s (a fresh listing of the key Secrets: the watch did not say so); "
                    "%d key(s) held",
                    namespace,
                    name,
                    what,
                    len(self._store.ring),
                )
            if changed:
                self.report.inventory()
            return changed

    def _resync_plaintext(self, secret: dict[str, Any], name: str) -> int:
        """One plaintext key Secret of a periodic listing: 1 if it changed what is held (and said so), else 0."""
        namespace = self._settings.namespace
        try:
            keys = self._store.keys_of(secret, f"key Secret {namespace}/{name}")  # parsed once per content
        except SealkitError as exc:
            if self._store.unusable_reason(name) == str(exc):
                return 0  # refused for this fault already: said then
            logger.warning("ignoring key Secret %s/%s: %s", namespace, name, exc)
            self._store.refuse(name, str(exc))
            self._report_unusable(secret, str(exc))
            return 1
        if self._store.holds(name, keys):
            return 0
        self._store.put(name, keys)
        logger.info(
            "key Secret %s/%s loaded (a fresh listing of the key Secrets: the watch did not say so); %d key(s) held",
            namespace,
            name,
            len(self._store.ring),
        )
        return 1

    def _forget_unlisted(self, listed: set[str], mark: int) -> None:
        """Key Secrets known here but not in a listing asked for at `mark`, and not heard of since: deleted (or no
        longer labelled) while the watch did not tell (a watch that resumed by listing again reports nothing for
        objects deleted meanwhile; a partition; a leader handover). Their keys leave the ring: one kept would go on
        sealing (as the newest) for a key the cluster no longer holds, and nothing sealed with it opens after
        the next restart."""
        namespace = self._settings.namespace
        known = {*self._store.secret_names(), *self.loader.secret_names()}
        for name in sorted(known - listed):
            if self._store.heard_since(name, mark):
                continue
            fingerprints = self._store.fingerprints_of(name)
            in_ring = set(self._store.ring.fingerprints())
            if self._store.is_wrapped(name) or name in self.loader.secret_names():
                self.loader.forget(name)
            else:
                self._store.drop(name)
            if not fingerprints:
                held = "it is forgotten"
            elif set(fingerprints) <= in_ring:
                held = f"its key {', '.join(fingerprints)} leaves the key ring"
            else:
                held = f"its key {', '.join(fingerprints)}, not unwrapped yet, is forgotten"
            logger.warning(
                "key Secret %s/%s is not in a fresh listing of the key Secrets (deleted or no longer labelled active "
                "while the watch did not say so): %s; %d key(s) held",
                namespace,
                name,
                held,
                len(self._store.ring),
            )
        self._store.forget_heard(listed, mark)

    def observe_secret(self, secret: Mapping[str, Any], *, deleted: bool = False) -> str | None:
        """A key Secret (plaintext or wrapped) seen by the watch, on the event loop; what happened, for the log."""
        name = str((secret.get("metadata") or {}).get("name") or "")
        if name:
            self._store.heard(name)  # newer than any listing in flight: `load` leaves this name to the watch
        if looks_like_wrapped_key_secret(secret) or self._store.is_wrapped(name):
            return self.loader.observe(secret, deleted=deleted)
        what = self._store.observe_secret(secret, deleted=deleted)
        self.report.inventory()
        why = self._store.unusable_reason(name)
        if why is not None:
            self._report_unusable(secret, why)
        return what

    def _report_unusable(self, secret: Mapping[str, Any], why: str) -> None:
        """A refused key Secret said on itself (a Warning event, `KekReport.key_unusable`), in a task of its own:
        posting (with its retries) holds up neither the watch nor a start."""
        if self.report.events is None:
            return
        task = asyncio.get_running_loop().create_task(self.report.key_unusable(secret, why))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    # --- when a key is due, and making one -------------------------------------------------------------

    def due(self) -> dt.datetime | None:
        s = self._settings
        newest = self._store.newest_known()
        return key_due(newest, self._clock(), renew_period=s.key_renew_period, cutoff=s.key_cutoff_time)

    def _is_due(self) -> bool:
        due = self.due()
        return due is not None and due <= self._clock()

    async def ensure(self) -> bool:
        """Generate a key now if one is due (decided again from a fresh listing); True if one was made."""
        if not self._is_due():
            return False
        await self.load()  # another controller may have made this period's key: decide from the cluster
        if not self._is_due():
            return False
        await self.generate()
        return True

    async def _prepare(self) -> _Prepared:
        s = self._settings
        now = self._clock()
        generated = await self._run(
            lambda: generate_key_pair(bits=s.key_size, common_name=s.my_cn, validity=s.key_ttl, now=now)
        )
        if not self.wrap_new_keys:
            manifest = key_secret_manifest(
                generated,
                namespace=s.namespace,
                prefix=s.key_prefix,
                labels=s.private_key_labels,
                annotations=s.private_key_annotations,
            )
            return _Prepared(generated.key, None, manifest)
        wrapped = await self._run(lambda: wrap_verified(generated.key, self._need_kek()))
        manifest = wrapped_key_manifest(
            wrapped,
            namespace=s.namespace,
            prefix=s.key_prefix,
            labels=s.private_key_labels,
            annotations=s.private_key_annotations,
        )
        return _Prepared(generated.key, wrapped, manifest)

    async def generate(self) -> str:
        """A new key pair in a new key Secret; it seals from now on, the older ones keep opening.

        The steps are the module docstring's. The Secret's name follows from the newest key known; if it exists
        already with a usable key (another controller made this period's key), that key is taken instead.
        """
        s = self._settings
        newest = self._store.newest_known()
        predecessor = newest.fingerprint if newest is not None else None
        if self._prepared is not None and self._outlived(self._prepared.key):
            self._prepared = None  # kept through failures for longer than it would seal: made again
        if self._prepared is None:
            try:
                self._prepared = await self._prepare()
            except KekError as exc:
                raise KeyUnavailable(exc.what, operation=WRAP, reason=exc.reason, where=exc.where) from None
            if self.wrap_new_keys:
                await self.report.succeeded(WRAP)
        prepared = self._prepared
        if self.escrow_gate is not None:
            try:
                await self.escrow_gate(prepared.material)
            except EscrowError as exc:
                raise KeyUnavailable(
                    f"new sealing key {prepared.key.fingerprint} not published until its escrowed copy is "
                    f"written and read back: {exc.what}",
                    operation=ESCROW,
                    reason=failure_reason(exc),
                    where=exc.where,
                ) from None
        with self.loader.writing(prepared.key):  # the watch may deliver the Secret before the create returns
            created, taken = await self._write(prepared, predecessor)
        self._prepared = None
        if taken is not None:
            return taken
        name = str((created.get("metadata") or {}).get("name") or s.key_prefix)
        born = creation_time(created) if self._store.by_creation else None
        key = dataclasses.replace(prepared.key, not_before=born) if born else prepared.key
        wrapped = prepared.wrapped
        if wrapped is not None and born:
            wrapped = dataclasses.replace(wrapped, not_before=born)
        self._store.heard(name)  # newer than any listing in flight
        self._store.put(name, [key], envelope=wrapped)
        self.report.inventory()
        kind = "wrapped key Secret" if wrapped is not None else "key Secret"
        logger.info("generated sealing key %s in %s %s/%s", key.fingerprint, kind, s.namespace, name)
        return name

    def _outlived(self, key: PrivateKey) -> bool:
        """A key kept across failed attempts (an outage longer than the renew period, a cutoff passed meanwhile)
        that would be due itself as soon as it was published: a second key would follow at once. Dated by its
        Secret (SecretCreationTimestamp), it is as new as its publication."""
        if self._store.by_creation:
            return False
        s = self._settings
        due = key_due(key, self._clock(), renew_period=s.key_renew_period, cutoff=s.key_cutoff_time)
        return due is not None and due <= self._clock()

    async def _write(self, prepared: _Prepared, predecessor: str | None) -> tuple[dict[str, Any], str | None]:
        """Create the key Secret under the successor name: (the created Secret, None), or, when another
        controller made this period's key, ({}, the name of the Secret taken instead)."""
        s = self._settings
        manifest = {**prepared.manifest, "metadata": dict(prepared.manifest["metadata"])}
        manifest["metadata"].pop("generateName", None)
        for attempt in range(_NAME_ATTEMPTS):
            name = successor_secret_name(s.key_prefix, predecessor, attempt)
            manifest["metadata"]["name"] = name
            try:
                return await self.writes.create_key_secret(manifest), None
            except ApiError as exc:
                if exc.status != 409 or exc.reason != "AlreadyExists":
                    raise
            existing = await self._run(self._client.get_secret, s.namespace, name)
            if existing is not None and prepared.key.fingerprint in _fingerprints(existing):
                return existing, None  # this very key, written by an attempt that did not hear back
            if self._take_existing(existing, name) and not self._is_due():
                logger.info(
                    "this period's sealing key exists already (key Secret %s/%s): no second key made", s.namespace, name
                )
                return {}, name
            # Holding no usable key, or one that is not this period's (a copy of an older key under this name,
            # say): taking it as this period's would leave the renewal due, made again at once, for ever.
        raise SealkitError(
            f"no new sealing key: the key Secret names after {predecessor or 'no key'} are all taken in "
            f"{s.namespace} by Secrets holding no usable key or an older one"
        )

    def _take_existing(self, existing: Mapping[str, Any] | None, name: str) -> str | None:
        """The key Secret of this name that another controller made: held (or, wrapped, being opened) from now
        on; None when it holds no usable key. Whether it is this period's key is for the caller to decide."""
        namespace = self._settings.namespace
        if existing is None:
            return None
        self._store.heard(name)  # read just now: newer than any listing in flight
        if is_wrapped_key_secret(existing):
            try:
                wrapped_from_secret(existing)
            except SealkitError:
                return None
            self.loader.observe(existing)
        elif is_active_key_secret(existing):
            try:
                keys = self._store.keys_of(existing, f"key Secret {namespace}/{name}")
            except SealkitError:
                return None
            self._store.put(name, keys)
        else:
            return None
        self.report.inventory()
        return name

    # --- the renewal loop ------------------------------------------------------------------------------

    async def ensure_or_report(self) -> bool:
        """`ensure`, but a key that cannot be made safely now is reported (log, event, metrics), not raised.

        So is the API refusing the new key Secret (403, 422, 5xx, a timeout) while a key is known: the keys held
        keep serving and the renewal loop retries with backoff. With no key at all it is raised: start-up fails
        and is retried, as Bitnami's controller exits.
        """
        try:
            made = await self.ensure()
        except KeyUnavailable as exc:
            self.failures += 1
            wait = self._backoff.delay(self.failures)
            await self.report.failed(exc.operation, exc, retry_in=wait)
            return False
        except SealkitError as exc:  # the API's errors included
            if self._store.newest_known() is None:
                raise
            self.failures += 1
            self._log_failure(self._backoff.delay(self.failures), exc)
            return False
        self.failures = 0
        return made

    def _log_failure(self, wait: float, exc: SealkitError) -> None:
        held = "; the keys held keep serving" if self._store.newest_known() is not None else ""
        logger.warning(
            "could not make a new sealing key in namespace %s (retrying in %.1fs%s): %s",
            self._settings.namespace,
            wait,
            held,
            exc,
        )

    def start(self) -> None:
        self._background.start()

    def start_resync(self) -> None:
        """List the key Secrets again every `key_resync_interval` (less up to a fifth, at random), on every replica,
        until `close`: see `resync`."""
        self._resyncing.start()

    async def stop(self) -> None:
        """Stop renewing (a follower keeps opening wrapped keys: the loader runs on until `close`)."""
        await self._background.stop()

    async def close(self) -> None:
        await self._resyncing.stop()
        await self.loader.stop()
        reports = list(self._reports)
        for task in reports:
            task.cancel()
        await asyncio.gather(*reports, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            wait = self._settings.key_check_interval
            self._wake.clear()
            try:
                failures = self.failures
                await self.ensure_or_report()
                if self.failures > failures:
                    wait = self._backoff.delay(self.failures)
                else:
                    due = self.due()
                    if due is not None:
                        wait = min(wait, max(0.0, (due - self._clock()).total_seconds()))
            except SealkitError as exc:  # the API's errors included
                self.failures += 1
                wait = self._backoff.delay(self.failures + 1)
                self._log_failure(wait, exc)
            except Exception as exc:  # a bug: said where, and retried (a task that ends renews nothing, silently)
                self.failures += 1
                wait = self._backoff.delay(self.failures + 1)
                log_unexpected(f"renewing the sealing key in namespace {self._settings.namespace}", exc)
            await woken(self._wake, wait)

    async def _resync_loop(self) -> None:
        """`resync` every interval; a failed listing (the API server refusing or away) is one warning and is tried
        again with backoff, the keys held serving meanwhile."""
        interval = self._settings.key_resync_interval
        namespace = self._settings.namespace
        wait = interval * (1 - RESYNC_JITTER * self._jitter())
        while True:
            await asyncio.sleep(wait)
            wait = interval * (1 - RESYNC_JITTER * self._jitter())
            try:
                await self.resync()
                self.resync_failures = 0
                continue
            except SealkitError as exc:  # the API's errors included
                self.resync_failures += 1
                wait = min(wait, self._backoff.delay(self.resync_failures))
                logger.warning(
                    "could not list the key Secrets in %s to check the key ring (retrying in %.1fs; the keys held "
                    "keep serving): %s",
                    namespace,
                    wait,
                    exc,
                )
            except Exception as exc:  # a bug: said where, and retried (a task that ends checks nothing, silently)
                self.resync_failures += 1
                wait = min(wait, self._backoff.delay(self.resync_failures))
                log_unexpected(f"listing the key Secrets in namespace {namespace}", exc, retrying_in=wait)


def _name_of(secret: Mapping[str, Any]) -> str:
    return str((secret.get("metadata") or {}).get("name") or "")


def _fingerprints(secret: Mapping[str, Any]) -> set[str]:
    """The keys a key Secret (plaintext or wrapped) holds, by fingerprint; none when it does not parse."""
    try:
        if looks_like_wrapped_key_secret(secret):
            return {wrapped_from_secret(secret).fingerprint}
        return {k.fingerprint for k in keys_from_secret(secret, "key Secret")}
    except SealkitError:
        return set()
