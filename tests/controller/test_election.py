"""Leader election on a Lease (plumbing/election.py): who may take the Lease when, the fence that stops a
leader's writes before its lease can pass on, release, and odd Lease states, each failing closed (never two
replicas leading at once, never a crash, never a replica that stops campaigning).

Three layers, none waiting in real time: the rules with a hand-moved clock against `Leases` (one Lease in
memory that stores any spec and fails on demand, for states a real API server refuses); the same rules against
the emulator with the real client; and the election loop on looptime's fake loop clock with its attempts run
inline (`Attempts`), for what only the loop does (stepping down by the deadline, surviving failures)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import datetime as dt
import itertools
import logging
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from sealkit.clients.kube.api import ApiError, KubeClient, WriteRefused
from sealkit.clients.kube.config import load_configuration
from sealkit_controller.plumbing.election import INT32_MAX, ElectionConfig, Fence, LeaderElector, LeaseRecord
from sealkit_testservers.kube import KubeServer

NS = "kube-system"
LEASE = "sealed-secrets-controller"
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MISSING: Any = object()
BASE = {
    "holderIdentity": "other",
    "leaseDurationSeconds": 15,
    "acquireTime": "2026-01-01T00:00:00.000000Z",
    "renewTime": "2026-01-01T00:00:00.000000Z",
    "leaseTransitions": 3,
}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Leases:
    """One Lease in memory, kept as the API server keeps it (resourceVersion preconditions: 409; a missing one:
    404; POST over an existing one: 409) but storing any spec unchecked. `faults` maps a verb (get, create,
    update) to the exception it raises until removed; `after_get` runs after each GET (a write racing ours)."""

    def __init__(self, *, create_on_update: bool = False) -> None:
        self.obj: dict[str, Any] | None = None
        self.rv = 0
        self.uids = 0
        self.create_on_update = create_on_update  # a real API server creates a Lease on PUT (AllowCreateOnUpdate)
        self.faults: dict[str, BaseException] = {}
        self.after_get: Callable[[], None] | None = None
        self.during_update: Callable[[], None] | None = None  # runs while a PUT is on its way
        self.writes: list[str] = []  # the holderIdentity of each successful write, in order

    def store(self, spec: Any = MISSING, *, new_uid: bool = True) -> None:
        """Put a Lease in by hand (another writer, an admin): a new version, and a new object unless told."""
        self.rv += 1
        if new_uid or self.obj is None:
            self.uids += 1
        meta = {"name": LEASE, "namespace": NS, "resourceVersion": str(self.rv), "uid": f"uid-{self.uids}"}
        self.obj = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta}
        if spec is not MISSING:
            self.obj["spec"] = copy.deepcopy(spec)

    @property
    def spec(self) -> dict[str, Any]:
        assert self.obj is not None
        spec: dict[str, Any] = self.obj["spec"]
        return spec

    def _fault(self, verb: str) -> None:
        if verb in self.faults:
            raise self.faults[verb]

    def _keep(self, body: Any, *, created: bool) -> dict[str, Any]:
        self.rv += 1
        if created:
            self.uids += 1
        obj = copy.deepcopy(dict(body))
        uid = f"uid-{self.uids}" if created or self.obj is None else self.obj["metadata"]["uid"]
        obj["metadata"] = {**obj.get("metadata", {}), "resourceVersion": str(self.rv), "uid": uid}
        self.obj = obj
        self.writes.append(str((obj.get("spec") or {}).get("holderIdentity")))
        return copy.deepcopy(obj)

    def get_lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        self._fault("get")
        found = copy.deepcopy(self.obj)
        if self.after_get is not None:
            hook, self.after_get = self.after_get, None
            hook()
        return found

    def create_lease(self, namespace: str, body: Any) -> dict[str, Any]:
        self._fault("create")
        if self.obj is not None:
            raise ApiError(409, "AlreadyExists", f'leases "{LEASE}" already exists')
        return self._keep(body, created=True)

    def replace_lease(self, namespace: str, name: str, body: Any) -> dict[str, Any]:
        self._fault("update")
        if self.during_update is not None:
            hook, self.during_update = self.during_update, None
            hook()
        if self.obj is None:
            if not self.create_on_update:
                raise ApiError(404, "NotFound", f'leases "{LEASE}" not found')
            return self._keep(body, created=True)
        version = (body.get("metadata") or {}).get("resourceVersion")
        if not version:
            raise ApiError(
                422, "Invalid", "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
            )
        if version != (self.obj.get("metadata") or {}).get("resourceVersion"):
            raise ApiError(409, "Conflict", "the object has been modified")
        return self._keep(body, created=False)


async def _noop() -> None:
    return None


def elector(
    client: Any,
    identity: str,
    clock: Callable[[], float],
    *,
    wall: Callable[[], dt.datetime] | None = None,
    on_started: Callable[[], Any] = _noop,
    on_stopped: Callable[[], Any] = _noop,
    **timing: float,
) -> LeaderElector:
    config = ElectionConfig(NS, LEASE, identity, **timing)
    return LeaderElector(
        client,
        config,
        Fence(clock),
        on_started=on_started,
        on_stopped=on_stopped,
        clock=clock,
        wall=wall or (lambda: EPOCH + dt.timedelta(seconds=clock())),
    )


def lead(e: LeaderElector, clock: Clock) -> None:
    """Campaign (moving the clock a second at a time) until `e` holds the Lease; then it leads, renewing every
    2 s through the hold of a Lease it made, until it may write."""
    for _ in range(100):
        if e.try_acquire_or_renew():
            e.leading = True
            while not e.fence.holds():
                clock.now += 2
                assert e.try_acquire_or_renew() is True
            return
        clock.now += 1
    raise AssertionError("never took the Lease")


class Cut:
    """One replica's way to the Lease: `down` makes every request of this replica alone time out."""

    def __init__(self, leases: Leases) -> None:
        self.leases = leases
        self.down = False

    def __getattr__(self, verb: str) -> Any:
        call = getattr(self.leases, verb)

        def request(*args: Any) -> Any:
            if self.down:
                raise ApiError(0, "read timeout", "the API server did not answer")
            return call(*args)

        return request


