"""Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection` does, with a write fence.

Where it sits: plumbing. `wiring.py` runs one `LeaderElector` per replica when leader election is on; it
calls back when this replica starts and stops leading, and the `Fence` it keeps is the write guard of the
controller's Kubernetes client (`KubeClient(write_guard=...)`): every write (Secrets, status, events, key
Secrets) asks it first. The key lifecycle asks it too before escrow writes (`Fence.check`).

The protocol (client-go's, so sealkit and Go controllers read a Lease alike): a candidate reads the Lease
and may take it when nobody holds it, or when the record it read has not changed for `leaseDurationSeconds`
of its own monotonic clock since it first saw that record (clocks of different machines are never
compared); it writes itself in with a PUT of the version it read, so of two candidates one gets a 409.
The holder renews every `retry_period` (a PUT of the version it wrote last, else read-then-PUT) and gives up
when it has not renewed for `renew_deadline`.

The fence: a renewal sent at monotonic time t makes any other candidate wait at least until t +
lease_duration (it must see the renewed record unchanged that long). So the holder may write until
t + renew_deadline (< lease_duration): after that every write is refused, before the lease can pass to
anybody else, even if this replica's renewal loop is stuck; each write's timeout is cut so that it ends by
t + lease_duration. What the fence cannot stop is a request the API server holds and applies later; the
margin lease_duration - renew_deadline (5 s by default) is for that.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from sealkit.clients.kube.api import ApiError, KubeClient, WriteRefused

logger = logging.getLogger(__name__)

JITTER = 1.2  # client-go's JitterFactor for the candidates' polling


@dataclass(frozen=True)
class ElectionConfig:
    """Which Lease, who we are, and the timings (seconds; the Lease holds whole seconds of lease_duration)."""

    namespace: str
    name: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    @property
    def lease_seconds(self) -> int:
        return max(1, int(self.lease_duration))


def micro_time(when: dt.datetime) -> str:
    """metav1.MicroTime as the API server writes it: UTC, microseconds, Z."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Fence:
    """Whether this replica may write now: a monotonic deadline, moved on by every successful renewal.

    Thread-safe: `guard` is called from the controller's pool threads.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._writes_until = float("-inf")
        self._lease_until = float("-inf")

    def extend(self, sent_at: float, renew_deadline: float, lease_duration: float) -> None:
        with self._lock:
            self._writes_until = max(self._writes_until, sent_at + renew_deadline)
            self._lease_until = max(self._lease_until, sent_at + lease_duration)

    def revoke(self) -> None:
        with self._lock:
            self._writes_until = self._lease_until = float("-inf")

    def holds(self) -> bool:
        return self._clock() < self._writes_until

    def remaining(self) -> float:
        """Seconds left to write (negative once the fence is closed)."""
        return self._writes_until - self._clock()

    def check(self, what: str = "write") -> None:
        """Raise WriteRefused unless this replica may write now."""
        if not self.holds():
            raise WriteRefused(f"{what} not sent: this replica does not hold the leader lease (or could not renew it)")

    def guard(self, method: str, path: str) -> float:
        """The Kubernetes client's write guard: the longest a write may take now, or WriteRefused."""
        with self._lock:
            now = self._clock()
            if now >= self._writes_until:
                raise WriteRefused(f"{method} not sent: this replica does not hold the leader lease")
            return max(0.001, self._lease_until - now)


@dataclass(frozen=True)
class LeaseRecord:
    """The spec of the Lease as leader election reads it (client-go's LeaderElectionRecord)."""

    holder: str
    lease_seconds: int
    acquire_time: str
    renew_time: str
    transitions: int

    @classmethod
    def of(cls, lease: Mapping[str, Any]) -> LeaseRecord:
        spec = lease.get("spec") or {}
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            lease_seconds=int(spec.get("leaseDurationSeconds") or 0),
            acquire_time=str(spec.get("acquireTime") or ""),
            renew_time=str(spec.get("renewTime") or ""),
            transitions=int(spec.get("leaseTransitions") or 0),
        )

    def spec(self) -> dict[str, Any]:
        return {
            "holderIdentity": self.holder,
            "leaseDurationSeconds": self.lease_seconds,
            "acquireTime": self.acquire_time,
            "renewTime": self.renew_time,
            "leaseTransitions": self.transitions,
        }


