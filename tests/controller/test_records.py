"""The compact copy the controller keeps of each SealedSecret: smaller, and the same to every reader."""

from __future__ import annotations

import json
from typing import Any

from sealkit.bitnami import NAMESPACE_WIDE_ANNOTATION
from sealkit_controller.reconciling import provenance, records

CIPHERTEXT = "AgB" + "x" * 700
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def watched(name: str = "db", status: dict[str, Any] | None = None) -> dict[str, Any]:
    """A SealedSecret as the watch delivers it: parsed from JSON text of its own."""
    body: dict[str, Any] = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": "0b5a6f1e-4d57-4c1b-9d7e-2f5b8c1d0a33",
            "generation": 3,
            "labels": {"team": "payments"},
            "annotations": {NAMESPACE_WIDE_ANNOTATION: "true", LAST_APPLIED: '{"kind":"SealedSecret"}' * 40},
            "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {"encryptedData": {"password": CIPHERTEXT}, "template": {"type": "Opaque"}},
    }
    if status is not None:
        body["status"] = status
    parsed: dict[str, Any] = json.loads(json.dumps(body))
    return parsed


def test_keeps_what_reconciling_reads_and_drops_the_rest() -> None:
    body = watched()
    kept = records.compact(body)
    assert "managedFields" not in kept["metadata"]
    assert kept["metadata"]["annotations"] == {NAMESPACE_WIDE_ANNOTATION: "true"}
    assert kept["metadata"]["labels"] == {"team": "payments"}
    assert kept["spec"] == body["spec"]
    assert {k: v for k, v in kept["metadata"].items() if k != "annotations"} == {
        k: v for k, v in body["metadata"].items() if k not in ("annotations", "managedFields")
    }
    # The provenance digest (what decides whether a Secret is in sync) is the same from the copy.
    assert provenance.source_digest(kept) == provenance.source_digest(body)
    assert "managedFields" in body["metadata"]  # the delivered body is left as it was


def test_keys_and_short_values_are_shared_by_all_objects() -> None:
    first, second = records.compact(watched("a")), records.compact(watched("b"))
    key_of = {id(k) for k in first["metadata"]}
    assert all(id(k) in key_of for k in second["metadata"])
    assert first["metadata"]["namespace"] is second["metadata"]["namespace"]
    assert first["spec"]["encryptedData"]["password"] == CIPHERTEXT  # long strings are kept as they came


def test_the_status_this_controller_wrote_is_held_once() -> None:
    written = {"conditions": [{"type": "Synced", "status": "True"}], "observedGeneration": 3}
    back = records.compact(watched(status=json.loads(json.dumps(written))), written)
    assert back["status"] is written
    other = {"conditions": [{"type": "Synced", "status": "False"}], "observedGeneration": 3}
    changed = records.compact(watched(status=other), written)
    assert changed["status"] == other and changed["status"] is not written
