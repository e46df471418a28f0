"""Cold start of `sealkit seal --cert` (5 items) beside a process that only imports cryptography and yaml,
of `sealkit --help` beside `python -c "import click"`, and values sealed per second in-process.

Run: flock /tmp/sealkit-heavy.lock .venv/bin/python benchmarks/bench_seal.py [--runs 15]
Targets: `seal` cold start <= 1.5x the baseline process; `--help` <= 1.3x the bare click import.
sealkit is installed from its wheel into a fresh venv (as a user gets it). Where the time goes:
`python -X importtime -c "from sealkit_cli.main import main; main()" seal ...`.
"""

from __future__ import annotations

import argparse
import os
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

TARGETS = {"seal": 1.5, "help": 1.3}
# The libraries any Python sealer must load: cryptography's X.509 parser (the certificate), RSA-OAEP
# and AES-GCM, and PyYAML. The difference to `sealkit seal` is sealkit's own start-up cost.
BASELINE = (
    "from cryptography import x509\n"
    "from cryptography.hazmat.primitives.asymmetric import rsa, padding\n"
    "from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
    "import yaml\n"
)


def _seconds(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_pair(cmd: list[str], base: list[str], runs: int) -> tuple[float, float]:
    """Median seconds of `cmd` and of `base`, run alternately (a burst of load on a shared machine hits
    both sides of the ratio alike); one unmeasured run of each first (the page cache)."""
    _seconds(cmd), _seconds(base)
    pairs = [(_seconds(cmd), _seconds(base)) for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def installed_like_a_user(folder: Path) -> list[str]:
    """A venv holding sealkit's wheel (not the editable install, whose import hook costs ~15 ms), compiled
    as pip compiles it, with the dependencies taken from this interpreter's site-packages."""
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
    # Byte-code, as pip compiles it at install (extracting a wheel does not; without it every start
    # compiles sealkit's sources, and PYTHONDONTWRITEBYTECODE would keep it that way).
    compile_cmd = [sys.executable, "-m", "compileall", "-q", str(site)]
    subprocess.run(compile_cmd, check=True, stdout=subprocess.DEVNULL)
    deps = next(p for p in map(Path, sys.path) if p.name == "site-packages" and p.is_dir())
    (site / "sealkit-deps.pth").write_text(f"{deps}\n")  # a path line: its .pth files stay unprocessed
    return [str(venv / "bin" / "python"), "-c", "import sys; from sealkit_cli.main import main; sys.exit(main())"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="cold starts per command (the median counts)")
    args = parser.parse_args(argv)
    print(f"CLI start-up benchmark ({os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f})")
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
    cli = installed_like_a_user(folder)
    python = cli[0]
    rows = [
        (
            "seal",
            "`sealkit seal --cert` (5 items)",
            [*cli, *seal_args],
            "imports cryptography x509/rsa/aead + yaml",
            [python, "-c", BASELINE],
        ),
        ("help", "`sealkit --help`", [*cli, "--help"], 'python -c "import click"', [python, "-c", "import click"]),
    ]
    for what, label, cmd, base_label, base_cmd in rows:
        cold, base = median_pair(cmd, base_cmd, args.runs)
        ratio = cold / base
        target = TARGETS[what]
        print(
            f"cold start {label}: {cold * 1000:.0f} ms; baseline ({base_label}): {base * 1000:.0f} ms "
            f"(medians of {args.runs})"
        )
        print(f"  ratio: {ratio:.2f}x   target <= {target:.2f}x   {'MET' if ratio <= target else 'MISSED'}")

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