Callback = Callable[[], Coroutine[Any, Any, None]]


class LeaderElector:
    """Campaigns for the Lease, renews it while leading, and calls back on each change (see module docstring).

    `on_started` runs as a task while leading (cancelled when leadership ends); `on_stopped` runs after it.
    Lease requests go through their own client (no write guard) on a thread of their own, so a busy pool
    never delays a renewal.
    """

    def __init__(
        self,
        client: KubeClient,
        config: ElectionConfig,
        fence: Fence,
        *,
        on_started: Callback,
        on_stopped: Callback,
        on_new_leader: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.client = client
        self.config = config
        self.fence = fence
        self._on_started = on_started
        self._on_stopped = on_stopped
        self._on_new_leader = on_new_leader
        self._clock = clock
        self._wall = wall
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="sealkit-election")
        self._observed: LeaseRecord | None = None
        self._observed_at = float("-inf")
        self._lease: dict[str, Any] | None = None  # the Lease as we last wrote it (for the fast renewal)
        self._reported_leader = ""
        self._task: asyncio.Task[None] | None = None
        self._leading_task: asyncio.Task[None] | None = None
        self.leading = False
        self.transitions = 0  # times this replica became leader

    @property
    def leader(self) -> str:
        """The holder last observed ("" when none)."""
        return self._observed.holder if self._observed is not None else ""

    # --- one attempt (blocking; on the election thread) --------------------------------------------------

    def _observe(self, record: LeaseRecord, lease: dict[str, Any] | None = None) -> None:
        if record != self._observed:
            self._observed = record
            self._observed_at = self._clock()
        if lease is not None:
            self._lease = lease

    def try_acquire_or_renew(self) -> bool:
        """One client-go `tryAcquireOrRenew`; True when this replica holds the Lease now (and the fence moved)."""
        c = self.config
        sent_at = self._clock()
        now = micro_time(self._wall())
        mine = LeaseRecord(c.identity, c.lease_seconds, now, now, 0)
        if self.leading and self._lease is not None and self._observed is not None:
            # Fast path: PUT over the version we wrote last; a 409 or any failure falls back to reading.
            mine = LeaseRecord(
                c.identity, c.lease_seconds, self._observed.acquire_time, now, self._observed.transitions
            )
            if self._put(self._lease, mine, sent_at):
                return True
        try:
            lease = self.client.get_lease(c.namespace, c.name)
        except ApiError as exc:
            logger.warning("cannot read the leader Lease %s/%s: %s", c.namespace, c.name, exc)
            return False
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": c.name, "namespace": c.namespace},
                "spec": mine.spec(),
            }
            try:
                created = self.client.create_lease(c.namespace, body)
            except ApiError as exc:
                logger.info("cannot create the leader Lease %s/%s: %s", c.namespace, c.name, exc)
                return False
            self._observe(mine, created)
            self._observed_at = self._clock()
            self.fence.extend(sent_at, c.renew_deadline, c.lease_seconds)
            return True
        old = LeaseRecord.of(lease)
        self._observe(old)
        duration = old.lease_seconds or c.lease_seconds
        if old.holder and old.holder != c.identity and self._clock() < self._observed_at + duration:
            return False  # held by another, and not yet seen unchanged for its lease duration
        if old.holder == c.identity:
            mine = LeaseRecord(c.identity, c.lease_seconds, old.acquire_time or now, now, old.transitions)
        else:
            mine = LeaseRecord(c.identity, c.lease_seconds, now, now, old.transitions + 1)
        return self._put(lease, mine, sent_at)

    def _put(self, lease: Mapping[str, Any], record: LeaseRecord, sent_at: float) -> bool:
        c = self.config
        body = {**lease, "spec": {**(lease.get("spec") or {}), **record.spec()}}
        try:
            written = self.client.replace_lease(c.namespace, c.name, body)
        except ApiError as exc:
            if exc.status != 409:
                logger.info("cannot write the leader Lease %s/%s: %s", c.namespace, c.name, exc)
            self._lease = None
            return False
        self._observe(record, written)
        self._observed_at = self._clock()
        self.fence.extend(sent_at, c.renew_deadline, c.lease_seconds)
        return True

    def release(self) -> bool:
        """Give the Lease up (holder cleared, 1 s duration) so a successor need not wait it out."""
        c = self.config
        if self._lease is None or self._observed is None or self._observed.holder != c.identity:
            return False
        self.fence.revoke()
        now = micro_time(self._wall())
        record = LeaseRecord("", 1, now, now, self._observed.transitions)
        body = {**self._lease, "spec": {**(self._lease.get("spec") or {}), **record.spec()}}
        try:
            self.client.replace_lease(c.namespace, c.name, body)
        except ApiError as exc:
            logger.info("could not release the leader Lease %s/%s: %s", c.namespace, c.name, exc)
            return False
        logger.info("released the leader Lease %s/%s", c.namespace, c.name)
        return True

    # --- the loops ---------------------------------------------------------------------------------------

    async def _attempt(self) -> bool:
        loop = asyncio.get_running_loop()
        try:
            held = await loop.run_in_executor(self._executor, self.try_acquire_or_renew)
        finally:
            self._report_leader()
        return held

    def _report_leader(self) -> None:
        holder = self.leader
        if holder != self._reported_leader:
            self._reported_leader = holder
            if holder and holder != self.config.identity:
                logger.info("the leader is %s", holder)
            if self._on_new_leader is not None:
                self._on_new_leader(holder)

    async def _acquire(self) -> None:
        c = self.config
        logger.info("attempting to acquire the leader Lease %s/%s as %s", c.namespace, c.name, c.identity)
        while not await self._attempt():
            await asyncio.sleep(c.retry_period * (1 + random.random() * JITTER))  # noqa: S311 - jitter, not crypto

    async def _renew(self) -> None:
        """Renew every retry period; return when the lease could not be renewed within the renew deadline."""
        c = self.config
        while True:
            await asyncio.sleep(c.retry_period)
            while not await self._attempt():
                if not self.fence.holds():
                    return
                await asyncio.sleep(min(c.retry_period, max(0.0, self.fence.remaining())))
            if not self.fence.holds():  # renewed, but too late to count: the lease may have passed meanwhile
                return

    async def run(self) -> None:
        """Campaign, lead, and campaign again after losing the Lease; until cancelled."""
        c = self.config
        while True:
            await self._acquire()
            self.leading = True
            self.transitions += 1
            logger.info("became the leader (Lease %s/%s, identity %s)", c.namespace, c.name, c.identity)
            self._leading_task = asyncio.create_task(self._on_started(), name="sealkit-leading")
            try:
                await self._renew()
            finally:
                self.fence.revoke()
                self.leading = False
                await self._stop_leading()
            logger.warning(
                "lost the leader Lease %s/%s (not renewed within %.1fs): stopped writing",
                c.namespace,
                c.name,
                c.renew_deadline,
            )
            self._lease = None

    async def _stop_leading(self) -> None:
        task, self._leading_task = self._leading_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.shield(self._on_stopped())

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="sealkit-leader-election")

    async def stop(self, *, release: bool = True) -> None:
        """Stop campaigning; a leader stops its work first, then releases the Lease (`release`)."""
        task, self._task = self._task, None
        was_leading = self.leading
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if release and was_leading:  # the work has stopped: let a successor take over at once
            await asyncio.get_running_loop().run_in_executor(self._executor, self.release)
        self._executor.shutdown(wait=False)
