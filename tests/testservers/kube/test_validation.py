"""Validation a real API server does: 422 Invalid with the server's wording and `details.causes`, 413 past 3 MiB."""

from __future__ import annotations

import base64
import json
from typing import Any

import kubernetes as _kubernetes
import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from sealkit_testservers.kube import KubeServer

kubernetes: Any = _kubernetes

CONFIG_KEY_RULE = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)
SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
QNAME_RULE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


@pytest.fixture()
def core(kube_api_client: Any) -> Any:
    return kubernetes.client.CoreV1Api(kube_api_client)


def _refused(call: Any, *args: Any) -> dict[str, Any]:
    with pytest.raises(ApiException) as raised:
        call(*args)
    assert raised.value.status == 422
    status: dict[str, Any] = json.loads(raw if (raw := raised.value.body) else "{}")
    assert status["reason"] == "Invalid" and status["code"] == 422
    return status


def test_secret_data_keys_must_be_config_keys(kube: KubeServer, core: Any) -> None:
    body = {"metadata": {"name": "s"}, "stringData": {"bad key": "x", "ok.key_1-A": "y"}}
    status = _refused(core.create_namespaced_secret, "default", body)
    assert status["message"] == f'Secret "s" is invalid: data[bad key]: Invalid value: "bad key": {CONFIG_KEY_RULE}'
    assert status["details"] == {
        "name": "s",
        "kind": "Secret",
        "causes": [
            {
                "reason": "FieldValueInvalid",
                "message": f'Invalid value: "bad key": {CONFIG_KEY_RULE}',
                "field": "data[bad key]",
            }
        ],
    }
    long_key = {"metadata": {"name": "s"}, "data": {"k" * 254: "eA=="}}
    assert (
        "must be no more than 253 characters" in _refused(core.create_namespaced_secret, "default", long_key)["message"]
    )
    dots = {"metadata": {"name": "s"}, "data": {"..x": "eA=="}}
    assert "must not start with '..'" in _refused(core.create_namespaced_secret, "default", dots)["message"]
    assert kube.get("v1", "Secret", "s", "default") is None
    core.create_namespaced_secret("default", {"metadata": {"name": "s"}, "stringData": {"ok.key_1-A": "y"}})
    patch = {"data": {"no/slash": "eA=="}}
    assert (
        _refused(core.patch_namespaced_secret, "s", "default", patch)["details"]["causes"][0]["field"]
        == "data[no/slash]"
    )


def test_tls_secrets_need_both_keys(core: Any) -> None:
    body = {"metadata": {"name": "tls"}, "type": "kubernetes.io/tls", "stringData": {"tls.crt": "c"}}
    status = _refused(core.create_namespaced_secret, "default", body)
    assert status["message"] == 'Secret "tls" is invalid: data[tls.key]: Required value'
    assert status["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "data[tls.key]"}
    ]
    empty = {"metadata": {"name": "tls"}, "type": "kubernetes.io/tls"}
    assert _refused(core.create_namespaced_secret, "default", empty)["message"] == (
        'Secret "tls" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]'
    )
    body["stringData"]["tls.key"] = "k"
    assert core.create_namespaced_secret("default", body).type == "kubernetes.io/tls"


def test_secret_data_is_limited_to_one_mebibyte(kube: KubeServer, core: Any) -> None:
    limit = 1024 * 1024
    exactly = base64.b64encode(b"x" * limit).decode()
    core.create_namespaced_secret("default", {"metadata": {"name": "big"}, "data": {"a": exactly}})  # ~1.4 MB body
    over = {"metadata": {"name": "bigger"}, "data": {"a": exactly, "b": "eA=="}}
    status = _refused(core.create_namespaced_secret, "default", over)
    assert status["message"] == 'Secret "bigger" is invalid: data: Too long: may not be more than 1048576 bytes'
    assert status["details"]["causes"] == [
        {"reason": "FieldValueTooLong", "message": "Too long: may not be more than 1048576 bytes", "field": "data"}
    ]


