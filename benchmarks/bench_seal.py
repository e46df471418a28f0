"""Cold start of `sealkit seal` (5 items) beside a process that only imports cryptography and yaml,
and values sealed per second in-process.

Run: .venv/bin/python benchmarks/bench_seal.py
Targets: cold start <= 2x the baseline process.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import yaml

from sealkit.keygen import generate_key_pair
from sealkit.keys import load_certificate
from sealkit.scope import Scope
from sealkit.sealing import Target, seal_value

RUNS = 15
# The libraries any Python sealer must load: cryptography's X.509 parser (the certificate), RSA-OAEP
# and AES-GCM, and PyYAML. The difference to `sealkit seal` is sealkit's own start-up cost.
BASELINE = (
    "from cryptography import x509\n"
    "from cryptography.hazmat.primitives.asymmetric import rsa, padding\n"
    "from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
    "import yaml\n"
)


def median_seconds(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def installed_like_a_user(folder: Path) -> list[str]:
    """A venv holding sealkit's wheel (not the editable install, whose import hook costs ~15 ms),
    with the dependencies taken from this interpreter's site-packages."""
    wheels = folder / "wheel"
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(root)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    with zipfile.ZipFile(next(wheels.glob("sealkit-*.whl"))) as wheel:
        wheel.extractall(site)
    deps = next(p for p in map(Path, sys.path) if p.name == "site-packages" and p.is_dir())
    (site / "sealkit-deps.pth").write_text(f"{deps}\n")  # a path line: its .pth files stay unprocessed
    return [str(venv / "bin" / "python"), "-c", "import sys; from sealkit_cli.main import main; sys.exit(main())"]


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="sealkit-bench-"))
    generated = generate_key_pair(bits=4096)
    (folder / "cert.pem").write_bytes(generated.certificate_pem)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "bench", "namespace": "default"},
        "stringData": {f"item{i}": f"value-{i}" * 8 for i in range(5)},
    }
    (folder / "secret.yaml").write_text(yaml.safe_dump(secret))
    seal_args = ["seal", "-f", str(folder / "secret.yaml"), "--cert", str(folder / "cert.pem")]
    seal_cmd = [*installed_like_a_user(folder), *seal_args]
    baseline = median_seconds([seal_cmd[0], "-c", BASELINE])
    cold = median_seconds(seal_cmd)
    ratio = cold / baseline
    print(f"cold start `sealkit seal` (5 items): {cold * 1000:.0f} ms (median of {RUNS})")
    print(f"baseline (imports cryptography x509/rsa/aead + yaml): {baseline * 1000:.0f} ms")
    print(f"ratio: {ratio:.2f}x   target <= 2.00x   {'MET' if ratio <= 2 else 'MISSED'}")

    cert = load_certificate(generated.certificate_pem)
    target = Target(Scope.STRICT, "default", "bench")
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < 2.0:
        seal_value(cert, b"x" * 64, target)
        count += 1
    rate = count / (time.perf_counter() - start)
    print(f"values sealed per second (RSA-4096, 64-byte values, one core): {rate:.0f}/s")


if __name__ == "__main__":
    main()
