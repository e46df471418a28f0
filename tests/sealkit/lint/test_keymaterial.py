"""Key material in any bytes: every private-key form is found by line; public material never is."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit.lint.keymaterial import der_kind, find_keys

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
