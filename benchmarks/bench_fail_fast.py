"""Cluster-facing commands against a cluster they cannot use, over 300 SealedSecret files (the issue's
slowest case: `verify` took 2 min 29 s and printed a line per file). Prints each run's wall time and
error lines beside the target.

Endpoints: a closed port (connection refused), a name that does not resolve (DNS), a server that accepts
connections and never answers (the worst case: the read timeout decides), and a server that is not TLS.

Run: flock /tmp/sealkit-heavy.lock .venv/bin/python benchmarks/bench_fail_fast.py
Target: exit 2 with one error line within 10 s, whatever the number of files.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

from sealkit.keygen import generate_key_pair
from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret

ROOT = Path(__file__).resolve().parent.parent
FILES = 300
TARGET_SECONDS = 10.0


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Silent:
    """Accepts connections and never answers (nor closes them) until stopped; or answers plain HTTP."""

    def __init__(self, reply: bytes = b"") -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.reply = reply
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.reply:
                conn.recv(65536)
                conn.sendall(self.reply)
            self.held.append(conn)

    def stop(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def kubeconfig(path: Path, server: str) -> Path:
    cluster = {"server": server, "insecure-skip-tls-verify": True}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": cluster}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "team-a"}}],
                "current-context": "x",
            }
        )
    )
    return path


def run(args: list[str], stdin: str) -> tuple[float, int, int]:
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "SEALED_SECRETS_CERT", "SEALKIT_DEBUG")}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", "from sealkit_cli.main import main; main()", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env=env | {"HOME": "/nonexistent"},
        cwd=ROOT,
    )
    return time.perf_counter() - started, result.returncode, len(result.stderr.splitlines())


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-fail-fast-"))
    silent, plain = Silent(), Silent(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    try:
        cert = load_certificate(generate_key_pair(bits=2048).certificate_pem)
        repo = folder / "repo"
        repo.mkdir()
        for i in range(FILES):
            secret = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"s{i}", "namespace": "team-a"},
                "stringData": {"password": "pw"},
            }
            (repo / f"s{i}.yaml").write_text(yaml.safe_dump(seal_secret(secret, cert)))
        endpoints = {
            "connection refused": f"https://127.0.0.1:{closed_port()}",
            "no such host (DNS)": "https://sealkit-bench.invalid:6443",
            "never answers": f"https://127.0.0.1:{silent.port}",
            "not TLS": f"https://127.0.0.1:{plain.port}",
        }
        secret = yaml.safe_dump(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"a": "YQ=="}}
        )
        print(f"{FILES} files; target: exit 2, one error line, <= {TARGET_SECONDS:.0f} s")
        print(f"{'endpoint':<22}{'command':<15}{'exit':>5}{'lines':>6}{'seconds':>9}   verdict")
        worst = 0.0
        for name, server in endpoints.items():
            flags = ["--kubeconfig", str(kubeconfig(folder / "kc", server))]
            commands = {
                "verify": (["verify", *flags, str(repo)], ""),
                "reencrypt": (["reencrypt", *flags, str(repo)], ""),
                "lint --online": (["lint", "--online", *flags, str(repo)], ""),
                "cert": (["cert", *flags], ""),
                "seal": (["seal", *flags], secret),
            }
            for command, (args, stdin) in commands.items():
                seconds, status, lines = run(args, stdin)
                worst = max(worst, seconds)
                ok = status == 2 and lines == 1 and seconds <= TARGET_SECONDS
                print(f"{name:<22}{command:<15}{status:>5}{lines:>6}{seconds:>9.2f}   {'ok' if ok else 'MISSED'}")
        print(f"worst: {worst:.2f} s (target {TARGET_SECONDS:.0f} s)")
    finally:
        silent.stop()
        plain.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
