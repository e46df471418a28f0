"""Key and certificate material for seeded objects: JWKs, self-signed certificates, PFX/PEM values.

RSA key generation costs ~80 ms, so seeded keys share one cached key per size unless the
caller passes its own; ids, versions and certificates still differ per object.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from sealkit.keygen import build_certificate

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

PKCS12 = "application/x-pkcs12"
PEM = "application/x-pem-file"

_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@functools.cache
def shared_rsa_key(size: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def new_key(kty: Literal["RSA", "EC"], size: int = 2048, curve: str = "P-256") -> PrivateKey:
    if kty == "RSA":
        return shared_rsa_key(size)
    if curve not in _CURVES:
        raise ValueError(f"unsupported curve {curve!r}; use one of {sorted(_CURVES)}")
    return ec.generate_private_key(_CURVES[curve]())


def _int_bytes(value: int, length: int | None = None) -> bytes:
    size = length or max(1, (value.bit_length() + 7) // 8)
    return value.to_bytes(size, "big")


def public_jwk(key: PrivateKey) -> tuple[dict[str, str], list[str]]:
    """The public JWK members and the default key_ops the service lists for this key type."""
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": b64url(_int_bytes(numbers.n)), "e": b64url(_int_bytes(numbers.e))}
        return jwk, ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
    point = key.public_key().public_numbers()
    length = (key.curve.key_size + 7) // 8
    jwk = {
        "kty": "EC",
        "crv": _CURVE_NAMES[key.curve.name],
        "x": b64url(_int_bytes(point.x, length)),
        "y": b64url(_int_bytes(point.y, length)),
    }
    return jwk, ["sign", "verify"]


def self_signed(
    key: PrivateKey,
    subject: str,
    dns_names: list[str],
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    """A leaf certificate like the service's "Self" issuer makes."""
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
    extensions: list[tuple[x509.ExtensionType, bool]] = [(usage, False)]
    if dns_names:
        extensions.append((x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), False))
    return build_certificate(key, subject=subject, not_before=not_before, not_after=not_after, extensions=extensions)


def thumbprint(der: bytes) -> str:
    """x5t: base64url SHA-1 of the DER certificate."""
    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 - x5t is defined as SHA-1
    digest.update(der)
    return b64url(digest.finalize())


def secret_value(cert: x509.Certificate, key: PrivateKey, content_type: str) -> str:
    """The backing secret's value: base64 PFX (no password) or PEM key + certificate."""
    if content_type == PKCS12:
        pfx = pkcs12.serialize_key_and_certificates(None, key, cert, None, serialization.NoEncryption())
        return base64.b64encode(pfx).decode("ascii")
    if content_type == PEM:
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return (key_pem + cert.public_bytes(serialization.Encoding.PEM)).decode("ascii")
    raise ValueError(f"certificate content type must be {PKCS12} or {PEM}, not {content_type!r}")


def convert_secret(value: str, from_type: str, to_type: str) -> str:
    """Convert a certificate-backed secret between PFX and PEM (the `outContentType` query)."""
    if from_type == to_type:
        return value
    if from_type == PKCS12:
        key, cert, _ = pkcs12.load_key_and_certificates(base64.b64decode(value), None)
    else:
        raw = value.encode("ascii")
        loaded = serialization.load_pem_private_key(raw, password=None)
        cert = x509.load_pem_x509_certificate(raw[raw.index(b"-----BEGIN CERTIFICATE-----") :])
        key = loaded
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) or cert is None:
        raise ValueError("certificate secret holds no usable key and certificate")
    return secret_value(cert, key, to_type)
