"""The controller at scale, in one run: RSA throughput, thread scaling, key tries, convergence, restarts.

Run: .venv/bin/python benchmarks/bench_controller.py [--objects 1000] [--unseals 300]

Prints, with targets:
  1. raw RSA-4096 OAEP decrypts/s via `cryptography` on one core;
  2. the controller's unseals/s, one worker thread, without the emulator (>= 0.8x of raw);
  3. the unseal work's speed-up from 1 to 2 worker threads, without the emulator (>= 1.8x); beside it, the
     speed-up two *processes* get on this machine right now, i.e. the parallelism actually available;
  4. RSA operations per value with 5 keys when the controller knows the object (>= 1 value; <= 1.1), and
     for new objects sealed with the newest key; first sight of objects sealed with old keys is shown too;
  5. objects/s and peak RSS converging N SealedSecrets (one value each, RSA-4096) with the Kubernetes
     emulator in its own process (>= 60/s, <= 250 MB);
  6. RSA operations during a restart over those N in-sync objects (0).
Without the emulator, the controller runs with an in-memory API client (no HTTP), so the figures are the
controller's own work: parsing, RSA, AES, building and comparing Secrets, status, events.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from sealkit.data import crd_path
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import load_certificate
from sealkit.keysecrets import key_secret_manifest
from sealkit.sealing import seal_secret
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.reconciling.reconciler import Controller
from sealkit_controller.settings import Settings
from sealkit_controller.wiring import ControllerThread
from sealkit_testservers.kube import KubeProcess

TARGETS = {"ratio": 0.8, "speedup": 1.8, "tries": 1.1, "objects": 60.0, "rss": 250.0, "restart": 0}
CONTROLLER_NS = "kube-system"
TRIALS = 3


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


# --- raw RSA ---------------------------------------------------------------------------------------------

_KEY: Any = None
_BLOBS: list[tuple[bytes, Any]] = []


def _setup_raw(key: Any, count: int) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    global _KEY
    _KEY = key
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"default/x")
    _BLOBS[:] = [(key.public_key().encrypt(os.urandom(32), oaep), oaep) for _ in range(count)]


def _decrypt_all(_: int = 0) -> int:
    for blob, oaep in _BLOBS:
        _KEY.decrypt(blob, oaep)
    return len(_BLOBS)


def raw_rsa(key: Any, count: int) -> tuple[float, float]:
    """Decrypts/s on one core, and the speed-up of two processes doing the same (available parallelism).

    Best of TRIALS, like every rate here: the machine may be shared, and the best run is the least disturbed.
    """
    _setup_raw(key, count)
    _decrypt_all()  # warm up
    one = min(_timed(_decrypt_all) for _ in range(TRIALS))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        two = min(_timed(lambda: pool.map(_decrypt_all, [0, 0])) for _ in range(TRIALS))
    return count / one, 2 * one / two


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# --- the controller without the emulator -------------------------------------------------------------------


class MemoryApi:
    """The handful of API calls the controller makes, on dicts in memory (thread-safe enough: one writer
    per key, as the work queue guarantees)."""

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.secrets.get((namespace, name))

    def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        self.secrets[(namespace, body["metadata"]["name"])] = body
        return body

    def replace_secret(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        self.secrets[(namespace, name)] = body
        return body

    def patch_sealed_secret_status(self, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
        return {}

    def create_event(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        return {}


def sealed_objects(key: GeneratedKey, count: int, values: int = 1, prefix: str = "s") -> list[dict[str, Any]]:
    cert = load_certificate(key.certificate_pem)
    out = []
    for i in range(count):
        meta = {"name": f"{prefix}{i:05d}", "namespace": "default"}
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta,
            "stringData": {f"k{j}": f"value-{i}-{j}" for j in range(values)},
        }
        sealed = seal_secret(secret, cert)
        sealed["metadata"].update(uid=str(uuid.uuid4()), generation=1)
        out.append(sealed)
    return out


async def _converge(
    controller: Controller, bodies: list[dict[str, Any]], after: Callable[[], None] | None = None
) -> float:
    started = time.perf_counter()
    for body in bodies:
        controller.observe_sealed_secret(body)
    if after is not None:
        after()
    while controller.queue.pending() or not all(t.done for t in controller.tracked.values()):
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


def in_memory(
    keys: list[GeneratedKey], threads: int, workers: int, api: MemoryApi | None = None
) -> tuple[Controller, MemoryApi, concurrent.futures.ThreadPoolExecutor]:
    store = KeyStore()
    for i, key in enumerate(keys):
        store.put(f"key{i}", [key.key])
    api = api or MemoryApi()
    executor = concurrent.futures.ThreadPoolExecutor(threads)
    settings = Settings(workers=workers, threads=threads, update_status=True)
    return Controller(settings, api, store, executor), api, executor  # type: ignore[arg-type]


def unseal_rate(keys: list[GeneratedKey], bodies: list[dict[str, Any]], threads: int) -> float:
    async def main() -> float:
        controller, _, executor = in_memory(keys, threads, workers=2 * threads + 2)
        controller.start()
        try:
            seconds = await _converge(controller, bodies)
        finally:
            await controller.stop()
            executor.shutdown()
        assert controller.rsa_operations == len(bodies), controller.rsa_operations
        return len(bodies) / seconds

    return asyncio.run(main())


def unseal_step_rate(key: GeneratedKey, bodies: list[dict[str, Any]], threads: int) -> float:
    """The unseal step alone (core `unseal` in a pool of `threads`), without the reconcile around it."""
    from sealkit.keys import KeyRing
    from sealkit.unsealing import unseal

    ring = KeyRing([key.key])
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        seconds = _timed(lambda: list(pool.map(lambda body: unseal(body, ring), bodies)))
    return len(bodies) / seconds


def tries_per_value(keys: list[GeneratedKey], per_key: int, values: int) -> dict[str, float]:
    """RSA operations per value with 5 keys (oldest first in `keys`) in the controller's situations."""
    mixed = [b for i, key in enumerate(keys) for b in sealed_objects(key, per_key, values, prefix=f"k{i}-")]
    fresh = sealed_objects(keys[-1], per_key, values, prefix="new-")

    async def main() -> dict[str, float]:
        controller, api, executor = in_memory(keys, threads=2, workers=4)
        controller.start()
        out: dict[str, float] = {}
        try:
            await _converge(controller, fresh)
            out["new objects, sealed with the newest key"] = controller.rsa_operations / (len(fresh) * values)
            before = controller.rsa_operations
            await _converge(controller, mixed)
            out["first sight, sealed with any of the 5 keys"] = (controller.rsa_operations - before) / (
                len(mixed) * values
            )
            # Known objects: their Secrets were deleted and are re-created (the key that opened each object
            # last time goes first); the same holds after a restart, from the key recorded on the Secret.
            before = controller.rsa_operations
            for body in mixed:
                meta = body["metadata"]
                deleted = api.secrets.pop((meta["namespace"], meta["name"]))
                controller.observe_secret(deleted, deleted=True)
            while controller.queue.pending() or not all(t.done for t in controller.tracked.values()):
                await asyncio.sleep(0.002)
            out["known objects (re-created), any of the 5 keys"] = (controller.rsa_operations - before) / (
                len(mixed) * values
            )
        finally:
            await controller.stop()
            executor.shutdown()
        return out

    return asyncio.run(main())


