"""The async (aiohttp) KeyClient and CryptographyClient against the local keys data plane."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys.crypto import KeyWrapAlgorithm

from sealkit_testservers.keyvault import KeyVaultServer, Vault

UTC = dt.UTC


async def test_async_key_client_create_import_update_list_delete(keyvault: Vault) -> None:
    async with keyvault.client("key", aio=True) as keys:
        created = await keys.create_rsa_key("kek", size=2048)
        assert created.id == keyvault.key_id("kek", created.properties.version)
        again = await keys.create_rsa_key("kek")
        assert [p.version async for p in keys.list_properties_of_key_versions("kek", max_page_size=1)] == [
            created.properties.version,
            again.properties.version,
        ]
        updated = await keys.update_key_properties(
            "kek", created.properties.version, enabled=False, expires_on=dt.datetime(2030, 1, 1, tzinfo=UTC)
        )
        assert updated.properties.enabled is False
        assert (await keys.get_key("kek", created.properties.version)).properties.enabled is False
        assert [k.name async for k in keys.list_properties_of_keys()] == ["kek"]
        deleted = await keys.delete_key("kek")
        assert deleted.name == "kek"
        with pytest.raises(ResourceNotFoundError):
            await keys.get_key("kek")


async def test_async_crypto_client_unwraps_on_the_server(keyvault: Vault) -> None:
    version = keyvault.add_key("kek")
    data_key = os.urandom(32)
    async with keyvault.crypto_client("kek", aio=True) as crypto:
        wrapped = await crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, data_key)
        assert wrapped.key_id == keyvault.key_id("kek", version)
        for _ in range(2):
            assert (await crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key)).key == data_key
    assert keyvault.count_key_operations("unwrapKey", "kek", version=version) == 2


async def test_async_refusals_disabled_and_denied(
    keyvault_server: KeyVaultServer, keyvault: Vault, no_retry: dict[str, Any]
) -> None:
    keyvault.add_key("kek")
    wrapped = keyvault.wrap_locally("kek", b"x" * 32)
    app = keyvault_server.add_client(secret="s")
    async with (
        keyvault_server.credential(client=app, aio=True) as credential,
        keyvault.crypto_client("kek", credential=credential, aio=True, **no_retry) as crypto,
    ):
        assert (await crypto.unwrap_key("RSA-OAEP-256", wrapped)).key == b"x" * 32
        keyvault.deny(app.client_id, ["unwrapKey"])
        with pytest.raises(HttpResponseError) as denied:
            await crypto.unwrap_key("RSA-OAEP-256", wrapped)
        assert denied.value.status_code == 403
        assert denied.value.error is not None
        assert denied.value.error.innererror == {"code": "ForbiddenByRbac"}
        keyvault.allow(app.client_id)
        keyvault.disable_key("kek")
        with pytest.raises(HttpResponseError) as disabled:
            await crypto.unwrap_key("RSA-OAEP-256", wrapped)
        assert disabled.value.error is not None
        assert disabled.value.error.innererror == {"code": "KeyDisabled"}
