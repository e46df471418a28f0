"""Key material in every form users keep it, and kubeseal's fingerprint."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.errors import KeyMaterialError
from sealkit.keys import KeyRing, PrivateKey, fingerprint, load_certificate, load_key_documents, load_private_keys
from tests.sealkit.test_certificates import unknown_key_type


def ssh_wire_fingerprint(public_key: rsa.RSAPublicKey) -> str:
    """Independent: RFC 4253 wire encoding built by hand, then SHA-256, unpadded base64."""

    def string(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b

    def mpint(n: int) -> bytes:
        raw = n.to_bytes((n.bit_length() + 8) // 8, "big")
        return string(raw)

    numbers = public_key.public_numbers()
    wire = string(b"ssh-rsa") + mpint(numbers.e) + mpint(numbers.n)
    return "SHA256:" + base64.b64encode(hashlib.sha256(wire).digest()).decode().rstrip("=")


def test_fingerprint_is_kubeseals(vectors: dict[str, Any]) -> None:
    for k in vectors["keys"]:
        cert = load_certificate(k["cert_pem"].encode())
        assert cert.fingerprint == ssh_wire_fingerprint(cert.public_key)
        assert load_private_keys(k["private_pem"].encode())[0].fingerprint == cert.fingerprint


def test_bitnami_encipher_only_certificates_load(vectors: dict[str, Any]) -> None:
    pem = vectors["keys"][0]["cert_pem"].encode()
    raw = x509.load_pem_x509_certificate(pem)
    with pytest.raises(ValueError):  # what cryptography does with KeyUsage EncipherOnly alone
        _ = raw.extensions
    cert = load_certificate(pem, "cert.pem")
    assert cert.public_key.key_size == 4096


def test_first_certificate_of_a_bundle_is_used(vectors: dict[str, Any]) -> None:
    bundle = (vectors["keys"][1]["cert_pem"] + vectors["keys"][0]["cert_pem"]).encode()
    expected = load_certificate(vectors["keys"][1]["cert_pem"].encode()).fingerprint
    assert load_certificate(bundle).fingerprint == expected


@pytest.mark.parametrize(
    "key_format",
    [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL, "encrypted"],
)
@pytest.mark.parametrize("key_first", [True, False])
def test_a_private_key_beside_the_certificate_is_refused(
    vectors: dict[str, Any], small_key: rsa.RSAPrivateKey, key_format: Any, key_first: bool
) -> None:
    """A certificate file is committed and shared (and a controller serving its key is broken): a private key
    block in it is refused, whatever its PEM type, never skipped as kubeseal's parser skips it."""
    if key_format == "encrypted":
        encryption: serialization.KeySerializationEncryption = serialization.BestAvailableEncryption(b"pw")
        key_format = serialization.PrivateFormat.PKCS8
    else:
        encryption = serialization.NoEncryption()
    key_pem = small_key.private_bytes(serialization.Encoding.PEM, key_format, encryption)
    cert_pem = vectors["keys"][0]["cert_pem"].encode()
    both = key_pem + cert_pem if key_first else cert_pem + b"\n# notes\n" + key_pem
    with pytest.raises(KeyMaterialError, match=r"^holds a private key beside the certificate: .*: both\.pem$"):
        load_certificate(both, "both.pem")
    public_pem = small_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert load_certificate(cert_pem + public_pem).sha256 == load_certificate(cert_pem).sha256, "public blocks pass"
    with pytest.raises(
        KeyMaterialError, match=r"^a private key, not a certificate \(the cluster's: `sealkit cert`\): k$"
    ):
        load_certificate(key_pem, "k")


def test_expired_certificate_is_refused(small_key: rsa.RSAPrivateKey, certificate_factory: Any) -> None:
    pem = certificate_factory(small_key, not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), days=30)
    with pytest.raises(KeyMaterialError, match=r"the certificate expired on 2020-01-31.*: cert\.pem"):
        load_certificate(pem, "cert.pem")


