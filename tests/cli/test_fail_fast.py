"""Cluster-facing commands fail fast: the first connection-level failure ends the command with one line
naming the endpoint and the cause, exit status 2; verify/reencrypt with nothing to do are an error.

Each command runs as a user runs it (a subprocess with a generous timeout; no timing is asserted).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret

ROOT = Path(__file__).resolve().parents[2]
FILES = 60


def sealkit(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "SEALED_SECRETS_CERT", "SEALKIT_DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", "from sealkit_cli.main import main; main()", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=clean | {"HOME": "/nonexistent"} | (env or {}),
        cwd=ROOT,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kubeconfig_for(path: Path, server: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "team-a"}}],
                "current-context": "x",
            }
        )
    )
    return path


@pytest.fixture
def repo(tmp_path: Path, key_files: list[tuple[Path, Path]]) -> Path:
    """60 files with a SealedSecret each."""
    cert = load_certificate(key_files[0][1].read_bytes())
    root = tmp_path / "repo"
    root.mkdir()
    for i in range(FILES):
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"s{i}", "namespace": "team-a"},
            "stringData": {"password": "pw"},
        }
        (root / f"s{i}.yaml").write_text(yaml.safe_dump(seal_secret(secret, cert)))
    return root


def one_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def commands(repo: Path, kubeconfig: Path) -> dict[str, tuple[list[str], str]]:
    secret = yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"a": "YQ=="}})
    flags = ["--kubeconfig", str(kubeconfig)]
    return {
        "verify": (["verify", *flags, str(repo)], ""),
        "reencrypt": (["reencrypt", *flags, str(repo)], ""),
        "lint --online": (["lint", "--online", *flags, str(repo)], ""),
        "cert": (["cert", *flags], ""),
        "seal": (["seal", *flags], secret),
    }


COMMANDS = ["verify", "reencrypt", "lint --online", "cert", "seal"]


@pytest.mark.parametrize("command", COMMANDS)
def test_refused_connection_is_one_line_naming_endpoint_and_cause(repo: Path, tmp_path: Path, command: str) -> None:
    server = f"https://127.0.0.1:{closed_port()}"
    args, stdin = commands(repo, kubeconfig_for(tmp_path / "kc", server))[command]
    line = one_error(sealkit(*args, stdin=stdin))
    assert line == f"error: cannot reach the API server (connection refused): {server}"


@pytest.mark.parametrize("command", COMMANDS)
def test_tls_failure_is_one_line(kube: Any, repo: Path, tmp_path: Path, command: str) -> None:
    server = kube.url.replace("http://", "https://")  # the emulator speaks plain HTTP on that port
    args, stdin = commands(repo, kubeconfig_for(tmp_path / "kc", server))[command]
    one_error(sealkit(*args, stdin=stdin), "cannot reach the API server (TLS", f": {server}")


@pytest.mark.parametrize("command", ["verify", "reencrypt", "lint --online", "cert", "seal"])
def test_no_such_service_stops_at_the_first_request(kube: Any, kubeconfig: Path, repo: Path, command: str) -> None:
    args, stdin = commands(repo, kubeconfig)[command]
    before = kube.request_count
    one_error(sealkit(*args, stdin=stdin), "no controller Service kube-system/sealed-secrets-controller", kube.url)
    assert kube.request_count - before <= 3, "one look-up, one search for candidates: never once per file"


@pytest.mark.parametrize("command", ["verify", "reencrypt", "lint --online", "cert"])
def test_a_service_without_a_controller_behind_it_stops_at_once(
    kube: Any, kubeconfig: Path, repo: Path, command: str
) -> None:
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "sealed-secrets-controller", "namespace": "kube-system"},
            "spec": {"ports": [{"name": "http", "port": 8080}]},
        }
    )
    args, stdin = commands(repo, kubeconfig)[command]
    before = kube.request_count
    one_error(sealkit(*args, stdin=stdin), "does not answer (HTTP 503", "Service kube-system/sealed-secrets-controller")
    assert kube.request_count - before <= 3


@pytest.mark.parametrize("command", ["verify", "cert"])
def test_refused_credentials_stop_at_once(kube: Any, repo: Path, tmp_path: Path, command: str) -> None:
    kube.enable_rbac()
    kubeconfig = kube.write_kubeconfig(tmp_path / "kc", token="nobody")
    args, stdin = commands(repo, kubeconfig)[command]
    one_error(sealkit(*args, stdin=stdin), "(HTTP 40", kube.url)


@pytest.mark.parametrize("command", ["verify", "reencrypt"])
def test_nothing_to_do_is_an_error_unless_allowed(tmp_path: Path, command: str) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "configmap.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    one_error(sealkit(command, "--private-key", "unused.pem", str(empty)), "no SealedSecrets found under PATHS")
    allowed = sealkit(command, "--allow-empty", str(empty))
    assert allowed.returncode == 0, allowed.stderr
    assert "0 SealedSecrets in 0 files" in allowed.stdout
