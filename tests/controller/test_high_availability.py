"""Two replicas with leader election (in one process, each its own client identity): one writes, both serve;
a partitioned leader stops writing and the other takes over from a fresh listing; events reported once stay
once; key renewal makes one key per period whoever decides it. Multi-process failover: test_failover.py."""

from __future__ import annotations

import base64
import pathlib
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from sealkit.clients.kube.api import ApiError, KubeClient
from sealkit.clients.kube.config import load_configuration
from sealkit.keysecrets import successor_secret_name
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.keys.renewal import KeyManager
from sealkit_controller.reconciling.provenance import UNSEALED_FROM_ANNOTATION
from sealkit_controller.reconciling.reconciler import event_name
from sealkit_controller.reconciling.status import ERR_UPDATE_FAILED, SECRET_NOT_MANAGED, Outcome
from sealkit_controller.wiring import ControllerThread, lease_client
from tests.support.cluster import CONTROLLER_NS, Cluster

LEASE = ("coordination.k8s.io/v1", "Lease", "sealed-secrets-controller", CONTROLLER_NS)
FAST_ELECTION = {
    "leader_elect": True,
    "leader_elect_lease_duration": 2.0,
    "leader_elect_renew_deadline": 1.0,
    "leader_elect_retry_period": 0.2,
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def holder(cluster: Cluster) -> str:
    lease = cluster.kube.get(*LEASE) or {}
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def leader_gauge(running: ControllerThread) -> float:
    _, body = fetch(running.metrics_url + "/metrics")
    for line in body.decode().splitlines():
        if line.startswith("sealed_secrets_controller_leader "):
            return float(line.split()[1])
    raise AssertionError("no leader gauge")


def writes_by(cluster: Cluster, client: str, *, after: int = 0) -> list[Any]:
    """Successful writes of one client (except its Lease), from request number `after` on."""
    return [
        r
        for r in cluster.kube.request_log[after:]
        if r.client == client and r.method in WRITES and "/leases" not in r.path and 200 <= r.status < 300
    ]


@pytest.fixture()
def replicas(cluster: Cluster, tmp_path: pathlib.Path) -> Iterator[dict[str, ControllerThread]]:
    cluster.add_key(0)
    cluster.kube.fail(path="^/never$", status=500, times=None)  # any rule: the request log then names clients
    running: dict[str, ControllerThread] = {}
    try:
        for name in ("ctrl-a", "ctrl-b"):
            kubeconfig = cluster.kube.write_kubeconfig(tmp_path / f"kubeconfig-{name}", token=name)
            settings = cluster.settings(kubeconfig=str(kubeconfig), instance=name, **FAST_ELECTION)
            running[name] = ControllerThread(settings).start()
        yield running
    finally:
        for thread in running.values():
            thread.stop()
        assert all(thread.error is None for thread in running.values())


def test_single_replica_runs_without_a_lease(cluster: Cluster, controller: ControllerThread) -> None:
    cluster.create(cluster.seal("solo"))
    assert cluster.wait(lambda: cluster.data("solo")) == {"foo": b"bar"}
    assert cluster.kube.list("coordination.k8s.io/v1", "Lease", CONTROLLER_NS) == []
    assert leader_gauge(controller) == 1  # it writes, alone


def test_one_replica_writes_and_every_replica_serves(cluster: Cluster, replicas: dict[str, ControllerThread]) -> None:
    leader = cluster.wait(lambda: holder(cluster))
    (follower,) = set(replicas) - {leader}
    for i in range(5):
        cluster.create(cluster.seal(f"app-{i}", data={"n": str(i)}))
    for i in range(5):
        assert cluster.wait(lambda i=i: cluster.data(f"app-{i}")) == {"n": str(i).encode()}
    cluster.wait(lambda: all((cluster.condition(f"app-{i}") or {}).get("status") == "True" for i in range(5)))
    assert writes_by(cluster, leader) and not writes_by(cluster, follower)
    certs = {fetch(r.api_url + "/v1/cert.pem") for r in replicas.values()}
    assert len(certs) == 1 and next(iter(certs))[0] == 200  # the same certificate from both
    assert leader_gauge(replicas[leader]) == 1 and leader_gauge(replicas[follower]) == 0


def test_partitioned_leader_stops_writing_and_the_other_takes_over(
    cluster: Cluster, replicas: dict[str, ControllerThread]
) -> None:
    old = cluster.wait(lambda: holder(cluster))
    (new,) = set(replicas) - {old}
    cluster.create(cluster.seal("before"))
    cluster.wait(lambda: cluster.data("before"))
    cut = cluster.kube.partition(old)
    assert cluster.wait(lambda: holder(cluster) == new, timeout=20)
    cluster.wait(lambda: leader_gauge(replicas[old]) == 0)  # it noticed, and its fence is closed
    mark = len(cluster.kube.request_log)
    cluster.kube.remove_fault(cut)  # healed: the old leader comes back as a follower
    cluster.create(cluster.seal("after", data={"k": "v"}))
    assert cluster.wait(lambda: cluster.data("after")) == {"k": b"v"}
    cluster.wait(lambda: (cluster.condition("after") or {}).get("status") == "True")
    assert not writes_by(cluster, old, after=mark) and writes_by(cluster, new, after=mark)
    assert holder(cluster) == new
    status, _ = fetch(replicas[old].api_url + "/v1/cert.pem")  # the follower serves throughout
    assert status == 200


def test_a_failure_is_reported_once_across_a_handover(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    cluster.add_key(0)
    cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "taken", "namespace": "default"}})
    running = []
    try:
        for name in ("ctrl-a", "ctrl-b"):
            kubeconfig = cluster.kube.write_kubeconfig(tmp_path / f"kubeconfig-{name}", token=name)
            settings = cluster.settings(kubeconfig=str(kubeconfig), instance=name, **FAST_ELECTION)
            running.append(ControllerThread(settings).start())
        first = cluster.wait(lambda: holder(cluster))
        cluster.create(cluster.seal("taken"))
        cluster.wait(lambda: (cluster.condition("taken") or {}).get("reason") == ERR_UPDATE_FAILED)
        cluster.wait(lambda: cluster.reasons("taken") == [ERR_UPDATE_FAILED])
        for thread in running:  # the leader steps down (releasing the Lease): the other takes over
            if thread.settings.instance == first:
                thread.stop()
        second = cluster.wait(lambda: holder(cluster) not in ("", first) and holder(cluster))
        leader = next(t for t in running if t.settings.instance == second)
        cluster.wait(lambda: leader.runtime.controller is not None and leader.runtime.controller.queue.pending() == 0)
        cluster.wait(lambda: leader.runtime.controller.tracked[("default", "taken")].failure is not None)  # type: ignore[union-attr]
    finally:
        for thread in running:
            thread.stop()
    assert cluster.reasons("taken") == [ERR_UPDATE_FAILED]  # the new leader reconciled it: no second event