def waits(e: LeaderElector, clock: Clock, seconds: float) -> bool:
    """`e` sees the Lease now, does not take it within `seconds` of its clock, and takes it just after."""
    if e.try_acquire_or_renew():
        return False
    start = clock.now
    clock.now = start + seconds - 0.01
    if e.try_acquire_or_renew():
        return False
    clock.now = start + seconds + 0.01
    return e.try_acquire_or_renew()


# --- the fence --------------------------------------------------------------------------------------------


def test_fence_closes_at_the_renew_deadline_and_cuts_write_timeouts() -> None:
    clock = Clock()
    fence = Fence(clock)
    with pytest.raises(WriteRefused):
        fence.guard("POST", "/api/v1/namespaces/x/secrets")
    fence.extend(clock.now, renew_deadline=10, lease_duration=15)
    clock.now += 9.5
    assert fence.holds() and fence.guard("PUT", "/x") == pytest.approx(5.5)  # ends before the lease can pass
    clock.now += 0.5
    assert not fence.holds()
    with pytest.raises(WriteRefused):
        fence.guard("PATCH", "/x")
    with pytest.raises(WriteRefused):
        fence.check("escrow")


def test_a_renewal_begun_before_a_revocation_does_not_reopen_the_fence() -> None:
    clock = Clock()
    fence = Fence(clock)
    term = fence.term
    fence.revoke()  # the replica stepped down while the renewal was on its way
    assert fence.extend(clock.now, 10, 15, term) is False and not fence.holds()
    assert fence.extend(clock.now, 10, 15, fence.term) is True and fence.holds()


# --- taking the Lease -------------------------------------------------------------------------------------


def test_a_new_install_makes_the_lease_at_once_and_its_maker_writes_one_lease_duration_later() -> None:
    """Three replicas race to make a missing Lease: one create wins, the others get a 409 and wait its record
    out; the winner holds its writes for one lease duration after its create (the whole start-up delay)."""
    clock, leases = Clock(), Leases()
    a, b, c = (elector(leases, name, clock) for name in ("ctrl-a", "ctrl-b", "ctrl-c"))
    made = clock.now
    assert a.try_acquire_or_renew() is True  # no wait before making it
    assert b.try_acquire_or_renew() is False and c.try_acquire_or_renew() is False  # their creates: 409
    assert leases.writes == ["ctrl-a"] and leases.spec["leaseDurationSeconds"] == 15
    assert leases.spec["leaseTransitions"] == 0 and leases.spec["renewTime"].endswith("Z")
    a.leading = True
    while clock.now < made + 15:
        assert not a.fence.holds()  # held: a leader of a Lease deleted just before may still be writing
        with pytest.raises(WriteRefused):
            a.fence.guard("PUT", "/x")
        assert a.fence.in_term()
        clock.now += 1
        assert a.try_acquire_or_renew() is True  # renewing through the hold
        assert b.try_acquire_or_renew() is False and c.try_acquire_or_renew() is False
    clock.now = made + 15
    assert a.fence.holds() and not b.fence.holds() and not c.fence.holds()
    assert set(leases.writes) == {"ctrl-a"}


def test_a_lease_made_and_deleted_between_two_reads_of_a_follower_never_gives_two_writers() -> None:
    """b saw no Lease; a made it and led; it was deleted before b read again; b makes it again while a still
    writes (until a's next renewal). b must not write before a has certainly stopped."""
    clock, leases = Clock(), Leases()
    way_b = Cut(leases)
    a, b = elector(leases, "ctrl-a", clock), elector(way_b, "ctrl-b", clock)
    leases.faults["create"] = ApiError(0, "read timeout", "the API server did not answer")
    assert b.try_acquire_or_renew() is False  # b sees no Lease (its create fails) ...
    del leases.faults["create"]
    way_b.down = True  # ... and then nothing for a while
    lead(a, clock)  # a makes it, and writes once its hold is over
    for _ in range(3):
        clock.now += 2
        assert a.try_acquire_or_renew() is True and a.fence.holds()
    leases.obj = None  # kubectl delete lease, just after a's renewal
    way_b.down = False
    clock.now += 0.5
    made = clock.now
    assert b.try_acquire_or_renew() is True  # b makes it before a's next renewal
    assert leases.spec["holderIdentity"] == "ctrl-b"
    b.leading = True
    phase = {a: 0, b: 1}  # each renews every 2 s, a half second apart
    while clock.now < made + 20:
        assert not (a.fence.holds() and b.fence.holds())
        assert not b.fence.holds() or clock.now >= made + 15  # b writes a lease duration after its create
        clock.now += 0.5
        for e, offset in phase.items():
            if e.leading and int(clock.now * 2) % 4 == offset and not e.try_acquire_or_renew():
                e.leading = False
    assert not a.fence.holds() and not a.leading and b.fence.holds()  # a stopped at its next renewal


