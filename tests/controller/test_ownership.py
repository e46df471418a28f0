"""Which existing Secrets the controller may write, and what it writes (Bitnami's managed/patch rules)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sealkit.bitnami import MANAGED_ANNOTATION, PATCH_ANNOTATION
from sealkit_controller.reconciling.ownership import Action, controlled_by, plan_write, should_recreate

UID = "uid-1"
OWNER = {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "db", "uid": UID, "controller": True}


def desired(data: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "ns",
            "labels": {"mylabel": "myvalue"},
            "ownerReferences": [OWNER],
            **meta,
        },
        "type": "Opaque",
        "data": data if data is not None else {"foo": "YmFy"},
    }


def existing(
    annotations: dict[str, str] | None = None, owners: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": "db",
        "namespace": "ns",
        "resourceVersion": "7",
        "labels": {"mylabel": "myvalue", "anotherlabel": "anothervalue"},
    }
    if annotations:
        meta["annotations"] = annotations
    if owners:
        meta["ownerReferences"] = owners
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "Opaque",
        "data": {"foo": "YmFyMQ==", "foo2": "YmFyMg=="},
        **extra,
    }


def test_missing_secret_is_created_as_desired() -> None:
    wanted = desired()
    plan = plan_write(wanted, None, UID)
    assert plan.action is Action.CREATE and plan.body == desired()
    assert plan.body is not None and plan.body["metadata"] is wanted["metadata"], "handed over, not deep-copied"


def test_unowned_unannotated_secret_is_left_alone_with_bitnamis_message() -> None:
    plan = plan_write(desired(), existing(), UID)
    assert plan.action is Action.UNMANAGED and plan.body is None
    assert plan.message == 'Resource "db" already exists and is not managed by SealedSecret'


def test_secret_owned_by_another_uid_is_not_ours() -> None:
    plan = plan_write(desired(), existing(owners=[{**OWNER, "uid": "other"}]), UID)
    assert plan.action is Action.UNMANAGED


def test_managed_secret_is_taken_over_and_replaced() -> None:
    plan = plan_write(desired(), existing({MANAGED_ANNOTATION: "true"}), UID)
    assert plan.action is Action.UPDATE and plan.body is not None
    assert plan.body["data"] == {"foo": "YmFy"}
    assert plan.body["metadata"]["labels"] == {"mylabel": "myvalue"}
    assert "annotations" not in plan.body["metadata"]
    assert plan.body["metadata"]["ownerReferences"] == [OWNER]
    assert plan.body["metadata"]["resourceVersion"] == "7"  # optimistic concurrency on the PUT


def test_patch_merges_without_taking_ownership() -> None:
    plan = plan_write(desired(), existing({PATCH_ANNOTATION: "true"}), UID)
    assert plan.action is Action.UPDATE and plan.body is not None
    assert plan.body["data"] == {"foo": "YmFy", "foo2": "YmFyMg=="}
    assert plan.body["metadata"]["labels"] == {"mylabel": "myvalue", "anotherlabel": "anothervalue"}
    assert plan.body["metadata"]["annotations"] == {PATCH_ANNOTATION: "true"}
    assert "ownerReferences" not in plan.body["metadata"]


def test_patch_and_managed_merge_and_take_ownership() -> None:
    annotations = {PATCH_ANNOTATION: "true", MANAGED_ANNOTATION: "true"}
    plan = plan_write(desired(), existing(annotations), UID)
    assert plan.action is Action.UPDATE and plan.body is not None
    assert plan.body["data"] == {"foo": "YmFy", "foo2": "YmFyMg=="}
    assert plan.body["metadata"]["annotations"] == annotations
    assert plan.body["metadata"]["ownerReferences"] == [OWNER]


def test_patch_into_empty_secret() -> None:
    empty = existing({PATCH_ANNOTATION: "true"})
    del empty["data"], empty["metadata"]["labels"]
    plan = plan_write(desired(), empty, UID)
    assert plan.body is not None and plan.body["data"] == {"foo": "YmFy"}
    assert plan.body["metadata"]["labels"] == {"mylabel": "myvalue"}


def test_owned_secret_equal_to_desired_is_not_written() -> None:
    current = copy.deepcopy(desired())
    current["metadata"].update(resourceVersion="3", uid="s-1", creationTimestamp="2026-01-01T00:00:00Z")
    assert plan_write(desired(), current, UID).action is Action.NOTHING


def test_immutable_owned_secret_with_other_data_is_refused_clearly() -> None:
    current = desired({"foo": "b2xk"})
    current["immutable"] = True
    plan = plan_write({**desired(), "immutable": True}, current, UID)
    assert plan.action is Action.IMMUTABLE
    assert "immutable" in plan.message and "delete the Secret" in plan.message


def test_immutable_owned_secret_with_the_same_data_takes_new_metadata() -> None:
    """The API server lets an immutable Secret's metadata change: a re-sealed SealedSecret (new provenance record)
    or new labels apply; only its data and the flag itself stay."""
    current = desired(annotations={"sealkit.io/unsealed-from": "old"})
    current["immutable"] = True
    want = desired(labels={"new": "label"}, annotations={"sealkit.io/unsealed-from": "new"})
    for wanted in ({**want, "immutable": True}, want):
        plan = plan_write(wanted, current, UID)
        assert plan.action is Action.UPDATE and plan.body is not None
        assert plan.body["immutable"] is True and plan.body["data"] == current["data"]
        assert plan.body["metadata"]["labels"] == {"new": "label"}
    assert plan_write({**want, "immutable": False}, current, UID).action is Action.IMMUTABLE


def test_type_change_is_refused_clearly() -> None:
    plan = plan_write({**desired(), "type": "kubernetes.io/tls"}, desired(), UID)
    assert plan.action is Action.IMMUTABLE and "type" in plan.message


def test_recreate_only_ours_or_managed() -> None:
    assert should_recreate(desired(), UID)
    assert should_recreate(existing({MANAGED_ANNOTATION: "true"}), UID)
    assert not should_recreate(existing({PATCH_ANNOTATION: "true"}), UID)
    assert not should_recreate(existing(), UID)
    assert not controlled_by(desired(), None)


names = st.text("abcdefgh", min_size=1, max_size=4)
maps = st.dictionaries(names, st.text("xyz=", max_size=4), max_size=3)


@given(
    data=maps, old_data=maps, labels=maps, annotations=maps, mode=st.sampled_from(["owned", "managed", "patch", "both"])
)
def test_applying_a_plan_converges(
    data: dict[str, str], old_data: dict[str, str], labels: dict[str, str], annotations: dict[str, str], mode: str
) -> None:
    """Whatever exists, writing the planned body once leaves nothing more to write."""
    want = desired(data, labels=labels, annotations=annotations)
    marks = {
        "managed": {MANAGED_ANNOTATION: "true"},
        "patch": {PATCH_ANNOTATION: "true"},
        "both": {MANAGED_ANNOTATION: "true", PATCH_ANNOTATION: "true"},
    }.get(mode, {})
    current = existing(marks, owners=[OWNER] if mode == "owned" else None)
    current["data"] = old_data
    plan = plan_write(want, current, UID)
    assert plan.action in (Action.UPDATE, Action.NOTHING)
    if plan.body is not None:
        assert plan_write(want, plan.body, UID).action is Action.NOTHING
        assert set(plan.body["data"]) >= set(data)