def test_the_same_report_twice_is_one_event(cluster: Cluster) -> None:
    """A leader that dies between posting an event and writing the status: its successor posts under the same
    name, and the API server's 409 keeps the event single."""
    cluster.add_key(0)
    cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "taken", "namespace": "default"}})
    sealed = cluster.create(cluster.seal("taken"))
    message = 'Resource "taken" already exists and is not managed by SealedSecret'
    outcome = Outcome(False, ERR_UPDATE_FAILED, message, stalled=SECRET_NOT_MANAGED)
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": event_name(sealed, outcome, None), "namespace": "default"},
            "involvedObject": {"kind": "SealedSecret", "name": "taken", "namespace": "default"},
            "reason": ERR_UPDATE_FAILED,
            "message": message,
            "type": "Warning",
        }
    )
    with cluster.start():
        cluster.wait(lambda: (cluster.condition("taken") or {}).get("reason") == ERR_UPDATE_FAILED)
    assert cluster.reasons("taken") == [ERR_UPDATE_FAILED]


async def test_two_deciders_of_one_renewal_make_one_key(cluster: Cluster) -> None:
    """Two key managers (two leaders in turn, the second with a view that lags) both find a key due."""
    settings = cluster.settings(namespace=CONTROLLER_NS, key_size=2048)
    client = KubeClient(load_configuration(settings.kubeconfig, None), 5.0)

    async def direct(fn: Any, *args: Any) -> Any:
        return fn(*args)

    first, second = KeyStore(), KeyStore()
    a = KeyManager(settings, client, first, direct)
    b = KeyManager(settings, client, second, direct)
    assert await a.ensure() is True
    name = await b.generate()  # decided before b saw a's key: the name is taken, a's key is used
    keys = cluster.kube.list("v1", "Secret", CONTROLLER_NS)
    assert [k["metadata"]["name"] for k in keys] == [successor_secret_name("sealed-secrets-key", None)] == [name]
    assert first.ring.fingerprints() == second.ring.fingerprints() and len(first.ring) == 1
    assert await b.ensure() is False  # and a fresh listing says no key is due
    data = keys[0]["data"]
    assert base64.b64decode(data["tls.crt"]).startswith(b"-----BEGIN CERTIFICATE-----")


