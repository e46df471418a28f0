"""Every setting takes effect: each one changes what the running controller does (or, for the few accepted
for compatibility only, is shown not to break anything)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from sealkit import hybrid
from sealkit.bitnami import SEALING_KEY_LABEL, SKIP_OWNER_REFERENCES_ANNOTATION
from sealkit.clients.kube.api import Throttle
from sealkit.keygen import generate_key_pair
from sealkit.keysecrets import key_secret_manifest
from sealkit_controller import configure_logging
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.plumbing.logs import JsonFormatter
from sealkit_controller.settings import Settings
from tests.support.cluster import CONTROLLER_NS, SS, Cluster


def labelled(sealed: dict[str, Any], **labels: str) -> dict[str, Any]:
    sealed["metadata"]["labels"] = labels
    return sealed


def test_label_selector_picks_sealed_secrets_and_follows_relabelling(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start(label_selector="team in (a,b),!legacy"):
        cluster.create(labelled(cluster.seal("mine"), team="a"))
        cluster.create(labelled(cluster.seal("other"), team="c"))
        cluster.create(labelled(cluster.seal("old"), team="b", legacy="yes"))
        assert cluster.wait(lambda: cluster.data("mine")) == {"foo": b"bar"}
        cluster.never(lambda: cluster.secret("other") or cluster.secret("old") or cluster.events("other"))
        cluster.kube.patch(SS, "SealedSecret", "other", {"metadata": {"labels": {"team": "b"}}}, "default")
        assert cluster.wait(lambda: cluster.data("other")) == {"foo": b"bar"}


def test_namespace_selector_follows_namespace_labels(cluster: Cluster) -> None:
    cluster.add_key(0)
    for name, labels in (("watched", {"sealkit.dev/watch": "yes"}), ("other", {})):
        cluster.kube.create_namespace(name)
        if labels:
            cluster.kube.patch("v1", "Namespace", name, {"metadata": {"labels": labels}})
    with cluster.start(namespace_selector="sealkit.dev/watch=yes"):
        cluster.create(cluster.seal("a", namespace="watched"))
        cluster.create(cluster.seal("b", namespace="other"))
        assert cluster.wait(lambda: cluster.data("a", "watched")) == {"foo": b"bar"}
        cluster.never(lambda: cluster.secret("b", "other"))
        cluster.kube.patch("v1", "Namespace", "other", {"metadata": {"labels": {"sealkit.dev/watch": "yes"}}})
        assert cluster.wait(lambda: cluster.data("b", "other")) == {"foo": b"bar"}
        cluster.kube.patch("v1", "Namespace", "watched", {"metadata": {"labels": {"sealkit.dev/watch": None}}})
        cluster.create(cluster.seal("c", namespace="watched"))
        cluster.never(lambda: cluster.secret("c", "watched"))


def test_own_namespace_plus_additional_namespaces(cluster: Cluster) -> None:
    cluster.add_key(0)
    cluster.kube.create_namespace("team-b")
    with cluster.start(all_namespaces=False, additional_namespaces=("team-b",)):
        cluster.create(cluster.seal("in-own", namespace=CONTROLLER_NS))
        cluster.create(cluster.seal("in-listed", namespace="team-b"))
        cluster.create(cluster.seal("elsewhere", namespace="default"))
        cluster.wait(lambda: cluster.data("in-own", CONTROLLER_NS) and cluster.data("in-listed", "team-b"))
        cluster.never(lambda: cluster.secret("elsewhere"))


def test_new_key_secrets_take_prefix_labels_annotations_cn_and_ttl(cluster: Cluster) -> None:
    with cluster.start(
        key_prefix="mykeys-",
        my_cn="sealkit-test",
        key_ttl=dt.timedelta(hours=48),
        private_key_labels={"team": "sec"},
        private_key_annotations={"note": "rotated"},
        watch_for_secrets=True,
        workers=3,
        threads=5,
    ) as running:
        (key,) = cluster.wait(
            lambda: cluster.kube.list("v1", "Secret", CONTROLLER_NS, label_selector=SEALING_KEY_LABEL)
        )
        executor = running.runtime.executor
        assert executor is not None and executor._max_workers == 5
        assert running.runtime.controller is not None and running.runtime.controller.queue._workers == 3
    meta = key["metadata"]
    assert meta["name"].startswith("mykeys-") and meta["labels"]["team"] == "sec"
    assert meta["annotations"] == {"note": "rotated"}
    cert = x509.load_pem_x509_certificate(base64.b64decode(key["data"]["tls.crt"]))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "sealkit-test"
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(hours=48)
    assert cert.public_key().key_size == 2048  # --key-size (the tests' 2048, not the default 4096)


def test_old_gc_behavior_deletes_secrets_without_owner_references(cluster: Cluster) -> None:
    cluster.add_key(0)
    unowned = {SKIP_OWNER_REFERENCES_ANNOTATION: "true"}
    with cluster.start(old_gc_behavior=True):
        cluster.create(cluster.seal("gone", annotations=unowned))
        cluster.wait(lambda: cluster.secret("gone"))
        cluster.kube.delete(SS, "SealedSecret", "gone", "default")
        cluster.wait(lambda: cluster.secret("gone") is None)
    with cluster.start():
        cluster.create(cluster.seal("kept", annotations=unowned))
        cluster.wait(lambda: cluster.secret("kept"))
        cluster.kube.delete(SS, "SealedSecret", "kept", "default")
        cluster.never(lambda: cluster.secret("kept") is None)


def legacy_sealed_secret(cluster: Cluster, name: str) -> dict[str, Any]:
    """Bitnami's deprecated v1 format: the whole Secret as JSON in one spec.data blob."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "data": {"foo": base64.b64encode(b"bar").decode()},
    }
    blob = hybrid.encrypt(cluster.cert.public_key, json.dumps(secret).encode(), f"default/{name}".encode())
    return {
        "apiVersion": SS,
        "kind": "SealedSecret",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"data": base64.b64encode(blob).decode(), "encryptedData": {}},
    }


