"""New sealing key pairs in the form Bitnami's controller makes them, and the one X.509 certificate builder.

Bitnami's certificates carry KeyUsage EncipherOnly alone, which `cryptography` cannot build; ours
carry keyEncipherment/dataEncipherment (kubeseal reads only the public key and validity dates).
`build_certificate` is the only place that builds a certificate: the sealing keys here, and the tests' and
test servers' certificates (unusual validity dates, the local Key Vault's TLS chain and "Self" issuer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID

from sealkit.keys import PrivateKey, fingerprint

DEFAULT_KEY_BITS = 4096
DEFAULT_VALIDITY = dt.timedelta(hours=87600)  # Bitnami's --key-ttl default: 10 years


@dataclass(frozen=True)
class GeneratedKey:
    """A fresh key pair: PKCS#1 private PEM (as key Secrets hold it) and a self-signed certificate."""

    private_pem: bytes = field(repr=False)
    certificate_pem: bytes
    key: PrivateKey


def generate_key_pair(
    *,
    bits: int = DEFAULT_KEY_BITS,
    common_name: str = "",
    validity: dt.timedelta = DEFAULT_VALIDITY,
    now: dt.datetime | None = None,
) -> GeneratedKey:
    """An RSA key and a self-signed certificate valid from `now` for `validity`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    start = now or dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=True,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    certificate = build_certificate(
        key,
        subject=common_name,
        not_before=start,
        not_after=start + validity,
        extensions=[(x509.BasicConstraints(ca=True, path_length=None), True), (usage, True)],
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    held = PrivateKey(key, fingerprint(key.public_key()), "generated", certificate.not_valid_before_utc, cert_pem)
    return GeneratedKey(private_pem, cert_pem, held)


def build_certificate(
    signer: CertificateIssuerPrivateKeyTypes,
    *,
    subject: str | x509.Name,
    not_before: dt.datetime,
    not_after: dt.datetime,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    public_key: CertificatePublicKeyTypes | None = None,
    issuer: x509.Name | None = None,
) -> x509.Certificate:
    """A certificate for `public_key` signed (SHA-256) by `signer`: self-signed unless `issuer` (the signer's
    name) and `public_key` are given. A string `subject` is a common name ("" for an empty name).
    `extensions` are (extension, critical) pairs, added in order."""
    name = subject if isinstance(subject, x509.Name) else _common_name(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(public_key or signer.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer, hashes.SHA256())


def _common_name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