def lease_writes(cluster: Cluster, client: str, *, after: int = 0) -> list[Any]:
    """Successful writes of one client to the Lease, from request number `after` on."""
    return [
        r
        for r in cluster.kube.request_log[after:]
        if r.client == client and r.method in WRITES and "/leases" in r.path and 200 <= r.status < 300
    ]


def test_a_lease_deleted_under_its_leader_never_gives_the_follower_a_write(
    cluster: Cluster, replicas: dict[str, ControllerThread]
) -> None:
    """client-go's follower creates a missing Lease at its next try, while the leader still writes: here the
    follower, which saw the Lease, gives the leader lease - renew deadline to make it again, and the leader's
    next renewal does. (A follower that never saw it makes it but holds its writes: test_election.py.)"""
    leader = cluster.wait(lambda: holder(cluster))
    (follower,) = set(replicas) - {leader}
    elector = replicas[follower].runtime.elector
    cluster.wait(lambda: elector is not None and elector.leader == leader)
    mark = len(cluster.kube.request_log)
    assert cluster.kube.delete(*LEASE)
    cluster.create(cluster.seal("after-delete"))
    assert cluster.wait(lambda: cluster.data("after-delete")) == {"foo": b"bar"}
    # Renewals (every 0.2 s) well past the follower's wait for a deleted Lease (1 s): it had every chance.
    cluster.wait(lambda: len(lease_writes(cluster, leader, after=mark)) >= 20, timeout=20)
    assert holder(cluster) == leader
    assert not lease_writes(cluster, follower, after=mark) and not writes_by(cluster, follower, after=mark)
    assert leader_gauge(replicas[follower]) == 0


