"""The one check that a certificate kept beside a private key is that key's (`refuse_another_keys_certificate`)."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import given
from hypothesis import strategies as st

from sealkit.certificates import PEM_BLOCKS, SECRET_FIELDS, refuse_another_keys_certificate
from sealkit.errors import KeyMaterialError
from sealkit.keygen import GeneratedKey, generate_key_pair

RSA_ENCRYPTION = bytes.fromhex("06092A864886F70D010101")  # OID 1.2.840.113549.1.1.1: the key's algorithm


PAIR = generate_key_pair(bits=2048)
DER = x509.load_pem_x509_certificate(PAIR.certificate_pem).public_bytes(serialization.Encoding.DER)


def armoured(der: bytes) -> bytes:
    return b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"


def unknown_key_type(certificate_pem: bytes) -> bytes:
    """The certificate with its key's algorithm an OID `cryptography` does not know (its `public_key()` raises
    UnsupportedAlgorithm, which is no ValueError)."""
    der = x509.load_pem_x509_certificate(certificate_pem).public_bytes(serialization.Encoding.DER)
    assert der.count(RSA_ENCRYPTION) == 1  # in the key only (the signature is sha256WithRSAEncryption)
    unknown = der.replace(RSA_ENCRYPTION, bytes.fromhex("06092A864886F70D010109"))
    return armoured(unknown)


@pytest.fixture(scope="module")
def pair() -> GeneratedKey:
    return PAIR


@pytest.fixture(scope="module")
def other() -> GeneratedKey:
    return generate_key_pair(bits=2048)


def test_its_own_certificate_and_none_pass(pair: GeneratedKey) -> None:
    public = pair.key.public_key
    refuse_another_keys_certificate(pair.certificate_pem, public, "here")
    refuse_another_keys_certificate(pair.certificate_pem + b"\nnot read\n", public, "here")  # the first is checked
    refuse_another_keys_certificate(None, public, "here")


def test_one_wording_for_secrets_and_pem(pair: GeneratedKey, other: GeneratedKey) -> None:
    public = pair.key.public_key
    for names, wrong in [
        (SECRET_FIELDS, "tls.crt is the certificate of another key, not of tls.key: here"),
        (PEM_BLOCKS, "the certificate is the certificate of another key, not of the private key: here"),
    ]:
        with pytest.raises(KeyMaterialError) as crossed:
            refuse_another_keys_certificate(other.certificate_pem, public, "here", names=names)
        assert str(crossed.value) == wrong
        # the first certificate is the one served and dated: its own after another key's does not help
        with pytest.raises(KeyMaterialError):
            refuse_another_keys_certificate(other.certificate_pem + pair.certificate_pem, public, "here", names=names)
    with pytest.raises(KeyMaterialError) as damaged:
        refuse_another_keys_certificate(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", public, "x")
    assert str(damaged.value) == "tls.crt does not parse: x"
    with pytest.raises(KeyMaterialError) as empty:  # b"" is a certificate that does not parse, not none
        refuse_another_keys_certificate(b"", public, "x", names=PEM_BLOCKS)
    assert str(empty.value) == "the certificate does not parse: x"


def test_a_certificate_of_a_key_type_cryptography_does_not_know_is_refused_in_one_line(pair: GeneratedKey) -> None:
    """Its `public_key()` raises UnsupportedAlgorithm: through `keys restore`, offline key loading, escrow and the
    controller's key store it was an internal error (and stopped the controller's start-up), not a refusal."""
    with pytest.raises(KeyMaterialError) as unknown:
        refuse_another_keys_certificate(unknown_key_type(pair.certificate_pem), pair.key.public_key, "x")
    assert str(unknown.value) == "tls.crt's key is not RSA: x"


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")  # a changed serial
@given(st.lists(st.tuples(st.integers(0, len(DER) - 1), st.integers(0, 255)), max_size=4), st.booleans())
def test_any_damaged_certificate_passes_only_as_its_keys_or_gives_one_key_material_error(
    changes: list[tuple[int, int]], pem: bool
) -> None:
    """The key's own certificate with bytes changed anywhere (its key, its algorithm, its lengths): either still
    its key's certificate, or one `KeyMaterialError` naming where; never another exception."""
    der = bytearray(DER)
    for at, value in changes:
        der[at] = value
    names = PEM_BLOCKS if pem else SECRET_FIELDS
    try:
        refuse_another_keys_certificate(armoured(bytes(der)), PAIR.key.public_key, "x", names=names)
    except KeyMaterialError as exc:
        assert exc.where == "x" and str(exc).startswith(names[0]) and "\n" not in str(exc)
    else:  # passed: its first certificate parses and holds the very key
        cert = x509.load_pem_x509_certificate(armoured(bytes(der)))
        assert cert.public_key().public_numbers() == PAIR.key.public_key.public_numbers()  # type: ignore[union-attr]


