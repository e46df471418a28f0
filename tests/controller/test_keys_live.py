"""Keys in a running controller: generated in Bitnami's format, found as left by Bitnami or by hand,
renewed by key age, and followed live (added, relabelled, deleted and restored) without a restart."""

from __future__ import annotations

import base64
import datetime as dt
import urllib.request

from cryptography.hazmat.primitives import serialization

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.keygen import generate_key_pair
from sealkit.keys import fingerprint, load_certificate, load_private_keys
from sealkit.keysecrets import key_secret_manifest
from tests.support.cluster import CONTROLLER_NS, Cluster, LogLines


def key_secrets(cluster: Cluster) -> list[dict]:  # type: ignore[type-arg]
    return cluster.kube.list("v1", "Secret", CONTROLLER_NS, label_selector=f"{SEALING_KEY_LABEL}")


def test_generates_a_bitnami_key_when_none_and_unseals_with_it(cluster: Cluster) -> None:
    with cluster.start():
        (secret,) = cluster.wait(lambda: key_secrets(cluster))
        assert secret["type"] == "kubernetes.io/tls"
        assert secret["metadata"]["name"].startswith("sealed-secrets-key")
        assert secret["metadata"]["labels"][SEALING_KEY_LABEL] == "active"
        private_pem = base64.b64decode(secret["data"]["tls.key"])
        assert private_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")  # PKCS#1, as Bitnami stores it
        cert = load_certificate(base64.b64decode(secret["data"]["tls.crt"]))
        assert cert.public_key.key_size == 2048
        (key,) = load_private_keys(private_pem)
        assert key.fingerprint == cert.fingerprint
        cluster.keys = [*cluster.keys]
        sealed = cluster.seal()
        from sealkit.sealing import seal_secret

        sealed = seal_secret(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "testsecret", "namespace": "default"},
                "stringData": {"foo": "bar"},
            },
            cert,
        )
        cluster.create(sealed)
        assert cluster.wait(cluster.data) == {"foo": b"bar"}
    # Restarted: the key is found, not made again.
    with cluster.start():
        cluster.create(
            sealed
            | {"metadata": {"name": "again", "namespace": "default"}}
            | {
                "spec": seal_secret(
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "metadata": {"name": "again", "namespace": "default"},
                        "stringData": {"foo": "bar"},
                    },
                    cert,
                )["spec"]
            }
        )
        cluster.wait(lambda: cluster.data("again"))
        assert len(key_secrets(cluster)) == 1


def test_existing_bitnami_and_bring_your_own_keys_all_open(cluster: Cluster) -> None:
    cluster.add_key(0, name="sealed-secrets-keyabcde")
    own = cluster.keys[1].key.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {"name": "my-own-key", "namespace": CONTROLLER_NS, "labels": {SEALING_KEY_LABEL: "active"}},
            "data": {
                "tls.key": base64.b64encode(own).decode(),
                "tls.crt": base64.b64encode(cluster.keys[1].certificate_pem).decode(),
            },
        }
    )
    with cluster.start():
        cluster.create(cluster.seal("by-bitnami-key", key=0))
        cluster.create(cluster.seal("by-own-key", key=1))
        assert cluster.wait(lambda: cluster.data("by-bitnami-key")) == {"foo": b"bar"}
        assert cluster.wait(lambda: cluster.data("by-own-key")) == {"foo": b"bar"}
        assert len(key_secrets(cluster)) == 2  # fresh keys: nothing generated


def test_renewal_by_key_age_and_cutoff_keeps_old_keys(cluster: Cluster) -> None:
    old = generate_key_pair(bits=2048, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=40))
    manifest = key_secret_manifest(old, namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    manifest["metadata"]["name"] = "sealed-secrets-keyold"
    cluster.create(manifest)
    with cluster.start(key_renew_period=dt.timedelta(0)):  # renewal disabled: the old key stays the only one
        cluster.never(lambda: len(key_secrets(cluster)) > 1, 0.3)
    with cluster.start():  # 720h default: a 40-day-old key is renewed at once
        cluster.wait(lambda: len(key_secrets(cluster)) == 2)
        cluster.create(cluster.seal("old-key") | {"spec": _sealed_with(cluster, old, "old-key")["spec"]})
        assert cluster.wait(lambda: cluster.data("old-key")) == {"foo": b"bar"}
    cutoff = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    with cluster.start(key_renew_period=dt.timedelta(0), key_cutoff_time=cutoff):
        cluster.wait(lambda: len(key_secrets(cluster)) == 3, timeout=5)  # once the cutoff has passed
        cluster.never(lambda: len(key_secrets(cluster)) > 3, 0.3)


def _sealed_with(cluster: Cluster, generated: object, name: str) -> dict:  # type: ignore[type-arg]
    from sealkit.sealing import seal_secret

    cert = load_certificate(generated.certificate_pem)  # type: ignore[attr-defined]
    return seal_secret(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": "default"},
            "stringData": {"foo": "bar"},
        },
        cert,
    )