def test_a_restarted_replica_under_the_same_name_takes_a_new_term(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    """The Lease still names this pod (its previous process died without releasing it): the new process does
    not renew that record as its own (client-go does), it waits it out and takes it as a new term."""
    cluster.add_key(0)
    old = {"holderIdentity": "ctrl-a", "leaseDurationSeconds": 2, "leaseTransitions": 4}
    old |= {"acquireTime": "2026-01-01T00:00:00.000000Z", "renewTime": "2026-01-01T00:00:00.000000Z"}
    cluster.kube.create(
        {"apiVersion": LEASE[0], "kind": "Lease", "metadata": {"name": LEASE[2]}, "spec": old}, CONTROLLER_NS
    )
    kubeconfig = cluster.kube.write_kubeconfig(tmp_path / "kubeconfig-ctrl-a", token="ctrl-a")
    settings = cluster.settings(kubeconfig=str(kubeconfig), instance="ctrl-a", **FAST_ELECTION)
    running = ControllerThread(settings).start()
    try:
        cluster.create(cluster.seal("restarted"))
        assert cluster.wait(lambda: cluster.data("restarted")) == {"foo": b"bar"}
        spec = (cluster.kube.get(*LEASE) or {})["spec"]
        assert spec["holderIdentity"] == "ctrl-a" and spec["leaseTransitions"] == 5
        assert spec["acquireTime"] != old["acquireTime"]
    finally:
        running.stop()
    assert running.error is None


def test_the_lease_client_tries_each_request_once(cluster: Cluster) -> None:
    """urllib3 retried a reset or timed-out Lease request (3 times by default), so one hung renewal could cost
    several timeouts in a row; the election loop is the retry. The configuration the controller's clients share
    keeps urllib3's default."""
    configuration = load_configuration(str(cluster.kubeconfig))
    client = lease_client(configuration, cluster.settings(**FAST_ELECTION))
    try:
        cluster.kube.fail(resource="leases", reset=True, times=1)
        mark = len(cluster.kube.request_log)
        with pytest.raises(ApiError):
            client.get_lease(CONTROLLER_NS, LEASE[2])
        assert len([r for r in cluster.kube.request_log[mark:] if "/leases" in r.path]) == 1
        assert client.get_lease(CONTROLLER_NS, LEASE[2]) is None  # the next attempt goes through
    finally:
        client.close()
    assert configuration.retries is None  # a copy was given retries=0, not the configuration shared


def test_a_new_leader_repairs_a_secret_edited_by_hand_and_leaves_the_others(
    cluster: Cluster, replicas: dict[str, ControllerThread]
) -> None:
    """The content digest in a Secret's in-sync record is checked on a new leader's resume as on a restart: the
    Secret edited by hand (its record kept) is unsealed and written back by the new leader; the untouched one
    costs a GET and is not written."""
    first = cluster.wait(lambda: holder(cluster))
    for name in ("edited", "untouched"):
        cluster.create(cluster.seal(name, data={"a": "original"}))
    cluster.wait(lambda: all(cluster.data(n) == {"a": b"original"} for n in ("edited", "untouched")))
    cluster.wait(lambda: all((cluster.condition(n) or {}).get("status") == "True" for n in ("edited", "untouched")))
    record = (cluster.secret("edited") or {})["metadata"]["annotations"][UNSEALED_FROM_ANNOTATION]
    hacked = base64.b64encode(b"hacked").decode()
    cluster.kube.patch("v1", "Secret", "edited", {"data": {"a": hacked}}, "default")  # kubectl edit: record kept
    assert (cluster.secret("edited") or {})["metadata"]["annotations"][UNSEALED_FROM_ANNOTATION] == record
    assert cluster.data("edited") == {"a": b"hacked"}
    mark = len(cluster.kube.request_log)
    replicas[first].stop()  # steps down, releasing the Lease: the other resumes from a fresh listing
    second = cluster.wait(lambda: holder(cluster) not in ("", first) and holder(cluster))
    assert cluster.wait(lambda: cluster.data("edited") == {"a": b"original"} and cluster.data("edited"))

    def untouched_read() -> bool:
        return any(
            r.client == second and r.method == "GET" and r.path == "/api/v1/namespaces/default/secrets/untouched"
            for r in cluster.kube.request_log[mark:]
        )

    cluster.wait(untouched_read)  # the new leader's resume reached it too
    cluster.wait(lambda: cluster.reasons("edited").count("Unsealed") == 2)
    cluster.never(lambda: cluster.reasons("untouched").count("Unsealed") > 1, 0.3)
    secret_writes = [f"{r.method} {r.path}" for r in writes_by(cluster, second, after=mark) if "/secrets/" in r.path]
    assert secret_writes == ["PUT /api/v1/namespaces/default/secrets/edited"]
    assert not [r for r in writes_by(cluster, first, after=mark) if "/secrets/" in r.path]  # stepped down


def test_a_follower_lists_its_key_secrets_again_every_interval(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    """Every replica, not only the leader, lists the key Secrets again every `key_resync_interval` (what it drops
    then, and that it stays quiet: test_key_listings.py on a fake clock): here a replica that never leads (the Lease
    is held by another for years) keeps listing, writes nothing and serves its certificate."""
    cluster.add_key(0)
    other = {"holderIdentity": "ctrl-other", "leaseDurationSeconds": 2**31 - 1, "leaseTransitions": 1}
    cluster.kube.create(
        {"apiVersion": LEASE[0], "kind": "Lease", "metadata": {"name": LEASE[2]}, "spec": other}, CONTROLLER_NS
    )
    kubeconfig = cluster.kube.write_kubeconfig(tmp_path / "kubeconfig-ctrl-b", token="ctrl-b")
    settings = cluster.settings(kubeconfig=str(kubeconfig), instance="ctrl-b", key_resync_interval=0.2, **FAST_ELECTION)

    def key_listings() -> int:
        return sum(
            1
            for r in list(cluster.kube.request_log)
            if r.method == "GET"
            and r.path == f"/api/v1/namespaces/{CONTROLLER_NS}/secrets"
            and "labelSelector" in r.query
            and r.query.get("watch") not in ("true", "1")
        )

    before = len(cluster.kube.request_log)
    running = ControllerThread(settings).start()
    try:
        at_start = key_listings()
        cluster.wait(lambda: key_listings() >= at_start + 6)  # both selectors, three rounds
        assert holder(cluster) == "ctrl-other" and leader_gauge(running) == 0
        assert fetch(running.api_url + "/v1/cert.pem")[0] == 200
        writes = [
            r
            for r in list(cluster.kube.request_log)[before:]
            if r.method in WRITES and "/leases" not in r.path and 200 <= r.status < 300
        ]
        assert writes == []
    finally:
        running.stop()
    assert running.error is None
