"""Sealing certificates: the public half a cluster hands out, loaded and checked for sealing.

Where it sits: the core, under everything that seals (`sealing`, `provenance`, `seal`'s certificate
source, the environments' certificates); `sealkit.keys` re-exports it beside the private keys. It loads no
more of `cryptography` than sealing needs (the X.509 parser and SHA-256; the serialization module, with
its SSH and bcrypt code, only when a certificate's PEM is asked for): `sealkit seal --cert` starts with it
(docs/benchmarks.md, CLI start-up).

Bitnami's certificates carry KeyUsage EncipherOnly alone, which `cryptography` refuses to parse
(ValueError on `.extensions`): this module never reads extensions, only the public key and dates.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import NamedTuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit.errors import KeyMaterialError

MIN_SEALING_BITS = 2048  # as the controller's --key-size and a KEK's floor


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _ssh_mpint(value: int) -> bytes:
    return _ssh_string(value.to_bytes(value.bit_length() // 8 + 1, "big"))


def fingerprint(public_key: rsa.RSAPublicKey) -> str:
    """kubeseal's fingerprint: SHA256 of the key's SSH wire encoding (RFC 4253), unpadded base64.

    The encoding is built from the key's numbers: cheaper to start than cryptography's SSH module.
    """
    numbers = public_key.public_numbers()
    wire = _ssh_string(b"ssh-rsa") + _ssh_mpint(numbers.e) + _ssh_mpint(numbers.n)
    return "SHA256:" + base64.b64encode(hashlib.sha256(wire).digest()).decode().rstrip("=")


class SealingCertificate(NamedTuple):
    """The public half a cluster hands out for sealing (a named tuple: cheaper to define than a dataclass,
    and this one is defined at every start of `sealkit seal`)."""

    public_key: rsa.RSAPublicKey
    not_before: dt.datetime
    not_after: dt.datetime
    certificate: x509.Certificate
    fingerprint: str  # kubeseal's: SHA256 of the public key's SSH encoding
    sha256: str  # lower-case hex SHA-256 of the DER certificate (sealkit's provenance annotation)

    @property
    def pem(self) -> bytes:
        """The certificate as PEM (what `sealkit cert` prints and `certs pull` writes)."""
        from cryptography.hazmat.primitives.serialization import Encoding

        return self.certificate.public_bytes(Encoding.PEM)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _holds_private_key(pem: bytes) -> bool:
    """A PEM `-----BEGIN ... PRIVATE KEY-----` block (PKCS#8, PKCS#1, EC, encrypted): any of them."""
    start = pem.find(b"-----BEGIN ")
    while start != -1:
        end = pem.find(b"-----", start + 11)
        if end == -1:
            return False
        if pem[start + 11 : end].endswith(b"PRIVATE KEY"):
            return True
        start = pem.find(b"-----BEGIN ", end + 5)
    return False


def refuse_private_key(data: bytes, source: str) -> None:
    """Refuses certificate bytes that hold a private key: a file that is committed and shared (or a
    controller serving its key)."""
    stripped = data.strip()
    if _holds_private_key(stripped):
        if b"-----BEGIN CERTIFICATE-----" not in stripped:
            raise KeyMaterialError("a private key, not a certificate (the cluster's: `sealkit cert`)", where=source)
        raise KeyMaterialError(
            "holds a private key beside the certificate: a sealing certificate is public, keep the key out of it",
            where=source,
        )


def rsa_key(cert: x509.Certificate) -> rsa.RSAPublicKey | None:
    """The certificate's RSA public key; None for any other key, one `cryptography` does not know among them
    (UnsupportedAlgorithm, which is no ValueError: it ended a run as an internal error)."""
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return None
    return key if isinstance(key, rsa.RSAPublicKey) else None


# What cryptography raises for bytes that are no certificate it can read: ValueError, and for a version field
# other than v1 or v3 its own InvalidVersion, which is no ValueError (it ended runs as an internal error and
# escaped the controller's key store).
NOT_A_CERTIFICATE: tuple[type[Exception], ...] = (ValueError, x509.InvalidVersion)

# What a key's certificate and the key itself are called where they are kept together, for the words of
# `refuse_another_keys_certificate`: a key Secret's fields, or the blocks of one PEM text (a key file, a PEM
# backup, an escrowed key's value).
SECRET_FIELDS = ("tls.crt", "tls.key")
# RFC 5280 forbids it; Go refuses to parse it from 1.23 (kubeseal, Bitnami's controller); cryptography only warns.
NEGATIVE_SERIAL = "the certificate's serial number is negative (RFC 5280 forbids it; kubeseal refuses it)"
PEM_BLOCKS = ("the certificate", "the private key")


def refuse_another_keys_certificate(
    certificate_pem: bytes | None,
    public_key: rsa.RSAPublicKey,
    where: str,
    *,
    names: tuple[str, str] = SECRET_FIELDS,
) -> None:
    """Refuses a certificate kept beside a private key that is not that key's: one that does not parse, whose
    key is not RSA (or of a type `cryptography` does not know), or of another RSA key. None is no certificate.

    The one check of "does this certificate belong to this private key", for everything that holds both: the
    controller's key store (it serves the certificate for sealing and dates the key by it), `keys restore`,
    escrow (both ways) and offline key loading. The first certificate is the one checked, as it is the one
    served and dated. `names` says what the two are called where they were found (`SECRET_FIELDS`,
    `PEM_BLOCKS`); callers add what they did not do (e.g. "; nothing restored")."""
    if certificate_pem is None:
        return
    cert_name, key_name = names
    try:
        cert = x509.load_pem_x509_certificates(certificate_pem)[0]
    except NOT_A_CERTIFICATE:
        raise KeyMaterialError(f"{cert_name} does not parse", where=where) from None
    if cert.serial_number < 0:
        raise KeyMaterialError(f"{cert_name}'s serial number is negative (RFC 5280 forbids it)", where=where)
    certified = rsa_key(cert)
    if certified is None:
        raise KeyMaterialError(f"{cert_name}'s key is not RSA", where=where)
    if certified.public_numbers() != public_key.public_numbers():
        raise KeyMaterialError(f"{cert_name} is the certificate of another key, not of {key_name}", where=where)


def _issued(issuer: x509.Certificate, cert: x509.Certificate) -> bool:
    """`cert` is signed by `issuer`'s key under `issuer`'s name (read from names and the signature only: no
    extensions, which Bitnami's certificates make unreadable to `cryptography`)."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _other_key(cert: x509.Certificate, key: rsa.RSAPublicKey) -> bool:
    other = rsa_key(cert)
    return other is None or other.public_numbers() != key.public_numbers()


def refuse_issuer_first(certs: Sequence[x509.Certificate], source: str) -> None:
    """Refuses a bundle whose first certificate (the one sealing uses, as kubeseal uses it) issued another
    certificate of the bundle: a CA, or a chain listed root first. Sealing with it would seal for the CA's
    key, which no controller holds. Bitnami's own certificates are self-signed (and say CA:TRUE), so the
    flag cannot tell; a signature can: the first certificate's key signed another one's, of another key."""
    first = certs[0]
    key = rsa_key(first)
    if key is None:
        return  # refused for its key (`sealing_key_certificate`), or read for comparing only
    if any(_other_key(other, key) and _issued(first, other) for other in certs[1:]):
        raise KeyMaterialError(
            "the first certificate issued another certificate of the file (a CA), it is not a sealing certificate: "
            "put the sealing certificate first, or alone in the file",
            where=source,
        )


def _parse_certificate(data: bytes, source: str) -> x509.Certificate:
    refuse_private_key(data, source)
    stripped = data.strip()
    try:
        if b"-----BEGIN" in stripped:  # text before the PEM (openssl's "Bag Attributes") is skipped, as by Go's
            certs = x509.load_pem_x509_certificates(stripped)
        else:
            return x509.load_der_x509_certificate(stripped)
    except NOT_A_CERTIFICATE:
        raise KeyMaterialError("not a PEM or DER certificate", where=source) from None
    refuse_issuer_first(certs, source)
    return certs[0]


def sealing_key_certificate(data: bytes, source: str) -> x509.Certificate:
    """The first certificate in `data` (as kubeseal takes it), refused unless its key can seal (RSA of at least
    2048 bits, no private key beside it, not the issuer of another certificate in `data`, a serial number Go
    parses: not negative); its dates are not
    looked at (`load_certificate` and `certs pull` judge them)."""
    cert = _parse_certificate(data, source)
    if cert.serial_number < 0:
        raise KeyMaterialError(NEGATIVE_SERIAL, where=source)
    public_key = rsa_key(cert)
    if public_key is None:
        raise KeyMaterialError("the certificate's key is not RSA (Sealed Secrets uses RSA)", where=source)
    if public_key.key_size < MIN_SEALING_BITS:  # what is sealed sits in a repo for years, for anyone to attack
        raise KeyMaterialError(
            f"the certificate's key is {public_key.key_size}-bit RSA, too weak to seal with "
            f"(at least {MIN_SEALING_BITS} bits; controllers make 4096)",
            where=source,
        )
    return cert


def refuse_not_yet_valid(cert: x509.Certificate, source: str, now: dt.datetime | None = None) -> None:
    not_before = cert.not_valid_before_utc
    if (now or _utc_now()) < not_before:
        raise KeyMaterialError(f"the certificate is not valid before {not_before:%Y-%m-%d %H:%M:%S} UTC", where=source)


def load_certificate(data: bytes, source: str = "certificate", *, now: dt.datetime | None = None) -> SealingCertificate:
    """The first certificate in `data` (`sealing_key_certificate`); refused once expired or before it is
    valid."""
    cert = sealing_key_certificate(data, source)
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    now = now or _utc_now()
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    if now > not_after:
        raise KeyMaterialError(f"the certificate expired on {not_after:%Y-%m-%d %H:%M:%S} UTC", where=source)
    refuse_not_yet_valid(cert, source, now)
    der_sha256 = cert.fingerprint(hashes.SHA256()).hex()  # the SHA-256 of its DER encoding
    return SealingCertificate(public_key, not_before, not_after, cert, fingerprint(public_key), der_sha256)


def certificate_not_before(pem: bytes) -> dt.datetime | None:
    """NotBefore of a PEM certificate, or None when it does not parse (dates only, no extensions)."""
    try:
        return x509.load_pem_x509_certificates(pem)[0].not_valid_before_utc
    except NOT_A_CERTIFICATE:
        return None
