"""Reconciling SealedSecrets into Secrets: triggers in, one attempt per queued key, retries out.

Triggers (all from Kopf's watch streams, on the event loop): a SealedSecret seen with a new generation or
scope (create, spec change, and every object once after a start: resume); its Secret deleted (re-created
when it was ours or marked managed); an unmanaged Secret getting the managed/patch annotation; new keys
(objects that failed to open are tried again). Each attempt: unseal with the core in a worker thread,
read the Secret, decide (ownership.plan_write), write only when different, then events and status.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sealkit.bitnami import CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION
from sealkit.errors import SealkitError
from sealkit.unsealing import Unsealed, unseal
from sealkit_controller import ownership, status
from sealkit_controller.events import NORMAL, WARNING, EventRecorder
from sealkit_controller.keystore import KeyStore, looks_like_key_secret
from sealkit_controller.kubeapi import ApiError, KubeClient
from sealkit_controller.settings import Settings
from sealkit_controller.workqueue import WorkQueue

logger = logging.getLogger("sealkit.controller")

T = TypeVar("T")
Key = tuple[str, str]

# Why the last attempt failed; decides which triggers try again.
UNSEAL = "unseal"
UNMANAGED = "unmanaged"
IMMUTABLE = "immutable"
API = "api"


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


def reported_failure(body: Mapping[str, Any]) -> tuple[str, str] | None:
    """The failure the status already reports for this generation: not worth another event after a restart."""
    current = body.get("status") or {}
    if current.get("observedGeneration") != (body.get("metadata") or {}).get("generation"):
        return None
    for condition in current.get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type") == status.SYNCED:
            if condition.get("status") == "False":
                return str(condition.get("reason") or ""), str(condition.get("message") or "")
            return None
    return None


@dataclass
class Tracked:
    """The controller's memory of one SealedSecret (lost on restart: every object is then checked once)."""

    uid: str
    body: dict[str, Any]
    marker: tuple[Any, ...] = ()
    attempts: int = 0
    failure: str | None = None
    done: bool = False
    last_event: tuple[str, str] | None = None
    written_status: dict[str, Any] | None = None
    preferred_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Controller:
    """SealedSecret -> Secret for every watched namespace."""

    def __init__(
        self,
        settings: Settings,
        client: KubeClient,
        keys: KeyStore,
        executor: Executor,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.client = client
        self.keys = keys
        self.executor = executor
        self.clock = clock
        self.tracked: dict[Key, Tracked] = {}
        self.queue: WorkQueue[Key] = WorkQueue(self.reconcile, settings.workers)
        self.events = EventRecorder(client, self.run, instance=settings.instance, delay=settings.retry_base_delay)
        keys.on_change(self.on_keys_changed)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking work (HTTP, RSA) in the controller's thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))

    def start(self) -> None:
        self.queue.start()

    async def stop(self) -> None:
        await self.queue.stop()

    # --- triggers (called on the event loop by the Kopf handlers) ----------------------------------------

    def observe_sealed_secret(self, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        meta = body.get("metadata") or {}
        key: Key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        if deleted:
            self.tracked.pop(key, None)
            self.queue.discard(key)
            return
        uid = str(meta.get("uid") or "")
        marker = handled_marker(body)
        tracked = self.tracked.get(key)
        if tracked is None or tracked.uid != uid:
            tracked = self.tracked[key] = Tracked(uid=uid, body=dict(body), last_event=reported_failure(body))
        else:
            tracked.body = dict(body)
            if tracked.marker == marker:
                return  # a status or metadata change: already handled or being retried
            tracked.last_event = None  # a new generation or scope: its failures are news
        tracked.marker = marker
        tracked.attempts = 0
        tracked.done = False
        self.queue.add(key)

    def observe_secret(self, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        meta = body.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        if namespace == self.settings.namespace and (looks_like_key_secret(body) or name in self.keys.secret_names()):
            what = self.keys.observe_secret(body, deleted=deleted)
            if what:
                logger.info("key Secret %s/%s %s; %d key(s) held", namespace, name, what, len(self.keys.ring))
        key: Key = (namespace, name)
        tracked = self.tracked.get(key)
        if tracked is None:
            return
        if deleted:
            if not self.settings.skip_recreate and ownership.should_recreate(body, tracked.uid):
                logger.info("Secret %s/%s was deleted; re-creating it", namespace, name)
                tracked.attempts = 0
                tracked.done = False
                self.queue.add(key)
        elif tracked.failure == UNMANAGED and (ownership.is_managed(body) or ownership.is_patched(body)):
            tracked.attempts = 0
            self.queue.add(key)

    def on_keys_changed(self, added: set[str], removed: set[str]) -> None:
        if not added:
            return
        for key, tracked in self.tracked.items():
            if tracked.failure == UNSEAL:
                tracked.attempts = 0
                self.queue.add(key)

    # --- one attempt -------------------------------------------------------------------------------------

    def _delay(self, attempts: int, retry_after: float | None = None) -> float:
        s = self.settings
        delay = min(s.retry_max_delay, s.retry_base_delay * float(2 ** max(0, attempts - 1)))
        if retry_after:
            delay = max(delay, min(retry_after, s.retry_max_delay))
        return delay

    async def reconcile(self, key: Key) -> None:
        tracked = self.tracked.get(key)
        if tracked is None:
            return
        marker, body = tracked.marker, tracked.body
        try:
            outcome, failure, wrote = await self._attempt(key, tracked, body)
            if self.tracked.get(key) is not tracked or tracked.marker != marker:
                return  # deleted or changed meanwhile: the newer trigger decides
            tracked.failure = failure
            tracked.done = outcome.ok
            await self._report(tracked, outcome, wrote)
            await self._write_status(tracked, outcome)
        except ApiError as exc:
            await self._api_failure(key, tracked, marker, exc)
            return
        if failure is None:
            tracked.attempts = 0
            return
        tracked.attempts += 1
        if failure == UNSEAL and tracked.attempts <= self.settings.max_unseal_retries:
            self.queue.add_after(key, self._delay(tracked.attempts))

    async def _attempt(
        self, key: Key, tracked: Tracked, body: Mapping[str, Any]
    ) -> tuple[status.Outcome, str | None, bool]:
        namespace, name = key
        where = f"SealedSecret {namespace}/{name}"
        ring = self.keys.ring
        try:
            opened: Unsealed = await self.run(
                functools.partial(unseal, body, ring, where=where, preferred_key=tracked.preferred_key)
            )
        except SealkitError as exc:
            cause = _strip(str(exc), where)
            logger.warning("%s: failed to unseal: %s", where, cause)
            return status.Outcome(False, status.ERR_UNSEAL_FAILED, f"Failed to unseal: {cause}"), UNSEAL, False
        if opened.key_fingerprints:
            tracked.preferred_key = opened.key_fingerprints[0]
        desired = opened.secret
        existing = await self.run(self.client.get_secret, namespace, name)
        plan = ownership.plan_write(desired, existing, tracked.uid)
        if plan.action is ownership.Action.UNMANAGED:
            logger.warning("%s: %s", where, plan.message)
            return status.Outcome(False, status.ERR_UPDATE_FAILED, plan.message), UNMANAGED, False
        if plan.action is ownership.Action.IMMUTABLE:
            logger.warning("%s: %s", where, plan.message)
            return status.Outcome(False, status.ERR_UPDATE_FAILED, plan.message), IMMUTABLE, False
        wrote = False
        if plan.action is ownership.Action.CREATE and plan.body is not None:
            await self.run(self.client.create_secret, namespace, plan.body)
            logger.info("%s: created Secret %s/%s", where, namespace, name)
            wrote = True
        elif plan.action is ownership.Action.UPDATE and plan.body is not None:
            try:
                await self.run(self.client.replace_secret, namespace, name, plan.body)
            except ApiError as exc:
                if exc.immutable:
                    message = ownership.immutable_message(namespace, name)
                    return status.Outcome(False, status.ERR_UPDATE_FAILED, message), IMMUTABLE, False
                raise
            logger.info("%s: updated Secret %s/%s", where, namespace, name)
            wrote = True
        return status.Outcome(True, status.UNSEALED), None, wrote

    async def _api_failure(self, key: Key, tracked: Tracked, marker: tuple[Any, ...], exc: ApiError) -> None:
        """API trouble: retry with backoff; transient errors forever, others up to the retry limit.

        The condition and a Warning event say so once the retries reach the limit (or at once for errors
        retrying cannot fix), so a brief 409/429/500 never shows as a failure.
        """
        namespace, name = key
        if self.tracked.get(key) is not tracked or tracked.marker != marker:
            return
        tracked.attempts += 1
        delay = self._delay(tracked.attempts, exc.retry_after)
        if exc.status == 409:
            delay = min(delay, self.settings.retry_base_delay)
        limit = self.settings.max_unseal_retries
        logger.warning("SealedSecret %s/%s: API error, retry %d in %.2fs: %s", namespace, name, tracked.attempts,
                       delay, exc)
        if not exc.transient or tracked.attempts >= limit:
            outcome = status.Outcome(False, status.ERR_UPDATE_FAILED, f"Failed to update Secret {name}: {exc}")
            tracked.failure = API
            try:
                await self._report(tracked, outcome, False)
                await self._write_status(tracked, outcome)
            except ApiError as status_exc:
                logger.warning("SealedSecret %s/%s: could not record the failure: %s", namespace, name, status_exc)
        if exc.transient or tracked.attempts <= limit:
            self.queue.add_after(key, delay)

    async def _report(self, tracked: Tracked, outcome: status.Outcome, wrote: bool) -> None:
        if outcome.ok:
            tracked.last_event = None
            if wrote:
                await self.events.post(tracked.body, NORMAL, status.UNSEALED, "SealedSecret unsealed successfully")
            return
        event = (outcome.reason, outcome.message)
        if tracked.last_event != event:
            tracked.last_event = event
            await self.events.post(tracked.body, WARNING, outcome.reason, outcome.message)

    async def _write_status(self, tracked: Tracked, outcome: status.Outcome) -> None:
        if not self.settings.update_status:
            return
        meta = tracked.body.get("metadata") or {}
        current = tracked.written_status if tracked.written_status is not None else tracked.body.get("status")
        new = status.next_status(current, meta.get("generation"), outcome, self.clock(),
                                 secret_name=str(meta.get("name") or ""))
        if new is None:
            return
        try:
            await self.run(self.client.patch_sealed_secret_status, meta.get("namespace"), meta.get("name"), new)
        except ApiError as exc:
            if exc.status == 404:
                return
            raise
        tracked.written_status = new


def _strip(message: str, where: str) -> str:
    """Core messages start with the object's name; events and conditions are already about that object."""
    prefix = f"{where}: "
    return message[len(prefix):] if message.startswith(prefix) else message
