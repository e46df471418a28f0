"""Speed where Bitnami is slow: a restart over in-sync objects decrypts nothing, and the key that opened an
object last time (remembered on its Secret) is tried first, then the newest."""

from __future__ import annotations

import base64
import datetime as dt
import json

from sealkit.bitnami import PATCH_ANNOTATION
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate
from sealkit.keysecrets import key_secret_manifest
from sealkit.sealing import seal_secret
from sealkit_controller.reconciling.provenance import (
    LEGACY_UNSEALED_FROM_ANNOTATION,
    UNSEALED_FROM_ANNOTATION,
    recorded,
    recorded_content,
    source_digest,
    stamp,
)
from sealkit_controller.wiring import ControllerThread
from tests.support.cluster import CONTROLLER_NS, SS, Cluster


def settled(running: ControllerThread, count: int) -> bool:
    controller = running.runtime.controller
    return (
        controller is not None
        and len(controller.tracked) == count
        and controller.queue.pending() == 0
        and all(t.done for t in controller.tracked.values())
    )


def writes(cluster: Cluster, since: int) -> list[str]:
    """Writes to Secrets and SealedSecret statuses after request number `since`."""
    return [
        f"{r.method} {r.path}"
        for r in cluster.kube.request_log[since:]
        if r.method != "GET" and ("/secrets" in r.path or "/sealedsecrets" in r.path)
    ]


def assert_restart_decrypts_and_writes_nothing(cluster: Cluster, count: int) -> None:
    """A controller started over `count` in-sync objects does no RSA work and writes nothing."""
    since = len(cluster.kube.request_log)
    with cluster.start() as second:
        cluster.wait(lambda: settled(second, count), timeout=20)
        controller = second.runtime.controller
        assert controller is not None
        assert controller.rsa_operations == 0 and controller.in_sync_skips == count
    assert writes(cluster, since) == []


def aged_keys(cluster: Cluster) -> list[GeneratedKey]:
    """Three keys two days, one day and a minute old, in the cluster (oldest first)."""
    now = dt.datetime.now(dt.UTC)
    keys = [
        generate_key_pair(bits=2048, now=now - age)
        for age in (dt.timedelta(days=2), dt.timedelta(days=1), dt.timedelta(minutes=1))
    ]
    for generated in keys:
        cluster.create(key_secret_manifest(generated, namespace=CONTROLLER_NS, prefix="sealed-secrets-key"))
    return keys


def sealed_with(generated: GeneratedKey, name: str, values: int) -> dict[str, object]:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "stringData": {f"k{i}": f"plain-{name}-{i}" for i in range(values)},
    }
    return seal_secret(secret, load_certificate(generated.certificate_pem))


def test_restart_over_in_sync_objects_does_no_rsa_operations_and_writes_nothing(cluster: Cluster) -> None:
    cluster.add_key(0)
    names = [f"app{i}" for i in range(12)]
    with cluster.start() as first:
        for name in names:
            cluster.create(cluster.seal(name, data={"a": f"plain-{name}", "b": "x"}))
        cluster.wait(lambda: settled(first, len(names)) and all(cluster.condition(n) for n in names), timeout=20)
        assert first.runtime.controller is not None and first.runtime.controller.rsa_operations == 2 * len(names)
    for name in names:
        secret = cluster.secret(name)
        assert secret is not None
        digest, fingerprint = recorded(secret) or ("", "")
        assert digest == source_digest(cluster.sealed(name) or {}) and fingerprint == cluster.keys[0].key.fingerprint
        annotation = json.dumps(secret["metadata"]["annotations"])
        plain = f"plain-{name}"
        assert plain not in annotation and base64.b64encode(plain.encode()).decode() not in annotation
    assert_restart_decrypts_and_writes_nothing(cluster, len(names))