def test_not_yet_valid_certificate_is_refused(small_key: rsa.RSAPrivateKey, certificate_factory: Any) -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    with pytest.raises(KeyMaterialError, match="not valid before"):
        load_certificate(certificate_factory(small_key, not_before=future), "cert.pem")


def test_a_weak_rsa_certificate_is_refused(certificate_factory: Any) -> None:
    """Sealed values sit in a repo for years: a 1024-bit key (which kubeseal and Bitnami accept) is refused."""
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the weak key refused
    with pytest.raises(KeyMaterialError, match=r"^the certificate's key is 1024-bit RSA, too weak .*: weak\.pem$"):
        load_certificate(certificate_factory(weak), "weak.pem")


def test_non_rsa_certificate_is_refused(certificate_factory: Any) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(KeyMaterialError, match="not RSA"):
        load_certificate(certificate_factory(key), "ec.pem")


@pytest.mark.parametrize(
    "junk", [b"", b"hello", b"\x00\x01\x02binary", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]
)
def test_not_a_certificate(junk: bytes) -> None:
    with pytest.raises(KeyMaterialError, match=r"not a PEM or DER certificate: junk.pem"):
        load_certificate(junk, "junk.pem")


def test_pkcs1_and_pkcs8_keys(small_key: rsa.RSAPrivateKey) -> None:
    expected = fingerprint(small_key.public_key())
    for fmt in (serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8):
        pem = small_key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        assert [k.fingerprint for k in load_private_keys(pem)] == [expected]


def key_secret(private_pem: str, cert_pem: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": name, "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
        "data": {
            "tls.key": base64.b64encode(private_pem.encode()).decode(),
            "tls.crt": base64.b64encode(cert_pem.encode()).decode(),
        },
    }


def test_key_secret_backups_yaml_json_and_lists(vectors: dict[str, Any]) -> None:
    secrets = [
        key_secret(k["private_pem"], k["cert_pem"], f"sealed-secrets-key{i}") for i, k in enumerate(vectors["keys"])
    ]
    expected = {load_certificate(k["cert_pem"].encode()).fingerprint for k in vectors["keys"]}
    as_list = {"apiVersion": "v1", "kind": "List", "items": secrets}
    for data in (
        yaml.safe_dump(as_list).encode(),
        json.dumps(as_list).encode(),
        yaml.safe_dump_all(secrets).encode(),
        "".join(json.dumps(s) for s in secrets).encode(),
    ):
        keys = load_private_keys(data, "backup")
        assert {k.fingerprint for k in keys} == expected
        assert all(k.not_before is not None for k in keys)
    ring = KeyRing(load_private_keys(yaml.safe_dump(as_list).encode()))
    newest = load_certificate(vectors["keys"][2]["cert_pem"].encode())
    assert ring.newest() is not None and ring.newest().fingerprint == newest.fingerprint  # type: ignore[union-attr]


@settings(max_examples=20, deadline=None)
@given(width=st.integers(min_value=1, max_value=120), crlf=st.booleans())
def test_key_secret_base64_split_over_lines_is_read_as_go_reads_it(
    vectors: dict[str, Any], width: int, crlf: bool
) -> None:
    """`data` values may be split by line breaks (a `|` block), as the API server and kubectl decode them."""
    key = vectors["keys"][2]
    secret = key_secret(key["private_pem"], key["cert_pem"], "sealed-secrets-key")
    newline = "\r\n" if crlf else "\n"
    for name, value in secret["data"].items():
        secret["data"][name] = newline.join(value[i : i + width] for i in range(0, len(value), width)) + newline
    keys = load_private_keys(json.dumps(secret).encode(), "keys.json")
    assert [k.fingerprint for k in keys] == [load_certificate(key["cert_pem"].encode()).fingerprint]
    assert keys[0].not_before is not None  # tls.crt read too


