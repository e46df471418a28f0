"""Speed where Bitnami is slow: a restart over in-sync objects decrypts nothing, and the key that opened an
object last time (remembered on its Secret) is tried first, then the newest."""

from __future__ import annotations

import base64
import datetime as dt
import json

from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate
from sealkit.keysecrets import key_secret_manifest
from sealkit.sealing import seal_secret
from sealkit_controller.reconciling.provenance import (
    LEGACY_UNSEALED_FROM_ANNOTATION,
    UNSEALED_FROM_ANNOTATION,
    recorded,
    source_digest,
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


def test_secrets_recorded_under_the_old_annotation_domain_count_as_in_sync(cluster: Cluster) -> None:
    """An upgrade from a controller that wrote `sealkit.dev/unsealed-from` costs no RSA work at all."""
    cluster.add_key(0)
    names = ["old0", "old1", "old2"]
    with cluster.start() as first:
        for name in names:
            cluster.create(cluster.seal(name))
        cluster.wait(lambda: settled(first, len(names)), timeout=20)
    for name in names:  # as the older controller left them: the record under sealkit.dev/ only
        value = ((cluster.secret(name) or {})["metadata"]["annotations"])[UNSEALED_FROM_ANNOTATION]
        cluster.kube.patch(
            "v1",
            "Secret",
            name,
            {"metadata": {"annotations": {UNSEALED_FROM_ANNOTATION: None, LEGACY_UNSEALED_FROM_ANNOTATION: value}}},
            "default",
        )
        assert UNSEALED_FROM_ANNOTATION not in (cluster.secret(name) or {})["metadata"]["annotations"]
    assert_restart_decrypts_and_writes_nothing(cluster, len(names))


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
