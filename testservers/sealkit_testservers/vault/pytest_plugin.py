"""Pytest fixtures for the local HashiCorp Vault (registered in tests/conftest.py).

- `vault_server`: a started `VaultServer` per test (KV v2 at `secret`, root token
  `vault_server.root_token`, files under `tmp_path`); `vault_server.client()` is a real hvac.Client.
- `vault_env`: VAULT_ADDR/VAULT_TOKEN/VAULT_CACERT set with monkeypatch (root token, HTTPS).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import VaultServer


@pytest.fixture
def vault_server(tmp_path: Path) -> Iterator[VaultServer]:
    server = VaultServer(tmp_path / "vault").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def vault_env(vault_server: VaultServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = vault_server.env()
    for name in ("VAULT_NAMESPACE", "VAULT_SKIP_VERIFY", "VAULT_CLIENT_CERT", "VAULT_CLIENT_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