def test_keyring_try_order_puts_the_preferred_key_first(vectors: dict[str, Any]) -> None:
    secrets = [key_secret(k["private_pem"], k["cert_pem"], f"k{i}") for i, k in enumerate(vectors["keys"])]
    ring = KeyRing(load_private_keys(yaml.safe_dump_all(secrets).encode()))
    newest_first = ring.fingerprints()
    assert ring.try_order(newest_first[-1])[0].fingerprint == newest_first[-1]
    assert [k.fingerprint for k in ring.try_order("SHA256:unknown")] == newest_first


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00garbage", "binary data"),
        (b"kind: ConfigMap\nmetadata: {name: x}\n", "a ConfigMap is not a key Secret"),
        (b"kind: Secret\nmetadata: {name: x}\ndata: {other: YQ==}\n", "has no tls.key"),
        (b"kind: Secret\nmetadata: {name: x}\ndata: {tls.key: '!!!'}\n", "^data.tls.key: invalid base64: keys"),
        (b"kind: Secret\nmetadata: {name: x}\ndata: {tls.key: 'YW Jj'}\n", "^data.tls.key: invalid base64 \\(a space"),
        (b"kind: Secret\nmetadata: {name: x}\ndata: {tls.key: '//4='}\n", "^data.tls.key is not UTF-8 PEM text: keys"),
        (
            b"kind: Secret\nmetadata: {name: x}\ndata: {tls.key: YQ==}\nstringData: {tls.key: a}\n",
            "^tls.key is in both data and stringData \\(give it once\\): keys.yaml document 1$",
        ),
        (b"kind: Secret\nmetadata: {name: x}\ndata: [tls.key]\n", "^data is a list, not a mapping: keys.yaml"),
        (b"kind: Secret\nmetadata: {name: x}\nstringData: {tls.key: 5}\n", "^stringData.tls.key is a number, not a"),
        (b"kind: Secret\nmetadata: {name: x}\ndata: {tls.key: [a]}\n", "^data.tls.key is a list, not a string"),
        (b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "does not parse"),
        (b"just text", "not a key Secret"),
    ],
)
def test_bad_key_files(data: bytes, message: str) -> None:
    with pytest.raises(KeyMaterialError, match=message) as info:
        load_private_keys(data, "keys.yaml")
    assert "keys.yaml" in str(info.value)


def test_encrypted_damaged_and_openssh_keys_say_which(small_key: rsa.RSAPrivateKey) -> None:
    """Each refused in one line saying what it is, without asking for a password (stdin may be a pipe)."""
    encrypted = {
        fmt: small_key.private_bytes(serialization.Encoding.PEM, fmt, serialization.BestAvailableEncryption(b"pw"))
        for fmt in (serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8)
    }
    plain = small_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    lines = plain.splitlines()
    damaged = "\n".join([*lines[:4], lines[-1]]).encode() + b"\n"
    openssh = small_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    cases = [
        *((pem, "^the private key is encrypted \\(not supported: decrypt it first") for pem in encrypted.values()),
        (damaged, "^a private key block does not parse \\(damaged, or not a PKCS#1 or PKCS#8 key\\): keys.pem$"),
        (openssh, "^an OpenSSH private key, not a PKCS#1 or PKCS#8 PEM key: keys.pem$"),
    ]
    for data, message in cases:
        with pytest.raises(KeyMaterialError, match=message):
            load_private_keys(data, "keys.pem")


@pytest.mark.parametrize(
    "before",
    [
        "Bag Attributes\n    localKeyID: 9E 9E B0 A1\nsubject=CN = sealed-secret\n",  # openssl pkcs12 -nodes
        "# prod cluster's sealing key, backed up 2026-01-05\n",
        "\ufeff",  # a byte-order mark
    ],
)
def test_text_before_a_pem_key_is_skipped_as_go_and_kubeseal_skip_it(small_key: rsa.RSAPrivateKey, before: str) -> None:
    pem = small_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    for text in (before + pem, (before + pem).replace("\n", "\r\n")):
        keys = load_private_keys(text.encode(), "keys.pem")
        assert [k.fingerprint for k in keys] == [fingerprint(small_key.public_key())]


