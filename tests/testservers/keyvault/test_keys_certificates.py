"""Keys and certificates through the real KeyClient/CertificateClient, and certificate-backed secrets."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from sealkit_testservers.keyvault import PEM, PKCS12, Vault

UTC = dt.UTC


def test_rsa_key_get_and_list(keyvault: Vault) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    version = keyvault.add_key("wrap", private_key=private, tags={"use": "escrow"})
    client = keyvault.client("key")

    key = client.get_key("wrap")
    assert key.id == f"{keyvault.url}/keys/wrap/{version}"
    assert key.key_type == "RSA"
    numbers = private.public_key().public_numbers()
    assert int.from_bytes(key.key.n, "big") == numbers.n
    assert int.from_bytes(key.key.e, "big") == numbers.e
    assert "wrapKey" in key.key_operations
    assert key.properties.tags == {"use": "escrow"}
    assert key.properties.managed is None

    assert client.get_key("wrap", version).properties.version == version
    assert [k.name for k in client.list_properties_of_keys()] == ["wrap"]
    v2 = keyvault.add_key("wrap")
    assert [k.version for k in client.list_properties_of_key_versions("wrap")] == [version, v2]
    assert {r.api_version for r in keyvault.requests} == {"2025-07-01"}


def test_ec_key(keyvault: Vault) -> None:
    keyvault.add_key("sig", kty="EC", curve="P-384")
    key = keyvault.client("key").get_key("sig")
    assert key.key_type == "EC"
    assert key.key.crv == "P-384"
    assert len(key.key.x) == 48


def test_key_errors(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_key("off", enabled=False, exp=dt.datetime(2020, 1, 1, tzinfo=UTC))
    client = keyvault.client("key", **no_retry)
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_key("nope")
    assert missing.value.error is not None
    assert missing.value.error.code == "KeyNotFound"
    off = client.get_key("off")  # unlike a secret, a disabled key stays readable (the service's rule)
    assert off.properties.enabled is False
    [props] = list(client.list_properties_of_keys())
    assert props.enabled is False
    assert props.expires_on == dt.datetime(2020, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("content_type", [PKCS12, PEM])
def test_certificate_with_backing_key_and_secret(keyvault: Vault, content_type: str) -> None:
    version = keyvault.add_certificate(
        "tls", content_type=content_type, dns_names=["app.example.org"], tags={"env": "test"}
    )
    certs = keyvault.client("certificate")
    cert = certs.get_certificate("tls")
    assert cert.id == f"{keyvault.url}/certificates/tls/{version}"
    assert cert.key_id == f"{keyvault.url}/keys/tls/{version}"
    assert cert.secret_id == f"{keyvault.url}/secrets/tls/{version}"
    assert cert.properties.tags == {"env": "test"}
    parsed = x509.load_der_x509_certificate(bytes(cert.cer))
    assert cert.properties.x509_thumbprint == parsed.fingerprint(hashes.SHA1())  # noqa: S303
    assert cert.properties.not_before == parsed.not_valid_before_utc
    assert cert.properties.expires_on == parsed.not_valid_after_utc
    assert cert.policy is not None
    assert cert.policy.content_type == content_type
    assert cert.policy.issuer_name == "Self"
    assert cert.policy.san_dns_names == ["app.example.org"]
    assert certs.get_certificate_policy("tls").content_type == content_type

    secret = keyvault.client().get_secret("tls")
    assert secret.properties.content_type == content_type
    assert secret.properties.managed is True
    assert secret.properties.key_id == cert.key_id
    assert secret.properties.expires_on == cert.properties.expires_on
    if content_type == PKCS12:
        key, leaf, _ = pkcs12.load_key_and_certificates(base64.b64decode(secret.value or ""), None)
    else:
        raw = (secret.value or "").encode()
        assert raw.startswith(b"-----BEGIN PRIVATE KEY-----")
        key = serialization.load_pem_private_key(raw, None)
        leaf = x509.load_pem_x509_certificate(raw[raw.index(b"-----BEGIN CERTIFICATE-----") :])
    assert leaf == parsed
    assert key is not None

    key_bundle = keyvault.client("key").get_key("tls")
    assert key_bundle.properties.managed is True
    assert key_bundle.id == cert.key_id


def test_certificate_secret_out_content_type_converts(keyvault: Vault) -> None:
    keyvault.add_certificate("tls", content_type=PKCS12)
    secret = keyvault.client().get_secret("tls", out_content_type=PEM)
    assert (secret.value or "").startswith("-----BEGIN PRIVATE KEY-----")


def test_certificate_list_versions_and_expiry(keyvault: Vault) -> None:
    old = keyvault.add_certificate(
        "web",
        kty="EC",
        not_before=dt.datetime(2020, 1, 1, tzinfo=UTC),
        not_after=dt.datetime(2021, 1, 1, tzinfo=UTC),
    )
    new = keyvault.add_certificate("web", kty="EC")
    keyvault.add_certificate("other", kty="EC", enabled=False)
    client = keyvault.client("certificate")
    listed = list(client.list_properties_of_certificates(max_page_size=1))
    assert [c.name for c in listed] == ["other", "web"]
    assert listed[0].enabled is False
    assert all(c.x509_thumbprint for c in listed)
    versions = list(client.list_properties_of_certificate_versions("web"))
    assert [v.version for v in versions] == [old, new]
    assert versions[0].expires_on == dt.datetime(2021, 1, 1, tzinfo=UTC)
    pinned = client.get_certificate_version("web", old)
    assert pinned.properties.expires_on == dt.datetime(2021, 1, 1, tzinfo=UTC)
    assert isinstance(x509.load_der_x509_certificate(bytes(pinned.cer)).public_key(), ec.EllipticCurvePublicKey)
    assert client.get_certificate("other").properties.enabled is False  # metadata stays readable


def test_certificate_errors_and_delete(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_certificate("gone", kty="EC")
    client = keyvault.client("certificate", **no_retry)
    with pytest.raises(ResourceNotFoundError) as info:
        client.get_certificate("nope")
    assert info.value.error is not None
    assert info.value.error.code == "CertificateNotFound"

    secrets = keyvault.client(**no_retry)
    with pytest.raises(HttpResponseError) as managed:  # a managed secret is deleted with its certificate
        secrets.begin_delete_secret("gone")
    assert managed.value.status_code == 403

    deleted = client.begin_delete_certificate("gone").result()
    assert deleted.recovery_id == f"{keyvault.url}/deletedcertificates/gone"
    assert keyvault.names("certificate") == keyvault.names("key") == keyvault.names("secret") == []
    with pytest.raises(ResourceNotFoundError):
        secrets.get_secret("gone")


def test_disable_certificate_disables_its_secret(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_certificate("c", kty="EC")
    keyvault.disable("c", kind="certificate")
    with pytest.raises(HttpResponseError) as info:
        keyvault.client(**no_retry).get_secret("c")
    assert info.value.status_code == 403


def test_seeding_rejects_bad_input(keyvault: Vault) -> None:
    with pytest.raises(ValueError, match="invalid Key Vault object name"):
        keyvault.add_secret("under_score", "x")
    keyvault.add_secret("plain", "x")
    with pytest.raises(ValueError, match="exists already"):
        keyvault.add_certificate("plain", kty="EC")
    with pytest.raises(KeyError):
        keyvault.disable("missing")
    with pytest.raises(ValueError, match="content type"):
        keyvault.add_certificate("c", kty="EC", content_type="text/plain")
