"""SealedSecret -> Secret, as the controller builds it, and diagnoses when it does not open."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit import hybrid
from sealkit.errors import InputError, UnsealError
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


def sealed(cert: SealingCertificate, scope: Scope | None = None, **meta: Any) -> dict[str, Any]:
    source = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "team-a", "labels": {"app": "db"}, **meta},
        "type": "Opaque",
        "stringData": {"password": "p4ss"},
    }
    return seal_secret(source, cert, scope=scope)


def test_owner_reference_only_with_a_uid(cert: SealingCertificate, ring: KeyRing) -> None:
    obj = sealed(cert)
    assert "ownerReferences" not in unseal(obj, ring).secret["metadata"]
    obj["metadata"]["uid"] = "abc-123"
    refs = unseal(obj, ring).secret["metadata"]["ownerReferences"]
    assert refs == [
        {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "name": "db",
            "uid": "abc-123",
            "controller": True,
        }
    ]


def test_skip_owner_references_annotation(cert: SealingCertificate, ring: KeyRing) -> None:
    obj = sealed(cert, annotations={"sealedsecrets.bitnami.com/skip-set-owner-references": "true"})
    obj["metadata"]["uid"] = "abc-123"
    assert "ownerReferences" not in unseal(obj, ring).secret["metadata"]


@pytest.mark.parametrize("value", ["True", "TRUE", "yes", ""])
def test_owner_references_are_skipped_only_for_exactly_true(
    cert: SealingCertificate, ring: KeyRing, value: str
) -> None:
    """As Bitnami's controller: "True" set owner references there but skipped them here (the Secret outlived
    its SealedSecret in one controller and not in the other)."""
    obj = sealed(cert, annotations={"sealedsecrets.bitnami.com/skip-set-owner-references": value})
    obj["metadata"]["uid"] = "abc-123"
    assert unseal(obj, ring).secret["metadata"]["ownerReferences"][0]["uid"] == "abc-123"


def test_name_and_namespace_forced_to_the_sealed_secrets(cert: SealingCertificate, ring: KeyRing) -> None:
    obj = sealed(cert, scope=Scope.CLUSTER_WIDE)
    obj["metadata"] = {"name": "moved", "namespace": "elsewhere", "annotations": obj["metadata"]["annotations"]}
    secret = unseal(obj, ring).secret
    assert secret["metadata"]["name"] == "moved" and secret["metadata"]["namespace"] == "elsewhere"
    assert secret["metadata"]["labels"] == {"app": "db"}
    assert base64.b64decode(secret["data"]["password"]) == b"p4ss"


def test_deprecated_single_blob_spec_data(small_key: rsa.RSAPrivateKey, ring: KeyRing) -> None:
    inner = {"apiVersion": "v1", "kind": "Secret", "data": {"token": base64.b64encode(b"t0k").decode()}}
    blob = hybrid.encrypt(small_key.public_key(), json.dumps(inner).encode(), b"team-a/legacy")
    obj = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "legacy", "namespace": "team-a"},
        "spec": {"data": base64.b64encode(blob).decode()},
    }
    assert unseal(obj, ring).items == {"token": b"t0k"}


def test_spec_data_and_encrypted_data_together_are_refused(cert: SealingCertificate, ring: KeyRing) -> None:
    obj = sealed(cert)
    obj["spec"]["data"] = "AAAA"
    with pytest.raises(InputError, match="cannot be used together"):
        unseal(obj, ring)


def test_wrong_scope_is_named(cert: SealingCertificate, ring: KeyRing) -> None:
    obj = sealed(cert, scope=Scope.NAMESPACE_WIDE)
    del obj["metadata"]["annotations"]
    with pytest.raises(UnsealError) as info:
        unseal(obj, ring, where="db.yaml document 1")
    message = str(info.value)
    assert "sealed namespace-wide for namespace 'team-a', but the SealedSecret is strict for team-a/db" in message
    assert message.startswith("item 'password'") and message.endswith(": db.yaml document 1")
    assert "p4ss" not in message


def test_renamed_object_points_at_the_template_name(cert: SealingCertificate, ring: KeyRing) -> None:
    obj = sealed(cert)
    obj["metadata"]["name"] = "db-renamed"
    with pytest.raises(
        UnsealError, match="sealed strict for team-a/db, but the SealedSecret is strict for team-a/db-renamed"
    ):
        unseal(obj, ring)


def test_unknown_key_names_the_fingerprints_tried(cert: SealingCertificate) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_ring = KeyRing([PrivateKey(other, fingerprint(other.public_key()), "other")])
    expected = re.escape(f"no key could decrypt it (tried {fingerprint(other.public_key())})")
    with pytest.raises(UnsealError, match=expected):
        unseal(sealed(cert), other_ring)


def test_invalid_base64_is_named(cert: SealingCertificate, ring: KeyRing) -> None:
    obj = sealed(cert)
    obj["spec"]["encryptedData"]["password"] = "@@@"
    with pytest.raises(InputError, match=r"spec.encryptedData\[password\]: invalid base64"):
        unseal(obj, ring)


def test_missing_namespace_for_strict(cert: SealingCertificate, ring: KeyRing) -> None:
    obj = sealed(cert)
    del obj["metadata"]["namespace"]
    with pytest.raises(InputError, match=r"^the SealedSecret has no metadata.namespace, which its scope needs: "):
        unseal(obj, ring)
    assert unseal(obj, ring, default_namespace="team-a").items == {"password": b"p4ss"}


def test_template_data_renders_over_the_items(cert: SealingCertificate, ring: KeyRing) -> None:
    obj = sealed(cert)
    obj["spec"]["template"]["data"] = {
        "url": "postgres://app:{{ .password }}@db/app",
        "password": "{{ .password | upper }}",
        "encoded": '{{ index . "password" | b64enc }}',
    }
    opened = unseal(obj, ring)
    assert opened.items == {"password": b"p4ss"}, "items stay as decrypted"
    data = {k: base64.b64decode(v) for k, v in opened.secret["data"].items()}
    assert data == {"url": b"postgres://app:p4ss@db/app", "password": b"P4SS", "encoded": b"cDRzcw=="}


def test_template_data_refuses_the_environment(cert: SealingCertificate, ring: KeyRing) -> None:
    from sealkit.errors import TemplateError

    obj = sealed(cert)
    obj["spec"]["template"]["data"] = {"leak": '{{ env "HOME" }}'}
    with pytest.raises(TemplateError, match=r"spec.template.data\[leak\].*function env is not supported") as info:
        unseal(obj, ring, where="db.yaml")
    assert "p4ss" not in str(info.value)


def test_an_invalid_template_is_refused_before_anything_is_opened(
    monkeypatch: pytest.MonkeyPatch, cert: Any, ring: KeyRing
) -> None:
    import sealkit.unsealing as unsealing

    obj = sealed(cert)
    obj["spec"]["template"].setdefault("metadata", {})["labels"] = {"app": "not valid!"}
    monkeypatch.setattr(unsealing, "open_value", lambda *a, **k: pytest.fail("opened before the check"))
    with pytest.raises(unsealing.InvalidTemplate, match=r"spec.template.metadata.labels\[app\]: is not a valid"):
        unseal(obj, ring, where="db.yaml document 1")


def test_verify_refuses_what_unseal_refuses(cert: SealingCertificate, ring: KeyRing) -> None:
    """`verify_sealed_secret` (offline verify, check-recovery, the controller's /v1/verify) runs the whole
    unseal: every value opening is not enough when the Secret it describes would be refused."""
    from sealkit.reseal import verify_sealed_secret
    from sealkit.unsealing import InvalidTemplate

    obj = sealed(cert)
    verify_sealed_secret(obj, ring, where="in.yaml document 1")
    obj["spec"]["template"]["metadata"]["labels"] = {"app": "not a label value!"}
    with pytest.raises(InvalidTemplate) as refused:
        verify_sealed_secret(obj, ring, where="in.yaml document 1")
    assert str(refused.value).startswith("the Secret it describes is invalid: spec.template.metadata.labels")
    assert str(refused.value).endswith(": in.yaml document 1")


@pytest.mark.parametrize(
    ("name", "secret_type"),
    [(".dockerconfigjson", "kubernetes.io/dockerconfigjson"), (".dockercfg", "kubernetes.io/dockercfg")],
)
def test_verify_reads_no_value_the_unseal_still_checks(
    cert: SealingCertificate, ring: KeyRing, name: str, secret_type: str
) -> None:
    """A value renamed to the type's JSON item: the unseal (the controller writing the Secret) refuses it and
    says why; verify answers the same for it as for a JSON object (its answer goes to whoever posted it)."""
    from sealkit.reseal import verify_sealed_secret
    from sealkit.unsealing import InvalidTemplate

    obj = sealed(cert)
    obj["spec"]["encryptedData"] = {name: obj["spec"]["encryptedData"]["password"]}
    obj["spec"]["template"]["type"] = secret_type
    with pytest.raises(InvalidTemplate, match=re.escape(f"invalid: data[{name}]: is not a JSON object")):
        unseal(obj, ring, where="in.yaml document 1")
    verify_sealed_secret(obj, ring, where="in.yaml document 1")


def test_verify_reads_nothing_from_a_spec_data_blob(small_key: rsa.RSAPrivateKey, ring: KeyRing) -> None:
    """spec.data opens with the scope's label, as every value: verify checks it opens, never what it holds."""
    from sealkit.reseal import verify_sealed_secret

    blob = hybrid.encrypt(small_key.public_key(), b"p4ss", b"team-a/legacy")
    obj = {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "legacy", "namespace": "team-a"},
        "spec": {"data": base64.b64encode(blob).decode()},
    }
    with pytest.raises(UnsealError, match=r"spec\.data does not hold a JSON Secret"):
        unseal(obj, ring)
    verify_sealed_secret(obj, ring, where="in.yaml document 1")
    obj["metadata"]["name"] = "other"
    with pytest.raises(UnsealError):
        verify_sealed_secret(obj, ring, where="in.yaml document 1")
