"""Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection` does, with a write fence.

Where it sits: plumbing. `wiring.py` runs one `LeaderElector` per replica when leader election is on; it
calls back when this replica starts and stops leading, and the `Fence` it keeps is the write guard of the
controller's Kubernetes client (`KubeClient(write_guard=...)`): every write (Secrets, status, events, key
Secrets) asks it first. The key lifecycle asks it too before escrow writes (`Fence.check`).

The protocol (client-go's, so sealkit and Go controllers read a Lease alike): a candidate reads the Lease
and may take it only when the record it read has not changed for the record's `leaseDurationSeconds` of its
own monotonic clock since it first saw that record (clocks of different machines are never compared); it
writes itself in with a PUT of the version it read, so of two candidates one gets a 409. The holder renews
every `retry_period` (a PUT of the version it wrote last, else read-then-PUT) and gives up when it has not
renewed for `renew_deadline`.

Where client-go would let two replicas lead at once, this one waits or steps down instead (fail closed;
docs/high-availability.md, "Odd Lease states"):
- a record without a holder is waited out for its own duration too (a release writes 1 s): client-go takes
  it at once, so a Lease cleared by hand under a live leader gave a second leader while the first one's fence
  was still open;
- a replica that makes a missing Lease holds its writes for one lease duration after its create went through
  (client-go writes at once): any earlier leader renewed last before the Lease was deleted, so its fence has
  closed by then, even if this replica never saw its record (a Lease made and deleted between two reads). A
  replica that did see the Lease before it went missing first waits lease_duration - renew_deadline, the time
  the live leader has to make it again (at once, writing on); a new install pays the hold alone;
- the leader makes a deleted Lease again, or takes a cleared one back, at once only within lease_duration -
  renew_deadline of its last renewal (`_may_retake`); later it steps down: a replica that made or took the
  Lease meanwhile, unseen by it, could begin writing while its fence were still open;
- a duration that is absent, not a positive number or unreadable counts as ours (client-go: expired);
- our own identity in a record we did not write in this term (a restarted process under the same pod name,
  or two replicas given one name) is somebody else's record: waited out, never renewed as ours;
- a leader that reads the Lease held by anybody else (or by its own name in another term) closes its fence at
  once, instead of writing on until its renew deadline;
- a renewal that comes back after this replica stopped leading (a request that hung past the deadline) never
  reopens the fence (`Fence.term`), and the leader does not wait for it to end before stepping down;
- nothing a Lease or an answer holds raises out of the election loop: a failed attempt is a failed attempt,
  so a replica never stops campaigning; if the leader's own work fails, it steps down and releases the Lease.

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
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from sealkit.clients.kube.api import ApiError, KubeClient, WriteRefused
from sealkit_controller.plumbing.workqueue import log_unexpected

logger = logging.getLogger(__name__)

JITTER = 1.2  # client-go's JitterFactor for the candidates' polling
INT32_MAX = 2**31 - 1  # leaseDurationSeconds and leaseTransitions are int32 in the API
RELEASED_SECONDS = 1  # the duration a release writes (as client-go): followers wait that long for it
ABSENT = "absent"  # what a candidate observes when there is no Lease


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
    """Whether this replica may write now: a monotonic deadline, moved on by every successful renewal, and a
    hold (a replica that made a missing Lease writes only one lease duration after it was made).

    Thread-safe: `guard` is called from the controller's pool threads. `term` counts revocations: a renewal
    started before a revocation (a request that hung past the renew deadline) cannot reopen the fence.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._writes_until = float("-inf")
        self._writes_from = float("-inf")
        self._lease_until = float("-inf")
        self._term = 0

    @property
    def term(self) -> int:
        with self._lock:
            return self._term

    def extend(
        self,
        sent_at: float,
        renew_deadline: float,
        lease_duration: float,
        term: int | None = None,
        *,
        hold_until: float | None = None,
    ) -> bool:
        """Move the deadlines on from a renewal sent at `sent_at`; not if the fence was revoked since `term`.
        `hold_until`: no write before then in this term (set in the same step, so no write slips in between)."""
        with self._lock:
            if term is not None and term != self._term:
                return False
            if hold_until is not None:
                self._writes_from = max(self._writes_from, hold_until)
            self._writes_until = max(self._writes_until, sent_at + renew_deadline)
            self._lease_until = max(self._lease_until, sent_at + lease_duration)
            return True

    def revoke(self) -> None:
        with self._lock:
            self._term += 1
            self._writes_until = self._writes_from = self._lease_until = float("-inf")

    def holds(self) -> bool:
        """This replica may write now: renewed within the renew deadline, and not held."""
        with self._lock:
            return self._writes_from <= self._clock() < self._writes_until

    def in_term(self) -> bool:
        """Renewed within the renew deadline (this replica holds the Lease), whether or not writes are held."""
        return self._clock() < self._writes_until

    def remaining(self) -> float:
        """Seconds left before the renew deadline (negative once it has passed)."""
        return self._writes_until - self._clock()

    def held(self) -> float:
        """Seconds left before a hold ends (0 or less: writes are not held)."""
        return self._writes_from - self._clock()

    def check(self, what: str = "write") -> None:
        """Raise WriteRefused unless this replica may write now."""
        if not self.holds():
            raise WriteRefused(
                f"{what} not sent: this replica does not hold the leader lease (or could not renew it, or may not write"
                " yet)"
            )

    def guard(self, method: str, path: str) -> float:
        """The Kubernetes client's write guard: the longest a write may take now, or WriteRefused."""
        with self._lock:
            now = self._clock()
            if now >= self._writes_until:
                raise WriteRefused(f"{method} not sent: this replica does not hold the leader lease")
            if now < self._writes_from:
                raise WriteRefused(f"{method} not sent: this replica made the leader Lease and does not write yet")
            return max(0.001, self._lease_until - now)


