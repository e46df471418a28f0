"""API faults mid-reconcile (409, 500, 429, hangs), restarts and persistent failures: the controller
converges, loses nothing, surfaces only lasting trouble, and never touches a Secret it does not own."""

from __future__ import annotations

import base64

from tests.support.cluster import SS, Cluster

SECRETS = r"/api/v1/namespaces/default/secrets"


def foreign_secret(cluster: Cluster) -> dict:  # type: ignore[type-arg]
    """A Secret nobody asked the controller to manage, with a SealedSecret of the same name."""
    created = cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "foreign", "namespace": "default"},
            "data": {"k": base64.b64encode(b"theirs").decode()},
        }
    )
    cluster.create(cluster.seal("foreign"))
    return created


def writes(cluster: Cluster) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in cluster.kube.request_log
        if r.method in ("POST", "PUT", "PATCH", "DELETE") and "/events" not in r.path
    ]


def test_conflict_server_error_throttling_and_hangs_converge(cluster: Cluster) -> None:
    cluster.add_key(0)
    foreign = foreign_secret(cluster)
    kube = cluster.kube
    kube.fail("POST", SECRETS + "$", 409, times=1)
    kube.fail("GET", SECRETS + "/testsecret$", 500, times=2)
    kube.fail("POST", SECRETS + "$", hang=True, times=1)
    kube.fail("PATCH", r"/sealedsecrets/testsecret/status$", 429, retry_after=1, times=1)
    # Five faults in a row would reach the retry limit (and be reported): allow more here.
    with cluster.start(max_unseal_retries=10):
        cluster.create(cluster.seal())
        assert cluster.wait(cluster.data) == {"foo": b"bar"}
        cluster.wait(lambda: (cluster.condition() or {}).get("status") == "True")
        # An update through a 500 on the read, a conflict and a hang on the write.
        kube.fail("GET", SECRETS + "/testsecret$", 500, times=1)
        kube.fail("PUT", SECRETS + "/testsecret$", 409, times=1)
        kube.fail("PUT", SECRETS + "/testsecret$", hang=True, times=1)
        update = cluster.seal(data={"foo": "baz"})["spec"]["encryptedData"]
        kube.patch(SS, "SealedSecret", "testsecret", {"spec": {"encryptedData": update}}, "default")
        cluster.wait(lambda: cluster.data() == {"foo": b"baz"})
        cluster.wait(lambda: (cluster.sealed() or {}).get("status", {}).get("observedGeneration") == 2)
    # Brief trouble never shows as a failure; the foreign Secret is as it was.
    assert "ErrUpdateFailed" not in cluster.reasons()
    assert cluster.secret("foreign") == foreign
    assert cluster.reasons("foreign") == ["ErrUpdateFailed"]
    assert all("foreign" not in path for method, path in writes(cluster) if "/secrets" in path)


