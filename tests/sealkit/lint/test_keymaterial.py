"""Key material in any bytes: every private-key form is found by line; public material never is."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x25519
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.lint.keymaterial import der_kind, find_keys, find_keys_in_chunks

from .keyfiles import write_keys


def test_every_generated_key_type_is_found(tmp_path: Path) -> None:
    kinds = write_keys(tmp_path)
    for relative, kind in kinds.items():
        found = find_keys((tmp_path / relative).read_bytes())
        assert found, f"{kind} in {relative} not found"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_lines_and_one_finding_per_block(key: rsa.RSAPrivateKey) -> None:
    pem = key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    found = find_keys(b"apiVersion: v1\nkind: ConfigMap\ndata:\n  key: |\n" + pem)
    assert [(k.line, k.what) for k in found] == [(5, "a PKCS#8 private key (PEM)")]


def test_public_material_and_placeholders_are_not_keys(key: rsa.RSAPrivateKey) -> None:
    public = key.public_key()
    for data in (
        public.public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH),
        b"key: -----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\n",
        b"Put your -----BEGIN RSA PRIVATE KEY----- block here.\n",
        b"Put your -----BEGIN RSA PRIVATE KEY----- block here.\nthen: " + b"QUJD" * 20 + b"\n",  # prose, then base64
        b'"PuTTY-User-Key-File-3: ssh-ed25519\\nEncryption: none\\n" f"Private-Lines: 1\\n{private}\\n"',  # code
        b"-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB1NlpXck12elVQRGNHRXJk\n",
        base64.b64encode(public.public_bytes(ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo)),
        b"\xfe\xed\xfe\xed\x00\x00\x00\x02\x00\x00\x00\x00",  # an empty JKS truststore
    ):
        assert find_keys(data) == [], data[:40]


def test_der_kinds(key: rsa.RSAPrivateKey) -> None:
    assert der_kind(key.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption())) == (
        "a PKCS#8 private key (DER)"
    )
    assert der_kind(b"\x30") is None and der_kind(b"") is None and der_kind(b"\x30\x84\xff\xff\xff\xff") is None


def _ed25519_pkcs8_v2(v1: bytes, public: bytes) -> bytes:
    """OneAsymmetricKey v2 (RFC 5958: version 1 and the public key), as OpenSSL and Go write Ed25519 keys too."""
    body = b"\x02\x01\x01" + v1[5:] + b"\x81\x21\x00" + public
    return b"\x30" + bytes([len(body)]) + body


def test_short_der_keys_in_base64_are_found() -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    v1 = ed.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    public = ed.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
    short = {
        "Ed25519 PKCS#8": v1,
        "Ed25519 PKCS#8 v2": _ed25519_pkcs8_v2(v1, public),
        "X25519 PKCS#8": x25519.X25519PrivateKey.generate().private_bytes(
            ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption()
        ),
        "Ed448 PKCS#8": ed448.Ed448PrivateKey.generate().private_bytes(
            ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption()
        ),
        "P-256 SEC 1": ec.generate_private_key(ec.SECP256R1()).private_bytes(
            ser.Encoding.DER, ser.PrivateFormat.TraditionalOpenSSL, ser.NoEncryption()
        ),
    }
    for what, der in short.items():
        assert der[1] < 0x80, what  # a short-form length: base64 "MA".."MH", not "MI"
        data = b"apiVersion: v1\nkind: ConfigMap\nbinaryData:\n  key: " + base64.b64encode(der) + b"\n"
        assert [k.line for k in find_keys(data)] == [4], what
        assert find_keys(der), what
    spki = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo)
    )  # public, and short too
    assert find_keys(b"key: " + base64.b64encode(spki) + b"\n") == []


@pytest.fixture(scope="module")
def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.TraditionalOpenSSL, ser.NoEncryption())


@settings(max_examples=40, deadline=None)
@given(
    before=st.lists(st.text(st.characters(codec="ascii", exclude_characters="\r\n"), max_size=30), max_size=5),
    encoding=st.sampled_from(["utf-16", "utf-16-le", "utf-16-be"]),
    base64_encoded=st.booleans(),
)
def test_keys_in_utf16_text_are_found_at_their_lines(
    pem: bytes, before: list[str], encoding: str, base64_encoded: bool
) -> None:
    """Windows PowerShell 5 writes `>` redirections as UTF-16 (with a byte-order mark); without one too."""
    body = base64.b64encode(pem) if base64_encoded else pem
    text = "".join(line + "\n" for line in before) + "key: |\n" + body.decode() + "\n"
    expected = [k.line for k in find_keys(text.encode())]
    assert expected == [len(before) + 2]
    assert [k.line for k in find_keys(text.encode(encoding))] == expected


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=90_000), max_size=8),
    before=st.integers(min_value=0, max_value=20_000),  # past the 16 KiB overlap
    encoding=st.sampled_from(["utf-8", "utf-16"]),
)
def test_keys_read_in_pieces_are_found_as_in_the_whole(pem: bytes, cuts: list[int], before: int, encoding: str) -> None:
    """A file too large to hold whole is scanned in pieces: wherever they are cut (even-sized, as read), each key
    is found once, at its line in the whole file."""
    text = "x\n" * before + "key: |\n" + pem.decode() + "y\n" * 50 + base64.b64encode(pem).decode() + "\n"
    data = text.encode(encoding)
    bounds = sorted({c - c % 2 for c in cuts if 0 < c < len(data)})
    pieces = [data[a:b] for a, b in zip([0, *bounds], [*bounds, len(data)], strict=True)]
    assert find_keys_in_chunks(pieces) == find_keys(data)
    assert [k.line for k in find_keys(data)] == [before + 2, before + 2 + pem.count(b"\n") + 50]
