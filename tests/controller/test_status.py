"""Status conditions: Synced first (Bitnami's printer columns), Ready for Flux; written only on change."""

from __future__ import annotations

import datetime as dt

from sealkit_controller.reconciling.status import Outcome, next_status

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