def test_a_leader_that_missed_a_lease_made_and_deleted_meanwhile_does_not_make_it_again_at_once() -> None:
    """a's requests fail for a while; meanwhile the Lease is deleted, c makes it (held), renews it for a
    while, and it is deleted again while c's requests fail. a, back within its renew deadline, must not make
    it again and write on: c's fence opens at its hold's end and may still be open then."""
    clock, leases = Clock(), Leases()
    way_a, way_c = Cut(leases), Cut(leases)
    a, c = elector(way_a, "ctrl-a", clock), elector(way_c, "ctrl-c", clock)
    lead(a, clock)
    renewed = clock.now
    way_a.down = True
    clock.now += 1
    leases.obj = None
    assert c.try_acquire_or_renew() is True  # c never saw the Lease: it makes it, and holds its writes
    c.leading = True
    made = clock.now
    for _ in range(3):
        clock.now += 2
        assert c.try_acquire_or_renew() is True
    leases.obj = None  # deleted again; c's requests fail from now on
    way_c.down = True
    clock.now = renewed + 9  # a is back, within its renew deadline (but past lease - renew deadline)
    way_a.down = False
    assert a.fence.in_term()
    assert a.try_acquire_or_renew() is False and leases.obj is None and not a.fence.holds()
    clock.now = made + 15  # c's hold is over; its fence is open until its last renewal + 10 s
    assert c.fence.holds() and not a.fence.holds()


def test_one_candidate_wins_and_the_other_waits_the_lease_out() -> None:
    clock, leases = Clock(), Leases()
    a, b = elector(leases, "ctrl-a", clock), elector(leases, "ctrl-b", clock)
    lead(a, clock)
    assert b.try_acquire_or_renew() is False
    clock.now += 14.9  # b has seen the same record for less than the lease duration
    assert b.try_acquire_or_renew() is False
    assert a.try_acquire_or_renew() is True  # a renews: b sees a new record and starts waiting again
    clock.now += 14.9
    assert b.try_acquire_or_renew() is False
    clock.now += 0.2  # b's wait restarted only when it saw the renewal (14.9 s ago, at its last attempt)
    assert b.try_acquire_or_renew() is False
    clock.now += 15  # a stopped renewing: b takes over, counting a transition
    assert not a.fence.holds()  # a's own fence closed 10 s after its last renewal, before b could take over
    assert b.try_acquire_or_renew() is True
    assert leases.spec["holderIdentity"] == "ctrl-b" and leases.spec["leaseTransitions"] == 1
    assert a.try_acquire_or_renew() is False  # a's fast path meets a 409, then it sees b's record


@pytest.mark.parametrize(
    ("duration", "wait"),
    [
        (MISSING, 15),  # absent: our own duration (client-go: expired at once)
        (None, 15),
        (0, 15),  # the API server refuses 0 and negatives; client-go would take these at once
        (-5, 15),
        ("abc", 15),
        ("NaN", 15),
        (True, 15),
        ([30], 15),
        ({"s": 30}, 15),
        ("30", 30),  # a number as text is still the holder's number
        (30, 30),
        (2.5, 3),  # rounded up, never down
        (1, 1),
    ],
)
def test_a_held_lease_with_an_odd_duration_is_waited_out_for_it_or_ours(duration: Any, wait: int) -> None:
    clock, leases = Clock(), Leases()
    spec = {**BASE, "leaseDurationSeconds": duration}
    if duration is MISSING:
        del spec["leaseDurationSeconds"]
    leases.store(spec)
    b = elector(leases, "ctrl-b", clock)
    assert waits(b, clock, wait)
    assert leases.spec["holderIdentity"] == "ctrl-b" and leases.spec["leaseDurationSeconds"] == 15
    assert leases.spec["leaseTransitions"] == 4


@pytest.mark.parametrize("duration", [INT32_MAX, 10**30, 1e300, float("inf"), str(10**40)])
def test_a_huge_duration_is_honoured_without_overflow(duration: Any) -> None:
    """The holder said so: waited (up to int32's 68 years), never an OverflowError that ends the campaign."""
    clock, leases = Clock(), Leases()
    leases.store({**BASE, "leaseDurationSeconds": duration})
    b = elector(leases, "ctrl-b", clock)
    for _ in range(3):
        assert b.try_acquire_or_renew() is False and b.leader == "other"
        clock.now += 365 * 24 * 3600.0


