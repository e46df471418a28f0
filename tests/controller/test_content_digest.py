"""The content digest in the provenance record: any edit of what the controller wrote breaks it, nobody without
the private key can make it match again, and what others may add to a `patch` Secret is left out."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealkit.bitnami import MANAGED_ANNOTATION, PATCH_ANNOTATION
from sealkit.keys import KeyRing, PrivateKey
from sealkit_controller.reconciling.contentdigest import Selection, content_digest, derive_key, matches
from sealkit_controller.reconciling.provenance import (
    LEGACY_UNSEALED_FROM_ANNOTATION,
    UNSEALED_FROM_ANNOTATION,
    ContentKeys,
    annotate,
    content_intact,
    content_selection,
    recorded,
    recorded_content,
    source_digest,
    stamp,
)

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
DIGEST_KEY = derive_key(KEY)
FINGERPRINT = "SHA256:ab/cd+ef="

SEALED: dict[str, Any] = {
    "apiVersion": "bitnami.com/v1alpha1",
    "kind": "SealedSecret",
    "metadata": {"name": "db", "namespace": "team-a", "uid": "u1"},
    "spec": {
        "encryptedData": {"password": "AgA", "user": "AgB"},
        "template": {
            "type": "Opaque",
            "data": {"dsn": "{{ .user }}:{{ .password }}"},
            "metadata": {"labels": {"app": "db"}, "annotations": {"team": "a"}},
        },
    },
}
DIGEST = source_digest(SEALED)


def written(**extra_annotations: str) -> dict[str, Any]:
    """The Secret as the controller writes it for SEALED (before its record)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "team-a",
            "labels": {"app": "db"},
            "annotations": {"team": "a", **extra_annotations},
        },
        "type": "Opaque",
        "data": {"password": "cDE=", "user": "dTE=", "dsn": "dTE6cDE="},
    }


def stamped(secret: dict[str, Any]) -> dict[str, Any]:
    return stamp(copy.deepcopy(secret), SEALED, DIGEST, FINGERPRINT, DIGEST_KEY)


def intact(secret: dict[str, Any], key: bytes = DIGEST_KEY, sealed: dict[str, Any] = SEALED) -> bool:
    return content_intact(secret, sealed, DIGEST, FINGERPRINT, key)


def test_a_stamped_secret_is_intact_and_its_record_carries_the_three_parts() -> None:
    secret = stamped(written())
    value = secret["metadata"]["annotations"][UNSEALED_FROM_ANNOTATION]
    content = recorded_content(secret)
    assert content is not None and value == f"{DIGEST}/{content}/{FINGERPRINT}"
    assert recorded(secret) == (DIGEST, FINGERPRINT)  # a fingerprint with '/' in it reads back whole
    assert intact(secret)


EDITS = [
    pytest.param(lambda s: s["data"].update(password="eA=="), id="data value"),
    pytest.param(lambda s: s["data"].update(extra="eA=="), id="data item added"),
    pytest.param(lambda s: s["data"].pop("dsn"), id="data item removed"),
    pytest.param(lambda s: s.update(data={}), id="data emptied"),
    pytest.param(lambda s: s.update(type="kubernetes.io/tls"), id="type"),
    pytest.param(lambda s: s.pop("type"), id="type Opaque by default: unchanged"),
    pytest.param(lambda s: s["metadata"]["labels"].update(app="x"), id="label value"),
    pytest.param(lambda s: s["metadata"]["labels"].update(new="x"), id="label added"),
    pytest.param(lambda s: s["metadata"].pop("labels"), id="labels removed"),
    pytest.param(lambda s: s["metadata"]["annotations"].update(team="b"), id="annotation value"),
    pytest.param(lambda s: s["metadata"]["annotations"].update(new="x"), id="annotation added"),
    pytest.param(lambda s: s["metadata"]["annotations"].pop("team"), id="annotation removed"),
    pytest.param(lambda s: s["metadata"]["annotations"].update({PATCH_ANNOTATION: "true"}), id="patch mode on"),
    pytest.param(lambda s: s.update(data="not a mapping"), id="data not a mapping"),
]


@pytest.mark.parametrize("edit", EDITS)
def test_any_edit_of_what_the_controller_wrote_breaks_the_digest(edit: Any) -> None:
    secret = stamped(written())
    edit(secret)
    unchanged = secret.get("type", "Opaque") == "Opaque" and secret.get("data") == written()["data"]
    unchanged = unchanged and secret["metadata"] == stamped(written())["metadata"]
    assert intact(secret) is unchanged


def test_what_the_api_server_adds_and_the_record_itself_do_not_count() -> None:
    secret = stamped(written())
    secret["metadata"].update(uid="x", resourceVersion="7", creationTimestamp="t", managedFields=[{"manager": "m"}])
    secret["metadata"]["ownerReferences"] = [{"uid": "u1", "controller": True}]
    secret["metadata"]["annotations"][LEGACY_UNSEALED_FROM_ANNOTATION] = "anything"
    assert intact(secret)


def test_the_key_matters_and_a_digest_recomputed_without_it_does_not_match() -> None:
    secret = stamped(written())
    assert not intact(secret, key=derive_key(OTHER_KEY))
    # An editor who changes the data and records a digest of their own (made with any key but the real one).
    forged = written()
    forged["data"]["password"] = "eA=="
    forged = stamp(forged, SEALED, DIGEST, FINGERPRINT, derive_key(OTHER_KEY))
    assert not intact(forged)
    assert not intact(stamp(written(), SEALED, DIGEST, FINGERPRINT, b"\x00" * 32))


