"""`sealkit seal --all-envs`: 100 Secrets x 5 environments in one command, beside the bare crypto work.

The command reads the plaintext once, seals every value for every environment's certificate, writes
500 files (and lists them in each directory's kustomization.yaml). The bare work is RSA-OAEP + AES-GCM
(`sealkit.hybrid.encrypt`) over the same values, certificates and labels in a loop, in this process. Cold
start is the same command sealing one value for one environment (process start, imports, spec and
certificate loading, one file). Target: command <= 1.5 x bare work + one cold start, for new files and for the
same command again (every file updated in place), judged on the median of the runs (and shown for the best).

Run: .venv/bin/python benchmarks/bench_seal_envs.py   (take /tmp/sealkit-heavy.lock on shared machines)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from sealkit import hybrid
from sealkit.keygen import generate_key_pair
from sealkit.keys import load_certificate
from sealkit.scope import Scope, label_for

ENVS = ("dev", "test", "staging", "prod-eu", "prod-us")
SECRETS = 100
ITEMS = ("username", "password", "url")


def make_repo(folder: Path, bits: int) -> Path:
    """The spec (environments only), each environment's certificate, an empty kustomization per directory."""
    repo = folder / "template"
    (repo / "certs").mkdir(parents=True)
    envs = {}
    for env in ENVS:
        (repo / "certs" / f"{env}.pem").write_bytes(generate_key_pair(bits=bits).certificate_pem)
        directory = repo / "clusters" / env / "secrets"
        directory.mkdir(parents=True)
        (directory / "kustomization.yaml").write_text(
            f"# {env}: SealedSecrets\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
        )
        envs[env] = {"sealingCert": f"certs/{env}.pem", "sealedSecrets": f"clusters/{env}/secrets"}
    spec = {"apiVersion": "sealkit/v1alpha1", "kind": "KeyVaultCsi", "environments": envs}
    (repo / "sealkit-csi.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return repo


def secrets(count: int) -> list[dict[str, object]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"app-{i:03d}", "namespace": f"team-{i % 7}"},
            "stringData": {item: f"{item}-{i}-made-up-value-" + "x" * 24 for item in ITEMS},
        }
        for i in range(count)
    ]


def bare_work(repo: Path, objects: list[dict[str, object]]) -> float:
    """The cryptography alone: every value sealed for every environment's key with its strict-scope label."""
    keys = [load_certificate((repo / "certs" / f"{env}.pem").read_bytes()).public_key for env in ENVS]
    values: list[tuple[bytes, bytes]] = []
    for obj in objects:
        meta = obj["metadata"]
        assert isinstance(meta, dict)
        label = label_for(Scope.STRICT, meta["namespace"], meta["name"])
        data = obj["stringData"]
        assert isinstance(data, dict)
        values.extend((label, str(v).encode()) for v in data.values())
    start = time.perf_counter()
    for key in keys:
        for label, value in values:
            hybrid.encrypt(key, value, label)
    return time.perf_counter() - start


def sealkit_command() -> list[str]:
    return [str(Path(sys.executable).with_name("sealkit"))]


def timed(cmd: list[str], cwd: Path, stdin: Path) -> float:
    with stdin.open("rb") as handle:
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdin=handle, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bits", type=int, default=4096, help="key size of the environments' certificates")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement (median and best reported)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sealkit-bench-envs-"))
    try:
        template = make_repo(folder, args.bits)
        objects = secrets(SECRETS)
        inputs = folder / "secrets.yaml"
        inputs.write_text(yaml.safe_dump_all(objects))
        one = folder / "one.yaml"
        one.write_text(yaml.safe_dump({**objects[0], "stringData": {"password": "made-up"}}))
        sealkit = sealkit_command()

        def fresh(name: str) -> Path:
            copy = folder / name
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(template, copy)
            return copy

        colds = [timed([*sealkit, "seal", "--env", ENVS[0]], fresh(f"cold{i}"), one) for i in range(args.repeats)]
        cold = statistics.median(colds)
        new_runs, rerun_runs = [], []
        for i in range(args.repeats):
            repo = fresh(f"run{i}")
            new_runs.append(timed([*sealkit, "seal", "--all-envs"], repo, inputs))
            rerun_runs.append(timed([*sealkit, "seal", "--all-envs"], repo, inputs))
        written = sum(1 for _ in (folder / "run0" / "clusters").rglob("*.sealedsecret.yaml"))
        assert written == SECRETS * len(ENVS), written
        bare = statistics.median(bare_work(template, objects) for _ in range(args.repeats))
        target = 1.5 * bare + cold
        values = SECRETS * len(ENVS) * len(ITEMS)
        print(f"{SECRETS} Secrets x {len(ENVS)} environments ({values} values, {args.bits}-bit keys), --all-envs")
        print(f"  medians of {args.repeats} runs (best in brackets); load average {os.getloadavg()[0]:.2f}")
        print(f"  bare RSA-OAEP + AES-GCM, same values     {bare:6.3f} s")
        print(f"  cold start (one value, one environment)  {cold:6.3f} s  ({min(colds):.3f})")
        print(f"  target: <= 1.5 x bare + cold start = {target:.3f} s")
        for label, runs in (("new files", new_runs), ("again, in place", rerun_runs)):
            median = statistics.median(runs)
            verdict = "met" if median <= target else "NOT met"
            print(f"  sealkit seal --all-envs, {label:<15} {median:6.3f} s  ({min(runs):.3f}): {verdict}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