@pytest.mark.parametrize(
    ("holder", "duration", "wait"),
    [
        (MISSING, 15, 15),  # a record without a holder is waited out too (client-go: taken at once)
        (None, 15, 15),
        ("", 15, 15),  # e.g. a holder cleared by hand under a live leader
        ("", 1, 1),  # a release (1 s): followers take over a second later
        ("", MISSING, 15),
        (0, 15, 15),  # not a string, but somebody
        (["x"], 15, 15),
    ],
)
def test_holderless_and_odd_holders_are_waited_out(holder: Any, duration: Any, wait: int) -> None:
    clock, leases = Clock(), Leases()
    spec = {**BASE, "holderIdentity": holder, "leaseDurationSeconds": duration}
    for key, value in list(spec.items()):
        if value is MISSING:
            del spec[key]
    leases.store(spec)
    assert waits(elector(leases, "ctrl-b", clock), clock, wait)


@pytest.mark.parametrize(
    "times",
    [
        {},
        {"renewTime": None, "acquireTime": None},
        {"renewTime": "yesterday", "acquireTime": "garbage"},
        {"renewTime": "9999-12-31T23:59:59.999999Z"},  # a replica whose wall clock runs far ahead
        {"renewTime": "1970-01-01T00:00:00Z"},  # or far behind
        {"renewTime": "2026-01-01T00:00:00Z"},  # no fraction
        {"renewTime": "2026-01-01T05:00:00.123456789+05:00"},  # nanoseconds, a zone
        {"renewTime": 12345},
    ],
)
def test_renew_and_acquire_times_never_shorten_or_lengthen_the_wait(times: dict[str, Any]) -> None:
    """Only the local monotonic clock counts (as client-go): a skewed or garbled timestamp changes nothing."""
    clock, leases = Clock(), Leases()
    spec = {k: v for k, v in BASE.items() if k not in ("renewTime", "acquireTime")}
    leases.store({**spec, **times})
    assert waits(elector(leases, "ctrl-b", clock), clock, 15)


@pytest.mark.parametrize(
    ("transitions", "written"),
    [
        (MISSING, 1),
        (None, 1),
        (-3, 1),
        ("7", 8),
        ("x", 1),
        (2.0, 3),
        (True, 1),
        (INT32_MAX - 1, INT32_MAX),
        (INT32_MAX, 0),  # the count wraps to 0 rather than overflow int32
        (INT32_MAX + 1, 1),  # unreadable as int32: as if absent
    ],
)
def test_odd_transitions_are_counted_on_within_int32(transitions: Any, written: int) -> None:
    """The next count must be one the API server takes (0 to int32), or the replica could never lead."""
    clock, leases = Clock(), Leases()
    spec = {**BASE, "leaseTransitions": transitions}
    if transitions is MISSING:
        del spec["leaseTransitions"]
    leases.store(spec)
    assert waits(elector(leases, "ctrl-b", clock), clock, 15)
    assert leases.spec["leaseTransitions"] == written


@pytest.mark.parametrize("spec", [MISSING, None, {}, "garbage", [1, 2], 42])
def test_a_lease_without_a_usable_spec_is_waited_out_and_written_whole(spec: Any) -> None:
    clock, leases = Clock(), Leases()
    leases.store(spec)
    b = elector(leases, "ctrl-b", clock)
    assert waits(b, clock, 15)
    assert set(leases.spec) == {
        "holderIdentity",
        "leaseDurationSeconds",
        "acquireTime",
        "renewTime",
        "leaseTransitions",
    }
    assert leases.spec["holderIdentity"] == "ctrl-b" and b.fence.holds()


def test_unreadable_answers_are_failed_attempts_not_crashes(caplog: pytest.LogCaptureFixture) -> None:
    clock, leases = Clock(), Leases()
    b = elector(leases, "ctrl-b", clock)
    leases.faults["get"] = ValueError("Expecting value: line 1 column 1 (char 0)")  # a 200 that is not JSON
    with caplog.at_level(logging.DEBUG):
        assert b.try_acquire_or_renew() is False
        assert b.try_acquire_or_renew() is False
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].exc_info is None  # one line, repeated only at debug level
    leases.faults["get"] = RuntimeError("a bug")  # anything else: logged with its traceback, still no crash
    assert b.try_acquire_or_renew() is False
    del leases.faults["get"]
    leases.obj = {}  # a JSON answer that is no object reads as {} (KubeClient.request): no version to PUT over
    assert waits(b, clock, 15) is False and not b.fence.holds()


def test_every_renewal_changes_the_record_even_if_the_wall_clock_stalls_or_steps_back() -> None:
    """A renewal identical to the last record would look to followers like no renewal at all."""
    clock, leases = Clock(), Leases()
    walls = itertools.chain([EPOCH] * 10, [EPOCH - dt.timedelta(hours=1)], itertools.repeat(EPOCH))
    a = elector(leases, "ctrl-a", clock, wall=lambda: next(walls))
    lead(a, clock)
    seen = [leases.spec["renewTime"]]
    for _ in range(3):
        assert a.try_acquire_or_renew() is True
        seen.append(leases.spec["renewTime"])
    assert seen == sorted(set(seen)) and len(seen) == 4


# --- our own identity, and a leader that finds the Lease is not its own -----------------------------------


