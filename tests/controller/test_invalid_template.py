"""A SealedSecret whose Secret the API server would refuse: a clear condition, not a 422, and no value shown.

The emulator validates Secrets as a real API server does (422 with the offending value in its message);
the controller must decide first, with `sealkit.validation`, naming the field and never its content.
(A template `type` or `immutable` of the wrong type never gets this far: the CRD's schema refuses it.)
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cluster import Cluster

pytestmark = pytest.mark.usefixtures("controller")

PLANTED = "hunter2-planted"


def _condition_text(cluster: Cluster) -> str:
    condition = cluster.wait(cluster.condition)
    return f"{condition.get('reason')} {condition.get('message')}"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: t["metadata"].update(labels={"app": f"{PLANTED} value"}), "spec.template.metadata.labels[app]"),
        (lambda t: t["metadata"].update(annotations={f"{PLANTED}/bad key": "x"}), "spec.template.metadata.annotations"),
        (lambda t: t.update(type="kubernetes.io/tls"), "a kubernetes.io/tls Secret needs the key tls.crt"),
    ],
    ids=["label-value", "annotation-key", "tls-without-its-keys"],
)
def test_invalid_template_is_a_condition_naming_the_field(cluster: Cluster, change: Any, field: str) -> None:
    sealed = cluster.seal()
    change(sealed["spec"]["template"])
    cluster.create(sealed)
    text = cluster.wait(lambda: (c := cluster.condition()) and c.get("status") == "False" and _condition_text(cluster))
    assert "ErrUnsealFailed" in text and "the Secret it describes is invalid" in text and field in text
    assert PLANTED not in text and "422" not in text
    assert cluster.secret() is None
    events = " ".join(str(e.get("message")) for e in cluster.events())
    assert PLANTED not in events


def test_invalid_item_key_is_refused_before_anything_is_opened(cluster: Cluster) -> None:
    sealed = cluster.seal()
    sealed["spec"]["encryptedData"] = {"foo bar": sealed["spec"]["encryptedData"]["foo"]}
    cluster.create(sealed)
    text = cluster.wait(lambda: (c := cluster.condition()) and c.get("status") == "False" and _condition_text(cluster))
    assert "spec.encryptedData: the 1st key is not a valid Secret key" in text
    assert "foo bar" not in text
    assert cluster.secret() is None


def test_fixing_the_template_unseals(cluster: Cluster) -> None:
    sealed = cluster.seal()
    sealed["spec"]["template"]["metadata"]["labels"] = {"app": "not valid!"}
    cluster.create(sealed)
    cluster.wait(lambda: (c := cluster.condition()) and c.get("status") == "False")
    cluster.kube.patch(
        "bitnami.com/v1alpha1",
        "SealedSecret",
        "testsecret",
        {"spec": {"template": {"metadata": {"labels": {"app": "valid"}}}}},
        "default",
    )
    assert cluster.wait(cluster.data) == {"foo": b"bar"}
