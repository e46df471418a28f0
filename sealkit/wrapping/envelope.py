"""The envelope: a sealing private key encrypted with a random data key, the data key wrapped by a KEK.

Why an envelope: Key Vault's unwrapKey/decrypt take no OAEP label, and Sealed Secrets binds the scope into
the OAEP label, so the vault cannot open sealed values itself; it can keep the key that opens the sealing
key. Layout (scheme `sealkit-wrapped-key/1`):

- a fresh 32-byte data key per wrap; AES-256-GCM, 12-byte random nonce, over the private key as PKCS#8 DER;
  associated data `sealkit-wrapped-key/1 <fingerprint of the certificate>`, so a ciphertext moved beside
  another certificate does not open; the ciphertext is stored as nonce || ciphertext || tag;
- the data key wrapped by the KEK through the vault: RSA-OAEP-256 for RSA KEKs, A256KW for AES KEKs;
- the KEK's full versioned id and the algorithm, and the certificate in clear.

Opening checks the tag, that the key is RSA, and that it is the certificate's key. The vault is a
`KeyWrapper` (`sealkit.clients.keyvault.kek.VaultKek` in production). Nothing here logs, and no error
quotes key material.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sealkit.certificates import NOT_A_CERTIFICATE, PEM_BLOCKS, refuse_another_keys_certificate, rsa_key
from sealkit.errors import KeyMaterialError, SealkitError
from sealkit.keys import PrivateKey, certificate_not_before, fingerprint
from sealkit.wrapping.kekid import check_algorithm, parse_kek_id
from sealkit.wrapping.names import CERTIFICATE, SCHEME_VERSION

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16


class KekError(SealkitError):
    """The KEK could not be used (vault unreachable, permission missing, key disabled...); `reason` says which.

    Reasons (the `reason` label of the controller's KEK metrics): forbidden, disabled, not_found, unreachable,
    credential, throttled, invalid, other. Like every `SealkitError` it reads `what: where`; `where` names the
    vault key (`Key Vault key <versioned id>`) or the flag that configures it.
    """

    def __init__(
        self,
        message: str,
        reason: str = "other",
        retry_after: float | None = None,
        *,
        where: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(message, where=where)
        self.reason = reason
        self.retry_after = retry_after

    @property
    def permanent(self) -> bool:
        """Retrying the same call cannot help (the wrapped data is bad), unlike a vault or permission problem."""
        return self.reason == "invalid"


@dataclass(frozen=True)
class Wrapped:
    """A data key wrapped by the vault: which KEK version, which algorithm, and the wrapped bytes."""

    kek_id: str
    algorithm: str
    value: bytes = field(repr=False)


class KeyWrapper(Protocol):
    """What the envelope needs of a KEK (a vault): wrap with the current version, unwrap with any."""

    def current_id(self) -> str:
        """The full versioned id new wraps use."""
        ...

    def wrap(self, data_key: bytes) -> Wrapped: ...

    def unwrap(self, kek_id: str, algorithm: str, wrapped: bytes) -> bytes: ...


@dataclass(frozen=True)
class WrappedKey:
    """One sealing key as stored wrapped: the certificate in clear, the rest opens only through the KEK."""

    certificate_pem: bytes = field(repr=False)
    fingerprint: str
    not_before: dt.datetime | None
    kek_id: str
    algorithm: str
    wrapped_data_key: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)
    source: str = ""

    def same_envelope(self, other: WrappedKey) -> bool:
        return (
            self.fingerprint == other.fingerprint
            and self.kek_id == other.kek_id
            and self.algorithm == other.algorithm
            and self.wrapped_data_key == other.wrapped_data_key
            and self.ciphertext == other.ciphertext
        )


def _aad(fp: str) -> bytes:
    return f"{SCHEME_VERSION} {fp}".encode()


def certificate_facts(certificate_pem: bytes, where: str, name: str = CERTIFICATE) -> tuple[str, dt.datetime]:
    """(fingerprint, NotBefore) of the certificate kept in clear; RSA only. A certificate that does not parse, or
    whose key is not RSA or of a type `cryptography` does not know (UnsupportedAlgorithm, no ValueError: it ended
    `keys wrap` as an internal error and escaped the controller's wrapped-key loading), is refused in the words of
    `sealkit.certificates.refuse_another_keys_certificate`; `name` is what the certificate is called where it is
    kept (a wrapped key Secret's `tls.crt`, an escrowed copy's "the certificate")."""
    try:
        cert = x509.load_pem_x509_certificates(certificate_pem)[0]
    except NOT_A_CERTIFICATE:
        raise KeyMaterialError(f"{name} does not parse", where=where) from None
    public = rsa_key(cert)
    if public is None:
        raise KeyMaterialError(f"{name}'s key is not RSA", where=where)
    return fingerprint(public), cert.not_valid_before_utc


def wrap_private_key(key: PrivateKey, kek: KeyWrapper) -> WrappedKey:
    """`key` under a fresh data key, the data key wrapped by `kek` (one wrap call, no unwrap)."""
    where = f"sealing key {key.fingerprint}"
    if not key.certificate_pem:
        raise KeyMaterialError("the key has no certificate; a wrapped key keeps its certificate in clear", where=where)
    # The one check that a certificate is its key's (as escrow checks a key it is given: the two are one PrivateKey)
    refuse_another_keys_certificate(key.certificate_pem, key.public_key, where, names=PEM_BLOCKS)
    data_key = AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)
    nonce = os.urandom(NONCE_BYTES)
    der = key.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ciphertext = nonce + AESGCM(data_key).encrypt(nonce, der, _aad(key.fingerprint))
    del der
    wrapped = kek.wrap(data_key)
    del data_key
    check_algorithm(wrapped.algorithm, where)
    return WrappedKey(
        certificate_pem=key.certificate_pem,
        fingerprint=key.fingerprint,
        not_before=key.not_before or certificate_not_before(key.certificate_pem),
        kek_id=wrapped.kek_id,
        algorithm=wrapped.algorithm,
        wrapped_data_key=wrapped.value,
        ciphertext=ciphertext,
        source=key.source,
    )


def open_with_data_key(wrapped: WrappedKey, data_key: bytes, where: str | None = None) -> PrivateKey:
    """The private key of `wrapped`, given its unwrapped data key (checked against the certificate)."""
    where = where or wrapped.source or f"wrapped key {wrapped.fingerprint}"
    if len(data_key) != DATA_KEY_BYTES:
        raise KeyMaterialError(f"the unwrapped data key is {len(data_key)} bytes, not {DATA_KEY_BYTES}", where=where)
    if len(wrapped.ciphertext) < NONCE_BYTES + TAG_BYTES + 1:
        raise KeyMaterialError("the encrypted key is truncated", where=where)
    nonce, body = wrapped.ciphertext[:NONCE_BYTES], wrapped.ciphertext[NONCE_BYTES:]
    try:
        der = AESGCM(data_key).decrypt(nonce, body, _aad(wrapped.fingerprint))
    except InvalidTag:
        raise KeyMaterialError(
            "the encrypted key does not decrypt (corrupted, or not the key of its certificate)", where=where
        ) from None
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        raise KeyMaterialError("the decrypted key is not a PKCS#8 private key", where=where) from None
    finally:
        del der
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyMaterialError("the decrypted key is not RSA", where=where)
    fp = fingerprint(key.public_key())
    if fp != wrapped.fingerprint:
        raise KeyMaterialError(f"the decrypted key is {fp}, not the key of its certificate", where=where)
    return PrivateKey(key, fp, where, wrapped.not_before, wrapped.certificate_pem)


def unwrap_private_key(wrapped: WrappedKey, kek: KeyWrapper, where: str | None = None) -> PrivateKey:
    """One unwrap call to the vault, then AES-GCM locally; the key lives in memory only."""
    data_key = kek.unwrap(wrapped.kek_id, wrapped.algorithm, wrapped.wrapped_data_key)
    try:
        return open_with_data_key(wrapped, data_key, where)
    finally:
        del data_key


def wrap_verified(key: PrivateKey, kek: KeyWrapper) -> WrappedKey:
    """Wrap, then unwrap the result and compare: a wrapped copy is trusted only once it has opened."""
    wrapped = wrap_private_key(key, kek)
    opened = unwrap_private_key(wrapped, kek, f"sealing key {key.fingerprint} (wrap check)")
    if opened.fingerprint != key.fingerprint:  # open_with_data_key checks this too; kept explicit
        raise KeyMaterialError("the wrapped copy opens to another key", where=f"sealing key {key.fingerprint}")
    return wrapped


# --- the JSON form (escrowed copies) ------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def to_document(wrapped: WrappedKey) -> dict[str, str]:
    """The envelope as a JSON object (what an escrowed copy of a wrapped key holds)."""
    return {
        "scheme": SCHEME_VERSION,
        "fingerprint": wrapped.fingerprint,
        "certificate": wrapped.certificate_pem.decode(),
        "kekId": wrapped.kek_id,
        "algorithm": wrapped.algorithm,
        "wrappedDataKey": _b64(wrapped.wrapped_data_key),
        "ciphertext": _b64(wrapped.ciphertext),
    }


def to_json(wrapped: WrappedKey) -> str:
    return json.dumps(to_document(wrapped), sort_keys=True)


def assemble(
    where: str,
    *,
    scheme: str,
    certificate: bytes,
    kek_id: str,
    algorithm: str,
    wrapped_data_key: bytes,
    ciphertext: bytes,
    certificate_name: str = CERTIFICATE,
) -> WrappedKey:
    """A checked `WrappedKey` from decoded fields (the wrapped key Secret's reader and `from_json` use this);
    `certificate_name` is what its certificate is called in refusals (`certificate_facts`)."""
    if scheme != SCHEME_VERSION:
        raise KeyMaterialError(f"scheme {scheme!r} is not {SCHEME_VERSION}", where=where)
    fp, not_before = certificate_facts(certificate, where, certificate_name)
    try:
        parsed = parse_kek_id(kek_id, "KEK id")
    except SealkitError as exc:  # the field and its value are what, the Secret or document is where
        raise KeyMaterialError(f"its {exc.where} is not usable ({exc.what})", where=where) from None
    try:
        check_algorithm(algorithm, where)
    except SealkitError as exc:
        raise KeyMaterialError(exc.what, where=exc.where) from None
    if not parsed.version:
        raise KeyMaterialError(f"the KEK id {kek_id} has no version", where=where)
    if not wrapped_data_key:
        raise KeyMaterialError("the wrapped data key is empty", where=where)
    if len(ciphertext) < NONCE_BYTES + TAG_BYTES + 1:
        raise KeyMaterialError("the encrypted key is truncated", where=where)
    return WrappedKey(certificate, fp, not_before, parsed.url, algorithm, wrapped_data_key, ciphertext, where)


def from_json(text: str, where: str) -> WrappedKey:
    """The envelope an escrowed copy holds (see `to_document`), checked."""
    try:
        document = json.loads(text)
    except ValueError:
        raise KeyMaterialError("not a wrapped key document (JSON)", where=where) from None
    if not isinstance(document, Mapping):
        raise KeyMaterialError("not a wrapped key document", where=where)

    def field_text(name: str) -> str:
        value = document.get(name)
        if not isinstance(value, str) or not value:
            raise KeyMaterialError(f"{name} is missing", where=where)
        return value

    def field_bytes(name: str) -> bytes:
        try:
            return base64.b64decode(field_text(name), validate=True)
        except (binascii.Error, ValueError):
            raise KeyMaterialError(f"{name} is not valid base64", where=where) from None

    wrapped = assemble(
        where,
        scheme=field_text("scheme"),
        certificate=field_text("certificate").encode(),
        kek_id=field_text("kekId"),
        algorithm=field_text("algorithm"),
        wrapped_data_key=field_bytes("wrappedDataKey"),
        ciphertext=field_bytes("ciphertext"),
        certificate_name=PEM_BLOCKS[0],  # as an escrowed plaintext key's certificate is called
    )
    if document.get("fingerprint") not in (None, wrapped.fingerprint):
        raise KeyMaterialError("its fingerprint field is not its certificate's", where=where)
    return wrapped