def test_our_identity_in_a_record_we_did_not_write_is_waited_out() -> None:
    """A restarted process under the same pod name (or two replicas given one name): client-go takes such a
    record at once as its own, so the old process, if alive, and the new one both lead."""
    clock, leases = Clock(), Leases()
    old = elector(leases, "pod-0", clock)
    lead(old, clock)
    new = elector(leases, "pod-0", clock)
    assert new.try_acquire_or_renew() is False  # not "ours": this process did not write it
    for _ in range(5):  # while the old one renews, the new one never takes it
        clock.now += 2
        assert old.try_acquire_or_renew() is True
        assert new.try_acquire_or_renew() is False
    acquired = leases.spec["acquireTime"]
    assert waits(new, clock, 15)  # the old one stopped renewing: taken as a new term
    assert leases.spec["acquireTime"] != acquired and leases.spec["leaseTransitions"] == 1
    assert not old.fence.holds()  # closed 10 s after its last renewal
    assert old.try_acquire_or_renew() is False  # and when it comes back it finds a namesake's term
    assert old._lease is None and not old.fence.holds()


@pytest.mark.parametrize("holder", ["ctrl-b", "ctrl-a"])
def test_a_leader_that_reads_another_holder_stops_writing_at_once(holder: str) -> None:
    """client-go writes on until its renew deadline after seeing the Lease held by another."""
    clock, leases = Clock(), Leases()
    a = elector(leases, "ctrl-a", clock)
    lead(a, clock)
    spec = {**leases.spec, "holderIdentity": holder, "acquireTime": "2026-06-01T00:00:00.000000Z"}
    leases.store(spec)  # deleted and made again by another (or by a namesake in a term of its own)
    assert a.fence.remaining() == pytest.approx(10)
    assert a.try_acquire_or_renew() is False
    assert not a.fence.holds()
    with pytest.raises(WriteRefused):
        a.fence.guard("PUT", "/x")


def test_a_write_racing_between_our_read_and_our_update_wins_and_we_stop() -> None:
    clock, leases = Clock(), Leases()
    a = elector(leases, "ctrl-a", clock)
    lead(a, clock)
    a._lease = None  # the fast path is spent (e.g. after a timeout): the leader reads, then writes
    leases.after_get = lambda: leases.store({**BASE, "holderIdentity": "ctrl-b"}, new_uid=False)
    assert a.try_acquire_or_renew() is False  # its PUT of the version it read: 409
    assert leases.spec["holderIdentity"] == "ctrl-b"
    assert a.try_acquire_or_renew() is False and not a.fence.holds()  # the next read shows whose it is


def test_two_candidates_racing_for_one_record_one_put_wins() -> None:
    clock, leases = Clock(), Leases()
    a, b = elector(leases, "ctrl-a", clock), elector(leases, "ctrl-b", clock)
    leases.store({"holderIdentity": "gone", "leaseDurationSeconds": 15})
    assert a.try_acquire_or_renew() is False and b.try_acquire_or_renew() is False  # first sight of "gone"
    clock.now += 16
    leases.after_get = lambda: b.try_acquire_or_renew()  # b writes between a's read and a's write
    assert a.try_acquire_or_renew() is False
    assert leases.spec["holderIdentity"] == "ctrl-b"
    assert not a.fence.holds() and b.fence.holds()


# --- the Lease deleted or cleared under a live leader ------------------------------------------------------


@pytest.mark.parametrize("create_on_update", [True, False])
def test_a_lease_deleted_under_its_leader_is_made_again_by_it_and_nobody_else(create_on_update: bool) -> None:
    clock, leases = Clock(), Leases(create_on_update=create_on_update)
    a, b = elector(leases, "ctrl-a", clock), elector(leases, "ctrl-b", clock)
    lead(a, clock)
    acquired = leases.spec["acquireTime"]
    assert b.try_acquire_or_renew() is False
    leases.obj = None  # kubectl delete lease
    for _ in range(20):  # b looks every second, a renews every 2: only a ever holds it
        clock.now += 1
        assert b.try_acquire_or_renew() is False
        assert not (a.fence.holds() and b.fence.holds())
        if int(clock.now) % 2 == 0:
            assert a.try_acquire_or_renew() is True
    assert set(leases.writes) == {"ctrl-a"}
    assert leases.spec["acquireTime"] == acquired  # the same term goes on


def test_a_leader_past_its_deadline_does_not_make_a_deleted_lease_again_at_once() -> None:
    clock, leases = Clock(), Leases()
    a, b = elector(leases, "ctrl-a", clock), elector(leases, "ctrl-b", clock)
    lead(a, clock)
    assert b.try_acquire_or_renew() is False  # b saw the Lease
    leases.faults["update"] = leases.faults["get"] = ApiError(0, "timeout", "the API server did not answer")
    clock.now += 11  # a's fence closed; meanwhile the Lease was deleted
    leases.obj = None
    leases.faults.clear()
    assert b.try_acquire_or_renew() is False  # it was deleted: b gives its leader lease - renew deadline (5 s)
    assert a.try_acquire_or_renew() is False and leases.obj is None  # a waits a missing Lease out like b
    clock.now += 5.01
    assert b.try_acquire_or_renew() is True and not b.fence.holds()  # made: held for the lease duration
    assert a.try_acquire_or_renew() is False and not a.fence.holds()
    b.leading = True
    for _ in range(7):
        clock.now += 2
        assert b.try_acquire_or_renew() is True and not b.fence.holds()
    clock.now += 1
    assert b.fence.holds() and not a.fence.holds()


