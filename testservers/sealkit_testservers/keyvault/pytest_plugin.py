"""Pytest fixtures for the local Key Vault (registered in tests/conftest.py).

- `keyvault_server`: a started `KeyVaultServer` (CA, token endpoint, default client), per test.
- `keyvault`: a running `Vault` named "main" on that server; `keyvault.client()` gives a real
  SecretClient (`"key"`/`"certificate"`, `aio=True` for async ones).
- `keyvault_hsm`: a running Managed HSM named "hsm" on the same server (oct-HSM keys, A256KW).
- `keyvault_env`: the AZURE_* and CA variables set with monkeypatch (workload identity), so
  `DefaultAzureCredential()` and code that reads the environment reach the local server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import KeyVaultServer
from .vault import Vault


@pytest.fixture
def keyvault_server(tmp_path: Path) -> Iterator[KeyVaultServer]:
    server = KeyVaultServer(tmp_path / "keyvault").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def keyvault(keyvault_server: KeyVaultServer) -> Vault:
    return keyvault_server.add_vault("main")


@pytest.fixture
def keyvault_hsm(keyvault_server: KeyVaultServer) -> Vault:
    return keyvault_server.add_vault("hsm", managed_hsm=True)


@pytest.fixture
def keyvault_env(keyvault_server: KeyVaultServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = keyvault_server.env()
    for name in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_TOKEN_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
