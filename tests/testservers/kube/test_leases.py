"""Leases as client-go's leader election uses them: get, create, update (PUT) with resourceVersion conflicts.

The calls mirror `tools/leaderelection/resourcelock/leaselock.go`: Get the Lease, Create it when absent,
Update (PUT) the object last read with a new spec; two candidates racing on one read: one wins, the other
gets 409 Conflict with the real Status body.
"""

from __future__ import annotations

import datetime
import json
import threading
from typing import Any

import kubernetes as _kubernetes
import pytest
from kubernetes.client.exceptions import ApiException

from sealkit_testservers.kube import KubeServer

kubernetes: Any = _kubernetes


@pytest.fixture()
def leases(kube_api_client: Any) -> Any:
    return kubernetes.client.CoordinationV1Api(kube_api_client)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _lease(holder: str, transitions: int = 0) -> dict[str, Any]:
    now = _now().isoformat()
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "sealkit-controller"},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 15,
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": transitions,
        },
    }


def test_leases_are_discoverable_and_namespaced(kube_api_client: Any) -> None:
    found = kubernetes.client.CoordinationV1Api(kube_api_client).get_api_resources()
    lease = next(r for r in found.resources if r.name == "leases")
    assert lease.namespaced and lease.kind == "Lease"
    assert {"get", "list", "watch", "create", "update", "patch", "delete"} <= set(lease.verbs)


def test_leader_election_round_trip(kube: KubeServer, leases: Any) -> None:
    with pytest.raises(ApiException) as missing:
        leases.read_namespaced_lease("sealkit-controller", "kube-system")
    assert missing.value.status == 404  # Get: absent -> the candidate creates it

    created = leases.create_namespaced_lease("kube-system", _lease("pod-a"))
    assert created.spec.holder_identity == "pod-a" and created.metadata.resource_version
    # MicroTime comes back in UTC with microseconds, as metav1.MicroTime marshals it
    stored = kube.get("coordination.k8s.io/v1", "Lease", "sealkit-controller", "kube-system")
    assert stored is not None
    renew = stored["spec"]["renewTime"]
    assert renew.endswith("Z") and len(renew.split(".")[1]) == 7

    # Renew: PUT the object last read with a new renewTime
    created.spec.renew_time = _now()
    renewed = leases.replace_namespaced_lease("sealkit-controller", "kube-system", created)
    assert int(renewed.metadata.resource_version) > int(created.metadata.resource_version)

    # Another candidate still holding the first read loses: 409 with the real Status body
    created.spec.holder_identity = "pod-b"
    with pytest.raises(ApiException) as stale:
        leases.replace_namespaced_lease("sealkit-controller", "kube-system", created)
    assert stale.value.status == 409
    body = json.loads(stale.value.body)
    assert body["reason"] == "Conflict" and body["details"] == {
        "name": "sealkit-controller",
        "group": "coordination.k8s.io",
        "kind": "leases",
    }
    assert body["message"] == (
        'Operation cannot be fulfilled on leases.coordination.k8s.io "sealkit-controller": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )
    assert leases.read_namespaced_lease("sealkit-controller", "kube-system").spec.holder_identity == "pod-a"


def test_two_candidates_racing_on_one_read_one_wins(kube: KubeServer, kube_api_client: Any) -> None:
    api = kubernetes.client.CoordinationV1Api(kube_api_client)
    api.create_namespaced_lease("kube-system", _lease("nobody"))
    seen = api.read_namespaced_lease("sealkit-controller", "kube-system")
    outcomes: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def take(holder: str) -> None:
        mine = api.api_client.sanitize_for_serialization(seen)
        mine["spec"]["holderIdentity"] = holder
        mine["spec"]["leaseTransitions"] = 1
        barrier.wait()
        try:
            api.replace_namespaced_lease("sealkit-controller", "kube-system", mine)
            outcomes[holder] = 200
        except ApiException as exc:
            outcomes[holder] = exc.status

    threads = [threading.Thread(target=take, args=(h,)) for h in ("pod-a", "pod-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == [200, 409]
    winner = next(h for h, code in outcomes.items() if code == 200)
    stored = kube.get("coordination.k8s.io/v1", "Lease", "sealkit-controller", "kube-system")
    assert stored is not None and stored["spec"]["holderIdentity"] == winner


def test_update_needs_a_resource_version_and_may_create(leases: Any) -> None:
    body = _lease("pod-a")
    created = leases.replace_namespaced_lease("sealkit-controller", "kube-system", body)  # AllowCreateOnUpdate
    assert created.spec.holder_identity == "pod-a"
    with pytest.raises(ApiException) as unconditional:
        leases.replace_namespaced_lease("sealkit-controller", "kube-system", body)  # AllowUnconditionalUpdate: false
    assert unconditional.value.status == 422
    assert json.loads(unconditional.value.body)["message"] == (
        'leases.coordination.k8s.io "sealkit-controller" is invalid: '
        "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
    )


def test_patch_with_a_stale_resource_version_conflicts(leases: Any) -> None:
    created = leases.create_namespaced_lease("kube-system", _lease("pod-a"))
    old_rv = created.metadata.resource_version
    leases.patch_namespaced_lease("sealkit-controller", "kube-system", {"spec": {"holderIdentity": "pod-a"}})
    leases.patch_namespaced_lease(
        "sealkit-controller", "kube-system", {"metadata": {"resourceVersion": old_rv}, "spec": {"leaseTransitions": 0}}
    )  # a no-op write leaves the resourceVersion alone: still current
    leases.patch_namespaced_lease("sealkit-controller", "kube-system", {"spec": {"leaseTransitions": 1}})
    with pytest.raises(ApiException) as stale:
        leases.patch_namespaced_lease(
            "sealkit-controller",
            "kube-system",
            {"metadata": {"resourceVersion": old_rv}, "spec": {"holderIdentity": "pod-b"}},
        )
    assert stale.value.status == 409 and json.loads(stale.value.body)["reason"] == "Conflict"


def test_invalid_lease_spec_is_refused(leases: Any) -> None:
    body = _lease("pod-a")
    body["spec"]["leaseDurationSeconds"] = 0
    with pytest.raises(ApiException) as refused:
        leases.create_namespaced_lease("kube-system", body)
    status = json.loads(refused.value.body)
    assert refused.value.status == 422 and status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 0: must be greater than 0",
            "field": "spec.leaseDurationSeconds",
        }
    ]


def test_watch_sees_lease_changes(kube: KubeServer, leases: Any) -> None:
    created = leases.create_namespaced_lease("kube-system", _lease("pod-a"))
    rv = created.metadata.resource_version
    leases.patch_namespaced_lease("sealkit-controller", "kube-system", {"spec": {"holderIdentity": "pod-b"}})
    stream = kubernetes.watch.Watch().stream(
        leases.list_namespaced_lease, "kube-system", resource_version=rv, timeout_seconds=5
    )
    event = next(stream)
    assert event["type"] == "MODIFIED" and event["object"].spec.holder_identity == "pod-b"
