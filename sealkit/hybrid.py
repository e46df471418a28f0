"""The Sealed Secrets value format: RSA-OAEP-SHA256 wraps a fresh AES-256-GCM session key.

    uint16 BE len(R) || R = RSA-OAEP(SHA-256, MGF1 SHA-256, label)(32-byte key) || AES-GCM(key, zero nonce, plaintext)

A zero nonce is safe because every value gets its own random session key.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SESSION_KEY_BYTES = 32
_NONCE = bytes(12)
_GCM_TAG_BYTES = 16


class MalformedValue(ValueError):
    """The bytes are not in the hybrid format at all (too short, length prefix off)."""


class WrongKeyOrLabel(ValueError):
    """The RSA part does not open with this key and label."""


class TamperedValue(ValueError):
    """The RSA part opened but the AES-GCM part failed authentication."""


def _oaep(label: bytes) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None)


def encrypt(public_key: rsa.RSAPublicKey, plaintext: bytes, label: bytes) -> bytes:
    """Seal `plaintext` for whoever holds the private half of `public_key`, bound to `label`."""
    session_key = os.urandom(SESSION_KEY_BYTES)
    wrapped = public_key.encrypt(session_key, _oaep(label))
    sealed = AESGCM(session_key).encrypt(_NONCE, plaintext, None)
    return struct.pack(">H", len(wrapped)) + wrapped + sealed


def split(blob: bytes) -> tuple[bytes, bytes]:
    """Split a value into its RSA part and AES-GCM part, checking only the framing."""
    if len(blob) < 2:
        raise MalformedValue("shorter than its 2-byte length prefix")
    (rsa_len,) = struct.unpack(">H", blob[:2])
    if rsa_len == 0 or len(blob) < 2 + rsa_len + _GCM_TAG_BYTES:
        raise MalformedValue(f"truncated: length prefix says {rsa_len}-byte RSA part, value has {len(blob)} bytes")
    return blob[2 : 2 + rsa_len], blob[2 + rsa_len :]


def modulus_bytes(key_size: int) -> int:
    """The length of an RSA part for a key of `key_size` bits: the modulus in whole bytes, as Go's
    rsa.PublicKey.Size() and OAEP count it (a 2050-bit key makes 257-byte parts, not 256)."""
    return (key_size + 7) // 8


def rsa_part_length(blob: bytes) -> int:
    """The RSA part's length from the prefix (equals the key size in bytes for a well-formed value)."""
    return len(split(blob)[0])


def unwrap_session_key(private_key: rsa.RSAPrivateKey, wrapped: bytes, label: bytes) -> bytes:
    """The RSA-OAEP step alone: the expensive part, worth trying per key."""
    if len(wrapped) != modulus_bytes(private_key.key_size):
        raise WrongKeyOrLabel("RSA part length does not match this key's size")
    try:
        key = private_key.decrypt(wrapped, _oaep(label))
    except ValueError:
        raise WrongKeyOrLabel("RSA part does not open with this key and label") from None
    if len(key) != SESSION_KEY_BYTES:
        raise WrongKeyOrLabel("RSA part holds no 32-byte session key")
    return key


def open_payload(session_key: bytes, sealed: bytes) -> bytes:
    """The AES-GCM step: authenticate and decrypt with an unwrapped session key."""
    try:
        return AESGCM(session_key).decrypt(_NONCE, sealed, None)
    except InvalidTag:
        raise TamperedValue("authentication failed: the value was changed after sealing") from None


def decrypt(private_key: rsa.RSAPrivateKey, blob: bytes, label: bytes) -> bytes:
    """Open a value sealed for `private_key` under `label`."""
    wrapped, sealed = split(blob)
    return open_payload(unwrap_session_key(private_key, wrapped, label), sealed)