def test_labels_annotations_and_names(core: Any) -> None:
    bad_label_key = {"metadata": {"name": "s", "labels": {"bad key": "v"}}}
    status = _refused(core.create_namespaced_secret, "default", bad_label_key)
    assert status["message"] == f'Secret "s" is invalid: metadata.labels: Invalid value: "bad key": {QNAME_RULE}'
    bad_value = {"metadata": {"name": "s", "labels": {"ok": "a/b"}}}
    cause = _refused(core.create_namespaced_secret, "default", bad_value)["details"]["causes"][0]
    assert cause["field"] == "metadata.labels" and cause["message"].startswith(
        'Invalid value: "a/b": a valid label must'
    )
    long_value = {"metadata": {"name": "s", "labels": {"ok": "v" * 64}}}
    assert (
        "must be no more than 63 characters"
        in _refused(core.create_namespaced_secret, "default", long_value)["message"]
    )
    bad_prefix = {"metadata": {"name": "s", "annotations": {"Bad_Prefix/x": "v"}}}
    cause = _refused(core.create_namespaced_secret, "default", bad_prefix)["details"]["causes"][0]
    assert cause["field"] == "metadata.annotations" and "prefix part a lowercase RFC 1123 subdomain" in cause["message"]
    huge = {"metadata": {"name": "s", "annotations": {"a": "x" * (256 * 1024)}}}
    assert _refused(core.create_namespaced_secret, "default", huge)["message"] == (
        'Secret "s" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes'
    )
    for name in ("Upper", "under_score", "-lead", "x" * 254):
        status = _refused(core.create_namespaced_secret, "default", {"metadata": {"name": name}})
        assert status["details"]["causes"][-1]["field"] == "metadata.name"
    status = _refused(core.create_namespaced_secret, "default", {"metadata": {"name": "Upper"}})
    assert status["message"] == f'Secret "Upper" is invalid: metadata.name: Invalid value: "Upper": {SUBDOMAIN_RULE}'
    ns = _refused(core.create_namespace, {"metadata": {"name": "a.b"}})
    assert ns["message"] == 'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": must not contain dots'


def test_custom_resources_are_named_with_their_group(kube_api_client: Any) -> None:
    custom = kubernetes.client.CustomObjectsApi(kube_api_client)
    body = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "Bad", "labels": {"a": "b c"}},
        "spec": {"encryptedData": {}},
    }
    status = _refused(
        custom.create_namespaced_custom_object, "bitnami.com", "v1alpha1", "default", "sealedsecrets", body
    )
    assert status["message"].startswith('SealedSecret.bitnami.com "Bad" is invalid: [metadata.name: Invalid value')
    assert status["details"]["group"] == "bitnami.com" and status["details"]["kind"] == "SealedSecret"
    assert [c["field"] for c in status["details"]["causes"]] == ["metadata.name", "metadata.labels"]


def test_request_bodies_up_to_three_mebibytes(kube: KubeServer, kube_api_client: Any) -> None:
    http = urllib3.PoolManager()
    url = kube.url + "/api/v1/namespaces/default/configmaps"
    headers = {"Content-Type": "application/json"}
    padding = " " * (2 * 1024 * 1024)  # JSON whitespace: a 2 MiB body the server must read whole
    body = json.dumps({"metadata": {"name": "cm"}, "data": {"a": "b"}}) + padding
    assert http.request("POST", url, body=body.encode(), headers=headers).status == 201
    too_big = b"{" + b" " * (3 * 1024 * 1024) + b"}"
    reply = http.request("POST", url, body=too_big, headers=headers)
    assert reply.status == 413
    assert json.loads(reply.data) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Request entity too large: limit is 3145728",
        "reason": "RequestEntityTooLarge",
        "code": 413,
    }


def test_core_events_skip_object_meta_checks_but_not_their_namespace(core: Any) -> None:
    event = {
        "metadata": {"generateName": "db."},
        "involvedObject": {"kind": "Secret", "name": "db", "namespace": "default"},
        "reason": "Unsealed",
        "message": "ok",
    }
    assert core.create_namespaced_event("default", event).metadata.name.startswith("db.")
    event["involvedObject"]["namespace"] = "kube-system"
    status = _refused(core.create_namespaced_event, "default", event)
    assert status["details"]["causes"][0]["field"] == "involvedObject.namespace"