# --- the controller against the emulator in its own process ------------------------------------------------


def emulator_run(key: GeneratedKey, count: int) -> dict[str, float]:
    bodies = sealed_objects(key, count)
    for body in bodies:
        del body["metadata"]["uid"], body["metadata"]["generation"]
    key_secret = key_secret_manifest(key, namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
    key_secret["metadata"]["name"] = "sealed-secrets-key0"
    with tempfile.TemporaryDirectory() as folder:
        seed = Path(folder) / "seed.yaml"
        seed.write_text(yaml.safe_dump_all([key_secret, *bodies]))
        kubeconfig = Path(folder) / "kubeconfig"
        with KubeProcess(
            kubeconfig, crds=[crd_path("bitnami.com_sealedsecrets.yaml")], extra_args=["--seed", str(seed)]
        ) as _:
            settings = Settings(
                kubeconfig=str(kubeconfig),
                namespace=CONTROLLER_NS,
                listen_addr="127.0.0.1:0",
                listen_metrics_addr="127.0.0.1:0",
                log_level="WARNING",
                kubeclient_qps=-1,  # --kubeclient-qps -1: no client-side limit (Bitnami's 5/s caps a sync at ~1.5/s)
            )
            results: dict[str, float] = {}
            for phase in ("first", "restart"):
                started = time.perf_counter()
                with ControllerThread(
                    settings,
                ) as running:
                    controller = running.runtime.controller
                    assert controller is not None
                    while not (
                        len(controller.tracked) == count
                        and controller.queue.pending() == 0
                        and all(t.done for t in controller.tracked.values())
                    ):
                        time.sleep(0.01)
                    results[f"{phase}_seconds"] = time.perf_counter() - started
                    results[f"{phase}_rsa"] = controller.rsa_operations
                    results[f"{phase}_skips"] = controller.in_sync_skips
                if phase == "first":
                    results["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000, help="SealedSecrets for the emulator run")
    parser.add_argument("--unseals", type=int, default=300, help="values per in-memory throughput run")
    args = parser.parse_args(argv)
    print(
        f"controller benchmark ({os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f}, "
        f"Python {sys.version.split()[0]})"
    )
    key = generate_key_pair(bits=4096)

    raw, processes = raw_rsa(key.key.key, 200)
    print(f"  raw RSA-4096 OAEP decrypts/s, one core: {raw:.0f} (best of {TRIALS}, as the rates below)")
    bodies = sealed_objects(key, args.unseals)
    one = max(unseal_rate([key], bodies, threads=1) for _ in range(TRIALS))
    two = max(unseal_rate([key], bodies, threads=2) for _ in range(TRIALS))
    print(
        f"  controller unseals/s, 1 thread, no emulator: {one:.0f} = {one / raw:.2f}x raw "
        f"(target >= {TARGETS['ratio']}) {verdict(one / raw >= TARGETS['ratio'])}"
    )
    print(
        f"  controller unseals/s, 2 threads: {two:.0f}: speed-up x{two / one:.2f} (target >= {TARGETS['speedup']}) "
        f"{verdict(two / one >= TARGETS['speedup'])}; two processes get x{processes:.2f} on this machine now"
    )
    step_one = max(unseal_step_rate(key, bodies, 1) for _ in range(TRIALS))
    step_two = max(unseal_step_rate(key, bodies, 2) for _ in range(TRIALS))
    print(
        f"    the unseal step alone (core unseal in the pool): {step_one:.0f} -> {step_two:.0f}/s, "
        f"x{step_two / step_one:.2f}; the rest of a reconcile runs on the event loop, serially"
    )

    now = dt.datetime.now(dt.UTC)
    keys = [generate_key_pair(bits=2048, now=now - dt.timedelta(days=30 * age)) for age in range(4, -1, -1)]
    tries = tries_per_value(keys, per_key=40, values=3)
    for situation, value in tries.items():
        judged = not situation.startswith("first sight")
        mark = verdict(value <= TARGETS["tries"]) if judged else "(no key id in the format: see below)"
        print(f"  RSA operations per value, 5 keys, {situation}: {value:.2f} {mark}")
    print(
        "    (Bitnami tries keys in random order: about 3 per value with 5 keys, every time; first sight here "
        "costs the sealing key's rank from the newest for an object's first value, then 1 per value)"
    )
    # Last: the in-memory rates are measured on a fresh heap. The peak RSS covers the whole process (the
    # in-memory phases hold a few hundred objects at most; the controller's 1,000 dominate).
    run = emulator_run(key, args.objects)
    rate = args.objects / run["first_seconds"]
    print(
        f"  converge {args.objects} SealedSecrets (emulator in its own process): {run['first_seconds']:.1f} s, "
        f"{rate:.0f} objects/s (target >= {TARGETS['objects']:.0f}) {verdict(rate >= TARGETS['objects'])}"
    )
    print(
        f"  peak RSS of the controller's process: {run['rss_mb']:.0f} MB (target <= {TARGETS['rss']:.0f}) "
        f"{verdict(run['rss_mb'] <= TARGETS['rss'])}"
    )
    print(
        f"  restart over {args.objects} in-sync objects: {run['restart_rsa']:.0f} RSA operations, "
        f"{run['restart_skips']:.0f} answered from the Secrets' records, {run['restart_seconds']:.1f} s "
        f"(target 0) {verdict(run['restart_rsa'] == TARGETS['restart'])}"
    )

    return 0


if __name__ == "__main__":
    sys.exit(main())
