"""Key Secrets with odd content as the running controller meets them: what is served, what is made, and
that it never spins."""

from __future__ import annotations

import base64
import datetime as dt
import urllib.request
from typing import Any

from cryptography.hazmat.primitives import serialization

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.keygen import build_certificate, generate_key_pair
from sealkit.keysecrets import key_secret_manifest, successor_secret_name
from sealkit_controller.wiring import ControllerThread
from tests.support.cluster import CONTROLLER_NS, Cluster, LogLines


def key_secrets(cluster: Cluster) -> list[dict[str, Any]]:
    return cluster.kube.list("v1", "Secret", CONTROLLER_NS, label_selector=SEALING_KEY_LABEL)


def served_certificate(running: ControllerThread) -> bytes:
    with urllib.request.urlopen(f"{running.api_url}/v1/cert.pem") as response:
        body: bytes = response.read()
    return body


def test_only_the_certificate_of_tls_crt_is_served_never_what_else_it_holds(cluster: Cluster) -> None:
    """/v1/cert.pem answers anyone who reaches the controller: a private key pasted into tls.crt after the
    certificate (a combined PEM), or a chain, must not go out with it. Bitnami serves the first certificate."""
    own = cluster.keys[0]
    manifest = key_secret_manifest(own, namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    manifest["metadata"]["name"] = "sealed-secrets-keycombined"
    combined = own.certificate_pem + own.private_pem + cluster.keys[1].certificate_pem
    manifest["data"]["tls.crt"] = base64.b64encode(combined).decode()
    cluster.create(manifest)
    with cluster.start() as running:
        served = served_certificate(running)
    assert served == own.certificate_pem


def test_a_copy_of_the_newest_key_under_its_successors_name_does_not_stop_renewal(cluster: Cluster) -> None:
    """The key Secret a renewal writes is named after the key it follows, so a second controller deciding the
    same renewal meets a 409 and takes the key there. A Secret of that name holding an older key (a copy of
    the predecessor, say) is not this period's key: taking it left the renewal due, so it was decided again at
    once, a key generated and dropped each time, for ever, and no new key was ever made."""
    old = generate_key_pair(bits=2048, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=40))
    successor = successor_secret_name("sealed-secrets-key", old.key.fingerprint)
    for name in ("sealed-secrets-keyold", successor):
        manifest = key_secret_manifest(old, namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
        manifest["metadata"]["name"] = name
        cluster.create(manifest)
    with cluster.start() as running:
        made = cluster.wait(
            lambda: [
                s for s in key_secrets(cluster) if s["metadata"]["name"] not in {successor, "sealed-secrets-keyold"}
            ]
        )
        cluster.never(lambda: len(key_secrets(cluster)) > 3, 0.5)
        served = served_certificate(running)
    (new,) = made
    assert served == base64.b64decode(new["data"]["tls.crt"])


def test_a_renewal_the_api_refuses_at_start_leaves_the_held_key_serving(cluster: Cluster, logs: LogLines) -> None:
    """A key due at start whose key Secret the API server refuses (403 here; 422, 5xx and timeouts alike) failed
    the whole start-up: nothing served or unsealed with the key held, and start-up retried every second without
    backoff, generating a new RSA key each time. Now it is one warning per attempt, the held key keeps working
    and renewal retries with backoff; once the API accepts, exactly one key is made."""
    old = generate_key_pair(bits=2048, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=40))
    manifest = key_secret_manifest(old, namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    manifest["metadata"]["name"] = "sealed-secrets-keyold"
    cluster.create(manifest)
    creates = f"/api/v1/namespaces/{CONTROLLER_NS}/secrets$"
    cluster.kube.fail("POST", creates, 403, times=None, message="forbidden by policy")
    with cluster.start() as running:
        assert served_certificate(running) == old.certificate_pem
        cluster.wait(lambda: sum("could not make a new sealing key" in line for line in logs.lines) >= 3)
        cluster.kube.clear_faults()
        cluster.wait(lambda: len(key_secrets(cluster)) == 2)
        cluster.never(lambda: len(key_secrets(cluster)) > 2, 0.5)
    warnings = [line for line in logs.lines if "could not make a new sealing key" in line]
    assert all(
        w.startswith("WARNING ") and w.endswith("; the keys held keep serving): 403 Forbidden: forbidden by policy")
        for w in warnings
    ), warnings
    assert not any("start-up failed" in line for line in logs.lines)


def test_a_certificate_dated_at_the_calendars_end_does_not_stop_the_controller(cluster: Cluster) -> None:
    """Its renewal date (NotBefore + renew period) overflowed: start-up failed on it, retried for ever."""
    far = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    cert = build_certificate(cluster.keys[1].key.key, subject="", not_before=far, not_after=far + dt.timedelta(hours=1))
    manifest = key_secret_manifest(cluster.keys[1], namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    manifest["metadata"]["name"] = "sealed-secrets-keyfuture"
    manifest["data"]["tls.crt"] = base64.b64encode(cert.public_bytes(serialization.Encoding.PEM)).decode()
    cluster.create(manifest)
    cluster.add_key(0)
    with cluster.start():
        cluster.create(cluster.seal())
        assert cluster.wait(cluster.data) == {"foo": b"bar"}


def test_a_newer_key_without_a_certificate_is_not_the_sealing_key_when_keys_are_dated_by_their_secrets(
    cluster: Cluster,
) -> None:
    """--key-order-priority SecretCreationTimestamp dated a key Secret without tls.crt by its creation: the newest
    key then had no certificate, /v1/cert.pem answered 503 'no sealing key yet' (with /readyz ok) until the next
    renewal, though a key with a certificate was held. It counts as old, as it does by certificate date."""
    cluster.add_key(0, name="sealed-secrets-keyzero")
    manifest = key_secret_manifest(cluster.keys[1], namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    manifest["metadata"]["name"] = "sealed-secrets-keynocert"
    del manifest["data"]["tls.crt"]
    manifest["type"] = "Opaque"
    cluster.create(manifest)
    with cluster.start(key_order_priority="SecretCreationTimestamp") as running:
        assert served_certificate(running) == cluster.keys[0].certificate_pem
        cluster.create(cluster.seal(key=1))  # the key without a certificate still opens
        assert cluster.wait(cluster.data) == {"foo": b"bar"}
