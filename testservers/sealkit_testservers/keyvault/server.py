"""The local "cloud": one TLS CA, one token endpoint (authority host) and any number of vaults.

    with KeyVaultServer() as cloud:
        vault = cloud.add_vault("main")
        vault.add_secret("db-password", "s3cret")
        env = cloud.env()            # AZURE_* + CA variables for a subprocess
        credential = cloud.credential("secret")

One default app registration (`client`) is made at start, with a client secret and a federated
token written to `federated_token_file`, so both ClientSecretCredential and
WorkloadIdentityCredential work out of the box.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from .api import SUPPORTED_API_VERSIONS
from .authority import DEFAULT_TENANT, Client, TokenAuthority, TokenRequestRecord
from .https import HOST, Listener
from .tls import TlsFiles, make_tls_files
from .tokens import TokenSigner
from .vault import Vault, VaultConfig

CredentialKind = Literal["secret", "workload", "default"]


class KeyVaultServer:
    """Owns the CA files, the token endpoint and the vaults; `stop()` ends them all."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        tenant_id: str = DEFAULT_TENANT,
        challenge_resource: str | None = None,
        api_versions: frozenset[str] | None = SUPPORTED_API_VERSIONS,
        token_lifetime: int = 3600,
    ) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="sealkit-kv-")) if workdir is None else workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.tls: TlsFiles = make_tls_files(self.workdir / "tls")
        self._context = self.tls.server_context()
        self.signer = TokenSigner()
        self.authority = TokenAuthority(self.signer, tenant_id=tenant_id, token_lifetime=token_lifetime)
        self._token_listener = Listener(self.authority.handle, self._context, server_header="entra")
        self._challenge_resource = challenge_resource
        self._api_versions = api_versions
        self.vaults: dict[str, Vault] = {}
        self._sync_credentials: list[Any] = []
        self._shared_credential: Any = None
        self.federated_token_file = self.workdir / "federated-token"
        self.client: Client = self.add_client(
            str(uuid.uuid4()),
            secret=secrets.token_urlsafe(24),
            federated_token=_fake_jwt(),
        )
        self.federated_token_file.write_text(self.client.federated_token or "", encoding="utf-8")

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> KeyVaultServer:
        self._token_listener.start()
        return self

    def stop(self) -> None:
        for vault in self.vaults.values():
            vault.stop()
        for credential in self._sync_credentials:
            credential.close()
        self._sync_credentials.clear()
        self._shared_credential = None
        self._token_listener.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> KeyVaultServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- parts -----------------------------------------------------------------------------------

    @property
    def ca_path(self) -> Path:
        """PEM of the test CA: give it as `connection_verify`, REQUESTS_CA_BUNDLE or SSL_CERT_FILE."""
        return self.tls.ca_path

    @property
    def tenant_id(self) -> str:
        return self.authority.tenant_id

    @property
    def authority_host(self) -> str:
        """The AZURE_AUTHORITY_HOST value (`authority=` for credentials)."""
        return f"https://{HOST}:{self._token_listener.port}"

    @property
    def token_requests(self) -> list[TokenRequestRecord]:
        return self.authority.requests

    def add_client(
        self,
        client_id: str | None = None,
        *,
        secret: str | None = None,
        federated_token: str | None = None,
        tenant_id: str | None = None,
    ) -> Client:
        """Register another app (principal); use its id with `Vault.deny` to test "no permission"."""
        return self.authority.add_client(client_id, secret=secret, federated_token=federated_token, tenant_id=tenant_id)

    def add_vault(self, name: str = "vault", *, port: int = 0, managed_hsm: bool = False) -> Vault:
        """Create and start a vault (or, with `managed_hsm=True`, a Managed HSM) on its own port."""
        if name in self.vaults:
            raise ValueError(f"vault {name!r} exists already")
        config = VaultConfig(
            signer=self.signer,
            tenant_id=self.tenant_id,
            authority_host=lambda: self.authority_host,
            tls_context=self._context,
            ca_path=self.ca_path,
            default_credential=self._default_credential,
            challenge_resource=self._challenge_resource,
            api_versions=self._api_versions,
            managed_hsm=managed_hsm,
        )
        vault = Vault(name, config, port=port).start()
        self.vaults[name] = vault
        return vault

    # -- client side helpers ---------------------------------------------------------------------

    def env(self, client: Client | None = None, *, secret: bool = False) -> dict[str, str]:
        """Environment for a subprocess (or monkeypatch) so azure-identity finds this server.

        Workload identity variables always; `secret=True` adds AZURE_CLIENT_SECRET (which makes
        DefaultAzureCredential pick EnvironmentCredential, an MSAL credential: see the docs about
        instance discovery). The CA goes in REQUESTS_CA_BUNDLE (sync) and SSL_CERT_FILE (aiohttp).
        """
        client = client or self.client
        values = {
            "AZURE_TENANT_ID": client.tenant_id,
            "AZURE_CLIENT_ID": client.client_id,
            "AZURE_AUTHORITY_HOST": self.authority_host,
            "REQUESTS_CA_BUNDLE": str(self.ca_path),
            "SSL_CERT_FILE": str(self.ca_path),
        }
        if client.federated_token is not None:
            token_file = self.federated_token_file
            if client is not self.client:
                token_file = self.workdir / f"federated-token-{client.client_id}"
                token_file.write_text(client.federated_token, encoding="utf-8")
            values["AZURE_FEDERATED_TOKEN_FILE"] = str(token_file)
        if secret and client.secret is not None:
            values["AZURE_CLIENT_SECRET"] = client.secret
        return values

    def credential(
        self, kind: CredentialKind = "secret", *, aio: bool = False, client: Client | None = None, **kwargs: Any
    ) -> Any:
        """A real azure-identity credential pointed at this server (imports azure lazily)."""
        from .clients import make_credential

        credential = make_credential(self, kind, aio=aio, client=client or self.client, **kwargs)
        if not aio:
            self._sync_credentials.append(credential)  # closed at stop(); async ones are the caller's
        return credential

    def _default_credential(self, aio: bool) -> Any:
        """The shared credential behind `Vault.client()` without an explicit one."""
        from .clients import ThreadedAsyncCredential

        if self._shared_credential is None:
            self._shared_credential = self.credential("secret")
        return ThreadedAsyncCredential(self._shared_credential) if aio else self._shared_credential


def _fake_jwt() -> str:
    """A projected service-account token look-alike; the token endpoint compares it verbatim."""
    return "eyJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(48) + "." + secrets.token_urlsafe(32)
