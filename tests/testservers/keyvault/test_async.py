"""The async (aiohttp) SDK clients and async azure-identity credentials against the local vault."""

from __future__ import annotations

import asyncio

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from sealkit_testservers.keyvault import KeyVaultServer, Vault


async def test_async_secret_client_reads_lists_writes(keyvault: Vault) -> None:
    v1 = keyvault.add_secret("a", "1")
    for i in range(7):
        keyvault.add_secret(f"b{i}", "x")
    async with keyvault.client(aio=True) as client:
        assert (await client.get_secret("a")).value == "1"
        assert (await client.get_secret("a", v1)).properties.version == v1
        names = [p.name async for p in client.list_properties_of_secrets(max_page_size=3)]
        assert names == ["a", *[f"b{i}" for i in range(7)]]
        written = await client.set_secret("c", "3", tags={"k": "v"})
        assert written.properties.tags == {"k": "v"}
        versions = [p.version async for p in client.list_properties_of_secret_versions("c")]
        assert versions == [written.properties.version]
        deleted = await client.delete_secret("c")
        assert deleted.name == "c"
        with pytest.raises(ResourceNotFoundError):
            await client.get_secret("c")


async def test_async_key_and_certificate_clients(keyvault: Vault) -> None:
    keyvault.add_key("k", kty="EC")
    keyvault.add_certificate("c", kty="EC")
    async with keyvault.client("key", aio=True) as keys:
        assert (await keys.get_key("k")).key_type == "EC"
        assert sorted([k.name async for k in keys.list_properties_of_keys()]) == ["c", "k"]
    async with keyvault.client("certificate", aio=True) as certs:
        cert = await certs.get_certificate("c")
        assert cert.secret_id is not None
        assert [c.name async for c in certs.list_properties_of_certificates()] == ["c"]


async def test_real_async_client_secret_credential(keyvault_server: KeyVaultServer, keyvault: Vault) -> None:
    keyvault.add_secret("s", "v")
    credential = keyvault_server.credential("secret", aio=True)
    async with credential, keyvault.client(credential=credential, aio=True) as client:
        assert (await client.get_secret("s")).value == "v"
    assert [(r.grant, r.status) for r in keyvault_server.token_requests] == [("secret", 200)]


async def test_real_async_workload_identity_credential(keyvault_server: KeyVaultServer, keyvault: Vault) -> None:
    keyvault.add_secret("s", "v")
    credential = keyvault_server.credential("workload", aio=True)
    async with credential, keyvault.client(credential=credential, aio=True) as client:
        assert (await client.get_secret("s")).value == "v"
    assert [(r.grant, r.status) for r in keyvault_server.token_requests] == [("assertion", 200)]


async def test_async_errors_and_concurrency(keyvault: Vault) -> None:
    for i in range(20):
        keyvault.add_secret(f"s{i}", str(i))
    keyvault.add_secret("off", "x", enabled=False)
    async with keyvault.client(aio=True, retry_total=0) as client:
        values = await asyncio.gather(*(client.get_secret(f"s{i}") for i in range(20)))
        assert [v.value for v in values] == [str(i) for i in range(20)]
        with pytest.raises(HttpResponseError) as info:
            await client.get_secret("off")
        assert info.value.status_code == 403
