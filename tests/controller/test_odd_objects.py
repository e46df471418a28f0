"""SealedSecrets of odd shapes and in odd places, as the API server can hand them over: every one is reported
on the object (a condition naming the field, never a value, Python class or repr), none is skipped in silence,
and none makes the controller write a Secret it must not.

Bitnami's older CRDs (and `x-kubernetes-preserve-unknown-fields` in its template's metadata) let almost any
shape through the API server, so the shapes are tried against a CRD that keeps anything in `spec`.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.bitnami import MANAGED_ANNOTATION, SEALING_KEY_LABEL
from sealkit.data import crd_path
from sealkit.keysecrets import key_secret_manifest
from sealkit.wrapping.names import WRAPPED_KEY_LABEL
from tests.support.cluster import CONTROLLER_NS, SS, Cluster, LogLines

PLANTED = "Pl4nted-S3cret-Xq7"


def _crd_keeping_any_spec() -> dict[str, Any]:
    crd: dict[str, Any] = yaml.safe_load(Path(crd_path("bitnami.com_sealedsecrets.yaml")).read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    schema["properties"]["spec"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return crd


def _failed(cluster: Cluster, name: str = "testsecret", namespace: str = "default") -> dict[str, Any]:
    return cluster.wait(lambda: (c := cluster.condition(name, namespace)) and c.get("status") == "False" and c)


def _stalled(cluster: Cluster, name: str = "testsecret", namespace: str = "default") -> str:
    conditions = ((cluster.sealed(name, namespace) or {}).get("status") or {}).get("conditions") or []
    (stalled,) = [c for c in conditions if c["type"] == "Stalled" and c["status"] == "True"]
    return str(stalled["reason"])


@pytest.mark.kube_emulator(crds=[_crd_keeping_any_spec()])
@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda s: s["spec"]["encryptedData"].update(foo=None), "spec.encryptedData[foo] is a null, not a string"),
        (lambda s: s["spec"]["encryptedData"].update(foo=[PLANTED]), "spec.encryptedData[foo] is a list"),
        (lambda s: s["spec"].update(encryptedData=PLANTED), "spec.encryptedData is a string, not a mapping"),
        (lambda s: s["spec"].update(template=[PLANTED]), "spec.template is a list, not a mapping"),
        (lambda s: s["spec"]["template"].update(metadata=PLANTED), "spec.template.metadata: is a string"),
        (lambda s: s["spec"]["template"]["metadata"].update(labels={"a": 5}), "labels[a]: is a number"),
        (lambda s: s["spec"]["template"]["metadata"].update(annotations={"a": None}), "annotations[a]: is a null"),
        (lambda s: s["spec"]["template"].update(type={"x": PLANTED}), "spec.template.type: is a mapping"),
        (lambda s: s["spec"]["template"].update(immutable="yes"), "spec.template.immutable: is a string"),
        (lambda s: s["spec"]["template"].update(data={"x": 5}), "spec.template.data[x] is a number"),
        (lambda s: s["spec"].update(data=5), "spec.data is a number, not a string"),
        (lambda s: s["spec"]["template"]["metadata"].update(namespace=[PLANTED]), "metadata.namespace: is a list"),
    ],
    ids=[
        "value-null",
        "value-list",
        "encryptedData-string",
        "template-list",
        "metadata-string",
        "label-number",
        "annotation-null",
        "type-mapping",
        "immutable-string",
        "template-data-number",
        "v1-data-number",
        "template-namespace-list",
    ],
)
def test_an_odd_shape_is_a_failure_naming_the_field(cluster: Cluster, logs: LogLines, change: Any, said: str) -> None:
    cluster.add_key(0)
    sealed = cluster.seal(data={"foo": PLANTED})
    change(sealed)
    cluster.create(sealed)
    running = cluster.start()
    try:
        condition = _failed(cluster)
        (event,) = cluster.wait(cluster.events)
    finally:
        running.stop()
    assert said in condition["message"] and event["message"] == condition["message"]
    assert cluster.secret() is None
    shown = f"{condition} {event} {logs.text}"
    assert PLANTED not in shown and "Error:" not in shown and "Traceback" not in shown and "[1]" not in shown


@pytest.mark.parametrize(
    "labels",
    [{SEALING_KEY_LABEL: "active"}, {SEALING_KEY_LABEL: "compromised"}, {WRAPPED_KEY_LABEL: "active"}],
    ids=["active-key", "any-key-label", "wrapped-key"],
)
def test_a_sealedsecret_cannot_plant_a_sealing_key(
    cluster: Cluster, controller: Any, logs: LogLines, labels: dict[str, str]
) -> None:
    """Whoever may create SealedSecrets in the controller's namespace (not Secrets) could otherwise have the
    controller write a key Secret holding a private key of their own: the key manager takes it in, and with a
    newer certificate it becomes the key everyone seals with, which they can open."""
    planted = key_secret_manifest(cluster.keys[2], namespace=CONTROLLER_NS, prefix="planted")
    items = {k: base64.b64decode(v).decode() for k, v in planted["data"].items()}
    sealed = cluster.seal("planted", CONTROLLER_NS, data=items, labels=labels, type="kubernetes.io/tls")
    cluster.create(sealed)
    condition = _failed(cluster, "planted", CONTROLLER_NS)
    assert condition["reason"] == "ErrUnsealFailed"
    assert "would be a sealing key Secret of the controller" in condition["message"]
    assert _stalled(cluster, "planted", CONTROLLER_NS) == "InvalidSecret"
    assert cluster.secret("planted", CONTROLLER_NS) is None
    assert len(controller.runtime.keys.ring) == 1
    assert "planted loaded" not in logs.text


def test_the_key_label_elsewhere_is_an_ordinary_label(cluster: Cluster, controller: Any) -> None:
    """Bitnami's behaviour outside the controller's namespace: its key manager reads keys there only."""
    cluster.create(cluster.seal(labels={SEALING_KEY_LABEL: "active"}))
    assert cluster.wait(cluster.data) == {"foo": b"bar"}
    assert (cluster.secret() or {})["metadata"]["labels"] == {SEALING_KEY_LABEL: "active"}


def test_a_sealedsecret_never_writes_over_a_key_secret(cluster: Cluster, logs: LogLines) -> None:
    """Even one marked managed (an admin's slip, or a label dropped for a while): its key would be lost."""
    key_secret = cluster.add_key(0, name="sealing-key")
    cluster.kube.patch(
        "v1", "Secret", "sealing-key", {"metadata": {"annotations": {MANAGED_ANNOTATION: "true"}}}, CONTROLLER_NS
    )
    running = cluster.start()
    try:
        cluster.create(cluster.seal("sealing-key", CONTROLLER_NS, data={"tls.key": PLANTED}))
        condition = _failed(cluster, "sealing-key", CONTROLLER_NS)
        assert condition["reason"] == "ErrUpdateFailed"
        assert condition["message"] == (
            "Secret kube-system/sealing-key is a sealing key Secret of the controller: a SealedSecret never writes "
            "over one"
        )
        assert _stalled(cluster, "sealing-key", CONTROLLER_NS) == "SecretNotManaged"
        assert (cluster.secret("sealing-key", CONTROLLER_NS) or {})["data"] == key_secret["data"]
    finally:
        running.stop()
    assert PLANTED not in logs.text


def test_a_sealedsecret_being_deleted_makes_its_secret_no_more(cluster: Cluster, controller: Any) -> None:
    """A finalizer (Argo CD's, a foreground deletion) holds it: its Secret, deleted meanwhile (by the garbage
    collector taking dependents first, or by hand), does not come back, nor does a new spec write one."""
    sealed = cluster.seal()
    sealed["metadata"]["finalizers"] = ["example.com/hold"]
    cluster.create(sealed)
    cluster.wait(cluster.data)
    cluster.kube.delete(SS, "SealedSecret", "testsecret", "default")
    assert (cluster.sealed() or {})["metadata"].get("deletionTimestamp")
    cluster.kube.delete("v1", "Secret", "testsecret", "default")
    cluster.never(cluster.secret, 1.0)
    cluster.kube.patch(SS, "SealedSecret", "testsecret", {"spec": cluster.seal(data={"foo": "new"})["spec"]}, "default")
    cluster.never(cluster.secret, 1.0)


def test_an_immutable_secret_takes_a_resealed_sealedsecret(cluster: Cluster, controller: Any) -> None:
    """Re-sealed with the same values (`sealkit reencrypt`, kubeseal --re-encrypt: a new ciphertext) and a new
    label: the data stays, the metadata changes, as the API server allows for an immutable Secret."""
    cluster.create(cluster.seal(immutable=True))
    first = cluster.wait(cluster.secret)
    assert first["immutable"] is True
    again = cluster.seal(immutable=True, labels={"mylabel": "relabelled"})
    cluster.kube.patch(SS, "SealedSecret", "testsecret", {"spec": again["spec"]}, "default")
    secret = cluster.wait(
        lambda: (s := cluster.secret()) and s["metadata"]["labels"] == {"mylabel": "relabelled"} and s
    )
    assert secret["data"] == first["data"] and secret["immutable"] is True
    status = cluster.wait(lambda: (s := (cluster.sealed() or {}).get("status")) and s["observedGeneration"] == 2 and s)
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [("Synced", "True"), ("Ready", "True")]


def test_a_status_names_the_generation_its_attempt_handled(
    cluster: Cluster, controller: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new generation arriving while an attempt reports (between its write and its status): the status says
    the generation that attempt handled, never the new one with the old Secret (kstatus would read Current)."""
    ctrl = controller.runtime.controller
    post, patch = ctrl.events.post_blocking, ctrl.client.patch_sealed_secret_status
    newer = cluster.seal(data={"foo": "newer"})["spec"]
    written: list[tuple[Any, Any]] = []

    def post_then_bump(obj: Any, type_: str, reason: str, message: str, **kwargs: Any) -> Any:
        if reason == "Unsealed" and not written:
            cluster.kube.patch(SS, "SealedSecret", "testsecret", {"spec": newer}, "default")
            cluster.wait(lambda: ctrl.tracked[("default", "testsecret")].marker[0] == 2)
        return post(obj, type_, reason, message, **kwargs)

    def recording(namespace: str, name: str, new: dict[str, Any]) -> Any:
        written.append((new.get("observedGeneration"), cluster.data()))
        return patch(namespace, name, new)

    monkeypatch.setattr(ctrl.events, "post_blocking", post_then_bump)
    monkeypatch.setattr(ctrl.client, "patch_sealed_secret_status", recording)
    cluster.create(cluster.seal())
    cluster.wait(lambda: (cluster.sealed() or {}).get("status", {}).get("observedGeneration") == 2)
    assert cluster.data() == {"foo": b"newer"}
    assert written[0] == (1, {"foo": b"bar"})
    assert all(data == {"foo": b"newer"} for generation, data in written if generation == 2)