def test_key_file_on_disk(key_files: list[tuple[Path, Path]]) -> None:
    private, cert = key_files[2]
    assert load_private_keys(private.read_bytes())[0].fingerprint == load_certificate(cert.read_bytes()).fingerprint


def test_ring_order_follows_every_add_and_remove(small_key: rsa.RSAPrivateKey) -> None:
    def made(name: str, year: int | None) -> PrivateKey:
        when = dt.datetime(year, 1, 1, tzinfo=dt.UTC) if year else None
        return PrivateKey(key=small_key, fingerprint=name, source=name, not_before=when)

    ring = KeyRing([made("2021", 2021), made("undated", None), made("2023", 2023)])
    assert ring.fingerprints() == ["2023", "2021", "undated"]
    ring.newest_first().clear()  # callers get their own list
    ring.add(made("2025", 2025))
    assert ring.fingerprints() == ["2025", "2023", "2021", "undated"] and ring.newest() is ring.get("2025")
    ring.remove("2025")
    ring.remove("2021")
    assert ring.fingerprints() == ["2023", "undated"]
    assert [k.fingerprint for k in ring.try_order("undated")] == ["undated", "2023"]


def crossed_backups(vectors: dict[str, Any]) -> dict[str, tuple[bytes, str]]:
    """Key files whose certificate is not their key's (a backup put together from two keys), with the line."""
    keys = vectors["keys"]
    good = key_secret(keys[0]["private_pem"], keys[0]["cert_pem"], "sealed-secrets-keygood")
    crossed = key_secret(keys[1]["private_pem"], keys[0]["cert_pem"], "sealed-secrets-keyabc")
    damaged = key_secret(keys[1]["private_pem"], "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "x")
    listed = {"apiVersion": "v1", "kind": "List", "items": [good, crossed]}
    unknown = unknown_key_type(keys[1]["cert_pem"].encode())
    return {
        "list": (
            yaml.safe_dump(listed).encode(),
            "^tls.crt is the certificate of another key, not of tls.key: "
            r"keys.yaml document 1 item 2 \(sealed-secrets-keyabc\)$",
        ),
        "secret": (
            json.dumps(crossed).encode(),
            "^tls.crt is the certificate of another key, not of tls.key: "
            r"keys.yaml document 1 \(sealed-secrets-keyabc\)$",
        ),
        "damaged": (
            yaml.safe_dump(damaged).encode(),
            r"^tls.crt does not parse: keys.yaml document 1 \(x\)$",
        ),
        "pem": (
            (keys[1]["private_pem"] + keys[0]["cert_pem"]).encode(),
            "^the certificate is the certificate of another key, not of the private key: keys.yaml$",
        ),
        # a key type `cryptography` does not know (UnsupportedAlgorithm): an internal error, not a refusal
        "unknown-type": (
            yaml.safe_dump(key_secret(keys[1]["private_pem"], unknown.decode(), "y")).encode(),
            r"^tls.crt's key is not RSA: keys.yaml document 1 \(y\)$",
        ),
        "unknown-type-pem": (
            keys[1]["private_pem"].encode() + unknown,
            "^the certificate's key is not RSA: keys.yaml$",
        ),
    }


@pytest.mark.parametrize("case", ["list", "secret", "damaged", "pem", "unknown-type", "unknown-type-pem"])
def test_offline_loading_refuses_a_certificate_of_another_key(vectors: dict[str, Any], case: str) -> None:
    """Offline recovery (`check_certificates`) refuses what `keys restore` refuses, naming the document; other
    readers (the controller, escrow, `keys restore`) check it themselves, with their own words."""
    data, message = crossed_backups(vectors)[case]
    with pytest.raises(KeyMaterialError, match=message):
        load_private_keys(data, "keys.yaml", check_certificates=True)
    with pytest.raises(KeyMaterialError, match=message):
        load_key_documents(data, "keys.yaml", check_certificates=True)
    assert load_private_keys(data, "keys.yaml")  # unchecked: as before


def test_offline_loading_takes_matching_certificates_and_none(vectors: dict[str, Any]) -> None:
    keys = vectors["keys"]
    secrets = [key_secret(k["private_pem"], k["cert_pem"], f"k{i}") for i, k in enumerate(keys)]
    bare = key_secret(keys[0]["private_pem"], "", "bare")
    data = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [*secrets, bare]}).encode()
    assert len(load_private_keys(data, "keys.yaml", check_certificates=True)) == 4
    pem = (keys[0]["private_pem"] + keys[0]["cert_pem"]).encode()
    assert load_private_keys(pem, "keys.pem", check_certificates=True)[0].not_before is not None


