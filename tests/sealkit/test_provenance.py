"""Provenance annotations: what they say, where they go (never into the Secret), how updates keep them true."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from sealkit import provenance
from sealkit.errors import InputError
from sealkit.keys import KeyRing, load_certificate, load_private_keys
from sealkit.sealing import seal_secret
from sealkit.unsealing import unseal

SHA_A, SHA_B = "a" * 64, "0" * 63 + "1"


def test_fingerprint_is_lower_hex_sha256_of_the_der_certificate(vectors: dict[str, Any]) -> None:
    pem = vectors["keys"][0]["cert_pem"].encode()
    der = x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    assert load_certificate(pem).sha256 == hashlib.sha256(der).hexdigest() == provenance.der_sha256(der)
    assert load_certificate(pem).sha256 == load_certificate(pem).sha256.lower()


def test_stamped_annotations_stay_on_the_sealed_secret_not_the_secret(vectors: dict[str, Any]) -> None:
    key = vectors["keys"][0]
    cert = load_certificate(key["cert_pem"].encode())
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop", "annotations": {"team": "orders"}},
        "stringData": {"pw": "x"},
    }
    sealed = provenance.stamp(seal_secret(secret, cert), provenance.of_certificate(cert, "prod"))
    assert sealed["metadata"]["annotations"] == {
        provenance.CERTIFICATE_ANNOTATION: cert.sha256,
        provenance.ENVIRONMENT_ANNOTATION: "prod",
    }
    # As Bitnami's controller does (Unseal copies spec.template.metadata only): the Secret carries none of it.
    opened = unseal(sealed, KeyRing(load_private_keys(key["private_pem"].encode()))).secret
    assert opened["metadata"]["annotations"] == {"team": "orders"}


def test_read_refuses_malformed_values() -> None:
    assert provenance.read({}, "x") is None
    assert provenance.read({provenance.CERTIFICATE_ANNOTATION: f"{SHA_A},{SHA_B}"}, "x") == provenance.Provenance(
        (SHA_A, SHA_B)
    )
    for bad in ("", "ABC", SHA_A.upper(), f"{SHA_A},", 42):
        with pytest.raises(InputError, match="not a comma-separated list"):
            provenance.read({provenance.CERTIFICATE_ANNOTATION: bad}, "x")
    with pytest.raises(InputError, match="not an environment name"):
        provenance.read({provenance.CERTIFICATE_ANNOTATION: SHA_A, provenance.ENVIRONMENT_ANNOTATION: "Prod!"}, "x")


def test_updates_keep_provenance_true() -> None:
    new = provenance.Provenance((SHA_B,), "prod")
    old = provenance.Provenance((SHA_A,), "prod")
    assert provenance.after_update(old, new, every_item=True, where="f") == new
    # Some items kept: they were sealed with the old certificate, which stays listed after the new one.
    assert provenance.after_update(old, new, every_item=False, where="f") == provenance.Provenance(
        (SHA_B, SHA_A), "prod"
    )
    # Unknown before and items kept: still unknown (no claim about items sealed by someone else).
    assert provenance.after_update(None, new, every_item=False, where="f") is None
    with pytest.raises(InputError, match="sealed for environment 'dev', not 'prod'"):
        provenance.after_update(provenance.Provenance((SHA_A,), "dev"), new, every_item=False, where="f")
