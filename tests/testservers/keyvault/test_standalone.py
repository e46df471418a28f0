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


KEY_CHILD = textwrap.dedent(
    """
    import sys
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.keys import KeyClient

    client = KeyClient(sys.argv[1], DefaultAzureCredential(), verify_challenge_resource=sys.argv[2] == "vault")
    key = client.get_key(sys.argv[3])
    print(str(key.key_type.value if hasattr(key.key_type, "value") else key.key_type), len(key.key.n or b"") * 8)
    """
)


def test_module_seeds_keys_into_vaults_and_managed_hsms(tmp_path: Path) -> None:
    argv = ["--workdir", str(tmp_path), "--hsm", "hsm", "--seed-key", "kek:RSA:3072", "--seed-key", "hsm/aes:oct-HSM"]
    process = subprocess.Popen(
        [sys.executable, "-m", "sealkit_testservers.keyvault", *argv],
        env=_child_env({}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        vault_line, hsm_line = process.stdout.readline().strip(), process.stdout.readline().strip()
        assert vault_line.startswith("vault main: https://127.0.0.1:")
        assert hsm_line.startswith("managed HSM hsm: https://127.0.0.1:")
        lines = [process.stdout.readline().strip() for _ in range(9)]
        env = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
        for url, kind, name, expected in (
            (vault_line.split(": ", 1)[1], "vault", "kek", "RSA 3072"),
            (hsm_line.split(": ", 1)[1], "hsm", "aes", "oct-HSM 0"),
        ):
            result = subprocess.run(
                [sys.executable, "-c", KEY_CHILD, url, kind, name],
                env=_child_env({k: v.strip("'") for k, v in env.items()}),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, result.stderr[-2000:]
            assert result.stdout.strip() == expected
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_module_rejects_a_bad_seed_key(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sealkit_testservers.keyvault", "--workdir", str(tmp_path), "--seed-key", "k:oct-HSM"],
        env=_child_env({}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: --seed-key k:oct-HSM: symmetric (oct) keys exist only in a Managed HSM")
    assert "Traceback" not in result.stderr