def der_integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + der_length(len(body)) + body


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def pkcs1_pem(*numbers: int) -> str:
    """An RSA private key's PKCS#1 PEM from its numbers as given (not a valid key: its size is what counts)."""
    body = b"".join(der_integer(n) for n in (0, *numbers))
    der = b"\x30" + der_length(len(body)) + body
    return f"-----BEGIN RSA PRIVATE KEY-----\n{base64.encodebytes(der).decode()}-----END RSA PRIVATE KEY-----\n"


def test_a_private_key_over_16384_bits_is_refused_before_it_is_checked() -> None:
    """Checking a key costs more the larger it is (minutes past 16384 bits): its size is read first."""
    n = (1 << 16400) + 1
    pem = pkcs1_pem(n, 65537, 3, 5, 7, 1, 1, 1)
    with pytest.raises(KeyMaterialError, match=r"^the private key has 16401 bits \(at most 16384, .*\): keys.pem$"):
        load_private_keys(pem.encode(), "keys.pem")
    secret = key_secret(pem, "", "big")
    with pytest.raises(KeyMaterialError, match=r"^the private key has 16401 bits .*: keys.yaml document 1 \(big\)$"):
        load_private_keys(yaml.safe_dump(secret).encode(), "keys.yaml")


def pem_block(kind: str, size: int = 48) -> str:
    body = base64.encodebytes(bytes(size)).decode()
    return f"-----BEGIN {kind}-----\n{body}-----END {kind}-----\n"


@settings(max_examples=10, deadline=None)
@given(extra=st.integers(min_value=1, max_value=40), kind=st.sampled_from(["CERTIFICATE", "X509 CRL", "NOTES"]))
def test_more_than_16_pem_blocks_are_refused_before_any_is_parsed(
    small_key: rsa.RSAPrivateKey, extra: int, kind: str
) -> None:
    """A key file or key Secret field holds at most 16 PEM blocks: more is refused before any key is parsed
    (checking keys is what costs), in a PEM file, a key Secret's tls.key and its tls.crt."""
    key_pem = small_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    many = key_pem + pem_block(kind) * (15 + extra)
    message = "more than 16 PEM blocks (the limit for one key file or key Secret field; give keys in several files)"
    with pytest.raises(KeyMaterialError, match=rf"^{re.escape(message)}: keys.pem$"):
        load_private_keys(many.encode(), "keys.pem")
    for field, secret in (
        ("tls.key", key_secret(many, "", "k")),
        ("tls.crt", key_secret(key_pem, pem_block("CERTIFICATE") * (16 + extra), "k")),
    ):
        with pytest.raises(KeyMaterialError, match=rf"^{field}: {re.escape(message)}: keys.yaml document 1 \(k\)$"):
            load_private_keys(yaml.safe_dump(secret).encode(), "keys.yaml")
    assert load_private_keys((key_pem + pem_block(kind) * 15).encode(), "keys.pem")  # 16: within the limit


