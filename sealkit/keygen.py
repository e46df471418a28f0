"""New sealing key pairs in the form Bitnami's controller makes them.

Bitnami's certificates carry KeyUsage EncipherOnly alone, which `cryptography` cannot build; ours
carry keyEncipherment/dataEncipherment (kubeseal reads only the public key and validity dates).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
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
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    held = PrivateKey(key, fingerprint(key.public_key()), "generated", certificate.not_valid_before_utc, cert_pem)
    return GeneratedKey(private_pem, cert_pem, held)
