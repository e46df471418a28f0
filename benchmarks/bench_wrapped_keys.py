"""Wrapped sealing keys: what they cost at start-up, and that unsealing does not pay for them.

Run: .venv/bin/python benchmarks/bench_wrapped_keys.py [--keys 10] [--objects 300] [--bits 4096]

The real controller (Kopf) against the Kubernetes emulator in its own process and the local Key Vault
(real azure-keyvault-keys SDK). Prints, beside the targets:
  1. unwrap calls the vault served (counted server-side) while the controller started over --keys wrapped
     key Secrets: exactly one per key (target: == --keys), and during the convergence after it (target: 0);
  2. start-up time with plaintext and with wrapped key Secrets (for information: the unwraps run at once
     in the controller's thread pool);
  3. SealedSecrets unsealed per second converging --objects SealedSecrets with the same keys held from
     plaintext key Secrets and from wrapped ones (keys live in memory either way: target ratio >= 0.9,
     the noise of this measurement; best of 2 runs each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from sealkit.clients.keyvault.kek import VaultKek
from sealkit.data import crd_path
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate
from sealkit.keysecrets import key_secret_manifest
from sealkit.sealing import seal_secret
from sealkit.wrapping.envelope import wrap_private_key
from sealkit.wrapping.keysecret import wrapped_key_manifest
from sealkit_controller.settings import Settings
from sealkit_controller.wiring import ControllerThread
from sealkit_testservers.keyvault import KeyVaultServer, Vault
from sealkit_testservers.kube import KubeProcess

CONTROLLER_NS = "kube-system"
TARGET_RATIO = 0.9
TRIALS = 2


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def key_secrets(keys: list[GeneratedKey], kek: VaultKek | None) -> list[dict[str, Any]]:
    out = []
    for i, pair in enumerate(keys):
        if kek is None:
            manifest = key_secret_manifest(pair, namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
            manifest["metadata"]["name"] = f"sealed-secrets-key{i}"
        else:
            wrapped = wrap_private_key(pair.key, kek)
            manifest = wrapped_key_manifest(wrapped, namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
        out.append(manifest)
    return out


def sealed_objects(key: GeneratedKey, count: int) -> list[dict[str, Any]]:
    cert = load_certificate(key.certificate_pem)
    bodies = []
    for i in range(count):
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"s{i}", "namespace": "default"}}
        bodies.append(seal_secret({**secret, "stringData": {"value": f"v{i}"}}, cert))
    return bodies


def run(seed: list[dict[str, Any]], count: int, kek: tuple[str, object] | None, vault: Vault) -> dict[str, float]:
    """Start the controller over `seed`, wait for `count` SealedSecrets to converge; times and unwrap counts."""
    with tempfile.TemporaryDirectory() as folder:
        seed_file = Path(folder) / "seed.yaml"
        seed_file.write_text(yaml.safe_dump_all(seed))
        kubeconfig = Path(folder) / "kubeconfig"
        with KubeProcess(
            kubeconfig, crds=[crd_path("bitnami.com_sealedsecrets.yaml")], extra_args=["--seed", str(seed_file)]
        ):
            overrides: dict[str, Any] = {}
            if kek is not None:
                overrides = {"kek_url": kek[0], "kek_timeout": 10.0}
            settings = Settings(
                kubeconfig=str(kubeconfig),
                namespace=CONTROLLER_NS,
                listen_addr="127.0.0.1:0",
                listen_metrics_addr="127.0.0.1:0",
                log_level="WARNING",
                key_renew_period=dt.timedelta(0),
                kubeclient_qps=-1,  # no client-side limit: Bitnami's 5/s would cap both runs at ~1/s alike
                **overrides,
            )
            vault.clear_requests()
            started = time.perf_counter()
            controller = ControllerThread(settings, kek_credential=kek[1] if kek else None)
            with controller as running:
                startup = time.perf_counter() - started
                at_start = vault.count_key_operations("unwrapKey")
                reconciler = running.runtime.controller
                assert reconciler is not None
                converging = time.perf_counter()
                while not (
                    len(reconciler.tracked) == count
                    and reconciler.queue.pending() == 0
                    and all(t.done for t in reconciler.tracked.values())
                ):
                    time.sleep(0.01)
                seconds = time.perf_counter() - converging
                after = vault.count_key_operations("unwrapKey") - at_start
    return {"startup": startup, "unwraps_at_start": at_start, "unwraps_after": after, "rate": count / seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10, help="wrapped key Secrets at start")
    parser.add_argument("--objects", type=int, default=300, help="SealedSecrets to converge")
    parser.add_argument("--bits", type=int, default=4096, help="size of the sealing keys")
    args = parser.parse_args(argv)
    print(
        f"wrapped keys benchmark ({os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}, "
        f"Python {sys.version.split()[0]}): {args.keys} RSA-{args.bits} keys, {args.objects} SealedSecrets"
    )
    now = dt.datetime.now(dt.UTC)
    keys = [generate_key_pair(bits=args.bits, now=now - dt.timedelta(days=args.keys - i)) for i in range(args.keys)]
    objects = sealed_objects(keys[-1], args.objects)
    with tempfile.TemporaryDirectory() as folder, KeyVaultServer(Path(folder) / "kv") as server:
        os.environ.update(server.env())
        vault = server.add_vault("kv-kek")
        vault.add_key("kek", kty="RSA", size=3072)
        kek_url = vault.key_id("kek")
        wrapper = VaultKek(kek_url, server.credential(), timeout=10.0)
        wrapped_seed = key_secrets(keys, wrapper) + objects
        wrapper.close()
        plain_seed = key_secrets(keys, None) + objects
        plain = [run(plain_seed, args.objects, None, vault) for _ in range(TRIALS)]
        wrapped = [
            run(wrapped_seed, args.objects, (kek_url, server.credential("workload")), vault) for _ in range(TRIALS)
        ]
    unwraps = {int(r["unwraps_at_start"]) for r in wrapped}
    after = {int(r["unwraps_after"]) for r in wrapped}
    ok_unwraps = unwraps == {args.keys}
    print(
        f"  unwrap calls served by the vault during start-up with {args.keys} wrapped keys: "
        f"{'/'.join(map(str, sorted(unwraps)))} per start over {TRIALS} starts (target == {args.keys}) "
        f"{verdict(ok_unwraps)}"
    )
    print(f"  unwrap calls while converging after start: {max(after)} (target 0) {verdict(after == {0})}")
    plain_start, wrapped_start = min(r["startup"] for r in plain), min(r["startup"] for r in wrapped)
    print(
        f"  start-up (controller thread ready), plaintext keys: {plain_start:.2f} s; wrapped keys: "
        f"{wrapped_start:.2f} s (+{wrapped_start - plain_start:.2f} s for {args.keys} unwraps, in parallel)"
    )
    plain_rate, wrapped_rate = max(r["rate"] for r in plain), max(r["rate"] for r in wrapped)
    ratio = wrapped_rate / plain_rate
    print(
        f"  unseals/s converging {args.objects} SealedSecrets: plaintext keys {plain_rate:.0f}, wrapped keys "
        f"{wrapped_rate:.0f}: ratio {ratio:.2f} (target >= {TARGET_RATIO}) {verdict(ratio >= TARGET_RATIO)}"
    )
    return 0 if ok_unwraps and after == {0} else 1


if __name__ == "__main__":
    sys.exit(main())
