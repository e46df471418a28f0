"""Reconciling SealedSecrets into Secrets: triggers in, one attempt per queued key, retries out.

Triggers (all from Kopf's watch streams, on the event loop): a SealedSecret seen with a new generation or
scope (create, spec change, and every object once after a start: resume); its Secret deleted (re-created
when it was ours or marked managed); an unmanaged Secret getting the managed/patch annotation; new keys
(objects that failed to open are tried again); an edit of a Secret is not a trigger (see docs/controller.md,
drift). Each attempt: read the Secret; if its provenance annotation says it was made from exactly this
SealedSecret with a key still held, and its keyed content digest proves it still holds what was written, it
is in sync and nothing is decrypted; else unseal with the core in a worker thread (the key that opened the
object last time first, then the newest), decide (ownership.plan_write), write only when different, then
events and status.
Each attempt is blocking work in the thread pool; while a backlog waits (a start, a resume, a burst), one
pool job runs up to BACKLOG_BATCH keys' attempts one after another, each still settled key by key.
Scope: the label selector on SealedSecrets and the namespace selector; objects outside it are parked
(their last body kept) and taken up when they, or their namespace's labels, come into scope.

With leader election (docs/high-availability.md) every replica follows the watches, but only the leader's
workers run: `resume` (on becoming leader) takes a fresh listing, forgets what this replica remembered of
earlier work and queues every object; `pause` (on losing the lease) stops the workers. A failure is
reported once: its status records it (a new leader or a restart reads it back), and its Warning event has a
name fixed by the object, its generation, the failure and the status it follows, so a second attempt to
post it (the old leader died between event and status) is answered 409 and is not repeated. The status is
written only after the event was posted (or could not be, EventRecorder.attempts times): an event that
failed on its way is posted again by the next attempt, never taken as reported by a new leader.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from sealkit.bitnami import CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION
from sealkit.clients.kube.api import ApiError, KubeClient, WriteRefused
from sealkit.errors import SealkitError
from sealkit.keys import KeyRing
from sealkit.keysecrets import looks_like_key_secret
from sealkit.retry import Backoff
from sealkit.unsealing import InvalidTemplate, Unsealed, unseal
from sealkit.wrapping.keysecret import looks_like_wrapped_key_secret
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.plumbing.events import NORMAL, WARNING, EventRecorder, event_name_prefix
from sealkit_controller.plumbing.pool import InPool
from sealkit_controller.plumbing.workqueue import WorkQueue, log_failure, log_unexpected, raised_at
from sealkit_controller.reconciling import ownership, provenance, records, status
from sealkit_controller.reconciling.selectors import parse_selector
from sealkit_controller.serving import metrics as m
from sealkit_controller.settings import Settings

logger = logging.getLogger(__name__)

Key = tuple[str, str]

# Why the last attempt failed; decides which triggers try again.
UNSEAL = "unseal"
UNMANAGED = "unmanaged"
IMMUTABLE = "immutable"
INVALID = "invalid"  # the template or item keys make a Secret the API server refuses: only a new spec helps
API = "api"
UNEXPECTED = "unexpected"  # a bug in the controller: reported as a failure, not retried until something changes
# unseal_errors_total's reason for each failure.
_ERROR_REASON = {UNSEAL: m.UNSEAL, INVALID: m.UNSEAL, UNEXPECTED: m.UNSEAL, UNMANAGED: m.UNMANAGED, IMMUTABLE: m.UPDATE}
# Keys a worker takes together from a backlog (WorkQueue): one thread-pool job for them all cuts the event
# loop's work per object by about a third; 8 RSA-4096 attempts keep one thread about 20 ms.
BACKLOG_BATCH = 8
V1_DATA_REFUSED = (
    "Failed to unseal: spec.data (the deprecated v1 format) is not accepted here "
    "(--accept-deprecated-v1-data=false): re-seal it into spec.encryptedData"
)


def handled_marker(body: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes a SealedSecret need work again: its generation (spec) and its scope annotations.

    Scope annotations live in metadata, which does not bump the generation, yet they change the result.
    """
    meta = body.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    return (
        meta.get("generation"),
        annotations.get(CLUSTER_WIDE_ANNOTATION),
        annotations.get(NAMESPACE_WIDE_ANNOTATION),
    )