def test_records_of_the_older_format_are_unsealed_once_then_in_sync(cluster: Cluster) -> None:
    """An upgrade from a controller that recorded no content digest (`<digest>/<fingerprint>`, under sealkit.io/
    or the older sealkit.dev/) costs one decrypt a value and one write each, once: the record proves nothing
    about the Secret's content, which may have been edited meanwhile."""
    cluster.add_key(0)
    names = ["old0", "old1", "old2"]
    with cluster.start() as first:
        for name in names:
            cluster.create(cluster.seal(name))
        cluster.wait(lambda: settled(first, len(names)), timeout=20)
    for name, domain in zip(
        names, (UNSEALED_FROM_ANNOTATION, LEGACY_UNSEALED_FROM_ANNOTATION, LEGACY_UNSEALED_FROM_ANNOTATION), strict=True
    ):
        digest, fingerprint = recorded(cluster.secret(name)) or ("", "")
        patch = {UNSEALED_FROM_ANNOTATION: None, domain: f"{digest}/{fingerprint}"}
        cluster.kube.patch("v1", "Secret", name, {"metadata": {"annotations": patch}}, "default")
        assert recorded_content(cluster.secret(name)) is None
    since = len(cluster.kube.request_log)
    with cluster.start() as second:
        cluster.wait(lambda: settled(second, len(names)), timeout=20)
        controller = second.runtime.controller
        assert controller is not None and controller.rsa_operations == len(names) and controller.in_sync_skips == 0
    assert sorted(w for w in writes(cluster, since) if w.startswith("PUT") and "/secrets/" in w) == sorted(
        f"PUT /api/v1/namespaces/default/secrets/{name}" for name in names
    )
    for name in names:
        annotations = (cluster.secret(name) or {})["metadata"]["annotations"]
        assert LEGACY_UNSEALED_FROM_ANNOTATION not in annotations and recorded_content(cluster.secret(name))
    assert_restart_decrypts_and_writes_nothing(cluster, len(names))


def hand_edit(cluster: Cluster, name: str, patch: dict[str, object]) -> None:
    """What `kubectl edit` does to a Secret: its record (annotation) kept as it was."""
    before = (cluster.secret(name) or {})["metadata"]["annotations"][UNSEALED_FROM_ANNOTATION]
    cluster.kube.patch("v1", "Secret", name, patch, "default")
    assert (cluster.secret(name) or {})["metadata"]["annotations"][UNSEALED_FROM_ANNOTATION] == before


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_secrets_edited_by_hand_are_repaired_on_restart_and_untouched_ones_cost_nothing(cluster: Cluster) -> None:
    """kubectl edit on a Secret the controller made (its data, labels or annotations; the record kept, or forged
    by recomputing it without the key) is found on the next start without RSA work and written back."""
    cluster.add_key(0)
    for name in ("patched", "patched-theirs"):  # Secrets of their own the controller merges into
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": "default", "annotations": {PATCH_ANNOTATION: "true"}},
                "data": {"theirs": b64("kept")},
            }
        )
    edited = ["data", "label", "annotation", "forged", "patched"]
    untouched = ["same1", "same2", "patched-theirs"]
    with cluster.start() as first:
        for name in edited + untouched:
            cluster.create(cluster.seal(name, data={"a": f"plain-{name}", "b": "x"}))
        cluster.wait(lambda: settled(first, 8) and all(cluster.data(n) for n in edited + untouched), timeout=20)
    hand_edit(cluster, "data", {"data": {"a": b64("hacked")}})
    hand_edit(cluster, "label", {"metadata": {"labels": {"mylabel": "other", "added": "x"}}})
    hand_edit(cluster, "annotation", {"metadata": {"annotations": {"added": "by-hand"}}})
    hand_edit(cluster, "patched", {"data": {"b": b64("hacked")}})
    hand_edit(cluster, "patched-theirs", {"data": {"theirs": b64("changed by its owner"), "more": b64("y")}})
    # An editor who also records a content digest of the edited Secret, made with a key of their own.
    digest, fingerprint = recorded(cluster.secret("forged")) or ("", "")
    forged = cluster.secret("forged") or {}
    forged["data"]["a"] = b64("hacked")
    forged = stamp(forged, cluster.sealed("forged") or {}, digest, fingerprint, b"\x01" * 32)
    cluster.kube.patch("v1", "Secret", "forged", {"data": forged["data"], "metadata": forged["metadata"]}, "default")
    since = len(cluster.kube.request_log)
    with cluster.start() as second:
        cluster.wait(lambda: settled(second, 8), timeout=20)
        controller = second.runtime.controller
        assert controller is not None
        assert controller.rsa_operations == 2 * len(edited)  # two values each; nothing for the untouched
        assert controller.in_sync_skips == len(untouched)
    secret_writes = [w for w in writes(cluster, since) if "/secrets/" in w]
    assert sorted(secret_writes) == sorted(f"PUT /api/v1/namespaces/default/secrets/{n}" for n in edited)
    for name in edited + untouched:
        secret = cluster.secret(name) or {}
        data = cluster.data(name) or {}
        assert data["a"] == f"plain-{name}".encode() and data["b"] == b"x", name
        if not name.startswith("patched"):
            assert secret["metadata"]["labels"] == {"mylabel": "myvalue"}, name
            assert set(secret["metadata"]["annotations"]) == {UNSEALED_FROM_ANNOTATION}, name
        assert cluster.reasons(name).count("Unsealed") == (2 if name in edited else 1), name
    assert cluster.data("patched")["theirs"] == b"kept"  # type: ignore[index]
    assert cluster.data("patched-theirs") == {
        "a": b"plain-patched-theirs",
        "b": b"x",
        "theirs": b"changed by its owner",
        "more": b"y",
    }
    assert_restart_decrypts_and_writes_nothing(cluster, 8)


