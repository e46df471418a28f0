"""Leader election on a Lease (plumbing/election.py) against the emulator, with the real client: who may take
the Lease when, the fence that stops a leader's writes before its lease can pass on, and release."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

from sealkit.clients.kube.api import KubeClient, WriteRefused
from sealkit.clients.kube.config import load_configuration
from sealkit_controller.plumbing.election import ElectionConfig, Fence, LeaderElector, LeaseRecord
from sealkit_testservers.kube import KubeServer

NS = "kube-system"
LEASE = "sealed-secrets-controller"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _noop() -> None:
    return None


def elector(client: KubeClient, identity: str, clock: Clock, **timing: float) -> LeaderElector:
    config = ElectionConfig(NS, LEASE, identity, **timing)
    epoch = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return LeaderElector(
        client,
        config,
        Fence(clock),
        on_started=_noop,
        on_stopped=_noop,
        clock=clock,
        wall=lambda: epoch + dt.timedelta(seconds=clock.now),
    )


@pytest.fixture()
def client(kube: KubeServer, kubeconfig: pathlib.Path) -> KubeClient:
    return KubeClient(load_configuration(str(kubeconfig), None), 5.0)


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


def test_one_candidate_wins_and_the_other_waits_the_lease_out(kube: KubeServer, client: KubeClient) -> None:
    clock = Clock()
    a, b = elector(client, "ctrl-a", clock), elector(client, "ctrl-b", clock)
    assert a.try_acquire_or_renew() is True  # creates the Lease
    assert b.try_acquire_or_renew() is False
    lease = kube.get("coordination.k8s.io/v1", "Lease", LEASE, NS)
    assert lease is not None and lease["spec"]["holderIdentity"] == "ctrl-a"
    assert lease["spec"]["leaseDurationSeconds"] == 15 and lease["spec"]["renewTime"].endswith("Z")
    a.leading = True
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
    lease = kube.get("coordination.k8s.io/v1", "Lease", LEASE, NS)
    assert lease is not None and lease["spec"]["holderIdentity"] == "ctrl-b"
    assert lease["spec"]["leaseTransitions"] == 1
    assert a.try_acquire_or_renew() is False  # a's fast path meets a 409, then it sees b's record


def test_two_candidates_racing_for_one_record_one_put_wins(kube: KubeServer, client: KubeClient) -> None:
    clock = Clock()
    a, b = elector(client, "ctrl-a", clock), elector(client, "ctrl-b", clock)
    kube.create(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": LEASE, "namespace": NS},
            "spec": {"holderIdentity": "gone", "leaseDurationSeconds": 15},
        }
    )
    assert a.try_acquire_or_renew() is False and b.try_acquire_or_renew() is False  # first sight of "gone"
    clock.now += 16
    # Both read the expired record; b writes first, so a's PUT of the version it read is a 409.
    lease = client.get_lease(NS, LEASE)
    assert lease is not None
    assert b.try_acquire_or_renew() is True
    assert a._put(lease, LeaseRecord("ctrl-a", 15, "t", "t", 1), clock.now) is False
    assert not a.fence.holds() and b.fence.holds()


def test_release_hands_over_at_once(kube: KubeServer, client: KubeClient) -> None:
    clock = Clock()
    a, b = elector(client, "ctrl-a", clock), elector(client, "ctrl-b", clock)
    assert a.try_acquire_or_renew() is True
    assert b.try_acquire_or_renew() is False
    assert a.release() is True and not a.fence.holds()
    lease = kube.get("coordination.k8s.io/v1", "Lease", LEASE, NS)
    assert lease is not None and lease["spec"]["holderIdentity"] == ""
    assert b.try_acquire_or_renew() is True  # no holder: no need to wait


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
