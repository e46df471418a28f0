"""Private keys of every type, made at test time under misleading names (never committed).

`cryptography` makes the real ones; PuTTY, PGP and JKS files are structurally faithful with
random bodies (their tools are not needed to test that lint recognises their structure).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

PASSWORD = b"test-only-password"


def _pem(key: object, fmt: ser.PrivateFormat, encrypted: bool = False) -> bytes:
    encryption = ser.BestAvailableEncryption(PASSWORD) if encrypted else ser.NoEncryption()
    return key.private_bytes(ser.Encoding.PEM, fmt, encryption)  # type: ignore[attr-defined, no-any-return]


def _der(key: object, fmt: ser.PrivateFormat, encrypted: bool = False) -> bytes:
    encryption = ser.BestAvailableEncryption(PASSWORD) if encrypted else ser.NoEncryption()
    return key.private_bytes(ser.Encoding.DER, fmt, encryption)  # type: ignore[attr-defined, no-any-return]


def _armor(label: str, body: bytes) -> bytes:
    text = base64.b64encode(body).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()


def _putty() -> bytes:
    public = base64.b64encode(os.urandom(51)).decode()
    private = base64.b64encode(os.urandom(36)).decode()
    return (
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: test-only\n"
        f"Public-Lines: 2\n{public[:64]}\n{public[64:]}\nPrivate-Lines: 1\n{private}\n"
        f"Private-MAC: {os.urandom(32).hex()}\n"
    ).encode()


def _jks() -> bytes:
    alias = b"test-only"
    key = os.urandom(600)
    entry = (
        (1).to_bytes(4, "big")
        + len(alias).to_bytes(2, "big")
        + alias
        + (0).to_bytes(8, "big")
        + len(key).to_bytes(4, "big")
        + key
        + (0).to_bytes(4, "big")
    )
    return b"\xfe\xed\xfe\xed" + (2).to_bytes(4, "big") + (1).to_bytes(4, "big") + entry + os.urandom(20)


def _age() -> bytes:
    charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l".upper()
    body = "".join(charset[b % 32] for b in os.urandom(58))
    return f"# created: test-only\n# public key: age1testonly\nAGE-SECRET-KEY-1{body}\n".encode()


def write_keys(root: Path) -> dict[str, str]:
    """Write one file per key type under a misleading name; returns {relative path: kind}."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    dsa_key = dsa.generate_private_key(key_size=2048)
    p12 = pkcs12.serialize_key_and_certificates(
        b"test-only", rsa_key, None, None, ser.BestAvailableEncryption(PASSWORD)
    )
    p8 = _pem(rsa_key, ser.PrivateFormat.PKCS8)
    files: dict[str, tuple[bytes, str]] = {
        "charts/web/values.yaml": (_pem(rsa_key, ser.PrivateFormat.TraditionalOpenSSL), "RSA PEM"),
        "certs/tls.crt": (_pem(ec_key, ser.PrivateFormat.TraditionalOpenSSL), "EC PEM"),
        "docs/README.md": (b"# notes\n\n" + _pem(dsa_key, ser.PrivateFormat.TraditionalOpenSSL), "DSA PEM"),
        "config/app.conf": (p8, "PKCS#8 PEM"),
        "notes.txt": (_pem(rsa_key, ser.PrivateFormat.PKCS8, encrypted=True), "encrypted PKCS#8 PEM"),
        "deploy/known_hosts": (
            _pem(ed25519.Ed25519PrivateKey.generate(), ser.PrivateFormat.OpenSSH),
            "OpenSSH",
        ),
        "scripts/signing.asc": (_armor("PGP PRIVATE KEY BLOCK", os.urandom(400)), "PGP"),
        "ssh.conf": (_putty(), "PuTTY"),
        ".sops.yaml.bak": (_age(), "age"),
        "assets/logo.png": (p12, "PKCS#12"),
        "manifests/keystore.yaml": (
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ks}\nbinaryData:\n  store.bin: "
            + base64.b64encode(p12)
            + b"\n",
            "PKCS#12 base64",
        ),
        "data.bin": (_der(rsa_key, ser.PrivateFormat.TraditionalOpenSSL), "RSA DER"),
        "fonts/icons.woff": (_der(rsa_key, ser.PrivateFormat.PKCS8, encrypted=True), "encrypted PKCS#8 DER"),
        "ec.der.cache": (_der(ec_key, ser.PrivateFormat.TraditionalOpenSSL), "EC DER"),
        "pkcs8.bin": (_der(ec_key, ser.PrivateFormat.PKCS8), "PKCS#8 DER"),
        "lib/truststore.jks": (_jks(), "JKS"),
        "clusters/prod/kubeconfig": (
            b"apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    client-key-data: "
            + base64.b64encode(p8)
            + b"\n",
            "kubeconfig base64 PEM",
        ),
        "gcp/service-account.json": (
            b'{"type": "service_account", "private_key": "' + p8.replace(b"\n", b"\\n") + b'"}\n',
            "JSON-escaped PEM",
        ),
    }
    for relative, (data, _) in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return {relative: kind for relative, (_, kind) in files.items()}