def test_key_added_while_running_retries_failed_objects(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start(max_unseal_retries=1):
        cluster.create(cluster.seal(key=1))
        cluster.wait(lambda: "ErrUnsealFailed" in cluster.reasons())
        cluster.never(cluster.secret, 0.3)  # retries are spent
        cluster.add_key(1)
        assert cluster.wait(cluster.data) == {"foo": b"bar"}
        cluster.wait(lambda: (cluster.condition() or {}).get("status") == "True")
        assert sorted(cluster.reasons()) == ["ErrUnsealFailed", "Unsealed"]


def test_relabelled_key_leaves_the_ring_but_its_secret_stays(cluster: Cluster) -> None:
    cluster.add_key(0)
    cluster.add_key(1, name="sealed-secrets-keytwo")
    with cluster.start():
        cluster.create(cluster.seal("before", key=1))
        cluster.wait(lambda: cluster.data("before"))
        cluster.kube.patch(
            "v1",
            "Secret",
            "sealed-secrets-keytwo",
            {"metadata": {"labels": {SEALING_KEY_LABEL: "compromised"}}},
            CONTROLLER_NS,
        )
        fp = fingerprint(cluster.keys[1].key.public_key)
        cluster.create(cluster.seal("after", key=1))
        event = cluster.wait(lambda: [e for e in cluster.events("after") if e["reason"] == "ErrUnsealFailed"])[0]
        assert fp not in event["message"]  # not among the keys tried any more
        assert cluster.secret("after") is None
        assert cluster.kube.get("v1", "Secret", "sealed-secrets-keytwo", CONTROLLER_NS) is not None
        assert cluster.data("before") == {"foo": b"bar"}  # what it opened stays


def test_key_secret_deleted_and_restored_converges(cluster: Cluster) -> None:
    original = cluster.add_key(0, name="sealed-secrets-keyorig")
    with cluster.start():
        cluster.create(cluster.seal("first"))
        cluster.wait(lambda: cluster.data("first"))
        cluster.kube.delete("v1", "Secret", "sealed-secrets-keyorig", CONTROLLER_NS)
        # No key left: a new one is made (as on a start without keys); key 0's objects cannot open now.
        cluster.wait(
            lambda: (
                len(key_secrets(cluster)) == 1
                and key_secrets(cluster)[0]["metadata"]["name"] != "sealed-secrets-keyorig"
            )
        )
        cluster.create(cluster.seal("second"))
        cluster.wait(lambda: "ErrUnsealFailed" in cluster.reasons("second"))
        restored = {k: v for k, v in original.items() if k != "status"}
        restored["metadata"] = {k: v for k, v in original["metadata"].items() if k in ("name", "namespace", "labels")}
        cluster.create(restored)
        assert cluster.wait(lambda: cluster.data("second")) == {"foo": b"bar"}
        assert cluster.data("first") == {"foo": b"bar"}  # nothing lost
        assert len(key_secrets(cluster)) == 2


def test_a_key_secret_holding_no_usable_key_is_ignored_with_a_warning(cluster: Cluster, logs: LogLines) -> None:
    broken = key_secret_manifest(cluster.keys[0], namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    broken["metadata"]["name"] = "sealed-secrets-keybroken"
    broken["data"]["tls.key"] = base64.b64encode(b"not a key at all").decode()
    cluster.create(broken)
    with cluster.start():
        made = cluster.wait(
            lambda: [s for s in key_secrets(cluster) if s["metadata"]["name"] != "sealed-secrets-keybroken"]
        )
        assert len(made) == 1  # no usable key: a fresh one is made, the broken Secret is left as it is
    warnings = [line for line in logs.lines if "ignoring key Secret" in line]  # on each listing of the keys
    assert warnings and all(w.startswith("WARNING ") and "\n" not in w for w in warnings)
    assert f"{CONTROLLER_NS}/sealed-secrets-keybroken: " in warnings[0] and "holds no PEM private key" in warnings[0]
    assert "Traceback" not in logs.text and "not a key at all" not in logs.text


def test_a_key_secret_whose_certificate_is_not_its_keys_is_never_served(cluster: Cluster, logs: LogLines) -> None:
    """Its certificate is what /v1/cert.pem would serve for sealing: everything sealed with it would go to a
    key the controller does not hold. Refused with a warning, as a Secret holding no usable key is."""
    cluster.add_key(0)
    stranger = generate_key_pair(bits=2048)  # held by no one; its certificate is the newest
    crossed = key_secret_manifest(cluster.keys[1], namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    crossed["metadata"]["name"] = "sealed-secrets-keycrossed"
    crossed["data"]["tls.crt"] = base64.b64encode(stranger.certificate_pem).decode()
    cluster.create(crossed)
    unreadable = key_secret_manifest(cluster.keys[2], namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    unreadable["metadata"]["name"] = "sealed-secrets-keyunreadable"
    unreadable["data"]["tls.crt"] = base64.b64encode(
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    ).decode()
    cluster.create(unreadable)
    with cluster.start() as running:
        with urllib.request.urlopen(f"{running.api_url}/v1/cert.pem") as response:
            served = load_certificate(response.read())
        held = set(running.runtime.keys.ring.fingerprints())
    assert served.fingerprint == fingerprint(load_certificate(cluster.keys[0].certificate_pem).public_key)
    assert held == {served.fingerprint}
    warnings = [line for line in logs.lines if "ignoring key Secret" in line]
    assert any(
        w.endswith(
            f"sealed-secrets-keycrossed: tls.crt is the certificate of another key, not of tls.key: "
            f"key Secret {CONTROLLER_NS}/sealed-secrets-keycrossed"
        )
        for w in warnings
    ), warnings
    assert any("sealed-secrets-keyunreadable: tls.crt does not parse: " in w for w in warnings)
    assert all(w.startswith("WARNING ") and "\n" not in w for w in warnings)


def test_an_unusable_key_secret_gets_a_warning_event_once_per_content_and_a_gauge(cluster: Cluster) -> None:
    """A key Secret the controller ignores (another key's certificate, no usable key) was said in its log only,
    while a wrapped one that does not open had an event and a gauge. Now it is a Warning `ErrKeyUnusable` on
    that Secret, once per content (not again for an unrelated change, again once it changes or after it was
    usable), without key material, and `sealed_secrets_controller_unusable_plaintext_keys` counts such Secrets."""
    name = "sealed-secrets-keycrossed"
    cluster.add_key(0)
    stranger = generate_key_pair(bits=2048)
    crossed = key_secret_manifest(cluster.keys[1], namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    crossed["metadata"]["name"] = name
    crossed_data = {**crossed["data"], "tls.crt": base64.b64encode(stranger.certificate_pem).decode()}
    crossed["data"] = crossed_data
    cluster.create(crossed)
    usable_data = key_secret_manifest(cluster.keys[1], namespace=CONTROLLER_NS, prefix="sealed-secrets-key")["data"]

    def warnings() -> list[str]:
        """In the order they were made (a listing comes in name order, as an API server lists)."""
        made = [e for e in cluster.events(name, CONTROLLER_NS) if e.get("reason") == "ErrKeyUnusable"]
        made.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
        return [str(e.get("message")) for e in made]

    def unusable(running: object) -> float:
        registry = running.runtime.metrics.registry  # type: ignore[attr-defined]
        return float(registry.get_sample_value("sealed_secrets_controller_unusable_plaintext_keys") or 0.0)

    with cluster.start() as running:
        (first,) = cluster.wait(warnings)
        assert first.endswith(
            f"tls.crt is the certificate of another key, not of tls.key: key Secret {CONTROLLER_NS}/{name}"
        )
        assert unusable(running) == 1
        # A change that leaves the fault as it was (a label): no second event.
        cluster.kube.patch("v1", "Secret", name, {"metadata": {"labels": {"team": "a"}}}, CONTROLLER_NS)
        cluster.never(lambda: len(warnings()) > 1, 0.5)
        # Another fault: news.
        cluster.kube.patch(
            "v1", "Secret", name, {"data": {"tls.key": base64.b64encode(b"junk").decode()}}, CONTROLLER_NS
        )
        cluster.wait(lambda: len(warnings()) == 2)
        assert "holds no PEM private key" in warnings()[1]
        # Usable again, then broken as the first time: news again.
        cluster.kube.patch("v1", "Secret", name, {"data": usable_data}, CONTROLLER_NS)
        cluster.wait(lambda: unusable(running) == 0 and len(running.runtime.keys.ring) == 2)
        cluster.kube.patch("v1", "Secret", name, {"data": crossed_data}, CONTROLLER_NS)
        cluster.wait(lambda: len(warnings()) == 3 and unusable(running) == 1)
        cluster.kube.delete("v1", "Secret", name, CONTROLLER_NS)
        cluster.wait(lambda: unusable(running) == 0)
    texts = " ".join(warnings())
    assert "junk" not in texts and "BEGIN" not in texts and "anVuaw" not in texts
    assert all(
        e["type"] == "Warning" for e in cluster.events(name, CONTROLLER_NS) if e.get("reason") == "ErrKeyUnusable"
    )