def _number(value: Any) -> float | None:
    """A JSON number, or a string holding one; None for anything else (booleans, NaN, text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int | float) and not math.isnan(value):
        return float(value)
    return None


def _seconds(value: Any) -> int:
    """leaseDurationSeconds as a wait: whole seconds rounded up, at most int32; 0 when unusable."""
    number = _number(value)
    if number is None or number <= 0:
        return 0
    return INT32_MAX if number >= INT32_MAX else max(1, math.ceil(number))


def _count(value: Any) -> int:
    """leaseTransitions: 0 when absent, negative, unreadable or beyond int32."""
    number = _number(value)
    if number is None or not 0 <= number <= INT32_MAX:
        return 0
    return int(number)


def _holder(value: Any) -> str:
    """holderIdentity: "" only when absent, null or empty; any other value names somebody."""
    if value is None or value == "":
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _instant(text: str) -> dt.datetime | str:
    """A MicroTime for comparing (any precision or zone), or the text itself when it does not parse."""
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return text
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _spec_of(lease: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = lease.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _fingerprint(lease: Mapping[str, Any]) -> str:
    """What a candidate compares between reads: the whole spec and the object's uid (a re-created Lease with
    the same spec is a new record). Any change restarts its wait; that only ever delays a takeover."""
    meta = lease.get("metadata")
    uid = meta.get("uid") if isinstance(meta, Mapping) else None
    return json.dumps([uid, lease.get("spec")], sort_keys=True, default=str)


def _failure(exc: ApiError | ValueError) -> str:
    """A failed Lease request in one line (a ValueError: an answer that is not JSON)."""
    return str(exc) if isinstance(exc, ApiError) else "the API server's answer is not JSON"


@dataclass(frozen=True)
class LeaseRecord:
    """The spec of the Lease as leader election reads it (client-go's LeaderElectionRecord).

    Read leniently: `of` never raises, whatever the spec holds (see the helpers above for each field).
    `lease_seconds` is 0 when the Lease names no usable duration; the reader then waits its own.
    """

    holder: str
    lease_seconds: int
    acquire_time: str
    renew_time: str
    transitions: int

    @classmethod
    def of(cls, lease: Mapping[str, Any]) -> LeaseRecord:
        spec = _spec_of(lease)
        return cls(
            holder=_holder(spec.get("holderIdentity")),
            lease_seconds=_seconds(spec.get("leaseDurationSeconds")),
            acquire_time=_text(spec.get("acquireTime")),
            renew_time=_text(spec.get("renewTime")),
            transitions=_count(spec.get("leaseTransitions")),
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

    `on_started` runs as a task while leading (cancelled when leadership ends; after the hold, for a Lease this
    replica made); `on_stopped` runs after it.
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
        self._executor: concurrent.futures.Executor = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="sealkit-election"
        )
        self._observed: LeaseRecord | None = None
        self._observed_key: str | None = None  # fingerprint of the record observed (ABSENT: no Lease)
        self._observed_at = float("-inf")
        self._lease: dict[str, Any] | None = None  # the Lease as we last wrote it in this term (fast renewal)
        self._term_acquired: str | None = None  # acquireTime of the term we hold (None: we hold none)
        self._term_transitions = 0  # leaseTransitions as we last wrote it in this term
        self._last_stamp: dt.datetime | None = None  # the last renewTime we wrote (ours strictly increase)
        self._renewed_at = float("-inf")  # when our last successful Lease write in this term was sent
        self._saw_deleted = False  # the Lease we find missing is one we saw (deleted), not one never made
        self._trouble = ""  # the last failure logged (repeats go to debug)
        self._reported_leader = ""
        self._task: asyncio.Task[None] | None = None
        self._leading_task: asyncio.Task[None] | None = None
        self._pending: asyncio.Future[bool] | None = None  # an attempt still running after the renewal gave up
        self.leading = False
        self.transitions = 0  # times this replica became leader

    @property
    def leader(self) -> str:
        """The holder last observed ("" when none)."""
        return self._observed.holder if self._observed is not None else ""

    # --- one attempt (blocking; on the election thread) --------------------------------------------------

    def _observe(self, key: str, record: LeaseRecord) -> None:
        if key != self._observed_key:
            self._observed_key = key
            self._observed = record
            self._observed_at = self._clock()

    def _observe_written(self, written: Mapping[str, Any], record: LeaseRecord) -> None:
        """After our own write: the record as the server answered it, observed now."""
        self._observed_key = _fingerprint(written) if written else None
        self._observed = record
        self._observed_at = self._clock()

    def _stamp(self) -> str:
        """Now as a renewTime, strictly after the last one we wrote: every renewal changes the record, so no
        candidate can mistake a renewal for an unchanged record (a wall clock that stalls or steps back)."""
        now = self._wall()
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + dt.timedelta(microseconds=1)
        self._last_stamp = now
        return micro_time(now)

    def _may_retake(self) -> bool:
        """We lead, and our last successful Lease write was sent less than lease_duration - renew_deadline ago:
        then nobody else can have begun writing since, nor begin before our fence closes (anybody who took or
        made the Lease since then writes only a lease duration after that write), so we may make a deleted
        Lease again, or take a cleared one back, at once and write on. Later, we wait like anybody."""
        c = self.config
        return (
            self.leading
            and self._term_acquired is not None
            and self.fence.in_term()
            and self._clock() < self._renewed_at + (c.lease_seconds - c.renew_deadline)
        )

    def _ours(self, record: LeaseRecord) -> bool:
        """The record names us in the term we hold (not a restarted process or a namesake)."""
        return (
            self._term_acquired is not None
            and record.holder == self.config.identity
            and _instant(record.acquire_time) == _instant(self._term_acquired)
        )

    def _problem(self, doing: str, exc: ApiError | ValueError) -> None:
        """A failed request: a warning when it is news, debug while it repeats."""
        c = self.config
        text = f"cannot {doing} the leader Lease {c.namespace}/{c.name}: {_failure(exc)}"
        if text != self._trouble:
            self._trouble = text
            logger.warning("%s", text)
        else:
            logger.debug("%s", text)

    def try_acquire_or_renew(self) -> bool:
        """One client-go `tryAcquireOrRenew`; True when this replica holds the Lease now (and the fence moved).

        Never raises: anything unexpected (a bug, an answer of an unexpected shape) is logged and counts as a
        failed attempt, so neither a follower nor the leader's renewal loop can die of it.
        """
        try:
            return self._try()
        except Exception as exc:
            log_unexpected("leader election (an attempt on the Lease; counted as not holding it)", exc)
            return False

    def _try(self) -> bool:
        c = self.config
        term = self.fence.term
        sent_at = self._clock()
        if self.leading and self._lease is not None and self._term_acquired is not None:
            # Fast path: PUT over the version we wrote last; a 409 or any failure falls back to reading.
            mine = LeaseRecord(c.identity, c.lease_seconds, self._term_acquired, self._stamp(), self._term_transitions)
            if self._put(self._lease, mine, sent_at, term):
                return True
        try:
            lease = self.client.get_lease(c.namespace, c.name)
        except (ApiError, ValueError) as exc:  # ValueError: an answer that is not JSON
            self._problem("read", exc)
            return False
        in_term = self._may_retake()
        if lease is None:
            return self._absent(in_term, sent_at, term)
        old = LeaseRecord.of(lease)
        self._observe(_fingerprint(lease), old)
        if self.leading and self._ours(old):
            mine = LeaseRecord(c.identity, c.lease_seconds, old.acquire_time, self._stamp(), old.transitions)
            return self._put(lease, mine, sent_at, term)
        if self.leading and old.holder:
            self._lost(old)
            return False
        if not (in_term and not old.holder):  # a leader in its term may take a cleared Lease back at once
            duration = old.lease_seconds or c.lease_seconds
            if self._clock() < self._observed_at + duration:
                return False  # not yet seen unchanged for its lease duration
        now = self._stamp()
        transitions = old.transitions + 1 if old.transitions < INT32_MAX else 0  # the API server's int32
        return self._put(lease, LeaseRecord(c.identity, c.lease_seconds, now, now, transitions), sent_at, term)

    def _absent(self, in_term: bool, sent_at: float, term: int) -> bool:
        """No Lease. Our leader, soon after its last renewal, creates it again at once and writes on
        (`_may_retake`). Anybody else creates it and then holds its writes for a lease duration after the
        create went through (`_won`): whoever held a Lease before renewed it last before it was deleted, so
        its fence has closed by then, whatever this replica saw or missed of it. A replica that saw the Lease
        and then finds it missing (deleted, perhaps under a live leader) first waits our lease duration, to let
        that leader make it again without a pause in writing (lease_duration - renew_deadline: by then it no
        longer may); one that never saw it (a new install) does not.
        """
        c = self.config
        if in_term and self._term_acquired is not None:
            mine = LeaseRecord(c.identity, c.lease_seconds, self._term_acquired, self._stamp(), self._term_transitions)
            hold = False
        else:
            if self.leading:
                self._lost(None)  # too late to make it again as ours: this term ends; campaign as anybody
                return False
            if self._observed_key != ABSENT:
                self._saw_deleted = self._observed_key is not None
            self._observe(ABSENT, LeaseRecord("", 0, "", "", 0))
            if self._saw_deleted and self._clock() < self._observed_at + (c.lease_seconds - c.renew_deadline):
                return False  # deleted under a live leader, perhaps: it makes it again meanwhile
            now = self._stamp()
            mine = LeaseRecord(c.identity, c.lease_seconds, now, now, 0)
            hold = True
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": c.name, "namespace": c.namespace},
            "spec": mine.spec(),
        }
        try:
            created = self.client.create_lease(c.namespace, body)
        except (ApiError, ValueError) as exc:
            if isinstance(exc, ApiError) and exc.status == 409:
                # Somebody made it meanwhile: what we saw missing is no longer what is there. Forget it, so a
                # Lease deleted before we read it (its holder perhaps still writing) is waited out afresh.
                self._observed_key = None
                logger.debug("the leader Lease %s/%s was created meanwhile: %s", c.namespace, c.name, exc)
            else:
                self._problem("create", exc)
            return False
        return self._won(created, mine, sent_at, term, hold_until=self._clock() + c.lease_seconds if hold else None)

    def _lost(self, old: LeaseRecord | None) -> None:
        """We lead, and the Lease names somebody else (or us, in another term), or is missing too long after our
        last renewal to be made again as ours (None): stop writing now."""
        self.fence.revoke()
        self._lease = None
        self._term_acquired = None
        c = self.config
        if old is None:
            logger.warning(
                "the leader Lease %s/%s is missing (deleted) and was not renewed in time: stopped writing",
                c.namespace,
                c.name,
            )
            return
        who = "another process with this identity" if old.holder == c.identity else old.holder
        logger.warning("the leader Lease %s/%s is held by %s: stopped writing", c.namespace, c.name, who)

    def _put(self, lease: Mapping[str, Any], record: LeaseRecord, sent_at: float, term: int) -> bool:
        """PUT our record over the version read (a 409 means it changed since: somebody else won)."""
        c = self.config
        body = {**lease, "spec": {**_spec_of(lease), **record.spec()}}
        try:
            written = self.client.replace_lease(c.namespace, c.name, body)
        except (ApiError, ValueError) as exc:
            if isinstance(exc, ApiError) and exc.status == 409:
                logger.debug("the leader Lease %s/%s changed meanwhile: %s", c.namespace, c.name, exc)
            else:
                self._problem("write", exc)
            self._lease = None
            return False
        return self._won(written, record, sent_at, term)

    def _won(
        self,
        written: Mapping[str, Any],
        record: LeaseRecord,
        sent_at: float,
        term: int,
        *,
        hold_until: float | None = None,
    ) -> bool:
        """Our record is in: move the fence and remember the record as the server answered it; unless the
        fence was revoked since the attempt began (this replica stopped leading meanwhile): then the record is
        left to expire like anybody's, and nothing of it counts as ours. `hold_until`: no write before then."""
        self._trouble = ""
        self._observe_written(written, record)
        c = self.config
        if not self.fence.extend(sent_at, c.renew_deadline, c.lease_seconds, term, hold_until=hold_until):
            self._lease = self._term_acquired = None
            return False
        self._renewed_at = max(self._renewed_at, sent_at)
        if hold_until is not None:
            logger.info(
                "made the leader Lease %s/%s: writing from %.0fs on (a leader before it has stopped by then)",
                c.namespace,
                c.name,
                hold_until - self._clock(),
            )
        self._lease = dict(written) if _spec_of(written) else None
        self._term_acquired = _text(_spec_of(written).get("acquireTime")) or record.acquire_time
        self._term_transitions = record.transitions
        return True

    def release(self) -> bool:
        """Give the Lease up (holder cleared, 1 s duration) so a successor need not wait it out."""
        c = self.config
        if self._lease is None or self._term_acquired is None:
            return False
        self.fence.revoke()
        now = self._stamp()
        record = LeaseRecord("", RELEASED_SECONDS, now, now, self._term_transitions)
        body = {**self._lease, "spec": {**_spec_of(self._lease), **record.spec()}}
        self._lease = self._term_acquired = None
        try:
            self.client.replace_lease(c.namespace, c.name, body)
        except (ApiError, ValueError) as exc:
            logger.info("could not release the leader Lease %s/%s: %s", c.namespace, c.name, _failure(exc))
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
                try:
                    self._on_new_leader(holder)
                except Exception as exc:
                    log_unexpected("leader election (the new-leader callback)", exc)

    async def _acquire(self) -> None:
        c = self.config
        logger.info("attempting to acquire the leader Lease %s/%s as %s", c.namespace, c.name, c.identity)
        while not await self._attempt():
            await asyncio.sleep(c.retry_period * (1 + random.random() * JITTER))  # noqa: S311 - jitter, not crypto

    async def _renewed_in_time(self) -> bool:
        """One renewal attempt, waited for no longer than the fence is open: a request that hangs past the
        renew deadline is left to finish on its own (the fence's term keeps it from counting)."""
        task = self._pending = asyncio.ensure_future(self._attempt())
        done, _ = await asyncio.wait({task}, timeout=max(0.0, self.fence.remaining()))
        if not done:
            return False
        self._pending = None
        return task.result()

    async def _renew(self) -> None:
        """Renew every retry period; return when the lease could not be renewed within the renew deadline, or
        the Lease turned out to be somebody else's (the fence is then closed already)."""
        c = self.config
        while True:
            await asyncio.sleep(c.retry_period)
            while not await self._renewed_in_time():
                if not self.fence.in_term():
                    return
                await asyncio.sleep(min(c.retry_period, max(0.0, self.fence.remaining())))
            if not self.fence.in_term():  # renewed, but too late to count: the lease may have passed meanwhile
                return

    async def _lead(self) -> bool:
        """Run the work while renewing; False when the work failed (a bug: it is logged here). The work starts
        once the fence's hold is over (a Lease this replica made: `_absent`), and not at all if the Lease is
        lost before."""
        renewing = asyncio.create_task(self._renew(), name="sealkit-lease-renewal")
        try:
            while not renewing.done() and (held := self.fence.held()) > 0:
                await asyncio.wait({renewing}, timeout=held)
            if not renewing.done():
                work = self._leading_task = asyncio.create_task(self._on_started(), name="sealkit-leading")
                pending: set[asyncio.Task[None]] = {work, renewing}
                while renewing in pending:
                    done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    failed = work.exception() if work in done and not work.cancelled() else None
                    if failed is not None:
                        log_unexpected("leading (stepping down; the Lease is released for another replica)", failed)
                        return False
            if not renewing.cancelled() and renewing.exception() is not None:
                log_unexpected("leader election (the renewal loop)", renewing.exception() or Exception())
            return True
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def run(self) -> None:
        """Campaign, lead, and campaign again after losing the Lease; until cancelled."""
        c = self.config
        while True:
            await self._acquire()
            self.leading = True
            self.transitions += 1
            logger.info("became the leader (Lease %s/%s, identity %s)", c.namespace, c.name, c.identity)
            worked = False
            try:
                worked = await self._lead()
            finally:
                self.fence.revoke()
                self.leading = False
                await self._stop_leading()
            if worked:
                logger.warning(
                    "lost the leader Lease %s/%s (not renewed within %.1fs, or held by another): stopped writing",
                    c.namespace,
                    c.name,
                    c.renew_deadline,
                )
                self._lease = self._term_acquired = None
                continue
            # The work failed: hand the Lease to another replica and give it the time to take it.
            await self._settle()
            await asyncio.get_running_loop().run_in_executor(self._executor, self.release)
            await asyncio.sleep(c.lease_duration)

    async def _settle(self) -> None:
        """Wait for an attempt still running after the renewal gave up (the executor runs one at a time)."""
        task, self._pending = self._pending, None
        if task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task

    async def _stop_leading(self) -> None:
        task, self._leading_task = self._leading_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):  # a failure was logged by _lead
                await task
        try:
            await asyncio.shield(self._on_stopped())
        except Exception as exc:  # its writes are refused anyway: the fence is closed
            log_unexpected("stopping the leader's work", exc)

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
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()  # the request goes on in its thread; nothing waits for its answer
        if release and was_leading:  # the work has stopped: let a successor take over at once
            await asyncio.get_running_loop().run_in_executor(self._executor, self.release)
        self._executor.shutdown(wait=False)