def test_a_holder_cleared_by_hand_is_taken_back_by_the_live_leader_and_waited_out_by_others() -> None:
    clock, leases = Clock(), Leases()
    a, b = elector(leases, "ctrl-a", clock), elector(leases, "ctrl-b", clock)
    lead(a, clock)
    leases.store({**leases.spec, "holderIdentity": ""}, new_uid=False)  # kubectl edit: holder cleared
    assert b.try_acquire_or_renew() is False  # client-go's follower would take it here, under a live leader
    clock.now += 2
    assert a.try_acquire_or_renew() is True  # a, within its term, takes it back: a new term
    assert leases.spec["holderIdentity"] == "ctrl-a" and leases.spec["leaseTransitions"] == 1
    clock.now += 14
    assert b.try_acquire_or_renew() is False
    assert a.try_acquire_or_renew() is True  # the new term renews as usual


# --- renewal failing ----------------------------------------------------------------------------------------


def test_a_renewal_that_lands_after_the_leader_stepped_down_opens_nothing() -> None:
    """A renewal PUT that hung past the deadline and then went through: the replica stepped down meanwhile."""
    clock, leases = Clock(), Leases()
    a = elector(leases, "ctrl-a", clock)
    lead(a, clock)
    clock.now += 2
    leases.during_update = a.fence.revoke  # the election loop steps down while the PUT is on its way
    assert a.try_acquire_or_renew() is False
    assert leases.spec["holderIdentity"] == "ctrl-a"  # the write went through ...
    assert not a.fence.holds() and a._lease is None  # ... and counts for nothing
    a.leading = False
    assert waits(a, clock, 15)  # as a candidate it waits its own stale record out like anybody's


@pytest.mark.parametrize(
    "error",
    [
        ApiError(403, "Forbidden", "leases is forbidden"),
        ApiError(404, "NotFound", "not found"),
        ApiError(500, "InternalError", "etcdserver: request timed out"),
        ApiError(0, "read timeout", "the API server did not answer"),
    ],
)
def test_a_leader_that_cannot_renew_stops_writing_before_anybody_may_take_over(error: ApiError) -> None:
    clock, leases = Clock(), Leases()
    a, b = elector(leases, "ctrl-a", clock), elector(leases, "ctrl-b", clock)
    lead(a, clock)
    renewed = clock.now
    assert b.try_acquire_or_renew() is False
    leases.faults.update(get=error, update=error, create=error)
    for _ in range(19):  # to 9.5 s after the last renewal
        clock.now += 0.5
        assert a.try_acquire_or_renew() is False
    assert a.fence.holds()
    clock.now = renewed + 10
    assert not a.fence.holds()  # closed at its last renewal + renew deadline
    leases.faults.clear()  # only a was cut off: b reads the record it saw at a's last renewal
    clock.now = renewed + 14.9
    assert b.try_acquire_or_renew() is False  # b's wait counts from when it saw that renewal (at or after it)
    clock.now = renewed + 15.01
    assert b.try_acquire_or_renew() is True and not a.fence.holds()


def test_release_hands_over_within_a_second() -> None:
    clock, leases = Clock(), Leases()
    a, b = elector(leases, "ctrl-a", clock), elector(leases, "ctrl-b", clock)
    lead(a, clock)
    assert b.try_acquire_or_renew() is False
    assert a.release() is True and not a.fence.holds()
    assert leases.spec["holderIdentity"] == "" and leases.spec["leaseDurationSeconds"] == 1
    assert waits(b, clock, 1)  # the release's 1 s, not the lease duration
    assert a.release() is False  # nothing of ours to release any more


def test_a_release_after_losing_the_lease_leaves_the_new_holder_alone() -> None:
    clock, leases = Clock(), Leases()
    a = elector(leases, "ctrl-a", clock)
    lead(a, clock)
    leases.store({**BASE, "holderIdentity": "ctrl-b"}, new_uid=False)
    assert a.release() is False  # its PUT over the version it wrote: 409
    assert leases.spec["holderIdentity"] == "ctrl-b" and not a.fence.holds()


# --- against the emulator, with the real client -------------------------------------------------------------


@pytest.fixture()
def client(kube: KubeServer, kubeconfig: pathlib.Path) -> KubeClient:
    return KubeClient(load_configuration(str(kubeconfig), None), 5.0)


def lease_spec(kube: KubeServer) -> dict[str, Any]:
    lease = kube.get("coordination.k8s.io/v1", "Lease", LEASE, NS)
    assert lease is not None
    spec: dict[str, Any] = lease["spec"]
    return spec


def test_on_the_emulator_one_candidate_wins_and_the_other_waits(kube: KubeServer, client: KubeClient) -> None:
    clock = Clock()
    a, b = elector(client, "ctrl-a", clock), elector(client, "ctrl-b", clock)
    lead(a, clock)  # makes the Lease at once, renews it through the hold
    spec = lease_spec(kube)
    assert spec["holderIdentity"] == "ctrl-a" and spec["leaseDurationSeconds"] == 15
    assert spec["renewTime"].endswith("Z") and spec["leaseTransitions"] == 0
    assert b.try_acquire_or_renew() is False
    clock.now += 9
    assert a.try_acquire_or_renew() is True
    assert b.try_acquire_or_renew() is False  # b sees the renewal: its wait starts again
    clock.now += 15.01
    assert not a.fence.holds() and b.try_acquire_or_renew() is True
    assert lease_spec(kube)["holderIdentity"] == "ctrl-b" and lease_spec(kube)["leaseTransitions"] == 1
    assert a.try_acquire_or_renew() is False  # a's fast path meets a 409, then it sees b's record