def test_changed_or_forged_records_are_unsealed_again(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start() as first:
        for name in ("same", "forged", "unknown-key", "changed"):
            cluster.create(cluster.seal(name))
        cluster.wait(lambda: settled(first, 4), timeout=20)
    digest, fingerprint = recorded(cluster.secret("forged")) or ("", "")
    cluster.kube.patch(
        "v1",
        "Secret",
        "forged",
        {"metadata": {"annotations": {UNSEALED_FROM_ANNOTATION: f"{'0' * 64}/{fingerprint}"}}},
        "default",
    )
    cluster.kube.patch(
        "v1",
        "Secret",
        "unknown-key",
        {"metadata": {"annotations": {UNSEALED_FROM_ANNOTATION: f"{digest}/SHA256:not-held"}}},
        "default",
    )
    update = cluster.seal("changed", data={"foo": "new"})["spec"]["encryptedData"]
    cluster.kube.patch(SS, "SealedSecret", "changed", {"spec": {"encryptedData": update}}, "default")
    with cluster.start() as second:
        cluster.wait(lambda: settled(second, 4) and cluster.data("changed") == {"foo": b"new"}, timeout=20)
        controller = second.runtime.controller
        assert controller is not None and controller.rsa_operations == 3 and controller.in_sync_skips == 1
    for name in ("forged", "unknown-key", "changed"):
        found = recorded(cluster.secret(name))
        assert found == (source_digest(cluster.sealed(name) or {}), cluster.keys[0].key.fingerprint), name


def test_the_key_that_opened_it_last_time_is_tried_first_even_after_a_restart(cluster: Cluster) -> None:
    old, _, newest = aged_keys(cluster)
    with cluster.start() as first:
        cluster.create(sealed_with(old, "legacy", 3))
        cluster.create(sealed_with(newest, "fresh", 3))
        cluster.wait(lambda: settled(first, 2), timeout=20)
        controller = first.runtime.controller
        assert controller is not None
        # Unknown at first: newest first, so the old key costs 3 tries for the first value, then 1 per value;
        # the newest key's values cost 1 each.
        assert controller.rsa_operations == (3 + 2) + 3
    # While the controller is down, the old object changes (still sealed with the old key).
    update = sealed_with(old, "legacy", 3)["spec"]["encryptedData"]  # type: ignore[index]
    cluster.kube.patch(SS, "SealedSecret", "legacy", {"spec": {"encryptedData": update}}, "default")
    with cluster.start() as second:
        cluster.wait(lambda: settled(second, 2), timeout=20)
        controller = second.runtime.controller
        assert controller is not None
        assert controller.rsa_operations == 3  # one per value: the key recorded on its Secret went first
        assert controller.in_sync_skips == 1
