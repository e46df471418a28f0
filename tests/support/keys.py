"""Keys for tests: a fixed key ring for the controller's HTTP API (the controller serves its live KeyStore), and a
KEK in memory for the envelope and the key lifecycle without a vault."""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from cryptography.x509.oid import NameOID

from sealkit.keys import KeyRing
from sealkit.wrapping.envelope import KekError, Wrapped

KEK = "https://kv.vault.azure.net/keys/kek"


@dataclass
class StaticKeys:
    """A fixed key ring: the HTTP API's KeySource without a running controller."""

    ring: KeyRing

    def keyring(self) -> KeyRing:
        return self.ring

    def newest_certificate_pem(self) -> bytes | None:
        newest = self.ring.newest()
        return newest.certificate_pem if newest else None


class LocalKek:
    """A KEK in memory: one AES-256 key per version, RFC 3394 key wrap (A256KW)."""

    def __init__(self) -> None:
        self.versions = {"v1": os.urandom(32)}
        self.current = "v1"
        self.unwraps = 0

    def current_id(self) -> str:
        return f"{KEK}/{self.current}"

    def wrap(self, data_key: bytes) -> Wrapped:
        return Wrapped(self.current_id(), "A256KW", aes_key_wrap(self.versions[self.current], data_key))

    def unwrap(self, kek_id: str, algorithm: str, wrapped: bytes) -> bytes:
        self.unwraps += 1
        version = kek_id.rsplit("/", 1)[-1]
        try:
            return aes_key_unwrap(self.versions[version], wrapped)
        except InvalidUnwrap:
            raise KekError("unwrapKey failed (400 BadParameter)", "invalid", where=f"Key Vault key {kek_id}") from None


def negative_serial_certificate(key: rsa.RSAPrivateKey) -> bytes:
    """`key`'s self-signed certificate (PEM) with the serial number -1: RFC 5280 forbids it, Go (1.23 on, so
    kubeseal and Bitnami's controller) refuses to parse it, cryptography parses it with a warning. Made with the
    serial 0x7f, whose one DER byte is then turned into 0xff (same length; the signature no longer matches)."""
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sealed-secret")])
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    builder = builder.serial_number(0x7F).not_valid_before(now - dt.timedelta(days=1))
    certificate = builder.not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256())
    der = certificate.public_bytes(serialization.Encoding.DER).replace(b"\x02\x01\x7f", b"\x02\x01\xff", 1)
    return b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