def event_name(body: Mapping[str, Any], outcome: status.Outcome, prior_status: Mapping[str, Any] | None) -> str:
    """The name of the Warning event that reports `outcome` for this object: the same for every replica.

    Fixed by the object (uid, generation), the failure (reason, message) and when the Synced condition last
    changed before it: the same failure again after a success is news (a new name), a retry of the same
    report is not (the API server answers 409 AlreadyExists).
    """
    meta = body.get("metadata") or {}
    prior = ""
    for condition in status.conditions_of(prior_status):
        if condition.get("type") == status.SYNCED:
            prior = f"{condition.get('status')}@{condition.get('lastTransitionTime')}"
    fact = "\x00".join(
        str(part) for part in (meta.get("uid"), meta.get("generation"), outcome.reason, outcome.message, prior)
    )
    digest = hashlib.sha256(fact.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{event_name_prefix(str(meta.get('name') or ''), 'sealedsecret')}.{digest}"


def reported_failure(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """The failure the status already reports for this generation: not worth another event after a restart."""
    current = status.status_of(body)
    if current.get("observedGeneration") != (body.get("metadata") or {}).get("generation"):
        return None
    for condition in status.conditions_of(current):
        if condition.get("type") == status.SYNCED:
            if condition.get("status") == "False":
                return str(condition.get("reason") or ""), str(condition.get("message") or "")
            return None
    return None


@dataclass
class _Read:
    """What one thread-pool job found: the Secret, its record, and the unsealed result or why not."""

    existing: dict[str, Any] | None
    digest: str
    found: tuple[str, str] | None
    in_sync: bool = False
    opened: Unsealed | None = None
    error: str = ""
    invalid: bool = False


@dataclass
class _Done:
    """What one attempt in the thread pool came to, for the event loop's bookkeeping."""

    rsa_operations: int = 0
    in_sync: int = 0
    outcome: status.Outcome | None = None
    failure: str | None = None
    stale: bool = False  # the object changed or went away meanwhile, or the workers stopped
    error: ApiError | None = None
    event_retry: dict[str, Any] | None = None
    report_deferred: bool = False  # the Warning event failed on its way: status not written, attempt again
    unexpected: Exception | None = None  # a bug, not an API answer: logged without its message, not retried


class _Stopped(Exception):
    """The workers stopped while an attempt ran in a thread: it writes nothing more."""


@dataclass(slots=True)
class Tracked:
    """The controller's memory of one SealedSecret (lost on restart: every object is then checked once).

    One per watched object, so it stays small: slots, and the body as `records.compact` keeps it.
    """

    uid: str
    body: dict[str, Any]
    marker: tuple[Any, ...] = ()
    attempts: int = 0
    failure: str | None = None
    done: bool = False
    last_event: tuple[str, str] | None = None
    unposted: int = 0  # attempts in a row whose Warning event failed on its way (their status waits for it)
    written_status: dict[str, Any] | None = None
    preferred_key: str | None = None
    phase: str = ""  # where the attempt is (fetch, update, status): unseal_errors_total's reason on API trouble


class Controller:
    """SealedSecret -> Secret for every watched namespace."""

    def __init__(
        self,
        settings: Settings,
        client: KubeClient,
        keys: KeyStore,
        executor: Executor,
        *,
        metrics: m.Metrics | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.client = client
        self.keys = keys
        self.executor = executor
        self.metrics = metrics or m.Metrics()
        self.clock = clock
        self.run = InPool(executor)  # blocking work (HTTP, RSA) in the controller's thread pool
        self.backoff = Backoff(settings.retry_base_delay, settings.retry_max_delay)
        self.tracked: dict[Key, Tracked] = {}
        # SealedSecrets outside the selectors, kept to take up when they or their namespace come into scope.
        self.parked: dict[Key, dict[str, Any]] = {}
        self.namespace_labels: dict[str, dict[str, str]] = {}
        self.label_selector = parse_selector(settings.label_selector, "label selector")
        self.namespace_selector = parse_selector(settings.namespace_selector, "namespace selector")
        # Keys of the content digests in the provenance records, derived once per sealing key held.
        self.content_keys = provenance.ContentKeys()
        # What the work cost: RSA decryptions, and reconciles answered from the provenance annotation.
        self.rsa_operations = 0
        self.in_sync_skips = 0
        self.queue: WorkQueue[Key] = WorkQueue(self.reconcile, settings.workers, batch=BACKLOG_BATCH)
        self.events = EventRecorder(client, self.run, instance=settings.instance, delay=settings.retry_base_delay)
        self._tasks: set[asyncio.Task[None]] = set()
        self.writing = False  # the workers run (alone, or as the leader)
        self.term = 0  # how many times the workers started: a batch from an earlier term stops midway
        # Where key Secrets seen by the watch go (the key manager's, once wired: it also opens wrapped ones).
        self.key_observer: Callable[..., str | None] = keys.observe_secret
        keys.on_change(self.on_keys_changed)

    def start(self) -> None:
        self.term += 1
        self.writing = True
        self.queue.start()

    async def stop(self) -> None:
        self.writing = False
        await self.queue.stop()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def pause(self) -> None:
        """No more work (this replica lost the lease): workers and pending work stop; the watches go on."""
        await self.stop()

    def resume(self, listed: list[dict[str, Any]]) -> int:
        """Take up the work from a fresh listing (this replica became leader); returns how many are queued.

        What this replica remembers of earlier work (attempts, statuses written, events posted) may be stale:
        another leader has worked since. Every object starts afresh from the listed body (or the watch's, if
        that is of a newer generation), reads what was already reported from its status, and is queued.
        """
        for body in listed:
            meta = body.get("metadata") or {}
            key: Key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            known = self.tracked.get(key)
            same = known is not None and str(meta.get("uid") or "") == known.uid
            if same and known is not None and _generation(known.body) > _generation(body):
                continue  # the watch has delivered a newer generation than the listing
            self.tracked.pop(key, None)
            self.observe_sealed_secret(body)
        for key, tracked in self.tracked.items():
            tracked.attempts = 0
            tracked.done = False
            tracked.failure = None
            tracked.written_status = None
            tracked.last_event = reported_failure(tracked.body)
            tracked.unposted = 0
            self.queue.add(key)
        self.start()
        return len(self.tracked)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- scope -------------------------------------------------------------------------------------------

    def in_scope(self, body: Mapping[str, Any]) -> bool:
        """Within --label-selector and, if given, --namespace-selector (an unseen namespace is not)."""
        meta = body.get("metadata") or {}
        if not self.label_selector.matches(meta.get("labels")):
            return False
        if not self.namespace_selector:
            return True
        labels = self.namespace_labels.get(str(meta.get("namespace") or ""))
        return labels is not None and self.namespace_selector.matches(labels)

    def _park(self, key: Key, body: Mapping[str, Any]) -> None:
        if self.tracked.pop(key, None) is not None:
            logger.info("SealedSecret %s/%s is out of scope now: no longer reconciled", *key)
        self.queue.discard(key)
        self.metrics.forget(*key)
        self.parked[key] = records.compact(body)

    def observe_namespace(self, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        """A Namespace seen by the watch (only with --namespace-selector): take up or park its objects."""
        name = str((body.get("metadata") or {}).get("name") or "")
        if deleted:
            self.namespace_labels.pop(name, None)
        else:
            self.namespace_labels[name] = dict((body.get("metadata") or {}).get("labels") or {})
        for key in [k for k in self.parked if k[0] == name]:
            if self.in_scope(self.parked[key]):
                self.observe_sealed_secret(self.parked.pop(key))
        for key in [k for k in self.tracked if k[0] == name]:
            tracked = self.tracked[key]
            if not self.in_scope(tracked.body):
                self._park(key, tracked.body)

    # --- triggers (called on the event loop by the Kopf handlers) ----------------------------------------

    def observe_sealed_secret(self, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        meta = body.get("metadata") or {}
        key: Key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        if deleted:
            gone = self.tracked.pop(key, None)
            self.parked.pop(key, None)
            self.queue.discard(key)
            self.metrics.forget(*key)
            if self.settings.old_gc_behavior and gone is not None and self.writing:
                self._spawn(self._collect(key, dict(body), gone.uid))
            return
        if not self.in_scope(body):
            self._park(key, body)
            return
        self.parked.pop(key, None)
        uid = str(meta.get("uid") or "")
        marker = handled_marker(body)
        tracked = self.tracked.get(key)
        if tracked is None or tracked.uid != uid:
            tracked = Tracked(uid=uid, body=records.compact(body), last_event=reported_failure(body))
            self.tracked[key] = tracked
        else:
            tracked.body = records.compact(body, tracked.written_status)
            if tracked.marker == marker:
                return  # a status or metadata change: already handled or being retried
            tracked.last_event = None  # a new generation or scope: its failures are news
            tracked.unposted = 0
        tracked.marker = marker
        tracked.attempts = 0
        tracked.done = False
        self.queue.add(key)

    def observe_secret(self, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        meta = body.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        if self._is_key_secret(namespace, body):
            what = self.key_observer(body, deleted=deleted)
            if what:
                logger.info("key Secret %s/%s %s; %d key(s) held", namespace, name, what, len(self.keys.ring))
        key: Key = (namespace, name)
        tracked = self.tracked.get(key)
        if tracked is None:
            return
        if deleted:
            if not tracked.done and ownership.made_by_earlier(body, name, tracked.uid):
                # The Secret of an earlier SealedSecret of this name (deleted and created again) was in the way, and
                # the garbage collector has taken it with its owner: this one makes its own now (an attempt still
                # under way, which may have found it, runs again after).
                logger.info("Secret %s/%s of an earlier SealedSecret of that name was deleted; creating it", *key)
                if tracked.failure == UNMANAGED:
                    tracked.attempts = 0
                self.queue.add(key)
            elif not self.settings.skip_recreate and ownership.should_recreate(body, tracked.uid):
                logger.info("Secret %s/%s was deleted; re-creating it", namespace, name)
                tracked.attempts = 0
                tracked.done = False
                self.queue.add(key)
        elif tracked.failure == UNMANAGED and (ownership.is_managed(body) or ownership.is_patched(body)):
            tracked.attempts = 0
            self.queue.add(key)

    def on_keys_changed(self, added: set[str], removed: set[str]) -> None:
        self.content_keys.forget(removed)
        if not added:
            return
        for key, tracked in self.tracked.items():
            if tracked.failure == UNSEAL:
                tracked.attempts = 0
                self.queue.add(key)

    # --- one attempt -------------------------------------------------------------------------------------

    def _delay(self, attempts: int, retry_after: float | None = None) -> float:
        return self.backoff.delay(attempts, retry_after)

    async def _collect(self, key: Key, body: dict[str, Any], owner_uid: str) -> None:
        """--old-gc-behavior: delete the Secret of a deleted SealedSecret ourselves (owned, or made from it)."""
        namespace, name = key
        try:
            secret = await self.run(self.client.get_secret, namespace, name)
            if secret is None:
                return
            found = provenance.recorded(secret)
            made_from = found is not None and found[0] == provenance.source_digest(body)
            if ownership.controlled_by(secret, owner_uid) or (made_from and not ownership.is_patched(secret)):
                uid = str((secret.get("metadata") or {}).get("uid") or "") or None
                if await self.run(self.client.delete_secret, namespace, name, uid):
                    logger.info("SealedSecret %s/%s was deleted; deleted its Secret", namespace, name)
        except ApiError as exc:
            logger.warning("SealedSecret %s/%s was deleted; could not delete its Secret: %s", namespace, name, exc)

    async def reconcile(self, keys: list[Key]) -> None:
        """One attempt per key (one key, or a batch from a backlog): all their blocking work is one job in
        the thread pool, the keys one after another; the bookkeeping stays here, key by key."""
        found = ((key, self.tracked.get(key)) for key in keys)
        jobs = [(key, tracked, tracked.marker, tracked.body) for key, tracked in found if tracked is not None]
        if not jobs:
            return
        dones = await self.run(self._reconcile_jobs, jobs, self.term)
        for (key, tracked, marker, _), done in zip(jobs, dones, strict=True):
            if done.unexpected is not None:
                log_failure(key, done.unexpected)
                continue
            await self._settle(key, tracked, marker, done)

    def _reconcile_jobs(
        self, jobs: list[tuple[Key, Tracked, tuple[Any, ...], dict[str, Any]]], term: int
    ) -> list[_Done]:
        """The attempts of one batch in a worker thread; an unexpected error stays with its own key.

        Stopped meanwhile (lost lease, shutdown), or stopped and started again (the lease regained: the new
        term queued every object afresh), the rest of the batch is not even opened: at most the attempt under
        way overlaps the new term's, as with a batch of one.
        """
        dones: list[_Done] = []
        for key, tracked, marker, body in jobs:
            if not self.writing or self.term != term:
                dones.append(_Done(stale=True))
                continue
            try:
                dones.append(self._reconcile_blocking(key, tracked, marker, body))
            except Exception as exc:
                dones.append(_Done(unexpected=exc))
        return dones

    async def _settle(self, key: Key, tracked: Tracked, marker: tuple[Any, ...], done: _Done) -> None:
        """One attempt's bookkeeping, on the event loop: counters, outcome, retries."""
        self.rsa_operations += done.rsa_operations
        self.in_sync_skips += done.in_sync
        if done.event_retry is not None:
            self._spawn(self.events.retry(done.event_retry))
        if done.outcome is not None and not self._changed(key, tracked, marker):
            # Here, on the event loop: atomic with the triggers that reset these and with `metrics.forget`.
            tracked.failure = done.failure
            tracked.done = done.outcome.ok
            self._observe_outcome(key, done.outcome, done.failure)
        if done.error is not None:
            await self._api_failure(key, tracked, marker, done.error)
            return
        if done.stale:
            return  # deleted or changed meanwhile (or stopped): the newer trigger decides
        if done.failure is None:
            tracked.attempts = 0
            return
        if done.report_deferred:
            self.queue.add_after(key, self._delay(tracked.unposted))
            return
        tracked.attempts += 1
        if done.failure == UNSEAL and tracked.attempts <= self.settings.max_unseal_retries:
            self.queue.add_after(key, self._delay(tracked.attempts))

    def _changed(self, key: Key, tracked: Tracked, marker: tuple[Any, ...]) -> bool:
        return self.tracked.get(key) is not tracked or tracked.marker != marker

    def _writable(self) -> None:
        """Before each write from a worker thread: the workers were stopped (lost lease, shutdown) meanwhile."""
        if not self.writing:
            raise _Stopped

    def _reconcile_blocking(
        self, key: Key, tracked: Tracked, marker: tuple[Any, ...], body: Mapping[str, Any]
    ) -> _Done:
        """The whole attempt in a worker thread: read, unseal, write, event, status (one job, no hops).

        The work queue runs one attempt per key at a time, so `tracked` is this job's alone but for the
        triggers on the event loop, which only replace its body and marker (checked here, as before each
        report) and reset its counters (applied by `reconcile` after this returns).
        """
        done = _Done()
        if (body.get("metadata") or {}).get("deletionTimestamp"):
            # Being deleted (a finalizer holds it, or a foreground deletion takes its dependents first): its Secret is
            # neither made nor written again, nor its status; the deletion ends the rest.
            logger.info("SealedSecret %s/%s is being deleted: its Secret is not written", *key)
            done.stale = True
            return done
        try:
            outcome, failure, wrote = self._attempt(key, tracked, body, done)
            if self._changed(key, tracked, marker):
                done.stale = True
                return done
            done.outcome, done.failure = outcome, failure  # applied by `reconcile` even if the report fails
            done.event_retry, done.report_deferred = self._finish(tracked, outcome, wrote, body)
        except ApiError as exc:
            done.error = exc
        except _Stopped:
            done.stale, done.outcome = True, None
        except Exception as exc:  # a bug: the object is reported as failed (fail closed), never silently skipped
            self._report_unexpected(key, tracked, marker, body, exc, done)
        return done

    def _report_unexpected(
        self, key: Key, tracked: Tracked, marker: tuple[Any, ...], body: Mapping[str, Any], exc: Exception, done: _Done
    ) -> None:
        """An attempt that failed unexpectedly: logged where it was raised (never its message or class), and
        reported like any failure (Synced/Ready False, Stalled, a Warning event), so the object does not sit
        without a word; not retried until it, its Secret or the keys change (or a restart)."""
        log_failure(key, exc)
        done.error, done.event_retry, done.report_deferred = None, None, False
        if self._changed(key, tracked, marker):
            done.stale = True
            return
        message = f"Failed to unseal: the controller failed unexpectedly (a bug){raised_at(exc)}; see its log"
        done.outcome = _stalled(status.ERR_UNSEAL_FAILED, message, status.UNEXPECTED_ERROR)
        done.failure = UNEXPECTED
        try:
            done.event_retry, done.report_deferred = self._finish(tracked, done.outcome, False, body)
        except _Stopped:
            done.stale = True
        except ApiError as report_exc:
            logger.warning("SealedSecret %s/%s: could not record the failure: %s", *key, report_exc)
        except Exception as report_exc:
            log_unexpected(f"reporting the failure of SealedSecret {key[0]}/{key[1]}", report_exc)

    def _attempt(
        self, key: Key, tracked: Tracked, body: Mapping[str, Any], done: _Done
    ) -> tuple[status.Outcome, str | None, bool]:
        namespace, name = key
        where = f"SealedSecret {namespace}/{name}"
        ring = self.keys.ring
        self.metrics.unseal_requests.inc()
        spec = body.get("spec") or {}
        if not self.settings.accept_deprecated_v1_data and spec.get("data") and not spec.get("encryptedData"):
            logger.warning("%s: holds the deprecated spec.data, refused by --accept-deprecated-v1-data=false", where)
            return _stalled(status.ERR_UNSEAL_FAILED, V1_DATA_REFUSED, status.UNSEAL_FAILED), UNSEAL, False
        tracked.phase = m.FETCH
        read = self._read_and_open(key, body, ring, tracked.uid, tracked.preferred_key, where)
        existing, digest, found = read.existing, read.digest, read.found
        if existing is not None and self._is_key_secret(namespace, existing):
            message = key_secret_in_the_way(namespace, name)
            logger.warning("%s: %s", where, message)
            return _stalled(status.ERR_UPDATE_FAILED, message, status.SECRET_NOT_MANAGED), UNMANAGED, False
        if read.in_sync and found is not None:
            tracked.preferred_key = found[1]
            done.in_sync = 1
            return status.Outcome(True, status.UNSEALED), None, False
        if read.opened is None:
            cause = _strip(read.error, where)
            logger.warning("%s: failed to unseal: %s", where, cause)
            failure, stalled = (INVALID, status.INVALID_SECRET) if read.invalid else (UNSEAL, status.UNSEAL_FAILED)
            return _stalled(status.ERR_UNSEAL_FAILED, f"Failed to unseal: {cause}", stalled), failure, False
        opened = read.opened
        done.rsa_operations += opened.rsa_operations
        desired = opened.secret
        if self._is_key_secret(namespace, desired):
            message = f"Failed to unseal: {would_be_key_secret(namespace)}"
            logger.warning("%s: %s", where, message)
            return _stalled(status.ERR_UNSEAL_FAILED, message, status.INVALID_SECRET), INVALID, False
        stamp = None
        if opened.key_fingerprints:
            fingerprint = tracked.preferred_key = opened.key_fingerprints[0]
            content_key = self.content_keys.get(ring, fingerprint)
            if content_key is not None:

                def stamp(secret: dict[str, Any]) -> dict[str, Any]:
                    return provenance.stamp(secret, body, digest, fingerprint, content_key)

        tracked.phase = m.UPDATE
        plan = ownership.plan_write(desired, existing, tracked.uid, stamp)
        if plan.action is ownership.Action.UNMANAGED:
            logger.warning("%s: %s", where, plan.message)
            return _stalled(status.ERR_UPDATE_FAILED, plan.message, status.SECRET_NOT_MANAGED), UNMANAGED, False
        if plan.action is ownership.Action.IMMUTABLE:
            logger.warning("%s: %s", where, plan.message)
            return _stalled(status.ERR_UPDATE_FAILED, plan.message, status.SECRET_IMMUTABLE), IMMUTABLE, False
        wrote = False
        if plan.action is ownership.Action.CREATE and plan.body is not None:
            self._writable()
            self.client.create_secret(namespace, plan.body)
            logger.info("%s: created Secret %s/%s", where, namespace, name)
            wrote = True
        elif plan.action is ownership.Action.UPDATE and plan.body is not None:
            self._writable()
            try:
                self.client.replace_secret(namespace, name, plan.body)
            except ApiError as exc:
                if exc.immutable:
                    message = ownership.immutable_message(namespace, name)
                    return _stalled(status.ERR_UPDATE_FAILED, message, status.SECRET_IMMUTABLE), IMMUTABLE, False
                raise
            logger.info("%s: updated Secret %s/%s", where, namespace, name)
            wrote = True
        return status.Outcome(True, status.UNSEALED), None, wrote

    def _is_key_secret(self, namespace: str, secret: Mapping[str, Any]) -> bool:
        """A Secret the key manager takes (or would take) for a sealing key: in the controller's namespace, with
        a key label (or the wrapped key type), or a key Secret's name. A SealedSecret never makes or writes one:
        whoever may create SealedSecrets there would otherwise plant a sealing key of their own."""
        if namespace != self.settings.namespace:
            return False
        name = str((secret.get("metadata") or {}).get("name") or "")
        return (
            looks_like_key_secret(secret) or looks_like_wrapped_key_secret(secret) or name in self.keys.secret_names()
        )

    def _read_and_open(
        self, key: Key, body: Mapping[str, Any], ring: KeyRing, uid: str, preferred: str | None, where: str
    ) -> _Read:
        """One thread-pool job: read the Secret; unless it is in sync, unseal (the key used last time first)."""
        existing = self.client.get_secret(*key)
        digest = provenance.source_digest(body)
        found = provenance.recorded(existing)
        if (
            found is not None
            and existing is not None
            and found[0] == digest
            and (
                ownership.controlled_by(existing, uid)
                or ownership.is_managed(existing)
                or ownership.is_patched(existing)
            )
            and (content_key := self.content_keys.get(ring, found[1])) is not None
            and provenance.content_intact(existing, body, digest, found[1], content_key)
        ):
            return _Read(existing, digest, found, in_sync=True)
        try:
            opened = unseal(body, ring, where=where, preferred_key=preferred or (found[1] if found else None))
        except SealkitError as exc:
            return _Read(existing, digest, found, error=str(exc), invalid=isinstance(exc, InvalidTemplate))
        return _Read(existing, digest, found, opened=opened)

    async def _api_failure(self, key: Key, tracked: Tracked, marker: tuple[Any, ...], exc: ApiError) -> None:
        """API trouble: retry with backoff; transient errors forever, others up to the retry limit.

        The condition and a Warning event say so once the retries reach the limit (or at once for errors
        retrying cannot fix), so a brief 409/429/500 never shows as a failure.
        """
        namespace, name = key
        if self.tracked.get(key) is not tracked or tracked.marker != marker:
            return
        body = tracked.body  # the attempt's generation: a newer one may arrive while this reports
        if isinstance(exc, WriteRefused):  # no longer surely the leader: the next leader takes it up
            logger.info("SealedSecret %s/%s: left to the next leader: %s", namespace, name, exc.message)
            return
        self.metrics.unseal_error(tracked.phase or m.UPDATE, namespace)
        tracked.attempts += 1
        delay = self._delay(tracked.attempts, exc.retry_after)
        if exc.status == 409:
            delay = min(delay, self.settings.retry_base_delay)
        limit = self.settings.max_unseal_retries
        logger.warning(
            "SealedSecret %s/%s: API error, retry %d in %.2fs: %s", namespace, name, tracked.attempts, delay, exc
        )
        if not exc.transient or tracked.attempts >= limit:
            message = f"Failed to update Secret {name}: {exc}"
            if exc.transient:  # retried with backoff for as long as it takes
                outcome = status.Outcome(False, status.ERR_UPDATE_FAILED, message, reconciling=status.RETRYING)
            else:  # the API server refuses it as it is (422 Invalid, 403 Forbidden, ...): a change must come first
                outcome = _stalled(status.ERR_UPDATE_FAILED, message, _api_reason(exc))
            tracked.failure = API
            self.metrics.observe_conditions(namespace, name, {status.SYNCED: "False", status.READY: "False"})
            try:
                retry, deferred = await self.run(self._finish, tracked, outcome, False, body)
            except ApiError as status_exc:
                logger.warning("SealedSecret %s/%s: could not record the failure: %s", namespace, name, status_exc)
            except _Stopped:
                return
            else:
                if retry is not None:
                    self._spawn(self.events.retry(retry))
                if deferred:  # its status waits for the event: attempted again whatever the limit
                    self.queue.add_after(key, delay)
                    return
        if exc.transient or tracked.attempts <= limit:
            self.queue.add_after(key, delay)

    def _observe_outcome(self, key: Key, outcome: status.Outcome, failure: str | None) -> None:
        if failure is not None:
            self.metrics.unseal_error(_ERROR_REASON.get(failure, m.UPDATE), key[0])
        value = "True" if outcome.ok else "False"
        self.metrics.observe_conditions(key[0], key[1], {status.SYNCED: value, status.READY: value})

    def _finish(
        self, tracked: Tracked, outcome: status.Outcome, wrote: bool, body: Mapping[str, Any]
    ) -> tuple[dict[str, Any] | None, bool]:
        """Event, then status (blocking): an event body for `EventRecorder.retry` if one is due, and whether
        the status waits for a Warning event that failed on its way (the caller attempts the object again).
        `body` is the SealedSecret as the attempt read it: the event and `observedGeneration` are about its
        generation, not a newer one the watch delivered meanwhile (that one is attempted next).

        The status is what tells a new leader or a restart that a failure was reported, so it is not written
        while its event is still unposted; after `EventRecorder.attempts` such attempts the status goes first
        (a lasting event outage must not hide the failure from the status too) and the event is retried alone.
        """
        retry = self._report(tracked, outcome, wrote, body)
        if retry is not None and not outcome.ok:
            tracked.unposted += 1
            if tracked.unposted < self.events.attempts:
                meta = tracked.body.get("metadata") or {}
                logger.info(
                    "SealedSecret %s/%s: the %s event was not posted; attempt %d follows",
                    meta.get("namespace"),
                    meta.get("name"),
                    outcome.reason,
                    tracked.unposted + 1,
                )
                tracked.last_event = None  # the next attempt posts it again, under the same name
                return None, True
        tracked.unposted = 0
        tracked.phase = m.STATUS
        self._write_status(tracked, outcome, body)
        return retry, False

    def _report(
        self, tracked: Tracked, outcome: status.Outcome, wrote: bool, body: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        if outcome.ok:
            tracked.last_event = None
            if wrote:
                self._writable()
                return self.events.post_blocking(body, NORMAL, status.UNSEALED, "SealedSecret unsealed successfully")
            return None
        event = (outcome.reason, outcome.message)
        if tracked.last_event != event:
            tracked.last_event = event
            prior = tracked.written_status if tracked.written_status is not None else tracked.body.get("status")
            name = event_name(body, outcome, prior)
            self._writable()
            return self.events.post_blocking(body, WARNING, outcome.reason, outcome.message, name=name)
        return None

    def _write_status(self, tracked: Tracked, outcome: status.Outcome, body: Mapping[str, Any]) -> None:
        if not self.settings.update_status:
            return
        meta = body.get("metadata") or {}
        current = tracked.written_status if tracked.written_status is not None else tracked.body.get("status")
        new = status.next_status(
            current, meta.get("generation"), outcome, self.clock(), secret_name=str(meta.get("name") or "")
        )
        if new is None:
            return
        self._writable()
        try:
            self.client.patch_sealed_secret_status(str(meta.get("namespace") or ""), str(meta.get("name") or ""), new)
        except ApiError as exc:
            if exc.status == 404:
                return
            raise
        tracked.written_status = new


def would_be_key_secret(namespace: str) -> str:
    return (
        f"the Secret it describes would be a sealing key Secret of the controller (a key label in its namespace "
        f"{namespace}): a SealedSecret cannot make one"
    )


def key_secret_in_the_way(namespace: str, name: str) -> str:
    return f"Secret {namespace}/{name} is a sealing key Secret of the controller: a SealedSecret never writes over one"


def _stalled(reason: str, message: str, stalled: str) -> status.Outcome:
    return status.Outcome(False, reason, message, stalled=stalled)


def _api_reason(exc: ApiError) -> str:
    """The Stalled reason of an API refusal: the Status' reason (Invalid, Forbidden, ...) when it is one word."""
    reason = exc.reason or ""
    return reason if reason.isalnum() and reason[:1].isupper() else "APIError"


def _generation(body: Mapping[str, Any]) -> int:
    value = (body.get("metadata") or {}).get("generation")
    return value if isinstance(value, int) else 0


def _strip(message: str, where: str) -> str:
    """Core messages end with the object's name (`what: where`); events and conditions are already about it."""
    suffix = f": {where}"
    return message[: -len(suffix)] if message.endswith(suffix) else message
