"""A vault served as a Managed HSM: its challenge resource, HSM-only key types, AES key wrap."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.keyvault.keys.crypto import EncryptionAlgorithm, KeyWrapAlgorithm

from sealkit_testservers.keyvault import KeyVaultServer


def _post(keys: Any, path: str, body: dict[str, str]) -> Any:
    """A raw data-plane call through the SDK client's own pipeline (`send_request`)."""
    return keys.send_request(HttpRequest("POST", path, json=body))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_oct_hsm_key_wraps_with_a256kw_on_the_server(keyvault_server: KeyVaultServer) -> None:
    hsm = keyvault_server.add_vault("hsm", managed_hsm=True)
    keys = hsm.client("key")
    created = keys.create_oct_key("kek", size=256, hardware_protected=True)
    assert created.key_type == "oct-HSM"
    assert created.key.k is None  # symmetric material never leaves the HSM
    assert sorted(created.key_operations) == ["decrypt", "encrypt", "unwrapKey", "wrapKey"]
    scopes = {r.scope for r in keyvault_server.token_requests}
    assert scopes == {"https://managedhsm.azure.net/.default"}

    data_key = os.urandom(32)
    version = created.properties.version
    wrapped = _post(keys, f"/keys/kek/{version}/wrapkey", {"alg": "A256KW", "value": _b64(data_key)})
    assert wrapped.status_code == 200
    assert wrapped.json()["kid"] == hsm.key_id("kek", version)
    blob = base64.urlsafe_b64decode(wrapped.json()["value"] + "==")
    assert len(blob) == 40  # RFC 3394: 8 bytes longer
    assert hsm.unwrap_locally("kek", blob) == data_key
    crypto = hsm.crypto_client("kek")
    assert crypto.unwrap_key(KeyWrapAlgorithm.aes_256, blob).key == data_key
    assert hsm.count_key_operations("wrapKey", "kek") == 1
    assert hsm.count_key_operations("unwrapKey", "kek") == 1

    sealed = crypto.encrypt(EncryptionAlgorithm.a256_gcm, b"payload", additional_authenticated_data=b"aad")
    assert sealed.iv is not None and sealed.tag is not None
    opened = crypto.decrypt(
        EncryptionAlgorithm.a256_gcm,
        sealed.ciphertext,
        iv=sealed.iv,
        authentication_tag=sealed.tag,
        additional_authenticated_data=b"aad",
    )
    assert opened.plaintext == b"payload"
    assert hsm.count_key_operations("encrypt", "kek") == hsm.count_key_operations("decrypt", "kek") == 1


def test_sdk_wraps_oct_hsm_keys_locally_with_a_key_it_invents(keyvault_server: KeyVaultServer) -> None:
    """Pins an azure-keyvault-keys hazard the local HSM reproduces faithfully.

    The service never returns `k`; the SDK's symmetric provider then makes random key bytes and
    `CryptographyClient.wrap_key` "succeeds" locally with them. Nothing can unwrap the result.
    Product code must send wrapKey to the HSM itself (`send_request`, as above).
    """
    hsm = keyvault_server.add_vault("hsm", managed_hsm=True)
    hsm.add_key("kek", kty="oct-HSM")
    wrapped = hsm.crypto_client("kek").wrap_key(KeyWrapAlgorithm.aes_256, b"k" * 32)
    assert hsm.count_key_operations("wrapKey") == 0
    with pytest.raises(ValueError, match="not valid"):
        hsm.unwrap_locally("kek", wrapped.encrypted_key)


def test_hsm_refuses_software_keys_and_wrong_aes_sizes(keyvault_server: KeyVaultServer) -> None:
    hsm = keyvault_server.add_vault("hsm", managed_hsm=True)
    keys = hsm.client("key", retry_total=0)
    with pytest.raises(HttpResponseError) as software:
        keys.create_rsa_key("r")  # kty RSA: a Managed HSM only makes -HSM keys
    assert software.value.status_code == 400
    assert keys.create_rsa_key("r", hardware_protected=True).key_type == "RSA-HSM"
    hsm.add_key("k128", kty="oct-HSM", size=128)
    answer = _post(keys, "/keys/k128//wrapkey", {"alg": "A256KW", "value": _b64(b"x" * 32)})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadParameter"
    with pytest.raises(ValueError, match="only HSM keys"):
        hsm.add_key("soft", kty="RSA")


def test_hsm_challenge_needs_the_sdks_resource_opt_out_locally(keyvault_server: KeyVaultServer) -> None:
    """The SDK checks the challenge resource against the host; 127.0.0.1 is not *.managedhsm.azure.net."""
    hsm = keyvault_server.add_vault("hsm", managed_hsm=True)
    hsm.add_key("k", kty="oct-HSM")
    strict = hsm.client("key", verify_challenge_resource=True, retry_total=0)
    with pytest.raises(ValueError, match="does not match the requested domain"):
        strict.get_key("k")
    assert hsm.client("key").get_key("k").key_type == "oct-HSM"


def test_hsm_rbac_names_managed_hsm_actions(keyvault_server: KeyVaultServer, no_retry: dict[str, Any]) -> None:
    hsm = keyvault_server.add_vault("hsm", managed_hsm=True)
    hsm.add_key("kek", kty="oct-HSM")
    wrapped = hsm.wrap_locally("kek", b"x" * 32)
    app = keyvault_server.add_client(secret="s")
    hsm.deny(app.client_id, ["unwrapKey"])
    crypto = hsm.crypto_client("kek", credential=keyvault_server.credential(client=app), **no_retry)
    with pytest.raises(HttpResponseError) as info:
        crypto.unwrap_key(KeyWrapAlgorithm.aes_256, wrapped)
    assert info.value.status_code == 403
    assert "Microsoft.KeyVault/managedHsm/keys/unwrap/action" in str(info.value.message)