def test_on_the_emulator_a_deleted_lease_is_made_again_by_its_leader(kube: KubeServer, client: KubeClient) -> None:
    """The emulator creates a Lease on PUT, as the API server does: the leader's next renewal restores it."""
    clock = Clock()
    a, b = elector(client, "ctrl-a", clock), elector(client, "ctrl-b", clock)
    lead(a, clock)
    acquired = lease_spec(kube)["acquireTime"]
    assert b.try_acquire_or_renew() is False  # b saw the Lease
    assert kube.delete("coordination.k8s.io/v1", "Lease", LEASE, NS)
    assert b.try_acquire_or_renew() is False  # and gives its leader the time to make it again
    clock.now += 2
    assert a.try_acquire_or_renew() is True and lease_spec(kube)["acquireTime"] == acquired
    clock.now += 14
    assert b.try_acquire_or_renew() is False and b.leader == "ctrl-a"


@pytest.mark.parametrize("spec", [{}, {"holderIdentity": "other"}, {"holderIdentity": "", "leaseTransitions": 2}])
def test_on_the_emulator_a_sparse_lease_is_waited_out_then_written_whole(
    kube: KubeServer, client: KubeClient, spec: dict[str, Any]
) -> None:
    kube.create(
        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": LEASE}, "spec": spec}, NS
    )
    clock = Clock()
    b = elector(client, "ctrl-b", clock)
    assert waits(b, clock, 15)
    written = lease_spec(kube)
    assert written["holderIdentity"] == "ctrl-b" and written["leaseDurationSeconds"] == 15
    assert written["leaseTransitions"] == spec.get("leaseTransitions", 0) + 1


def test_on_the_emulator_a_leader_cut_off_stops_writing_by_its_deadline(kube: KubeServer, client: KubeClient) -> None:
    clock = Clock()
    a, b = elector(client, "ctrl-a", clock), elector(client, "ctrl-b", clock)
    lead(a, clock)
    renewed = clock.now
    assert b.try_acquire_or_renew() is False
    fault = kube.fail(path="/leases", status=500, times=None)
    for status in (500, 403):
        clock.now += 4
        assert a.try_acquire_or_renew() is False
        kube.remove_fault(fault)
        fault = kube.fail(path="/leases", status=status, times=None)
    clock.now = renewed + 10
    assert not a.fence.holds()
    kube.remove_fault(fault)
    clock.now = renewed + 15.01
    assert b.try_acquire_or_renew() is True and lease_spec(kube)["holderIdentity"] == "ctrl-b"


def test_write_guard_refuses_writes_without_sending_them(kube: KubeServer, kubeconfig: pathlib.Path) -> None:
    clock = Clock()
    fence = Fence(clock)
    guarded = KubeClient(load_configuration(str(kubeconfig), None), 5.0, write_guard=fence.guard)
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}}
    before = kube.request_count
    with pytest.raises(WriteRefused):
        guarded.create_secret("default", body)
    assert kube.request_count == before  # nothing reached the API server
    assert guarded.get_secret("default", "s") is None  # reads are not fenced
    fence.extend(clock.now, renew_deadline=10, lease_duration=15)
    guarded.create_secret("default", body)
    assert kube.get("v1", "Secret", "s", "default") is not None


def test_lease_record_reads_any_spec() -> None:
    assert LeaseRecord.of({}) == LeaseRecord("", 0, "", "", 0)
    assert LeaseRecord.of({"spec": ["x"]}) == LeaseRecord("", 0, "", "", 0)
    odd = {"holderIdentity": 7, "leaseDurationSeconds": "15", "acquireTime": 1, "leaseTransitions": "-1"}
    assert LeaseRecord.of({"spec": odd}) == LeaseRecord("7", 15, "", "", 0)


# --- the election loop (looptime: the loop's clock is fake; attempts run inline) ---------------------------


