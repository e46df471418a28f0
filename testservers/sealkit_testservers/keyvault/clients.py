"""Real azure-identity credentials and Key Vault SDK clients pointed at a local server.

Imports azure lazily (the SDKs cost ~0.5 s to import). Everything here only passes options a
user could pass against the real cloud: `authority`, `connection_verify` (the test CA) and, for
MSAL-based sync credentials, `disable_instance_discovery=True` (MSAL would otherwise ask
login.microsoftonline.com to vouch for an authority it does not know).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .authority import Client
    from .server import KeyVaultServer
    from .vault import Vault

ClientKind = Literal["secret", "key", "certificate"]


def make_credential(server: KeyVaultServer, kind: str, *, aio: bool, client: Client, **kwargs: Any) -> Any:
    """ClientSecretCredential ("secret") or WorkloadIdentityCredential ("workload"), sync or async."""
    options: dict[str, Any] = {"authority": server.authority_host, "connection_verify": str(server.ca_path)}
    options.update(kwargs)
    if kind == "secret":
        if client.secret is None:
            raise ValueError(f"client {client.client_id} has no secret")
        if aio:
            from azure.identity.aio import ClientSecretCredential as AioSecretCredential

            return AioSecretCredential(client.tenant_id, client.client_id, client.secret, **options)
        from azure.identity import ClientSecretCredential

        options.setdefault("disable_instance_discovery", True)
        return ClientSecretCredential(client.tenant_id, client.client_id, client.secret, **options)
    if kind == "workload":
        env = server.env(client)
        token_file = env.get("AZURE_FEDERATED_TOKEN_FILE")
        if token_file is None:
            raise ValueError(f"client {client.client_id} has no federated token")
        if aio:
            from azure.identity.aio import WorkloadIdentityCredential as AioWorkloadCredential

            return AioWorkloadCredential(
                tenant_id=client.tenant_id, client_id=client.client_id, token_file_path=token_file, **options
            )
        from azure.identity import WorkloadIdentityCredential

        return WorkloadIdentityCredential(
            tenant_id=client.tenant_id, client_id=client.client_id, token_file_path=token_file, **options
        )
    raise ValueError(f"unknown credential kind {kind!r}: use 'secret' or 'workload'")


def make_client(vault: Vault, kind: ClientKind, *, credential: Any, aio: bool, **kwargs: Any) -> Any:
    """SecretClient/KeyClient/CertificateClient (sync or aio) for `vault`, trusting the test CA."""
    options: dict[str, Any] = {"connection_verify": str(vault.config.ca_path)}
    options.update(kwargs)
    if kind == "secret":
        if aio:
            from azure.keyvault.secrets.aio import SecretClient as AioSecretClient

            return AioSecretClient(vault.url, credential, **options)
        from azure.keyvault.secrets import SecretClient

        return SecretClient(vault.url, credential, **options)
    if kind == "key":
        if aio:
            from azure.keyvault.keys.aio import KeyClient as AioKeyClient

            return AioKeyClient(vault.url, credential, **options)
        from azure.keyvault.keys import KeyClient

        return KeyClient(vault.url, credential, **options)
    if aio:
        from azure.keyvault.certificates.aio import CertificateClient as AioCertificateClient

        return AioCertificateClient(vault.url, credential, **options)
    from azure.keyvault.certificates import CertificateClient

    return CertificateClient(vault.url, credential, **options)


def make_crypto_client(vault: Vault, key_id: str, *, credential: Any, aio: bool, **kwargs: Any) -> Any:
    """A CryptographyClient (sync or aio) for the key `key_id`, trusting the test CA."""
    options: dict[str, Any] = {"connection_verify": str(vault.config.ca_path)}
    options.update(kwargs)
    if aio:
        from azure.keyvault.keys.crypto.aio import CryptographyClient as AioCryptographyClient

        return AioCryptographyClient(key_id, credential, **options)
    from azure.keyvault.keys.crypto import CryptographyClient

    return CryptographyClient(key_id, credential, **options)


class ThreadedAsyncCredential:
    """An async credential over a sync one, run in a worker thread.

    Used only for the convenience clients: it owns no aiohttp session, so a test that forgets to
    close it leaks nothing. Tests of the real async credentials build those explicitly.
    """

    def __init__(self, credential: Any) -> None:
        self._credential = credential

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._credential.get_token, *scopes, **kwargs)

    async def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        return await asyncio.to_thread(self._credential.get_token_info, *scopes, options=options)

    async def close(self) -> None:
        """The sync credential belongs to the server, which closes it at stop."""

    async def __aenter__(self) -> ThreadedAsyncCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()
