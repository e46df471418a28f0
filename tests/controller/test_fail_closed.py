"""Fail closed: a SealedSecret the controller cannot handle is reported (condition and event), never skipped
without a word, and what is reported names no Python class, message or value.

Bitnami's older CRDs keep any status (`x-kubernetes-preserve-unknown-fields`), so a status written by hand can
be a string or a list; a bug in an attempt (simulated here) must read as a failure on the object too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.data import crd_path
from sealkit_controller.reconciling import ownership
from tests.support.cluster import SS, Cluster, LogLines

PLANTED = "Pl4nted-S3cret-Xq7"


def _crd_keeping_any_status() -> dict[str, Any]:
    """Bitnami's CRD with the status schema of its older releases: anything is kept."""
    crd: dict[str, Any] = yaml.safe_load(Path(crd_path("bitnami.com_sealedsecrets.yaml")).read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    schema["properties"]["status"] = {"x-kubernetes-preserve-unknown-fields": True}
    return crd


def _info_and_above(logs: LogLines) -> str:
    """What the log shows at its default level (the debug stack quotes source lines, by design)."""
    return "\n".join(line for line in logs.lines if not line.startswith("DEBUG "))


def _library_errors(logs: LogLines) -> list[str]:
    return [line for line in logs.lines if line.startswith(("ERROR kopf", "WARNING kopf.objects"))]


@pytest.mark.kube_emulator(crds=[_crd_keeping_any_status()])
@pytest.mark.parametrize("written", ["garbage", [1, 2], {"conditions": 5}], ids=["string", "list", "conditions-int"])
def test_a_status_of_another_shape_is_replaced(cluster: Cluster, logs: LogLines, written: Any) -> None:
    cluster.add_key(0)
    cluster.create(cluster.seal(data={"foo": PLANTED}))
    cluster.kube.patch(SS, "SealedSecret", "testsecret", {"status": written}, "default", subresource="status")
    running = cluster.start()
    try:
        assert cluster.wait(cluster.data) == {"foo": PLANTED.encode()}
        status = cluster.wait(lambda: (s := (cluster.sealed() or {}).get("status")) != written and s)
    finally:
        running.stop()
    assert [c["type"] for c in status["conditions"]] == ["Synced", "Ready"]
    assert all(c["status"] == "True" for c in status["conditions"]) and status["observedGeneration"] == 1
    assert "an unexpected error" not in logs.text and not _library_errors(logs)


def test_an_unexpected_error_is_a_reported_failure_without_its_message(
    cluster: Cluster, controller: Any, logs: LogLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> ownership.Plan:
        raise KeyError(PLANTED)

    monkeypatch.setattr(ownership, "plan_write", broken)
    cluster.create(cluster.seal(data={"foo": PLANTED}))
    condition = cluster.wait(lambda: (c := cluster.condition()) and c.get("status") == "False" and c)
    assert condition["reason"] == "ErrUnsealFailed"
    assert condition["message"].startswith("Failed to unseal: the controller failed unexpectedly (a bug) at ")
    assert condition["message"].endswith(" in broken; see its log")
    stalled = [c for c in (cluster.sealed() or {})["status"]["conditions"] if c["type"] == "Stalled"]
    assert [(c["status"], c["reason"]) for c in stalled] == [("True", "UnexpectedError")]
    (event,) = cluster.wait(lambda: [e for e in cluster.events() if e["reason"] == "ErrUnsealFailed"])
    assert event["type"] == "Warning" and event["message"] == condition["message"]
    assert cluster.secret() is None
    shown = f"{condition} {event['message']} {_info_and_above(logs)}"
    assert PLANTED not in shown and "KeyError" not in shown and "Traceback" not in shown
    (warning,) = [line for line in logs.lines if "an unexpected error (a bug)" in line]
    assert warning.startswith("WARNING ") and "reconciling default/testsecret failed" in warning


def test_an_error_in_a_watch_handler_is_one_warning_without_a_traceback(
    cluster: Cluster, controller: Any, logs: LogLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    observe = controller.runtime.controller.observe_sealed_secret

    def broken(body: dict[str, Any], **kwargs: Any) -> None:
        if body["metadata"]["name"] == "broken":
            raise ValueError(PLANTED)
        observe(body, **kwargs)

    monkeypatch.setattr(controller.runtime.controller, "observe_sealed_secret", broken)
    cluster.create(cluster.seal("broken", data={"foo": PLANTED}))
    cluster.create(cluster.seal("fine"))
    cluster.wait(lambda: cluster.data("fine"))
    (warning,) = cluster.wait(lambda: [w for w in logs.lines if w.startswith("WARNING") and "default/broken" in w])
    assert warning.startswith("WARNING sealkit_controller.plumbing.workqueue: handling a watch event of ")
    assert "SealedSecret default/broken failed: an unexpected error (a bug) at test_fail_closed.py:" in warning
    shown = _info_and_above(logs)
    assert PLANTED not in shown and "ValueError" not in shown and "Traceback" not in shown
    assert not _library_errors(logs)


@pytest.mark.parametrize("skip_recreate", [False, True], ids=["default", "skip-recreate"])
def test_a_sealedsecret_created_again_makes_its_secret_once_the_old_one_is_collected(
    cluster: Cluster, skip_recreate: bool
) -> None:
    """A SealedSecret deleted and created again (kubectl replace, a GitOps sync): its first attempt may find the
    Secret of the earlier one still there (the garbage collector has not taken it yet), not its own. Once that
    Secret is collected, this one makes its own, and the status no longer says a Secret is in the way.
    --skip-recreate does not stop this: this SealedSecret never had its Secret."""
    cluster.add_key(0)
    running = cluster.start(skip_recreate=skip_recreate)
    try:
        earlier = {"apiVersion": SS, "kind": "SealedSecret", "name": "testsecret", "uid": "0000-earlier"}
        meta = {"name": "testsecret", "namespace": "default", "ownerReferences": [{**earlier, "controller": True}]}
        cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": meta, "data": {"x": "eA=="}})
        cluster.create(cluster.seal(data={"foo": PLANTED}))
        cluster.wait(lambda: "ErrUpdateFailed" in cluster.reasons())
        cluster.kube.delete("v1", "Secret", "testsecret", "default")  # as the garbage collector does
        assert cluster.wait(cluster.data) == {"foo": PLANTED.encode()}
        cluster.wait(lambda: (cluster.condition() or {}).get("status") == "True")
    finally:
        running.stop()
