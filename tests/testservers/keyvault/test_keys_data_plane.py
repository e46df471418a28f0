"""The keys data plane through the real KeyClient: create, import, get, list, update, delete."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import JsonWebKey, KeyOperation
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sealkit_testservers.keyvault import Vault
from sealkit_testservers.keyvault.keyops import private_jwk

UTC = dt.UTC


def test_create_rsa_keys_get_latest_and_versioned(keyvault: Vault) -> None:
    client = keyvault.client("key")
    first = client.create_rsa_key("kek", size=3072, tags={"use": "kek"})
    assert first.id == keyvault.key_id("kek", first.properties.version)
    assert first.key_type == "RSA"
    assert len(first.key.n) * 8 == 3072
    assert sorted(first.key_operations) == sorted(["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"])
    assert first.properties.enabled is True
    assert first.properties.tags == {"use": "kek"}
    second = client.create_rsa_key("kek", hardware_protected=True, key_operations=["wrapKey", "unwrapKey"])
    assert second.key_type == "RSA-HSM"
    assert second.key_operations == ["wrapKey", "unwrapKey"]
    assert second.key.n != first.key.n  # every version has its own material

    latest = client.get_key("kek")
    assert latest.properties.version == second.properties.version
    assert client.get_key("kek", first.properties.version).key.n == first.key.n
    stored = keyvault.key("kek", first.properties.version)
    assert stored is not None
    assert isinstance(stored.material, rsa.RSAPrivateKey)


def test_list_keys_and_versions_page_with_next_links(keyvault: Vault) -> None:
    client = keyvault.client("key")
    versions = [keyvault.add_key("a", kty="EC") for _ in range(3)]
    keyvault.add_key("b", kty="EC")
    keyvault.clear_requests()
    assert [k.name for k in client.list_properties_of_keys(max_page_size=1)] == ["a", "b"]
    listed = list(client.list_properties_of_key_versions("a", max_page_size=2))
    assert [k.version for k in listed] == versions
    assert all(k.id == keyvault.key_id("a", k.version) for k in listed)
    pages = [r for r in keyvault.requests if r.status == 200]  # the first request is the 401 challenge
    assert [r.query.get("$skiptoken") is not None for r in pages] == [False, True, False, True]


def test_import_rsa_key_and_unwrap_what_the_caller_wrapped(keyvault: Vault) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = JsonWebKey(**{k: _unb64(v) if k != "kty" else v for k, v in private_jwk(private).items()})
    client = keyvault.client("key")
    imported = client.import_key("imported", jwk, tags={"origin": "byok"})
    assert imported.key_type == "RSA"
    assert imported.key.d is None  # private parts are never served back
    assert int.from_bytes(imported.key.n, "big") == private.public_key().public_numbers().n
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = private.public_key().encrypt(b"k" * 32, oaep)
    crypto = keyvault.crypto_client("imported")
    assert crypto.unwrap_key("RSA-OAEP-256", wrapped).key == b"k" * 32
    assert keyvault.count_key_operations("unwrapKey", "imported") == 1

    hsm = client.import_key("imported-hsm", jwk, hardware_protected=True)
    assert hsm.key_type == "RSA-HSM"


def test_import_rejects_public_only_and_symmetric_keys_in_a_vault(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    client = keyvault.client("key", **no_retry)
    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers()
    with pytest.raises(HttpResponseError) as no_private:
        client.import_key("p", JsonWebKey(kty="RSA", n=_int(public.n), e=_int(public.e)))
    assert no_private.value.status_code == 400
    assert no_private.value.error is not None
    assert no_private.value.error.code == "BadParameter"
    with pytest.raises(HttpResponseError) as oct_key:
        client.import_key("o", JsonWebKey(kty="oct", k=b"\x01" * 32))
    assert oct_key.value.status_code == 400
    with pytest.raises(HttpResponseError) as create_oct:
        client.create_oct_key("o", size=256)
    assert create_oct.value.status_code == 400
    with pytest.raises(HttpResponseError) as bad_size:
        client.create_rsa_key("r", size=1024)
    assert bad_size.value.status_code == 400


def test_update_key_properties(keyvault: Vault) -> None:
    v1 = keyvault.add_key("k")
    v2 = keyvault.add_key("k")
    client = keyvault.client("key")
    expires = dt.datetime(2031, 1, 1, tzinfo=UTC)
    updated = client.update_key_properties(
        "k", enabled=False, expires_on=expires, tags={"state": "retired"}, key_operations=[KeyOperation.unwrap_key]
    )
    assert updated.properties.version == v2
    assert updated.properties.enabled is False
    assert updated.properties.expires_on == expires
    assert updated.properties.tags == {"state": "retired"}
    assert updated.key_operations == ["unwrapKey"]
    older = client.update_key_properties("k", v1, not_before=dt.datetime(2020, 1, 1, tzinfo=UTC))
    assert older.properties.not_before == dt.datetime(2020, 1, 1, tzinfo=UTC)
    assert older.properties.enabled is True
    stored = keyvault.key("k")
    assert stored is not None
    assert stored.key_ops == ["unwrapKey"]


def test_a_disabled_latest_version_stays_readable(keyvault: Vault) -> None:
    """Unlike secrets (403 SecretDisabled), the service serves a disabled key's metadata."""
    v1 = keyvault.add_key("k")
    keyvault.add_key("k")
    keyvault.disable_key("k")
    client = keyvault.client("key")
    latest = client.get_key("k")
    assert latest.properties.enabled is False  # no fallback to the enabled older version
    assert client.get_key("k", v1).properties.enabled is True
    assert [p.enabled for p in client.list_properties_of_key_versions("k")] == [True, False]


def test_delete_key_soft_deletes(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_key("gone")
    client = keyvault.client("key", **no_retry)
    deleted = client.begin_delete_key("gone").result()
    assert deleted.recovery_id == f"{keyvault.url}/deletedkeys/gone"
    assert client.get_deleted_key("gone").name == "gone"
    with pytest.raises(ResourceNotFoundError) as info:
        client.get_key("gone")
    assert info.value.error is not None
    assert info.value.error.code == "KeyNotFound"
    with pytest.raises(HttpResponseError) as conflict:
        client.create_rsa_key("gone")
    assert conflict.value.status_code == 409
    client.purge_deleted_key("gone")
    assert client.create_rsa_key("gone").name == "gone"


def test_seeding_checks_key_types(keyvault: Vault) -> None:
    with pytest.raises(ValueError, match="only in a Managed HSM"):
        keyvault.add_key("o", kty="oct-HSM")
    with pytest.raises(ValueError, match="unknown key type"):
        keyvault.add_key("x", kty="DSA")
    with pytest.raises(ValueError, match="does not fit"):
        keyvault.add_key("x", kty="RSA", private_key=b"\x00" * 32)


def _unb64(value: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _int(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")
