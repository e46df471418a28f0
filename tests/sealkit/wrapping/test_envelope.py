"""The envelope (`sealkit.wrapping.envelope`) and the wrapped key Secret format, with an in-memory KEK.

The KEK here is AES key wrap from `cryptography` (what a Managed HSM's A256KW computes), so these tests need
no vault; the same code against the real SDK and the local Key Vault is tests/sealkit/clients/test_keyvault_kek.py.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.errors import InputError, KeyMaterialError
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import is_wrapped_key_document, load_key_documents, load_private_keys
from sealkit.wrapping.envelope import (
    KekError,
    from_json,
    open_with_data_key,
    to_json,
    unwrap_private_key,
    wrap_private_key,
    wrap_verified,
)
from sealkit.wrapping.kekid import parse_kek_id
from sealkit.wrapping.keysecret import wrapped_from_secret, wrapped_key_manifest, wrapped_secret_name
from sealkit.wrapping.material import open_wrapped
from sealkit.wrapping.names import CIPHERTEXT, KEK_ID, WRAPPED_KEY_LABEL, WRAPPED_KEY_TYPE
from tests.sealkit.test_certificates import unknown_key_type
from tests.support.keys import KEK, LocalKek


@pytest.fixture(scope="module")
def pair() -> GeneratedKey:
    return generate_key_pair(bits=2048)


def test_wrap_and_unwrap_round_trip_with_one_unwrap(pair: GeneratedKey) -> None:
    kek = LocalKek()
    wrapped = wrap_private_key(pair.key, kek)
    assert wrapped.kek_id == f"{KEK}/v1" and wrapped.algorithm == "A256KW"
    assert wrapped.fingerprint == pair.key.fingerprint and wrapped.not_before == pair.key.not_before
    assert "PRIVATE" not in repr(wrapped) and pair.key.fingerprint in repr(wrapped)
    opened = unwrap_private_key(wrapped, kek)
    assert opened.key.private_numbers() == pair.key.key.private_numbers() and kek.unwraps == 1
    assert opened.certificate_pem == pair.certificate_pem
    assert wrap_verified(pair.key, kek).fingerprint == pair.key.fingerprint and kek.unwraps == 2
    # Old versions keep opening what they wrapped.
    kek.versions["v2"], kek.current = os.urandom(32), "v2"
    assert unwrap_private_key(wrapped, kek).fingerprint == pair.key.fingerprint


def test_tampering_is_refused_without_quoting_material(pair: GeneratedKey) -> None:
    kek = LocalKek()
    wrapped = wrap_private_key(pair.key, kek)
    data_key = aes_key_unwrap(kek.versions["v1"], wrapped.wrapped_data_key)
    flipped = bytearray(wrapped.ciphertext)
    flipped[20] ^= 1
    with pytest.raises(KeyMaterialError, match="does not decrypt") as info:
        open_with_data_key(dataclasses.replace(wrapped, ciphertext=bytes(flipped), source=""), data_key)
    assert base64.b64encode(data_key).decode() not in str(info.value)
    assert str(info.value) == (  # what is wrong, then the wrapped key as where
        "the encrypted key does not decrypt (corrupted, or not the key of its certificate): "
        f"wrapped key {pair.key.fingerprint}"
    )
    with pytest.raises(KeyMaterialError) as in_secret:
        open_with_data_key(dataclasses.replace(wrapped, ciphertext=b"x" * 20), data_key, "wrapped key Secret ns/k")
    assert str(in_secret.value) == "the encrypted key is truncated: wrapped key Secret ns/k"
    # The ciphertext is bound to its certificate: beside another certificate it does not open.
    other = generate_key_pair(bits=2048)
    moved = dataclasses.replace(wrapped, certificate_pem=other.certificate_pem, fingerprint=other.key.fingerprint)
    with pytest.raises(KeyMaterialError, match="does not decrypt"):
        open_with_data_key(moved, data_key)
    with pytest.raises(KekError) as refused:
        unwrap_private_key(dataclasses.replace(wrapped, wrapped_data_key=b"x" * 40), kek)
    assert str(refused.value) == f"unwrapKey failed (400 BadParameter): Key Vault key {KEK}/v1"  # what, then where
    # From a key file: the file's entry is where, the vault key and its answer are what.
    damaged = dataclasses.replace(wrapped, wrapped_data_key=b"x" * 40, source="keys.yaml document 1 (k)")
    with pytest.raises(KekError) as from_file:
        open_wrapped([damaged], lambda: kek)
    assert from_file.value.reason == "invalid" and from_file.value.where == "keys.yaml document 1 (k)"
    assert str(from_file.value) == (
        f"a wrapped key; opening it needs unwrap access to its Key Vault key {KEK}/v1 "
        "(unwrapKey failed (400 BadParameter)): keys.yaml document 1 (k)"
    )
    with pytest.raises(KeyMaterialError) as short:
        open_with_data_key(dataclasses.replace(wrapped, source="keys.yaml document 1 (k)"), b"short")
    assert str(short.value) == "the unwrapped data key is 5 bytes, not 32: keys.yaml document 1 (k)"
    no_certificate = dataclasses.replace(pair.key, certificate_pem=None)
    with pytest.raises(KeyMaterialError) as bare:
        wrap_private_key(no_certificate, kek)
    assert str(bare.value) == (
        f"the key has no certificate; a wrapped key keeps its certificate in clear: sealing key {pair.key.fingerprint}"
    )


def test_wrapped_key_secret_format(pair: GeneratedKey) -> None:
    wrapped = wrap_private_key(pair.key, LocalKek())
    manifest = wrapped_key_manifest(wrapped, namespace="kube-system", prefix="sealed-secrets-key", labels={"a": "b"})
    assert manifest["type"] == WRAPPED_KEY_TYPE
    assert manifest["metadata"]["labels"] == {"a": "b", WRAPPED_KEY_LABEL: "active"}
    assert manifest["metadata"]["name"] == wrapped_secret_name("sealed-secrets-key", pair.key.fingerprint)
    assert manifest["metadata"]["name"].startswith("sealed-secrets-key-wrapped-")
    # Nothing Bitnami's controller or kubeseal would take for a key: no tls.key, not Bitnami's label.
    assert "tls.key" not in manifest["data"] and "sealedsecrets.bitnami.com/sealed-secrets-key" not in str(manifest)
    assert base64.b64decode(manifest["data"]["tls.crt"]) == pair.certificate_pem
    assert wrapped_from_secret(manifest).same_envelope(wrapped)
    assert is_wrapped_key_document(manifest)
    with pytest.raises(KeyMaterialError, match="a wrapped key Secret"):
        load_private_keys(json.dumps(manifest).encode(), "backup.json")
    documents = load_key_documents(json.dumps({"kind": "List", "items": [manifest]}).encode(), "backup.json")
    assert documents.keys == [] and len(documents.wrapped) == 1
    where = f"wrapped key Secret kube-system/{manifest['metadata']['name']}"
    hint = "e.g. https://kv-prod.vault.azure.net/keys/sealing-kek or .../keys/sealing-kek/<version>"
    for field, value, message in [
        (KEK_ID, base64.b64encode(f"{KEK}".encode()).decode(), f"the KEK id {KEK} has no version"),
        (
            KEK_ID,
            base64.b64encode(b"http://x/keys/k/1").decode(),
            f"its KEK id 'http://x/keys/k/1' is not usable (not an https:// Key Vault key URL ({hint}))",
        ),
        (CIPHERTEXT, "!!", f"data.{CIPHERTEXT} is not valid base64"),
        (
            "kek.alg",
            base64.b64encode(b"RSA1_5").decode(),
            "unknown key wrap algorithm 'RSA1_5' (sealkit uses RSA-OAEP-256, A256KW)",
        ),
    ]:
        broken = {**manifest, "data": {**manifest["data"], field: value}}
        with pytest.raises(KeyMaterialError) as caught:
            wrapped_from_secret(broken)
        assert str(caught.value) == f"{message}: {where}", "what is wrong, then the Secret as where"


def test_escrow_json_form_round_trips(pair: GeneratedKey) -> None:
    wrapped = wrap_private_key(pair.key, LocalKek())
    text = to_json(wrapped)
    assert "PRIVATE KEY" not in text
    assert from_json(text, "escrowed").same_envelope(wrapped)
    with pytest.raises(KeyMaterialError) as moved:
        from_json(json.dumps({**json.loads(text), "fingerprint": "SHA256:" + "A" * 43}), "escrowed key k")
    assert str(moved.value) == "its fingerprint field is not its certificate's: escrowed key k"
    with pytest.raises(KeyMaterialError) as missing:
        from_json(json.dumps({**json.loads(text), "kekId": ""}), "escrowed key k")
    assert str(missing.value) == "kekId is missing: escrowed key k"
    with pytest.raises(KeyMaterialError) as not_json:
        from_json("{", "escrowed key k")
    assert str(not_json.value) == "not a wrapped key document (JSON): escrowed key k"


def test_kek_ids() -> None:
    assert parse_kek_id(KEK).version == "" and parse_kek_id(KEK + "/abc123").version == "abc123"
    assert parse_kek_id("https://hsm.managedhsm.azure.net/keys/k/").url == "https://hsm.managedhsm.azure.net/keys/k"
    assert parse_kek_id("https://127.0.0.1:8443/keys/k/v").vault_url == "https://127.0.0.1:8443"
    shown = {"https://kv/keys/k?x=1": "https://kv/keys/k?***"}  # a query may carry a token: never shown
    for bad in ("http://kv/keys/k", "https://kv/secrets/k", "https://kv/keys/k/v/x", "https://kv/keys/k?x=1", "kv"):
        with pytest.raises(InputError) as caught:
            parse_kek_id(bad, "--kek-url")
        where = shown.get(bad, bad)
        assert str(caught.value).endswith(f": --kek-url {where!r}"), "what is wrong, then where: the flag and value"


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0, max_value=10_000))
def test_any_change_to_the_stored_fields_is_refused(junk: bytes, where: int) -> None:
    kek = LocalKek()
    wrapped = wrap_private_key(PAIR.key, kek)
    position = where % len(wrapped.ciphertext)
    changed = bytearray(wrapped.ciphertext)
    changed[position] ^= junk[0] or 1
    with pytest.raises((KeyMaterialError, KekError)):
        unwrap_private_key(dataclasses.replace(wrapped, ciphertext=bytes(changed)), kek)


PAIR = generate_key_pair(bits=2048)


def test_a_certificate_of_a_key_type_cryptography_does_not_know_is_refused_in_one_line(pair: GeneratedKey) -> None:
    """Its `public_key()` raises UnsupportedAlgorithm, which is no ValueError: wrapping such a key ended `keys wrap`
    as an internal error, and reading such a wrapped key Secret (the controller's wrapped-key loading calls
    `wrapped_from_secret`) or escrowed copy raised it past every caller. Now one KeyMaterialError each, in the words
    of `refuse_another_keys_certificate`."""
    unknown = unknown_key_type(pair.certificate_pem)
    kek = LocalKek()
    with pytest.raises(KeyMaterialError) as wrapping:
        wrap_private_key(dataclasses.replace(pair.key, certificate_pem=unknown), kek)
    assert str(wrapping.value) == f"the certificate's key is not RSA: sealing key {pair.key.fingerprint}"
    manifest = wrapped_key_manifest(wrap_private_key(pair.key, kek), namespace="ns", prefix="p")
    manifest["data"]["tls.crt"] = base64.b64encode(unknown).decode()
    with pytest.raises(KeyMaterialError) as secret:
        wrapped_from_secret(manifest)
    assert str(secret.value) == f"tls.crt's key is not RSA: wrapped key Secret ns/{manifest['metadata']['name']}"
    document = json.loads(to_json(wrap_private_key(pair.key, kek)))
    with pytest.raises(KeyMaterialError) as escrowed:
        from_json(json.dumps({**document, "certificate": unknown.decode()}), "escrowed key k")
    assert str(escrowed.value) == "the certificate's key is not RSA: escrowed key k"


def test_wrapping_refuses_another_keys_certificate_in_the_one_wording(pair: GeneratedKey) -> None:
    other = generate_key_pair(bits=2048)
    with pytest.raises(KeyMaterialError) as crossed:
        wrap_private_key(dataclasses.replace(pair.key, certificate_pem=other.certificate_pem), LocalKek())
    assert str(crossed.value) == (
        f"the certificate is the certificate of another key, not of the private key: sealing key {pair.key.fingerprint}"
    )
    with pytest.raises(KeyMaterialError) as damaged:
        wrap_private_key(dataclasses.replace(pair.key, certificate_pem=b"-----BEGIN CERTIFICATE-----\n"), LocalKek())
    assert str(damaged.value) == f"the certificate does not parse: sealing key {pair.key.fingerprint}"
    manifest = wrapped_key_manifest(wrap_private_key(pair.key, LocalKek()), namespace="ns", prefix="p")
    manifest["data"]["tls.crt"] = base64.b64encode(b"junk").decode()
    with pytest.raises(KeyMaterialError) as junk:
        wrapped_from_secret(manifest, "w")
    assert str(junk.value) == "tls.crt does not parse: w"


def test_a_wrapped_key_secret_field_given_twice_or_not_as_text_is_refused(pair: GeneratedKey) -> None:
    """A field in both data and stringData (a backup edited by hand) was read from stringData and the other
    dropped unseen; a stringData field that is not a string was passed over for data's. Refused as
    `sealkit.keys` refuses it in a plaintext key Secret."""
    manifest = wrapped_key_manifest(wrap_private_key(pair.key, LocalKek()), namespace="ns", prefix="p")
    twice = {**manifest, "stringData": {KEK_ID: f"{KEK}/v1"}}
    with pytest.raises(KeyMaterialError) as both:
        wrapped_from_secret(twice, "w")
    assert str(both.value) == f"{KEK_ID} is in both data and stringData (give it once): w"
    data = {k: v for k, v in manifest["data"].items() if k != KEK_ID}
    typed = {**manifest, "stringData": {CIPHERTEXT: 5}}
    with pytest.raises(KeyMaterialError) as number:
        wrapped_from_secret(typed, "w")
    assert str(number.value) == f"stringData.{CIPHERTEXT} is a number, not a string: w"
    alone = {**manifest, "data": data, "stringData": {KEK_ID: f"{KEK}/v1"}}
    assert wrapped_from_secret(alone, "w").kek_id == f"{KEK}/v1"
