"""Kubernetes Events on SealedSecrets, with Bitnami's reasons and source, posted by the controller itself.

Why not `kopf.event`: Kopf posts only from inside its own per-object tasks and reports as "kopf"; Bitnami
users filter on the `sealed-secrets` source. Posting is best effort: a lost event never fails a reconcile.
An event given a `name` is posted at most once under it: a 409 AlreadyExists means it was posted already
(by this replica or by an earlier leader), which is how a failure reported "once" stays reported once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sealkit.clients.kube.api import ApiError, KubeClient, WriteRefused
from sealkit.escrow.scheme import rfc3339
from sealkit.retry import Backoff
from sealkit_controller.plumbing.pool import Run

logger = logging.getLogger(__name__)

SOURCE_COMPONENT = "sealed-secrets"
NORMAL = "Normal"
WARNING = "Warning"
_MESSAGE_LIMIT = 1024


def event_name_prefix(name: str, fallback: str) -> str:
    """The start of an event name fixed by its object's `name`: a DNS subdomain as the API server wants it, so the
    name cut to 200 characters never ends in '-' or '.' ("a-.digest"); `fallback` when nothing is left."""
    return name[:200].rstrip("-.") or fallback


def event_body(
    obj: Mapping[str, Any],
    *,
    type_: str,
    reason: str,
    message: str,
    now: dt.datetime,
    instance: str = "",
    name: str | None = None,
) -> dict[str, Any]:
    """A core/v1 Event about `obj` (a SealedSecret)."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    stamp = rfc3339(now)
    involved = {
        "apiVersion": obj.get("apiVersion") or "bitnami.com/v1alpha1",
        "kind": obj.get("kind") or "SealedSecret",
        "name": meta.get("name"),
        "namespace": namespace,
    }
    for field in ("uid", "resourceVersion"):
        if meta.get(field):
            involved[field] = meta[field]
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace}
        if name
        else {"generateName": f"{meta.get('name')}.", "namespace": namespace},
        "involvedObject": involved,
        "type": type_,
        "reason": reason,
        "message": message[:_MESSAGE_LIMIT],
        "source": {"component": SOURCE_COMPONENT},
        "reportingComponent": SOURCE_COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }
    if instance:
        body["reportingInstance"] = instance
    return body


class EventRecorder:
    """Posts events through `run` (the controller's thread pool), retrying a few times on failure.

    A reconcile running in a worker thread posts with `post_blocking` (one attempt, in that thread) and hands
    an event worth another try to `retry` on the event loop, so no worker thread sleeps through a backoff.
    """

    def __init__(
        self,
        client: KubeClient,
        run: Run,
        *,
        instance: str = "",
        attempts: int = 3,
        delay: float = 1.0,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._client = client
        self._run = run
        self._instance = instance
        self._attempts = attempts
        self._backoff = Backoff(base=delay, cap=float("inf"))
        self._clock = clock

    @property
    def attempts(self) -> int:
        """How many times one event is tried before it is given up."""
        return self._attempts

    def _body(self, obj: Mapping[str, Any], type_: str, reason: str, message: str, name: str | None) -> dict[str, Any]:
        return event_body(
            obj, type_=type_, reason=reason, message=message, now=self._clock(), instance=self._instance, name=name
        )

    async def post(
        self, obj: Mapping[str, Any], type_: str, reason: str, message: str, *, name: str | None = None
    ) -> bool:
        """Post one event; with `name`, at most once under that name. True when it is (now or already) posted."""
        return await self._deliver(self._body(obj, type_, reason, message, name), first=0)

    def post_blocking(
        self, obj: Mapping[str, Any], type_: str, reason: str, message: str, *, name: str | None = None
    ) -> dict[str, Any] | None:
        """One attempt from a worker thread; the event's body when it deserves another (give it to `retry`)."""
        body = self._body(obj, type_, reason, message, name)
        return body if self._send(body, 0) is None else None

    async def retry(self, body: dict[str, Any]) -> bool:
        """The attempts after a first one that failed transiently (`post_blocking`), with backoff."""
        return await self._deliver(body, first=1)

    async def _deliver(self, body: dict[str, Any], *, first: int) -> bool:
        for attempt in range(first, self._attempts):
            if attempt:
                await asyncio.sleep(self._backoff.delay(attempt))
            sent = await self._run(self._send, body, attempt)
            if sent is not None:
                return sent
        return False

    def _send(self, body: dict[str, Any], attempt: int) -> bool | None:
        """One attempt (blocking): True posted (now or already), False given up, None worth another try."""
        namespace, reason = body["metadata"]["namespace"], body["reason"]
        name = body["metadata"].get("name")
        try:
            self._client.create_event(namespace, body)
            return True
        except WriteRefused as exc:
            logger.info("event %s for %s/%s not posted: %s", reason, namespace, body["involvedObject"]["name"], exc)
            return False
        except ApiError as exc:
            if name and exc.status == 409 and exc.reason == "AlreadyExists":
                logger.debug("event %s for %s/%s was posted already", reason, namespace, name)
                return True
            if attempt + 1 >= self._attempts or not exc.transient:
                logger.warning(
                    "could not post event %s for %s/%s: %s", reason, namespace, body["involvedObject"]["name"], exc
                )
                return False
            return None
