"""200 reads from concurrent hvac clients, and `python -m sealkit_testservers.vault`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sealkit_testservers.vault import VaultServer

ROOT = Path(__file__).resolve().parents[3]


def test_two_hundred_reads_from_concurrent_clients(vault_server: VaultServer) -> None:
    for i in range(200):
        vault_server.put_secret("secret", f"apps/s{i}", {"k": str(i)})
    clients = [vault_server.client() for _ in range(16)]

    def read(i: int) -> str:
        answer = clients[i % 16].secrets.kv.v2.read_secret_version(f"apps/s{i}", raise_on_deleted_version=True)
        return str(answer["data"]["data"]["k"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert list(pool.map(read, range(200))) == [str(i) for i in range(200)]
    assert len([r for r in vault_server.requests if r.status == 200]) == 200


CHILD = textwrap.dedent(
    """
    import hvac
    client = hvac.Client()  # VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT from the environment
    print(client.secrets.kv.v2.read_secret_version("app/db", raise_on_deleted_version=True)["data"]["data"]["user"])
    print(client.secrets.kv.v1.read_secret("team/api", mount_point="legacy")["data"]["token"])
    """
)


def test_module_runs_standalone_and_prints_exports(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "testservers"), env.get("PYTHONPATH", "")])
    argv = ["--workdir", str(tmp_path), "--kv1", "legacy", "--seed", "secret/app/db:user=app"]
    argv += ["--seed", "secret/app/db:password=pw", "--seed", "legacy/team/api:token=t"]
    process = subprocess.Popen(
        [sys.executable, "-m", "sealkit_testservers.vault", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(4)]
        exports = dict(line.removeprefix("export ").split("=", 1) for line in lines[:3])
        assert sorted(exports) == ["VAULT_ADDR", "VAULT_CACERT", "VAULT_TOKEN"]
        assert exports["VAULT_ADDR"].startswith("https://127.0.0.1:")
        assert lines[3].startswith("# plain HTTP: http://127.0.0.1:")
        result = subprocess.run(
            [sys.executable, "-c", CHILD],
            env={**env, **{k: v.strip("'") for k, v in exports.items()}},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.split() == ["app", "t"]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_module_rejects_a_bad_seed(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sealkit_testservers.vault", "--workdir", str(tmp_path), "--seed", "nopath=x"],
        env={**os.environ, "PYTHONPATH": str(ROOT / "testservers")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == "error: --seed wants MOUNT/PATH:KEY=VALUE, got 'nopath'\n"