def test_lasting_failure_is_reported_then_recovers(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start(max_unseal_retries=2):
        cluster.kube.fail("POST", SECRETS + "$", 500, times=None, message="etcd is down")
        cluster.create(cluster.seal())
        condition = cluster.wait(lambda: (c := cluster.condition()) and c["status"] == "False" and c)
        assert condition["reason"] == "ErrUpdateFailed" and "etcd is down" in condition["message"]
        cluster.wait(lambda: "ErrUpdateFailed" in cluster.reasons())
        cluster.kube.clear_faults()
        assert cluster.wait(cluster.data) == {"foo": b"bar"}
        cluster.wait(lambda: (cluster.condition() or {}).get("status") == "True")
        assert cluster.reasons().count("ErrUpdateFailed") == 1  # reported once, not on every retry


def test_restart_mid_way_converges_and_resume_writes_nothing(cluster: Cluster) -> None:
    cluster.add_key(0)
    foreign = foreign_secret(cluster)
    names = [f"s{i}" for i in range(12)]
    for name in names:
        cluster.create(cluster.seal(name, data={"v": name}))
    # The first run stops while status writes hang: some Secrets exist, no status is written.
    cluster.kube.fail("PATCH", r"/status$", hang=True, times=None)
    with cluster.start():
        cluster.wait(lambda: sum(cluster.secret(n) is not None for n in names) >= 3)
    cluster.kube.clear_faults()
    with cluster.start():
        for name in names:
            assert cluster.wait(lambda n=name: cluster.data(n)) == {"v": name.encode()}
            cluster.wait(lambda n=name: (cluster.condition(n) or {}).get("status") == "True")
        cluster.wait(lambda: "ErrUpdateFailed" in cluster.reasons("foreign"))
    # Every Secret was made once, by its SealedSecret; the foreign one is untouched.
    for name in names:
        secret = cluster.secret(name)
        assert secret is not None and secret["metadata"]["ownerReferences"][0]["name"] == name
    assert cluster.secret("foreign") == foreign
    # A start after convergence re-checks everything but writes nothing: no Secret, no status, no event.
    before = len(writes(cluster))
    events_before = len(cluster.kube.list("v1", "Event", "default"))
    with cluster.start():
        cluster.wait(
            lambda: (
                sum(
                    r.path.endswith(f"/secrets/{n}") and r.method == "GET"
                    for r in cluster.kube.request_log
                    for n in names
                )
                >= 2 * len(names)
            )
        )
        cluster.never(lambda: len(writes(cluster)) > before, 0.3)
    assert len(cluster.kube.list("v1", "Event", "default")) == events_before


def test_skip_recreate_leaves_a_deleted_secret_deleted(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start(skip_recreate=True):
        cluster.create(cluster.seal())
        cluster.wait(cluster.secret)
        cluster.kube.delete("v1", "Secret", "testsecret", "default")
        cluster.never(cluster.secret)
        assert cluster.reasons() == ["Unsealed"]


EVENTS = r"/api/v1/namespaces/default/events$"


def test_a_warning_event_lost_on_its_way_is_posted_before_the_status_says_reported(cluster: Cluster) -> None:
    cluster.add_key(0)
    foreign_secret(cluster)
    cluster.kube.fail("POST", EVENTS, 503, times=2)
    with cluster.start():
        cluster.wait(lambda: cluster.reasons("foreign") == ["ErrUpdateFailed"])
        cluster.wait(lambda: (cluster.condition("foreign") or {}).get("status") == "False")
    log = cluster.kube.request_log
    posts = [(i, r.status) for i, r in enumerate(log) if r.method == "POST" and r.path.endswith("/events")]
    assert [code for _, code in posts] == [503, 503, 201]
    status_writes = [i for i, r in enumerate(log) if r.path.endswith("/sealedsecrets/foreign/status")]
    assert status_writes and min(status_writes) > posts[-1][0]  # the status waited for the event


def test_a_new_controller_posts_the_warning_the_stopped_one_could_not(cluster: Cluster) -> None:
    cluster.add_key(0)
    foreign_secret(cluster)
    cluster.kube.fail("POST", EVENTS, 503, times=None)
    failed = lambda: any(r.path.endswith("/events") and r.status == 503 for r in cluster.kube.request_log)  # noqa: E731
    # The first controller's event fails and its next attempt is far off: it stops before then.
    with cluster.start(retry_base_delay=60.0, retry_max_delay=60.0):
        cluster.wait(failed)
        cluster.never(lambda: cluster.condition("foreign"), 0.3)  # no status claims a report nobody saw
    cluster.kube.clear_faults()
    with cluster.start():
        cluster.wait(lambda: (cluster.condition("foreign") or {}).get("status") == "False")
        cluster.wait(lambda: cluster.reasons("foreign") == ["ErrUpdateFailed"])
    assert cluster.reasons("foreign") == ["ErrUpdateFailed"]


def test_a_lasting_event_outage_does_not_hide_the_failure_from_the_status(cluster: Cluster) -> None:
    cluster.add_key(0)
    foreign_secret(cluster)
    cluster.kube.fail("POST", EVENTS, 503, times=None)
    with cluster.start():
        condition = cluster.wait(lambda: (c := cluster.condition("foreign")) and c["status"] == "False" and c)
        assert condition["reason"] == "ErrUpdateFailed"
    # Three attempts posted it and waited; then the status went first and the event was retried alone.
    posts = [r.status for r in cluster.kube.request_log if r.method == "POST" and r.path.endswith("/events")]
    assert posts[:3] == [503, 503, 503] and cluster.reasons("foreign") == []