def test_a_pem_block_over_64_kib_and_a_truncated_block_are_refused(small_key: rsa.RSAPrivateKey) -> None:
    key_pem = small_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    cases = [
        (key_pem + pem_block("CERTIFICATE", 50_000), r"^a PEM block is larger than 64 KiB \(the limit for one block\)"),
        (key_pem + key_pem[: len(key_pem) // 2], r"^a PEM block has no END line \(truncated or damaged\): keys.pem$"),
        (key_pem + "-----BEGIN RSA", r"^a PEM block has no END line"),
    ]
    for text, message in cases:
        with pytest.raises(KeyMaterialError, match=message):
            load_private_keys(text.encode(), "keys.pem")
    truncated = key_secret(key_pem + key_pem[:100], "", "k")
    with pytest.raises(
        KeyMaterialError, match=r"^tls.key: a PEM block has no END line .*: keys.yaml document 1 \(k\)$"
    ):
        load_private_keys(yaml.safe_dump(truncated).encode(), "keys.yaml")


PEM_PIECES = st.sampled_from(
    [
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\n",
        "-----END PRIVATE KEY-----\n",
        "-----BEGIN CERTIFICATE-----\n",
        "-----END CERTIFICATE-----\n",
        "-----BEGIN ",
        "-----",
        "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n",
        "AAAA\n",
        "Proc-Type: 4,ENCRYPTED\n",
        "Bag Attributes\n",
        "\r\n",
        "kind: Secret\n",
        "\ufeff",
    ]
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(PEM_PIECES, max_size=40), secret=st.booleans())
def test_any_pem_like_text_is_a_key_or_one_key_material_error(pieces: list[str], secret: bool) -> None:
    """Whatever mix of markers and bodies a key file or tls.key holds: keys, or KeyMaterialError naming where,
    never another exception (a traceback) and never the text itself in the message."""
    text = "".join(pieces)
    data = yaml.safe_dump(key_secret(text, text, "k")).encode() if secret else text.encode()
    try:
        load_private_keys(data, "keys.pem", check_certificates=True)
    except KeyMaterialError as exc:
        assert "keys.pem" in str(exc)
        assert "MIIBOgIBAAJBAKj34G" not in str(exc)


def test_several_keys_and_certificates_in_one_pem_go_together_by_public_key(vectors: dict[str, Any]) -> None:
    """Two or more keys and a certificate in one PEM: the certificate was dropped without a word (which key's it
    was could not be told by position). Now it goes to the key it certifies, found by public key, and is checked
    as the single-key case's is; one that is no key's of the file, or cannot be told, refuses the file. (kubeseal
    reads the first private key of a PEM file and never its certificates: its keys are the same.)"""
    keys = vectors["keys"]
    pems = [(k["private_pem"], k["cert_pem"]) for k in keys[:3]]
    # Certificates in any order, one key without its certificate.
    text = pems[0][0] + pems[1][0] + pems[2][0] + pems[2][1] + pems[0][1]
    for check in (False, True):
        loaded = load_private_keys(text.encode(), "keys.pem", check_certificates=check)
        held = [k.certificate_pem.strip() if k.certificate_pem else None for k in loaded]
        assert held == [pems[0][1].strip().encode(), None, pems[2][1].strip().encode()]
        assert loaded[0].not_before is not None and loaded[1].not_before is None
        for key in (loaded[0], loaded[2]):
            cert = x509.load_pem_x509_certificate(key.certificate_pem or b"")
            assert cert.public_key().public_numbers() == key.public_key.public_numbers()
    unknown = unknown_key_type(pems[0][1].encode()).decode()
    damaged = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    for certificate, what in [
        (pems[2][1], "a certificate is the certificate of another key, not of any of the 2 private keys"),
        (unknown, "a certificate's key is not RSA"),
        (damaged, "a certificate does not parse"),
    ]:
        for check in (False, True):  # unchecked too: the certificate would be kept beside no key, unseen
            with pytest.raises(KeyMaterialError) as caught:
                data = (pems[0][0] + pems[1][0] + certificate).encode()
                load_private_keys(data, "keys.pem", check_certificates=check)
            assert str(caught.value).startswith(what) and str(caught.value).endswith(": keys.pem")
    secret = yaml.safe_dump(key_secret(pems[0][0] + pems[1][0] + pems[2][1], "", "k")).encode()
    with pytest.raises(KeyMaterialError) as in_secret:
        load_private_keys(secret, "keys.yaml")
    assert str(in_secret.value).startswith("tls.key: a certificate is the certificate of another key")
