"""`sealkit verify` / `sealkit reencrypt` throughput over 1,000 SealedSecrets offline (RSA-4096).

Run: .venv/bin/python benchmarks/bench_verify_reencrypt.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from sealkit.documents import dump_yaml
from sealkit.keygen import generate_key_pair
from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret
from sealkit_cli.main import cli

OBJECTS = 1000
PER_FILE = 10


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="sealkit-bench-"))
    old, new = generate_key_pair(bits=4096), generate_key_pair(bits=4096)
    (folder / "old.pem").write_bytes(old.private_pem)
    (folder / "new-cert.pem").write_bytes(new.certificate_pem)
    (folder / "new.pem").write_bytes(new.private_pem)
    cert = load_certificate(old.certificate_pem)
    repo = folder / "repo"
    repo.mkdir()
    for f in range(OBJECTS // PER_FILE):
        docs = [
            seal_secret(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": f"s{f}-{i}", "namespace": f"ns{f % 7}"},
                    "stringData": {"password": f"value-{f}-{i}"},
                },
                cert,
            )
            for i in range(PER_FILE)
        ]
        (repo / f"file{f:03}.yaml").write_text(dump_yaml(docs))
    runner = CliRunner()
    for label, args in (
        ("verify", ["verify", "--private-key", str(folder / "old.pem"), str(repo)]),
        (
            "reencrypt",
            ["reencrypt", "--private-key", str(folder / "old.pem"), "--cert", str(folder / "new-cert.pem"), str(repo)],
        ),
        ("verify (new key)", ["verify", "--private-key", str(folder / "new.pem"), str(repo)]),
    ):
        start = time.perf_counter()
        result = runner.invoke(cli, args)
        elapsed = time.perf_counter() - start
        assert result.exit_code == 0, result.output[-500:]
        print(f"{label:18} {OBJECTS} SealedSecrets (1 value each) in {elapsed:.2f}s: {OBJECTS / elapsed:.0f}/s")


if __name__ == "__main__":
    main()
