"""What must never show: plaintexts and private keys anywhere a person or another tool can read
(logs, events, statuses, annotations), and anything of Kopf's on any object."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from sealkit.bitnami import PATCH_ANNOTATION
from tests.support.cluster import SS, Cluster, LogLines

EMULATOR_LOGGERS = ("sealkit_testservers", "kmock", "aiohttp")


def workload(cluster: Cluster) -> list[str]:
    """Every path: created, templated, wrong key, unmanaged, patched, immutable, renamed, API faults."""
    plain = [f"pl41n-{uuid.uuid4().hex}" for _ in range(6)]
    cluster.create(cluster.seal("ok", data={"password": plain[0], "user": plain[1]}))
    templated = cluster.seal("templated", data={"password": plain[2]})
    templated["spec"]["template"]["data"] = {"dsn": "postgres://app:{{ .password }}@db/app"}
    cluster.create(templated)
    cluster.create(cluster.seal("wrong-key", data={"password": plain[3]}, key=1))
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "theirs", "namespace": "default"},
            "data": {"x": "eA=="},
        }
    )
    cluster.create(cluster.seal("theirs", data={"password": plain[4]}))
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "patched", "namespace": "default", "annotations": {PATCH_ANNOTATION: "true"}},
            "data": {"x": "eA=="},
        }
    )
    cluster.create(cluster.seal("patched", data={"password": plain[5]}))
    renamed = cluster.seal("renamed", data={"password": plain[0]})
    renamed["metadata"]["name"] = "renamed-elsewhere"
    cluster.create(renamed)
    cluster.create(cluster.seal("frozen", data={"password": plain[1]}, immutable=True))
    cluster.kube.fail("PUT", r"/secrets/", 500, times=2, message="injected")
    cluster.wait(lambda: cluster.secret("frozen"))
    update = cluster.seal("frozen", data={"password": plain[2]}, immutable=True)["spec"]["encryptedData"]
    cluster.kube.patch(SS, "SealedSecret", "frozen", {"spec": {"encryptedData": update}}, "default")
    cluster.wait(lambda: cluster.data("ok") and cluster.data("templated") and cluster.data("patched"))
    cluster.wait(lambda: all(cluster.events(n) for n in ("wrong-key", "theirs", "renamed-elsewhere")))
    cluster.wait(lambda: "ErrUpdateFailed" in cluster.reasons("frozen"))
    assert cluster.data("templated") == {
        "password": plain[2].encode(),
        "dsn": f"postgres://app:{plain[2]}@db/app".encode(),
    }
    return plain


def secrets_of(value: str) -> list[str]:
    return [value, base64.b64encode(value.encode()).decode()]


def test_no_plaintext_or_private_key_in_logs_events_statuses_or_annotations(cluster: Cluster, logs: LogLines) -> None:
    cluster.add_key(0)
    with cluster.start(log_level="DEBUG"):
        plain = workload(cluster)
    forbidden = [form for value in plain for form in secrets_of(value)]
    assert secrets_of(plain[0])[1] in json.dumps(cluster.kube.list("v1", "Secret"))  # the forms are the real ones
    for generated in cluster.keys:
        pem = generated.private_pem.decode()
        forbidden += [line for line in pem.splitlines() if len(line) > 40]  # every body line of the key
        forbidden.append(base64.b64encode(generated.private_pem).decode()[:60])
        forbidden.append(str(generated.key.key.private_numbers().d)[:40])
    controller_logs = "\n".join(
        line for line in logs.lines if not any(f" {name}" in line.split(":")[0] for name in EMULATOR_LOGGERS)
    )
    assert "sealkit_controller" in controller_logs and "kopf" in controller_logs  # the scan saw real output
    readable: dict[str, Any] = {
        "logs": controller_logs,
        "events": [cluster.kube.list("v1", "Event", ns) for ns in ("default", "kube-system")],
        "statuses": [o.get("status") for o in cluster.kube.list(SS, "SealedSecret")],
        "annotations": [
            o["metadata"].get("annotations")
            for kind in (("v1", "Secret"), (SS, "SealedSecret"))
            for o in cluster.kube.list(*kind)
        ],
    }
    for where, content in readable.items():
        text = content if isinstance(content, str) else json.dumps(content)
        leaked = [f for f in forbidden if f in text]
        assert not leaked, f"{where} holds secret material"
    assert any("no key could decrypt" in json.dumps(s) for s in readable["statuses"])  # failures are explained


def test_nothing_of_kopf_on_any_object(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start():
        workload(cluster)
    objects = cluster.kube.list("v1", "Secret") + cluster.kube.list(SS, "SealedSecret")
    assert len(objects) > 10
    for obj in objects:
        meta = obj["metadata"]
        assert not [k for k in (meta.get("annotations") or {}) if "kopf" in k], meta["name"]
        assert not [k for k in (meta.get("labels") or {}) if "kopf" in k], meta["name"]
        assert not meta.get("finalizers"), meta["name"]
        assert set(obj.get("status") or {}) <= {"conditions", "observedGeneration"}, meta["name"]
    # The only writes to SealedSecrets are status patches; Secrets are only created and replaced.
    for record in cluster.kube.request_log:
        if "/sealedsecrets" in record.path and record.method != "GET":
            assert record.method == "PATCH" and record.path.endswith("/status"), record
        if "/secrets" in record.path:
            assert record.method in ("GET", "POST", "PUT"), record


def test_kopf_builds_no_diff_base_and_no_handler_needs_one() -> None:
    import kopf

    from sealkit_controller.settings import Settings
    from sealkit_controller.wiring import Runtime, build_registry, kopf_settings

    storage = kopf_settings(Settings()).persistence.diffbase_storage
    body = kopf.Body({"metadata": {"name": "a", "labels": {"x": "y"}}, "spec": {"encryptedData": {"k": "AgB"}}})
    assert storage.build(body=body) == {}  # no copy of the body per watch event
    assert storage.fetch(body=body) is None  # and none read back: there is no change tracking to feed
    registry = build_registry(Runtime(Settings(namespace_selector="team=a"), configuration=None))
    assert registry._watching.get_all_handlers()  # event handlers only (they need no diff base)
    assert not registry._changing.get_all_handlers() and not registry._spawning.get_all_handlers()