def test_the_digest_is_bound_to_the_object_and_what_it_was_made_from() -> None:
    secret = stamped(written())
    other = copy.deepcopy(SEALED)
    other["metadata"]["name"] = "db2"
    assert not intact(secret, sealed=other)  # a record copied from another object's Secret does not verify
    assert not content_intact(secret, SEALED, "0" * 64, FINGERPRINT, DIGEST_KEY)
    assert not content_intact(secret, SEALED, DIGEST, "SHA256:other", DIGEST_KEY)


def test_records_in_the_older_format_prove_nothing() -> None:
    for name in (UNSEALED_FROM_ANNOTATION, LEGACY_UNSEALED_FROM_ANNOTATION):
        secret = written(**{name: f"{DIGEST}/{FINGERPRINT}"})
        assert recorded(secret) == (DIGEST, FINGERPRINT)
        assert recorded_content(secret) is None and not intact(secret)
    for bad in (f"{DIGEST}/{'A' * 64}/{FINGERPRINT}", f"{DIGEST}/{'0' * 63}/{FINGERPRINT}", f"{DIGEST}/{'0' * 64}/"):
        secret = written(**{UNSEALED_FROM_ANNOTATION: bad})
        assert recorded_content(secret) is None and not intact(secret)
    assert annotate(written(), DIGEST, FINGERPRINT)["metadata"]["annotations"][UNSEALED_FROM_ANNOTATION] == (
        f"{DIGEST}/{FINGERPRINT}"
    )


def test_a_patch_secret_covers_only_what_the_sealed_secret_names() -> None:
    base = written(**{PATCH_ANNOTATION: "true"})
    base["data"]["theirs"] = "eA=="
    base["metadata"]["labels"]["their-label"] = "x"
    secret = stamped(base)
    assert content_selection(SEALED, secret) == Selection(
        data=frozenset({"password", "user", "dsn"}),
        labels=frozenset({"app"}),
        annotations=frozenset({"team"}),
        ignored_annotations=frozenset({UNSEALED_FROM_ANNOTATION, LEGACY_UNSEALED_FROM_ANNOTATION}),
    )
    others = copy.deepcopy(secret)
    others["data"]["theirs"] = "eQ=="
    others["data"]["more"] = "eQ=="
    others["metadata"]["labels"]["their-label"] = "y"
    others["metadata"]["annotations"]["theirs"] = "y"
    others["metadata"]["annotations"][MANAGED_ANNOTATION] = "true"
    assert intact(others)
    for edit in (
        lambda s: s["data"].update(dsn="eA=="),
        lambda s: s["data"].pop("user"),
        lambda s: s["metadata"]["labels"].pop("app"),
        lambda s: s["metadata"]["annotations"].update(team="b"),
        lambda s: s.update(type="kubernetes.io/basic-auth"),
        lambda s: s["metadata"]["annotations"].pop(PATCH_ANNOTATION),  # replace mode now: everything counts
    ):
        edited = copy.deepcopy(secret)
        edit(edited)
        assert not intact(edited)


def test_a_patch_secret_of_the_deprecated_v1_format_covers_every_data_item() -> None:
    v1 = {**SEALED, "spec": {"data": "AgA", "template": SEALED["spec"]["template"]}}
    assert content_selection(v1, written(**{PATCH_ANNOTATION: "true"})).data is None


def test_content_keys_are_derived_once_per_key_held_and_forgotten_with_it() -> None:
    private = PrivateKey(KEY, FINGERPRINT, "test")
    ring = KeyRing([private])
    keys = ContentKeys()
    assert keys.get(ring, FINGERPRINT) == DIGEST_KEY == derive_key(KEY)
    assert keys.get(KeyRing(), FINGERPRINT) is None  # not held (any more): no digest key, however cached
    keys.forget({FINGERPRINT})
    assert keys.get(ring, FINGERPRINT) == DIGEST_KEY
    assert derive_key(KEY) != derive_key(OTHER_KEY)


NAMES = st.from_regex(r"[a-z][a-z0-9.-]{0,8}", fullmatch=True)
VALUES = st.text(max_size=12)
MAPS = st.dictionaries(NAMES, VALUES, max_size=4)
SECRETS = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Opaque", "kubernetes.io/tls", "x/y"]),
        "data": MAPS,
        "labels": MAPS,
        "annotations": MAPS,
    }
)


def as_secret(parts: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": parts["type"],
        "data": dict(parts["data"]),
        "metadata": {"labels": dict(parts["labels"]), "annotations": dict(parts["annotations"])},
    }


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(SECRETS, SECRETS)
def test_two_contents_share_a_digest_only_when_they_are_the_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    context = ["team-a", "db", DIGEST, FINGERPRINT]
    first, second = as_secret(a), as_secret(b)
    assert matches(DIGEST_KEY, first, context, None, content_digest(DIGEST_KEY, first, context))
    same = content_digest(DIGEST_KEY, first, context) == content_digest(DIGEST_KEY, second, context)
    assert same is (a == b)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(SECRETS, st.sampled_from(["data", "labels", "annotations"]), NAMES, VALUES, st.booleans())
def test_any_entry_set_breaks_a_stamped_secret_unless_a_patch_secret_does_not_name_it(
    parts: dict[str, Any], where: str, name: str, value: str, patch: bool
) -> None:
    """Replace mode: every entry counts. Patch mode: only those SEALED names (the rest is others')."""
    secret = as_secret(parts)
    if patch:
        secret["metadata"]["annotations"][PATCH_ANNOTATION] = "true"
    secret = stamped(secret)
    assert intact(secret)
    edited = copy.deepcopy(secret)
    target = edited["data"] if where == "data" else edited["metadata"][where]
    changed = target.get(name) != value
    target[name] = value
    named = {"data": {"password", "user", "dsn"}, "labels": {"app"}, "annotations": {"team"}}[where]
    counts = not patch or name in named
    assert intact(edited) is not (changed and counts)