class Attempts(concurrent.futures.Executor):
    """The election's executor in these tests: each call runs at once on the loop's thread, or, while `hold` is
    set, stays pending (a request that hangs) until `run_held`."""

    def __init__(self) -> None:
        self.hold = False
        self.held: list[tuple[concurrent.futures.Future[Any], Callable[..., Any]]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if self.hold:
            self.held.append((future, lambda: fn(*args, **kwargs)))
        else:
            future.set_result(fn(*args, **kwargs))
        return future

    def run_held(self) -> list[Any]:
        held, self.held = self.held, []
        results = [call() for _, call in held]
        for (future, _), result in zip(held, results, strict=True):
            future.set_result(result)
        return results

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


class Replica:
    """An elector on the loop's clock with inline attempts, recording when it started and stopped leading."""

    def __init__(self, leases: Leases, identity: str, *, fail_work: bool = False) -> None:
        loop = asyncio.get_running_loop()
        self.events: list[tuple[str, float]] = []
        self.fail_work = fail_work

        async def started() -> None:
            self.events.append(("started", loop.time()))
            if self.fail_work:
                raise RuntimeError("a bug in the leader's work")

        async def stopped() -> None:
            self.events.append(("stopped", loop.time()))

        self.elector = elector(
            leases, identity, loop.time, on_started=started, on_stopped=stopped, lease_duration=15, renew_deadline=10
        )
        self.attempts = Attempts()
        self.elector._executor = self.attempts

    def when(self, what: str) -> list[float]:
        return [t for name, t in self.events if name == what]


async def until(predicate: Callable[[], Any], seconds: float = 120.0) -> None:
    """Let the fake clock run (in 0.1 s steps) until `predicate()`; fail after `seconds` of it."""
    for _ in range(int(seconds * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not within the time given")


@pytest.mark.looptime
async def test_the_campaign_survives_whatever_an_attempt_raises() -> None:
    leases = Leases()
    leases.faults["get"] = RuntimeError("a bug in a client")
    replica = Replica(leases, "ctrl-a")
    replica.elector.start()
    try:
        await asyncio.sleep(30)
        assert replica.elector._task is not None and not replica.elector._task.done()
        leases.faults["get"] = ValueError("not JSON")
        await asyncio.sleep(30)
        del leases.faults["get"]
        await until(lambda: replica.elector.leading)
    finally:
        await replica.elector.stop()
    assert leases.spec["holderIdentity"] == ""  # released on stop


@pytest.mark.looptime
async def test_a_leader_whose_renewal_hangs_steps_down_by_its_deadline() -> None:
    leases = Leases()
    replica = Replica(leases, "ctrl-a")
    replica.elector.start()
    try:
        await until(lambda: replica.elector.leading)
        await asyncio.sleep(5)
        replica.attempts.hold = True  # from now on every request hangs
        renewed = asyncio.get_running_loop().time()  # no renewal succeeds after this (one at most just before)
        await until(lambda: replica.when("stopped"))
        assert replica.when("stopped")[0] <= renewed + 10.01  # the deadline, not the hung request's end
        assert not replica.elector.fence.holds() and not replica.elector.leading
        replica.attempts.hold = False
        replica.attempts.run_held()  # the requests come back (a late renewal: see the test above)
        assert not replica.elector.fence.holds()
    finally:
        await replica.elector.stop()


@pytest.mark.looptime
async def test_a_leader_that_finds_another_holder_stops_within_a_retry_period() -> None:
    leases = Leases()
    replica = Replica(leases, "ctrl-a")
    replica.elector.start()
    try:
        await until(lambda: replica.elector.leading)
        await asyncio.sleep(1)
        leases.store({**BASE, "holderIdentity": "ctrl-b"})
        taken = asyncio.get_running_loop().time()
        await until(lambda: replica.when("stopped"))
        assert replica.when("stopped")[0] - taken <= 2.0 + 0.01  # the next renewal, not the renew deadline
    finally:
        await replica.elector.stop()
    assert leases.spec["holderIdentity"] == "ctrl-b"  # not released: it was not ours


@pytest.mark.looptime
async def test_a_leader_whose_work_fails_steps_down_and_another_takes_over() -> None:
    """A leader holding the Lease but doing nothing would be a stuck election: it hands the Lease on."""
    leases = Leases()
    broken = Replica(leases, "ctrl-a", fail_work=True)
    broken.elector.start()
    await until(lambda: broken.when("stopped"))
    healthy = Replica(leases, "ctrl-b")
    healthy.elector.start()
    try:
        assert leases.spec["holderIdentity"] == ""  # released
        await until(lambda: healthy.elector.leading, seconds=10)
        assert not broken.elector.leading and len(broken.when("started")) == 1
    finally:
        await healthy.elector.stop()
        await broken.elector.stop()


@pytest.mark.looptime
async def test_a_replica_that_made_the_lease_starts_its_work_when_its_hold_ends() -> None:
    """A new install: the Lease is made at the first attempt, renewed through the hold, and the work starts one
    lease duration after the create (not before: its writes would be refused; not later: no second wait)."""
    leases = Leases()
    replica = Replica(leases, "ctrl-a")
    start = asyncio.get_running_loop().time()
    replica.elector.start()
    try:
        await until(lambda: leases.obj is not None, seconds=1)
        assert not replica.elector.fence.holds() and replica.elector.leading
        await until(lambda: replica.when("started"), seconds=30)
        assert start + 15 <= replica.when("started")[0] <= start + 15.01
        assert replica.elector.fence.holds() and len(set(leases.writes)) == 1 and len(leases.writes) > 5
    finally:
        await replica.elector.stop()


@pytest.mark.looptime
async def test_a_replica_that_loses_the_lease_it_made_during_its_hold_never_starts_its_work() -> None:
    leases = Leases()
    replica = Replica(leases, "ctrl-a")
    replica.elector.start()
    try:
        await until(lambda: leases.obj is not None, seconds=1)
        await asyncio.sleep(5)
        leases.store({**BASE, "holderIdentity": "ctrl-b"})  # replaced: somebody else's record
        await until(lambda: replica.when("stopped"), seconds=30)
        assert replica.when("started") == [] and not replica.elector.fence.holds()
    finally:
        await replica.elector.stop()
