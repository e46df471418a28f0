"""Status conditions: Synced first (Bitnami's printer columns), Ready for Flux; written only on change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sealkit_controller.reconciling.status import Outcome, next_status
from sealkit_controller.wiring import ControllerThread
from tests.support import kstatus
from tests.support.cluster import Cluster

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(minutes=5)
OK = Outcome(True, "Unsealed")
BAD = Outcome(False, "ErrUnsealFailed", "Failed to unseal: item 'a': no key could decrypt it")


def test_first_success_writes_synced_then_ready() -> None:
    status = next_status(None, 1, OK, T0, secret_name="db")
    assert status is not None
    assert status["observedGeneration"] == 1
    synced, ready = status["conditions"]
    assert synced == {
        "type": "Synced",
        "status": "True",
        "reason": "Unsealed",
        "message": "",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "lastUpdateTime": "2026-01-01T00:00:00Z",
    }
    assert ready["type"] == "Ready" and ready["status"] == "True" and ready["message"]


def test_same_outcome_later_writes_nothing() -> None:
    status = next_status(None, 1, OK, T0, secret_name="db")
    assert next_status(status, 1, OK, T1, secret_name="db") is None


def test_new_generation_is_written_and_keeps_transition_time() -> None:
    status = next_status(None, 1, OK, T0, secret_name="db")
    again = next_status(status, 2, OK, T1, secret_name="db")
    assert again is not None and again["observedGeneration"] == 2
    assert again["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"


def test_failure_flips_both_conditions_with_message_and_time() -> None:
    status = next_status(None, 1, OK, T0, secret_name="db")
    failed = next_status(status, 2, BAD, T1, secret_name="db")
    assert failed is not None
    for condition in failed["conditions"][:2]:
        assert condition["status"] == "False"
        assert condition["reason"] == "ErrUnsealFailed"
        assert condition["message"] == BAD.message
        assert condition["lastTransitionTime"] == "2026-01-01T00:05:00Z"
    assert failed["conditions"][0]["type"] == "Synced"


def test_only_schema_fields_are_written() -> None:
    status = next_status({"conditions": [{"type": "Other", "status": "True"}]}, 3, BAD, T0, secret_name="db")
    assert status is not None and set(status) == {"conditions", "observedGeneration"}
    allowed = {"type", "status", "reason", "message", "lastTransitionTime", "lastUpdateTime"}
    assert all(set(c) <= allowed for c in status["conditions"])
    assert [c["type"] for c in status["conditions"]] == ["Synced", "Ready", "Other"]


# --- kstatus: Stalled and Reconciling (abnormal-true) ------------------------------------------------------

STALLED = Outcome(False, "ErrUnsealFailed", "Failed to unseal: no key could decrypt it", stalled="UnsealFailed")
RETRYING = Outcome(False, "ErrUpdateFailed", "Failed to update Secret db: 503", reconciling="RetryingAfterError")


def test_stalled_and_reconciling_are_present_only_while_true() -> None:
    stalled = next_status(None, 1, STALLED, T0, secret_name="db")
    assert stalled is not None
    assert [(c["type"], c["status"], c["reason"]) for c in stalled["conditions"]] == [
        ("Synced", "False", "ErrUnsealFailed"),
        ("Ready", "False", "ErrUnsealFailed"),
        ("Stalled", "True", "UnsealFailed"),
    ]
    retrying = next_status(stalled, 1, RETRYING, T1, secret_name="db")
    assert retrying is not None
    assert [c["type"] for c in retrying["conditions"]] == ["Synced", "Ready", "Reconciling"]
    healed = next_status(retrying, 1, OK, T1, secret_name="db")
    assert healed is not None and [c["type"] for c in healed["conditions"]] == ["Synced", "Ready"]
    assert next_status(healed, 1, OK, T1, secret_name="db") is None


def test_kstatus_reads_what_the_controller_writes() -> None:
    def obj(status: dict[str, Any] | None, generation: int = 1) -> dict[str, Any]:
        return {"kind": "SealedSecret", "metadata": {"generation": generation}, "status": status or {}}

    assert kstatus.compute(obj(next_status(None, 1, OK, T0, secret_name="db"))).status == kstatus.CURRENT
    failed = kstatus.compute(obj(next_status(None, 1, STALLED, T0, secret_name="db")))
    assert (failed.status, failed.reason) == (kstatus.FAILED, "UnsealFailed")
    assert kstatus.compute(obj(next_status(None, 1, RETRYING, T0, secret_name="db"))).status == kstatus.IN_PROGRESS
    newer = obj(next_status(None, 1, OK, T0, secret_name="db"), generation=2)
    assert kstatus.compute(newer).status == kstatus.IN_PROGRESS  # a generation not handled yet


def _status_patches(cluster: Cluster, name: str) -> list[Any]:
    return [r for r in cluster.kube.request_log if r.method == "PATCH" and r.path.endswith(f"/{name}/status")]


def test_flux_health_check_fails_fast_on_an_unknown_key_and_passes_a_good_one(
    cluster: Cluster, controller: ControllerThread
) -> None:
    cluster.create(cluster.seal("good"))
    cluster.create(cluster.seal("unknown-key", key=1))  # sealed for a key the controller does not hold
    cluster.wait(lambda: _status_patches(cluster, "good") and _status_patches(cluster, "unknown-key"))
    # Within one reconcile: the first status written already says so.
    assert len(_status_patches(cluster, "unknown-key")) == 1
    failed = kstatus.compute(cluster.sealed("unknown-key"))
    assert failed.status == kstatus.FAILED and failed.reason == "UnsealFailed"
    assert "decrypt" in failed.message
    assert kstatus.compute(cluster.sealed("good")).status == kstatus.CURRENT


def test_unmanaged_secret_in_the_way_is_stalled(cluster: Cluster, controller: ControllerThread) -> None:
    cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "taken", "namespace": "default"}})
    cluster.create(cluster.seal("taken"))
    cluster.wait(lambda: kstatus.compute(cluster.sealed("taken")).status == kstatus.FAILED)
    assert kstatus.compute(cluster.sealed("taken")).reason == "SecretNotManaged"


def test_a_secret_the_api_server_would_refuse_is_stalled_before_it_is_sent(
    cluster: Cluster, controller: ControllerThread
) -> None:
    # A kubernetes.io/tls Secret without tls.crt: the API server would answer 422 Invalid. The controller
    # checks the API server's rules itself (sealkit.validation) and never sends it; no retry can help.
    sealed = cluster.seal("tls", data={"tls.key": "k"})
    sealed["spec"]["template"]["type"] = "kubernetes.io/tls"
    cluster.create(sealed)
    cluster.wait(lambda: kstatus.compute(cluster.sealed("tls")).status == kstatus.FAILED)
    result = kstatus.compute(cluster.sealed("tls"))
    assert result.reason == "InvalidSecret" and "needs the key tls.crt" in result.message
    condition = cluster.condition("tls") or {}
    assert condition.get("type") == "Synced" and condition.get("reason") == "ErrUnsealFailed"
    assert cluster.secret("tls") is None
    assert cluster.reasons("tls") == ["ErrUnsealFailed"]
    assert not [r for r in cluster.kube.request_log if r.method == "POST" and r.path.endswith("/secrets")]


def test_a_secret_the_api_server_refuses_is_stalled_with_its_reason(
    cluster: Cluster, controller: ControllerThread
) -> None:
    # A refusal sealkit's own checks do not foresee (an admission webhook, a newer API server): 422 Invalid.
    cluster.kube.fail("POST", path=r"/secrets$", status=422, times=None, message="refused by a webhook")
    cluster.create(cluster.seal("refused"))
    cluster.wait(lambda: kstatus.compute(cluster.sealed("refused")).status == kstatus.FAILED)
    result = kstatus.compute(cluster.sealed("refused"))
    assert result.reason == "Invalid" and "refused by a webhook" in result.message
    condition = cluster.condition("refused") or {}
    assert condition.get("type") == "Synced" and condition.get("reason") == "ErrUpdateFailed"
    assert cluster.secret("refused") is None
    assert cluster.reasons("refused") == ["ErrUpdateFailed"]
