"""Subprocess use: the env helper for child processes, and `python -m sealkit_testservers.keyvault`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sealkit_testservers.keyvault import KeyVaultServer, Vault

ROOT = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    url = sys.argv[1]
    print(SecretClient(url, DefaultAzureCredential()).get_secret("s").value)

    async def main():
        from azure.identity.aio import DefaultAzureCredential as AioCredential
        from azure.keyvault.secrets.aio import SecretClient as AioClient
        async with AioCredential() as credential, AioClient(url, credential) as client:
            print((await client.get_secret("s")).value)

    asyncio.run(main())
    """
)


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "testservers"), env.get("PYTHONPATH", "")])
    return env


def test_env_alone_configures_sync_and_async_clients_in_a_child(
    keyvault_server: KeyVaultServer, keyvault: Vault
) -> None:
    """REQUESTS_CA_BUNDLE (requests) and SSL_CERT_FILE (aiohttp, read at its import) plus AZURE_*."""
    keyvault.add_secret("s", "from-the-local-vault")
    result = subprocess.run(
        [sys.executable, "-c", CHILD, keyvault.url],
        env=_child_env(keyvault_server.env()),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["from-the-local-vault", "from-the-local-vault"]
    assert [r.grant for r in keyvault_server.token_requests] == ["assertion", "assertion"]


def test_module_runs_standalone_and_prints_what_clients_need(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sealkit_testservers.keyvault", "--workdir", str(tmp_path), "--seed", "hello=world"],
        env=_child_env({}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        assert lines[0].startswith("vault main: https://127.0.0.1:")
        assert lines[1] == f"CA certificate: {tmp_path / 'tls' / 'ca.pem'}"
        assert lines[2].startswith("token endpoint (AZURE_AUTHORITY_HOST): https://127.0.0.1:")
        url = lines[0].split(": ", 1)[1]
        env: dict[str, str] = {}
        process.stdout.readline()
        while len(env) < 6:
            line = process.stdout.readline().strip()
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value.strip("'")
        result = subprocess.run(
            [sys.executable, "-c", CHILD.replace('"s"', '"hello"'), url],
            env=_child_env(env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.split() == ["world", "world"]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
