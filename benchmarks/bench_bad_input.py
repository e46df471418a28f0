"""Every command fed the worst inputs: an alias bomb, an alias fan-out, a 100 MiB file and 10,000 nested
lists. Prints wall time and peak RSS of each run beside the same command's baseline (a small valid input)
and the targets.

Run: .venv/bin/python benchmarks/bench_bad_input.py   (under the heavy lock: flock /tmp/sealkit-heavy.lock)
Targets: each bad input refused (or reported) within 2 s, at most 100 MB above the command's baseline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from sealkit.keygen import generate_key_pair
from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "gitops"
TARGET_SECONDS = 2.0
TARGET_MB = 100.0
PLAIN = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: team-a}\nstringData: {password: pw}\n"


def alias_bomb() -> bytes:
    lines = [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 13)]
    return ("\n".join(lines) + "\n").encode()  # 9**13 nodes once expanded


def alias_fan_out() -> bytes:
    value = "x" * 218_000  # the 218 KB of string aliases (535 MB expanded)
    head = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: db, namespace: team-a}}\nstringData:\n  a: &v {value}\n"
    return (head + "".join(f"  k{i}: *v\n" for i in range(2500))).encode()


def nested_lists() -> bytes:
    return b"[" * 10_000 + b"]" * 10_000


def write_inputs(folder: Path) -> dict[str, Path]:
    files = {"alias bomb": alias_bomb(), "alias fan-out": alias_fan_out(), "10,000 nested lists": nested_lists()}
    out = {}
    for name, data in files.items():
        path = folder / (name.replace(" ", "-").replace(",", "") + ".yaml")
        path.write_bytes(data)
        out[name] = path
    big = folder / "100-MiB.yaml"
    with big.open("wb") as handle:  # sparse: 100 MiB on paper
        handle.truncate(100 * 1024 * 1024)
    out["100 MiB file"] = big
    return out


def measure(args: list[str], stdin: bytes = b"") -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit status of one `sealkit` run (its own rusage, via wait4)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "SEALED_SECRETS", "SEALKIT"))}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", "from sealkit_cli.main import main; main()", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env | {"HOME": "/nonexistent"},
        cwd=ROOT,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(stdin)
        process.stdin.close()
    except BrokenPipeError:
        pass
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - started, usage.ru_maxrss / 1024, process.returncode


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-bad-input-"))
    try:
        pair = generate_key_pair(bits=2048)
        key, cert = folder / "key.pem", folder / "cert.pem"
        key.write_bytes(pair.private_pem)
        cert.write_bytes(pair.certificate_pem)
        good = folder / "secret.yaml"
        good.write_text(PLAIN)
        sealed = folder / "sealed.yaml"
        sealed.write_text(yaml.safe_dump(seal_secret(yaml.safe_load(PLAIN), load_certificate(pair.certificate_pem))))
        repo = folder / "repo"
        repo.mkdir()
        shutil.copy(sealed, repo / "sealed.yaml")
        spec_repo = folder / "gitops"
        shutil.copytree(EXAMPLE, spec_repo)
        bad = write_inputs(folder)

        # command -> (arguments for a FILE, the small valid FILE of its baseline)
        commands: dict[str, tuple[Callable[[Path], list[str]], Path]] = {
            "seal": (lambda p: ["seal", "--cert", str(cert), "-f", str(p)], good),
            "unseal": (lambda p: ["unseal", "--private-key", str(key), "-f", str(p)], sealed),
            "cert": (lambda p: ["cert", "--cert", str(p)], cert),
            "verify": (lambda p: ["verify", "--private-key", str(key), str(p)], repo),
            "reencrypt": (lambda p: ["reencrypt", "--private-key", str(key), "--cert", str(cert), str(p)], repo),
            "lint": (lambda p: ["lint", "--fail-on", "never", str(p)], repo),
            "csi generate": (
                lambda p: ["csi", "generate", "--check", "--spec", str(p)],
                spec_repo / "sealkit-csi.yaml",
            ),
            "keys restore": (lambda p: ["keys", "restore", "--dry-run", "--from-file", str(p)], key),
        }
        print(f"{'command':<14}{'input':<22}{'exit':>5}{'seconds':>9}{'peak MB':>9}{'+ MB':>7}   target")
        worst_seconds, worst_extra = 0.0, 0.0
        for command, (args, baseline_input) in commands.items():
            base_seconds, base_mb, base_status = measure(args(baseline_input))
            print(f"{command:<14}{'(baseline)':<22}{base_status:>5}{base_seconds:>9.2f}{base_mb:>9.0f}{'':>7}")
            for name, path in bad.items():
                seconds, peak, status = measure(args(path))
                extra = peak - base_mb
                worst_seconds, worst_extra = max(worst_seconds, seconds), max(worst_extra, extra)
                ok = seconds <= TARGET_SECONDS and extra <= TARGET_MB
                verdict = "ok" if ok else "MISSED"
                print(
                    f"{'':<14}{name:<22}{status:>5}{seconds:>9.2f}{peak:>9.0f}{extra:>+7.0f}   "
                    f"<= {TARGET_SECONDS:.0f} s, <= +{TARGET_MB:.0f} MB: {verdict}"
                )
        print(f"worst: {worst_seconds:.2f} s (target {TARGET_SECONDS:.0f} s), +{worst_extra:.0f} MB (target +100 MB)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
