"""Benchmark the Kubernetes API emulator: requests/s and per-request cost at 100 vs 1,000 objects.

Run: .venv/bin/python benchmarks/bench_kube_emulator.py [--objects 100 1000] [--requests 500]
Target: a single-object request costs the same at 100 and at 1,000 objects (ratio <= 1.5), and does not
grow with the request history (stock kmock 0.8 scans the whole history on every request: quadratic).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

import aiohttp

from sealkit.data import crd_path
from sealkit_testservers.kube import KubeServer

BASE = "/apis/bitnami.com/v1alpha1/namespaces/default/sealedsecrets"
JSON = {"Content-Type": "application/json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
TARGET_RATIO = 1.5


def _body(n: int) -> bytes:
    return json.dumps(
        {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": f"s{n:05d}", "labels": {"batch": str(n % 10)}},
            "spec": {"encryptedData": {"password": "AgB" + "x" * 200}},
        }
    ).encode()


async def _timed(session: aiohttp.ClientSession, method: str, url: str, **kwargs: object) -> float:
    started = time.perf_counter()
    async with session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
        await response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {url}: HTTP {response.status}")
    return time.perf_counter() - started


async def _measure(session: aiohttp.ClientSession, url: str, objects: int, requests: int) -> dict[str, float]:
    gets = [await _timed(session, "GET", f"{url}{BASE}/s{(n * 7919) % objects:05d}") for n in range(requests)]
    patches = [
        await _timed(
            session,
            "PATCH",
            f"{url}{BASE}/s{(n * 104729) % objects:05d}",
            headers=MERGE,
            data=json.dumps({"metadata": {"labels": {"round": str(n)}}}),
        )
        for n in range(requests)
    ]
    started = time.perf_counter()
    await asyncio.gather(*(_timed(session, "GET", f"{url}{BASE}/s{n % objects:05d}") for n in range(requests)))
    concurrent = requests / (time.perf_counter() - started)
    return {
        "get_us": statistics.median(gets) * 1e6,
        "patch_us": statistics.median(patches) * 1e6,
        "get_rps": 1 / statistics.mean(gets),
        "patch_rps": 1 / statistics.mean(patches),
        "concurrent_get_rps": concurrent,
    }


async def run(sizes: list[int], requests: int) -> int:
    with KubeServer(crds=[crd_path("bitnami.com_sealedsecrets.yaml")]) as kube:
        connector = aiohttp.TCPConnector(limit=16)
        async with aiohttp.ClientSession(connector=connector) as session:
            created, results = 0, {}
            create_times: list[float] = []
            for size in sizes:
                while created < size:
                    create_times.append(
                        await _timed(session, "POST", kube.url + BASE, data=_body(created), headers=JSON)
                    )
                    created += 1
                results[size] = await _measure(session, kube.url, size, requests)
                results[size]["history"] = kube.request_count
        print(f"kube emulator benchmark ({requests} sequential GETs and PATCHes per size, {os.cpu_count()} cpus)")
        print(
            f"  create: {1 / statistics.mean(create_times):8.0f} req/s  (median "
            f"{statistics.median(create_times) * 1e6:6.0f} us over {created} objects)"
        )
        header = (
            f"  {'objects':>8} {'requests so far':>15} {'GET us':>8} {'PATCH us':>9} {'GET req/s':>10} "
            f"{'PATCH req/s':>12} {'GET req/s x16':>14}"
        )
        print(header)
        for size, r in results.items():
            print(
                f"  {size:>8} {int(r['history']):>15} {r['get_us']:>8.0f} {r['patch_us']:>9.0f} "
                f"{r['get_rps']:>10.0f} {r['patch_rps']:>12.0f} {r['concurrent_get_rps']:>14.0f}"
            )
        small, large = results[sizes[0]], results[sizes[-1]]
        ratio = max(large["get_us"] / small["get_us"], large["patch_us"] / small["patch_us"])
        verdict = "OK" if ratio <= TARGET_RATIO else "OVER TARGET"
        print(
            f"  per-request cost {sizes[-1]} vs {sizes[0]} objects: x{ratio:.2f}  "
            f"(target <= x{TARGET_RATIO}: {verdict})"
        )
        return 0 if ratio <= TARGET_RATIO else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    return asyncio.run(run(sorted(args.objects), args.requests))


if __name__ == "__main__":
    raise SystemExit(main())