def test_deprecated_v1_data_accepted_or_refused(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start(accept_deprecated_v1_data=False):
        cluster.create(legacy_sealed_secret(cluster, "refused"))
        condition: dict[str, Any] = cluster.wait(lambda: cluster.condition("refused") or {})
        assert condition["status"] == "False" and "--accept-deprecated-v1-data=false" in condition["message"]
        assert cluster.secret("refused") is None
    with cluster.start():
        cluster.create(legacy_sealed_secret(cluster, "accepted"))
        assert cluster.wait(lambda: cluster.data("accepted")) == {"foo": b"bar"}


def test_kubeclient_qps_throttles_the_controllers_requests(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start(kubeclient_qps=20.0, kubeclient_burst=1) as running:
        for i in range(4):
            cluster.create(cluster.seal(f"s{i}"))
        cluster.wait(lambda: all(cluster.condition(f"s{i}") for i in range(4)))
        assert running.runtime.client is not None and running.runtime.client.throttle.waited > 0.2


def test_throttle_paces_to_qps_after_the_burst() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    throttle = Throttle(4.0, 2, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        throttle.acquire()
    assert slept == [0.25, 0.5]  # two free (burst), then queued at 4/s
    off = Throttle(0.0, 1, sleep=sleep)
    off.acquire()
    off.acquire()
    assert len(slept) == 2


def key_secret(name: str, created: str, age: dt.timedelta) -> tuple[dict[str, Any], str]:
    generated = generate_key_pair(bits=2048, now=dt.datetime.now(dt.UTC) - age)
    secret = key_secret_manifest(generated, namespace=CONTROLLER_NS, prefix="k")
    secret["metadata"].update(name=name, creationTimestamp=created)
    return secret, generated.key.fingerprint


def test_key_order_priority_secret_creation_timestamp() -> None:
    young_cert_old_secret, young_cert = key_secret("a", "2024-01-01T00:00:00Z", dt.timedelta(0))
    old_cert_young_secret, old_cert = key_secret("b", "2025-01-01T00:00:00Z", dt.timedelta(days=30))
    by_cert, by_creation = KeyStore(), KeyStore(by_creation=True)
    for store in (by_cert, by_creation):
        for secret in (young_cert_old_secret, old_cert_young_secret):
            store.observe_secret(secret)
    newest_by_cert, newest_by_creation = by_cert.newest(), by_creation.newest()
    assert newest_by_cert is not None and newest_by_creation is not None
    assert newest_by_cert.fingerprint == young_cert
    assert newest_by_creation.fingerprint == old_cert
    assert newest_by_creation.not_before == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def test_key_order_priority_reaches_the_running_controller(cluster: Cluster) -> None:
    aged = generate_key_pair(bits=2048, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    created = cluster.create(key_secret_manifest(aged, namespace=CONTROLLER_NS, prefix="k"))
    born = dt.datetime.fromisoformat(created["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    with cluster.start(key_order_priority="SecretCreationTimestamp", key_renew_period=dt.timedelta(0)) as running:
        newest = running.runtime.keys.newest()
        assert newest is not None and newest.fingerprint == aged.key.fingerprint and newest.not_before == born


@pytest.fixture()
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_log_level_and_format() -> None:
    configure_logging(Settings(log_level="WARNING", log_format="json"))
    root = logging.getLogger()
    assert root.level == logging.WARNING
    assert root.handlers and all(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    line = root.handlers[0].format(
        logging.LogRecord("sealkit.controller", logging.WARNING, "", 1, "hello %s", ("x",), None)
    )
    assert json.loads(line)["msg"] == "hello x"
    configure_logging(Settings(log_level="DEBUG", log_format="text"))
    assert root.level == logging.DEBUG and not isinstance(root.handlers[0].formatter, JsonFormatter)


@pytest.mark.usefixtures("root_logging")
@pytest.mark.parametrize("info_stdout", [True, False])
def test_log_info_stdout_splits_info_from_warnings(capsys: pytest.CaptureFixture[str], info_stdout: bool) -> None:
    configure_logging(Settings(log_level="DEBUG", log_info_stdout=info_stdout))
    log = logging.getLogger("sealkit_controller.test")
    log.debug("debug line")
    log.info("info line")
    log.warning("warning line")
    log.error("error line")
    out, err = capsys.readouterr()
    if info_stdout:  # Bitnami's default: info (and debug) to stdout, warnings and errors to stderr
        assert "debug line" in out and "info line" in out and "warning" not in out and "error" not in out
        assert "warning line" in err and "error line" in err and "info line" not in err
    else:
        assert out == ""
        assert all(f"{level} line" in err for level in ("debug", "info", "warning", "error"))
