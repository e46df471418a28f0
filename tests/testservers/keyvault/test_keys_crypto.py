"""wrapKey/unwrapKey/encrypt/decrypt through the real CryptographyClient, and their refusals."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys.crypto import EncryptionAlgorithm, KeyWrapAlgorithm

from sealkit_testservers.keyvault import KeyVaultServer, Vault

UTC = dt.UTC


def _code(exc: HttpResponseError) -> tuple[int | None, str | None, Any]:
    assert exc.error is not None
    return exc.status_code, exc.error.code, exc.error.innererror


@pytest.mark.parametrize("algorithm", [KeyWrapAlgorithm.rsa_oaep_256, KeyWrapAlgorithm.rsa_oaep])
def test_wrap_is_local_and_unwrap_is_counted_on_the_server(keyvault: Vault, algorithm: KeyWrapAlgorithm) -> None:
    version = keyvault.add_key("kek")
    crypto = keyvault.crypto_client("kek")
    data_key = os.urandom(32)
    wrapped = crypto.wrap_key(algorithm, data_key)  # the SDK wraps with the public key it fetched
    assert wrapped.key_id == keyvault.key_id("kek", version)
    assert keyvault.unwrap_locally("kek", wrapped.encrypted_key, algorithm=algorithm.value) == data_key
    assert keyvault.count_key_operations("wrapKey") == 0
    for _ in range(3):
        assert crypto.unwrap_key(algorithm, wrapped.encrypted_key).key == data_key
    assert keyvault.count_key_operations("unwrapKey", "kek") == 3
    [record, *_] = keyvault.key_operations
    assert (record.operation, record.version, record.algorithm, record.status) == (
        "unwrapKey",
        version,
        algorithm.value,
        200,
    )
    assert record.client_id == keyvault.config.default_credential(False)._client_id


def test_server_side_wrap_answers_with_the_versioned_kid(keyvault_server: KeyVaultServer, keyvault: Vault) -> None:
    """Without keys/get the SDK cannot fetch the key and sends wrapKey to the service."""
    version = keyvault.add_key("kek")
    app = keyvault_server.add_client(secret="s")
    keyvault.deny(app.client_id, ["keys/get"])
    crypto = keyvault.crypto_client("kek", credential=keyvault_server.credential(client=app))
    kids: list[str] = []

    def hook(response: Any) -> None:
        if response.http_response.status_code == 200:
            kids.append(response.http_response.json()["kid"])

    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, b"d" * 32, raw_response_hook=hook)
    assert kids == [keyvault.key_id("kek", version)]
    assert keyvault.count_key_operations("wrapKey", "kek", version=version) == 1
    unwrapped = crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key, raw_response_hook=hook)
    assert unwrapped.key == b"d" * 32
    assert kids[-1] == keyvault.key_id("kek", version)
    versionless = [r.path for r in keyvault.requests if r.path.endswith("wrapkey")]
    assert versionless == ["/keys/kek//wrapkey", "/keys/kek//unwrapkey"]  # "" version: the newest


def test_rsa_encrypt_decrypt(keyvault: Vault) -> None:
    keyvault.add_key("k")
    crypto = keyvault.crypto_client("k")
    sealed = crypto.encrypt(EncryptionAlgorithm.rsa_oaep_256, b"hello")
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, sealed.ciphertext).plaintext == b"hello"
    assert keyvault.count_key_operations("decrypt", "k") == 1


def test_versions_open_only_their_own_wrapped_keys(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    v1 = keyvault.add_key("kek")
    wrapped = keyvault.wrap_locally("kek", b"x" * 32)
    v2 = keyvault.add_key("kek")  # rotation: the old version keeps opening what it wrapped
    assert keyvault.crypto_client("kek", v1).unwrap_key("RSA-OAEP-256", wrapped).key == b"x" * 32
    with pytest.raises(HttpResponseError) as info:
        keyvault.crypto_client("kek", v2, **no_retry).unwrap_key("RSA-OAEP-256", wrapped)
    assert _code(info.value)[:2] == (400, "BadParameter")
    assert keyvault.count_key_operations("unwrapKey", version=v2, succeeded=False) == 1


def test_disabled_key_refuses_unwrap_and_decrypt_but_not_wrap(
    keyvault_server: KeyVaultServer, keyvault: Vault, no_retry: dict[str, Any]
) -> None:
    keyvault.add_key("kek")
    wrapped = keyvault.wrap_locally("kek", b"x" * 32)
    crypto = keyvault.crypto_client("kek", **no_retry)
    assert crypto.unwrap_key("RSA-OAEP-256", wrapped).key == b"x" * 32
    keyvault.disable_key("kek")  # mid-run
    with pytest.raises(HttpResponseError) as unwrap:
        crypto.unwrap_key("RSA-OAEP-256", wrapped)
    assert _code(unwrap.value) == (403, "Forbidden", {"code": "KeyDisabled"})
    with pytest.raises(HttpResponseError) as decrypt:
        crypto.decrypt(EncryptionAlgorithm.rsa_oaep, b"\x00" * 256)
    assert _code(decrypt.value)[2] == {"code": "KeyDisabled"}
    # The service still wraps with a disabled key (azure-sdk-for-python#45342): send it there.
    app = keyvault_server.add_client(secret="s")
    keyvault.deny(app.client_id, ["keys/get"])
    remote = keyvault.crypto_client("kek", credential=keyvault_server.credential(client=app), **no_retry)
    assert remote.wrap_key("RSA-OAEP-256", b"y" * 32).encrypted_key
    keyvault.enable_key("kek")
    assert crypto.unwrap_key("RSA-OAEP-256", wrapped).key == b"x" * 32


def test_operation_missing_from_key_ops_is_forbidden(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_key("kek", key_ops=["wrapKey"])
    wrapped = keyvault.wrap_locally("kek", b"x" * 32)
    with pytest.raises(HttpResponseError) as info:
        keyvault.crypto_client("kek", **no_retry).unwrap_key("RSA-OAEP-256", wrapped)
    assert _code(info.value) == (403, "Forbidden", {"code": "KeyOperationForbidden"})
    assert "unwrapKey is not permitted" in str(info.value.message)
    keyvault.set_key_ops("kek", ["wrapKey", "unwrapKey"])
    assert keyvault.crypto_client("kek").unwrap_key("RSA-OAEP-256", wrapped).key == b"x" * 32


def test_unsupported_algorithm_and_missing_key(keyvault: Vault, no_retry: dict[str, Any]) -> None:
    keyvault.add_key("kek")
    crypto = keyvault.crypto_client("kek", **no_retry)
    with pytest.raises(HttpResponseError) as info:
        crypto.unwrap_key(KeyWrapAlgorithm.aes_256, b"\x00" * 40)
    assert _code(info.value)[:2] == (400, "BadParameter")
    with pytest.raises(ResourceNotFoundError) as missing:
        keyvault.crypto_client("nope", **no_retry).unwrap_key("RSA-OAEP-256", b"\x00" * 256)
    assert _code(missing.value)[:2] == (404, "KeyNotFound")
    ec = keyvault.add_key("sig", kty="EC")
    with pytest.raises(HttpResponseError) as ec_wrap:
        keyvault.crypto_client("sig", ec, **no_retry).unwrap_key("RSA-OAEP-256", b"\x00" * 64)
    assert _code(ec_wrap.value)[2] == {"code": "KeyOperationForbidden"}  # EC keys only sign and verify


def test_expired_key_still_unwraps_but_does_not_wrap(
    keyvault_server: KeyVaultServer, keyvault: Vault, no_retry: dict[str, Any]
) -> None:
    keyvault.add_key("old", exp=dt.datetime(2020, 1, 1, tzinfo=UTC))
    wrapped = keyvault.wrap_locally("old", b"x" * 32)
    assert keyvault.crypto_client("old").unwrap_key("RSA-OAEP-256", wrapped).key == b"x" * 32
    app = keyvault_server.add_client(secret="s")
    keyvault.deny(app.client_id, ["keys/get"])
    remote = keyvault.crypto_client("old", credential=keyvault_server.credential(client=app), **no_retry)
    with pytest.raises(HttpResponseError) as info:
        remote.wrap_key("RSA-OAEP-256", b"y" * 32)
    assert _code(info.value)[:2] == (403, "Forbidden")


def test_per_principal_permissions_change_mid_run(
    keyvault_server: KeyVaultServer, keyvault: Vault, no_retry: dict[str, Any]
) -> None:
    keyvault.add_key("kek")
    wrapped = keyvault.wrap_locally("kek", b"x" * 32)
    app = keyvault_server.add_client(secret="s")
    credential = keyvault_server.credential(client=app)
    keys = keyvault.client("key", credential=credential, **no_retry)
    crypto = keyvault.crypto_client("kek", credential=credential, **no_retry)
    assert crypto.unwrap_key("RSA-OAEP-256", wrapped).key == b"x" * 32

    keyvault.deny(app.client_id, ["unwrapKey"])  # may still get the key, may no longer unwrap
    assert keys.get_key("kek").name == "kek"
    with pytest.raises(HttpResponseError) as info:
        crypto.unwrap_key("RSA-OAEP-256", wrapped)
    assert _code(info.value) == (403, "Forbidden", {"code": "ForbiddenByRbac"})
    assert "Action: 'Microsoft.KeyVault/vaults/keys/unwrap/action'" in str(info.value.message)
    assert f"appid={app.client_id}" in str(info.value.message)
    # Other principals are untouched.
    assert keyvault.crypto_client("kek").unwrap_key("RSA-OAEP-256", wrapped).key == b"x" * 32

    keyvault.allow(app.client_id, ["unwrapKey"])
    assert crypto.unwrap_key("RSA-OAEP-256", wrapped).key == b"x" * 32
    keyvault.deny(app.client_id)  # no role at all
    with pytest.raises(HttpResponseError):
        keys.get_key("kek")
    keyvault.allow(app.client_id)
    assert keys.get_key("kek").name == "kek"
    denied = [r for r in keyvault.key_operations if r.error_code == "Forbidden"]
    assert denied == []  # RBAC refusals happen before the key is touched: not key operations
    with pytest.raises(ValueError, match="unknown operation"):
        keyvault.deny(app.client_id, ["unwrap"])
