"""Properties of the value format: seal -> open is the identity; any change is refused."""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealkit import hybrid
from sealkit.errors import UnsealError
from sealkit.keys import KeyRing, PrivateKey, fingerprint
from sealkit.opening import open_value
from sealkit.scope import Scope
from sealkit.sealing import Target

labels = st.binary(max_size=80)
plaintexts = st.binary(max_size=2048)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(plaintext=plaintexts, label=labels)
def test_seal_then_open_is_identity(small_key: rsa.RSAPrivateKey, plaintext: bytes, label: bytes) -> None:
    blob = hybrid.encrypt(small_key.public_key(), plaintext, label)
    assert hybrid.decrypt(small_key, blob, label) == plaintext


@FAST
@given(plaintext=plaintexts, label=labels, other=labels)
def test_another_label_is_refused(small_key: rsa.RSAPrivateKey, plaintext: bytes, label: bytes, other: bytes) -> None:
    if other == label:
        return
    blob = hybrid.encrypt(small_key.public_key(), plaintext, label)
    with pytest.raises(hybrid.WrongKeyOrLabel):
        hybrid.decrypt(small_key, blob, other)


@FAST
@given(plaintext=plaintexts, data=st.data())
def test_any_flipped_ciphertext_byte_is_refused(
    small_key: rsa.RSAPrivateKey, plaintext: bytes, data: st.DataObject
) -> None:
    blob = bytearray(hybrid.encrypt(small_key.public_key(), plaintext, b"ns/name"))
    index = data.draw(st.integers(min_value=2, max_value=len(blob) - 1), label="index")
    flip = data.draw(st.integers(min_value=1, max_value=255), label="xor")
    blob[index] ^= flip
    with pytest.raises((hybrid.WrongKeyOrLabel, hybrid.TamperedValue)):
        hybrid.decrypt(small_key, bytes(blob), b"ns/name")


@FAST
@given(plaintext=plaintexts, prefix=st.integers(min_value=0, max_value=0xFFFF))
def test_any_other_length_prefix_is_refused(small_key: rsa.RSAPrivateKey, plaintext: bytes, prefix: int) -> None:
    blob = hybrid.encrypt(small_key.public_key(), plaintext, b"")
    if prefix == hybrid.modulus_bytes(small_key.key_size):
        return
    altered = struct.pack(">H", prefix) + blob[2:]
    with pytest.raises((hybrid.MalformedValue, hybrid.WrongKeyOrLabel, hybrid.TamperedValue)):
        hybrid.decrypt(small_key, altered, b"")


@FAST
@given(cut=st.integers(min_value=0, max_value=285))  # the whole value is 2+256+12+16 bytes
def test_truncated_values_are_refused_with_a_message(small_key: rsa.RSAPrivateKey, cut: int) -> None:
    blob = hybrid.encrypt(small_key.public_key(), b"secret-value", b"ns/name")[:cut]
    ring = KeyRing([PrivateKey(small_key, fingerprint(small_key.public_key()), "test")])
    with pytest.raises(UnsealError) as info:
        open_value(ring, blob, Target(Scope.STRICT, "ns", "name"), item="x")
    assert "secret-value" not in str(info.value)