def test_a_negative_serial_number_is_refused(pair: GeneratedKey) -> None:
    """Go refuses to parse such a certificate from 1.23 on (kubeseal, Bitnami's controller); cryptography only
    warned, so sealkit sealed with it and its controller served it."""
    from sealkit.certificates import NEGATIVE_SERIAL, sealing_key_certificate
    from tests.support.keys import negative_serial_certificate

    pem = negative_serial_certificate(pair.key.key)
    with pytest.raises(KeyMaterialError) as sealing:
        sealing_key_certificate(pem, "cert.pem")
    assert str(sealing.value) == f"{NEGATIVE_SERIAL}: cert.pem"
    with pytest.raises(KeyMaterialError) as beside:
        refuse_another_keys_certificate(pem, pair.key.public_key, "key Secret kube-system/k")
    assert str(beside.value) == "tls.crt's serial number is negative (RFC 5280 forbids it): key Secret kube-system/k"


def version_2(certificate_pem: bytes) -> bytes:
    """The certificate with its version field saying v2 (1), which `cryptography` refuses with InvalidVersion: an
    Exception of its own, no ValueError (found by the property test above, `changes=[(12, 1)]`)."""
    der = x509.load_pem_x509_certificate(certificate_pem).public_bytes(serialization.Encoding.DER)
    v3 = b"\xa0\x03\x02\x01\x02"
    assert der.count(v3) == 1
    return armoured(der.replace(v3, b"\xa0\x03\x02\x01\x01"))


def test_a_certificate_of_a_version_cryptography_refuses_is_one_line_everywhere(pair: GeneratedKey) -> None:
    """Every place that parses a certificate caught ValueError only: a v2 certificate ended `seal --cert`, the
    environments' certificate reading, key loading, wrapping and the controller's key store with InvalidVersion
    (an internal error). Each says it in one line now, naming where."""
    from sealkit.certificates import certificate_not_before, sealing_key_certificate
    from sealkit.envs.certs import read_certificates
    from sealkit.keys import load_private_keys
    from sealkit.wrapping.envelope import certificate_facts

    pem = version_2(pair.certificate_pem)
    with pytest.raises(x509.InvalidVersion):
        x509.load_pem_x509_certificates(pem)
    refusals = [
        lambda: sealing_key_certificate(pem, "cert.pem"),
        lambda: refuse_another_keys_certificate(pem, pair.key.public_key, "cert.pem"),
        lambda: read_certificates(pem, "cert.pem"),
        lambda: certificate_facts(pem, "cert.pem"),
        lambda: load_private_keys(pair.private_pem + pem, "cert.pem", check_certificates=True),
    ]
    for refusal in refusals:
        with pytest.raises(KeyMaterialError) as refused:
            refusal()
        assert str(refused.value).count("cert.pem") == 1 and "\n" not in str(refused.value)
    assert certificate_not_before(pem) is None  # dating only: no date from it
