"""`VaultKek` with the real azure-keyvault-keys SDK against the local Key Vault and Managed HSM."""

from __future__ import annotations

import os

import pytest

from sealkit.clients.keyvault.kek import VaultKek
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.wrapping.envelope import KekError, unwrap_private_key, wrap_private_key, wrap_verified
from sealkit_testservers.keyvault import KeyVaultServer, Vault


@pytest.fixture(scope="module")
def pair() -> GeneratedKey:
    return generate_key_pair(bits=2048)


def kek_of(server: KeyVaultServer, vault: Vault, url: str, **kwargs: object) -> VaultKek:
    hsm = vault.managed_hsm if hasattr(vault, "managed_hsm") else False
    return VaultKek(
        url,
        server.credential(),
        timeout=2.0,
        verify_challenge_resource=not hsm,
        client_options={"connection_verify": str(server.ca_path)},
        **kwargs,  # type: ignore[arg-type]
    )


def test_rsa_kek_wraps_locally_and_unwraps_in_the_vault(
    keyvault_server: KeyVaultServer, keyvault: Vault, pair: GeneratedKey
) -> None:
    version = keyvault.add_key("kek", kty="RSA", size=2048)
    kek = kek_of(keyvault_server, keyvault, keyvault.key_id("kek"))  # versionless: the newest version
    assert kek.current_id() == keyvault.key_id("kek", version)
    wrapped = wrap_private_key(pair.key, kek)
    assert wrapped.kek_id == keyvault.key_id("kek", version) and wrapped.algorithm == "RSA-OAEP-256"
    assert keyvault.unwrap_locally("kek", wrapped.wrapped_data_key, version=version)  # a real RSA-OAEP-256 wrap
    opened = unwrap_private_key(wrapped, kek)
    assert opened.fingerprint == pair.key.fingerprint
    assert keyvault.count_key_operations("unwrapKey", "kek") == 1
    # a new version: new wraps use it, the old one keeps opening
    newer = keyvault.add_key("kek", kty="RSA", size=2048)
    assert kek.current_id() == keyvault.key_id("kek", newer)
    assert unwrap_private_key(wrapped, kek).fingerprint == pair.key.fingerprint
    assert wrap_verified(pair.key, kek).kek_id == keyvault.key_id("kek", newer)
    kek.close()
    # a URL with a version pins it: new wraps keep using it though a newer version exists
    pinned = kek_of(keyvault_server, keyvault, keyvault.key_id("kek", version))
    assert pinned.current_id() == keyvault.key_id("kek", version)
    assert wrap_verified(pair.key, pinned).kek_id == keyvault.key_id("kek", version)
    pinned.close()


def test_aes_kek_on_a_managed_hsm_wraps_on_the_hsm(
    keyvault_server: KeyVaultServer, keyvault_hsm: Vault, pair: GeneratedKey
) -> None:
    version = keyvault_hsm.add_key("kek", kty="oct-HSM", size=256)
    kek = kek_of(keyvault_server, keyvault_hsm, keyvault_hsm.key_id("kek"))
    wrapped = wrap_verified(pair.key, kek)
    assert wrapped.algorithm == "A256KW" and wrapped.kek_id == keyvault_hsm.key_id("kek", version)
    assert keyvault_hsm.count_key_operations("wrapKey", "kek") == 1
    assert keyvault_hsm.count_key_operations("unwrapKey", "kek") == 1
    assert len(keyvault_hsm.unwrap_locally("kek", wrapped.wrapped_data_key)) == 32
    kek.close()


def test_failures_are_one_line_with_a_reason(
    keyvault_server: KeyVaultServer, keyvault: Vault, pair: GeneratedKey
) -> None:
    keyvault.add_key("kek", kty="RSA", size=2048)
    kek = kek_of(keyvault_server, keyvault, keyvault.key_id("kek"))
    wrapped = wrap_private_key(pair.key, kek)
    keyvault.deny(keyvault_server.client.client_id, ["unwrapKey"])
    with pytest.raises(KekError) as denied:
        unwrap_private_key(wrapped, kek)
    assert denied.value.reason == "forbidden" and "Key Vault Crypto User" in str(denied.value)
    keyvault.allow(keyvault_server.client.client_id)
    keyvault.disable_key("kek")
    with pytest.raises(KekError) as disabled:
        unwrap_private_key(wrapped, kek)
    assert disabled.value.reason == "disabled"
    with pytest.raises(KekError) as no_wrap:
        wrap_private_key(pair.key, kek)
    assert no_wrap.value.reason == "disabled"
    keyvault.enable_key("kek")
    damaged = bytes(b ^ 1 for b in wrapped.wrapped_data_key)
    with pytest.raises(KekError) as bad:
        kek.unwrap(wrapped.kek_id, wrapped.algorithm, damaged)
    assert bad.value.reason == "invalid" and bad.value.permanent
    missing = kek_of(keyvault_server, keyvault, keyvault.key_id("nope"))
    with pytest.raises(KekError) as gone:
        missing.current_id()
    assert gone.value.reason == "not_found"
    keyvault.stop()
    with pytest.raises(KekError) as down:
        unwrap_private_key(wrapped, kek)
    assert down.value.reason == "unreachable"
    assert str(down.value).endswith(": cannot reach the vault (connection refused)"), "why, never the SDK's class"
    for error in (denied, disabled, no_wrap, bad, gone, down):
        text = str(error.value)
        assert "\n" not in text and "PRIVATE KEY" not in text
        assert os.fsdecode(pair.private_pem) not in text
