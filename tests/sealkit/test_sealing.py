"""Secret -> SealedSecret as kubeseal builds it."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit.errors import InputError
from sealkit.keys import KeyRing, PrivateKey, SealingCertificate, fingerprint, load_certificate
from sealkit.scope import Scope
from sealkit.sealing import seal_secret
from sealkit.unsealing import unseal


@pytest.fixture(scope="module")
def cert(small_key: rsa.RSAPrivateKey, certificate_factory: Any) -> SealingCertificate:
    return load_certificate(certificate_factory(small_key))


@pytest.fixture(scope="module")
def ring(small_key: rsa.RSAPrivateKey) -> KeyRing:
    return KeyRing([PrivateKey(small_key, fingerprint(small_key.public_key()), "test")])


def secret(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "namespace": "team-a",
            "uid": "1234",
            "resourceVersion": "7",
            "creationTimestamp": "2024-01-01T00:00:00Z",
            "ownerReferences": [{"kind": "X", "name": "y", "uid": "z", "apiVersion": "v1"}],
            "labels": {"app": "db"},
            "annotations": {
                "team": "payments",
                "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"c2VjcmV0"}}',
                "kubecfg.ksonnet.io/last-applied-configuration": "{}",
            },
        },
        "type": "kubernetes.io/basic-auth",
        "immutable": True,
        "data": {"username": base64.b64encode(b"admin").decode()},
        "stringData": {"password": "new-wins"},
    }
    base.update(overrides)
    return base


def test_shape_matches_kubeseal(cert: SealingCertificate) -> None:
    sealed = seal_secret(secret(), cert)
    assert sealed["apiVersion"] == "bitnami.com/v1alpha1" and sealed["kind"] == "SealedSecret"
    assert sealed["metadata"] == {"name": "db", "namespace": "team-a"}
    assert sorted(sealed["spec"]["encryptedData"]) == ["password", "username"]
    template = sealed["spec"]["template"]
    assert template == {
        "metadata": {"name": "db", "namespace": "team-a", "labels": {"app": "db"}, "annotations": {"team": "payments"}},
        "type": "kubernetes.io/basic-auth",
        "immutable": True,
    }
    assert "c2VjcmV0" not in str(sealed)


def test_data_and_string_data_both_open(cert: SealingCertificate, ring: KeyRing) -> None:
    opened = unseal(seal_secret(secret(), cert), ring)
    assert opened.items == {"username": b"admin", "password": b"new-wins"}
    assert opened.secret["type"] == "kubernetes.io/basic-auth" and opened.secret["immutable"] is True


@pytest.mark.parametrize(
    ("annotations", "flag", "expected"),
    [
        ({}, None, Scope.STRICT),
        ({"sealedsecrets.bitnami.com/namespace-wide": "true"}, None, Scope.NAMESPACE_WIDE),
        ({"sealedsecrets.bitnami.com/cluster-wide": "true"}, None, Scope.CLUSTER_WIDE),
        (
            {"sealedsecrets.bitnami.com/cluster-wide": "true", "sealedsecrets.bitnami.com/namespace-wide": "true"},
            None,
            Scope.CLUSTER_WIDE,
        ),
        ({"sealedsecrets.bitnami.com/cluster-wide": "true"}, Scope.STRICT, Scope.STRICT),
        ({}, Scope.NAMESPACE_WIDE, Scope.NAMESPACE_WIDE),
    ],
)
def test_scope_precedence(
    cert: SealingCertificate, ring: KeyRing, annotations: dict[str, str], flag: Scope | None, expected: Scope
) -> None:
    source = secret(metadata={"name": "db", "namespace": "team-a", "annotations": annotations})
    sealed = seal_secret(source, cert, scope=flag)
    outer = sealed["metadata"].get("annotations", {})
    marker = {
        Scope.STRICT: {},
        Scope.NAMESPACE_WIDE: {"sealedsecrets.bitnami.com/namespace-wide": "true"},
        Scope.CLUSTER_WIDE: {"sealedsecrets.bitnami.com/cluster-wide": "true"},
    }[expected]
    assert outer == marker
    assert "annotations" not in sealed["spec"]["template"]["metadata"], "scope lives on the outer object only"
    assert unseal(sealed, ring).items["password"] == b"new-wins"


def test_name_override_and_namespace_fill_in(cert: SealingCertificate) -> None:
    source = secret(metadata={"name": "db"})
    sealed = seal_secret(source, cert, name="renamed", namespace="team-b")
    assert sealed["metadata"] == {"name": "renamed", "namespace": "team-b"}
    assert sealed["spec"]["template"]["metadata"]["name"] == "renamed"


def test_cluster_wide_needs_no_namespace(cert: SealingCertificate, ring: KeyRing) -> None:
    sealed = seal_secret(secret(metadata={"name": "db"}), cert, scope=Scope.CLUSTER_WIDE)
    assert "namespace" not in sealed["metadata"]
    assert unseal(sealed, ring, default_namespace="anywhere").items["username"] == b"admin"


@pytest.mark.parametrize(
    ("obj", "kwargs", "message"),
    [
        (secret(metadata={"name": "db"}), {}, "no namespace: give -n/--namespace"),
        (secret(), {"namespace": "other"}, "namespace team-a differs from --namespace other"),
        (secret(metadata={"namespace": "x"}), {}, "no metadata.name"),
        (secret(data={}, stringData={}), {}, "no data or stringData"),
        (secret(data={"password": "not base64!"}), {}, r"data\[password\]: invalid base64"),
        (secret(stringData={"port": 5432}), {}, r"stringData\[port\]: is a number, not a string"),
        (secret(data={"bad/key": "YQ=="}), {}, "data: the 1st key is not a valid Secret key"),
        (secret(data={"password": "YQ=="}), {}, r"stringData\[password\]: the key is also in data"),
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, {}, "v1/ConfigMap is not a v1 Secret"),
        ({"a": "x"}, {}, "^a document without apiVersion and kind is not a v1 Secret"),
        ({"apiVersion": "v1", "metadata": {}}, {}, "^a document without kind is not a v1 Secret"),
        (secret(data={"password": "YWJj ZA=="}), {}, r"data\[password\]: invalid base64 \(a space inside it"),
        (["not", "a", "mapping"], {}, "not a Kubernetes object"),
    ],
)
def test_bad_secrets_are_refused_by_name(
    cert: SealingCertificate, obj: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message) as info:
        seal_secret(obj, cert, where="in.yaml document 1", **kwargs)
    assert str(info.value).endswith(": in.yaml document 1")
    assert "new-wins" not in str(info.value)


def test_allow_empty_data(cert: SealingCertificate) -> None:
    sealed = seal_secret(secret(data=None, stringData=None, type="Opaque"), cert, allow_empty_data=True)
    assert sealed["spec"]["encryptedData"] == {}


PLANTED = "hunter2-Pl4nted"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"type": {"password": PLANTED}}, "type: is a mapping, not a string"),
        ({"immutable": PLANTED}, "immutable: is a string, not true or false"),
        ({"metadata": {"name": "db", "namespace": {"password": PLANTED}}}, "metadata.namespace: is a mapping"),
        ({"metadata": {"name": "Bad_Name", "namespace": "a"}}, "metadata.name: is not a valid Kubernetes name"),
        ({"metadata": {"name": "db", "namespace": "team.a"}}, "metadata.namespace: is not a valid namespace name"),
        ({"metadata": {"name": "db", "namespace": "a", "labels": {"app": f"{PLANTED} x"}}}, "labels[app]: is not"),
        (
            {"metadata": {"name": "db", "namespace": "a", "labels": {"app": ["x", PLANTED]}}},
            "labels[app]: is a list, not a string",
        ),
        ({"metadata": {"name": "db", "namespace": "a", "annotations": {f"{PLANTED} k": "x"}}}, "annotation key"),
        ({"data": {f"{PLANTED} key": "YQ=="}}, "data: the 1st key is not a valid Secret key"),
        ({"stringData": {"k": "x" * (1024 * 1024 + 1)}}, "data: is larger than the API server's 1 MiB limit"),
        ({"type": "kubernetes.io/tls"}, "a kubernetes.io/tls Secret needs the key tls.crt"),
    ],
    ids=[
        "type-mapping",
        "immutable-string",
        "namespace-mapping",
        "bad-name",
        "bad-namespace",
        "bad-label-value",
        "label-list",
        "bad-annotation-key",
        "bad-data-key",
        "over-1-mib",
        "tls-without-keys",
    ],
)
def test_seal_refuses_what_the_api_server_refuses(
    cert: SealingCertificate, overrides: dict[str, Any], message: str
) -> None:
    source = secret(**overrides)
    source["stringData"] = {**source.get("stringData", {}), "password": PLANTED} | overrides.get("stringData", {})
    with pytest.raises(InputError, match=re.escape(message)) as info:
        seal_secret(source, cert, where="in.yaml document 1")
    assert PLANTED not in str(info.value)
    assert str(info.value).endswith(": in.yaml document 1")


def test_nothing_unchecked_reaches_the_sealed_secret(cert: SealingCertificate) -> None:
    sealed = seal_secret(secret(stringData={"password": PLANTED}), cert)
    assert PLANTED not in str(sealed)
    template = sealed["spec"]["template"]
    assert isinstance(template["type"], str) and isinstance(template["immutable"], bool)
    assert set(template["metadata"]) <= {"name", "namespace", "labels", "annotations"}


def test_the_kind_is_described_without_its_content(cert: SealingCertificate) -> None:
    odd = {"apiVersion": "v1", "kind": {"stringData": {"password": PLANTED}}}
    with pytest.raises(InputError) as info:
        seal_secret(odd, cert, where="in.yaml document 1")
    assert str(info.value) == "a document whose kind is not a Kubernetes kind is not a v1 Secret: in.yaml document 1"


@pytest.mark.parametrize("value", ["True", "TRUE", " true", "yes", "1", "on", ""])
@pytest.mark.parametrize("key", ["sealedsecrets.bitnami.com/cluster-wide", "sealedsecrets.bitnami.com/namespace-wide"])
def test_a_scope_annotation_that_is_not_true_or_false_is_refused(
    cert: SealingCertificate, key: str, value: str
) -> None:
    """Bitnami's controller and kubeseal read only "true" as true: "True" was sealed wider here (and kubeseal
    seals it strict without a word); the writer's intent is unknown, so it is refused."""
    source = secret(metadata={"name": "db", "namespace": "team-a", "annotations": {key: value}})
    with pytest.raises(InputError) as caught:
        seal_secret(source, cert)
    assert str(caught.value).startswith(f'annotation {key} must be "true" or "false"')
    assert seal_secret(secret(metadata={"name": "db", "namespace": "team-a", "annotations": {key: "false"}}), cert)


@pytest.mark.parametrize("value", ["True", " true", "yes"])
def test_a_sealed_secret_is_wider_only_for_exactly_true(value: str) -> None:
    """As Bitnami's SecretScope: `== "true"`; anything else is strict (the object opens only as strict)."""
    from sealkit.scope import scope_from_annotations

    assert scope_from_annotations({"sealedsecrets.bitnami.com/cluster-wide": value}) is Scope.STRICT
    assert scope_from_annotations({"sealedsecrets.bitnami.com/namespace-wide": value}) is Scope.STRICT
    assert scope_from_annotations({"sealedsecrets.bitnami.com/namespace-wide": "true"}) is Scope.NAMESPACE_WIDE
