"""Benchmark the Kubernetes API emulator: its request ceiling for a SealedSecret convergence, flatness, memory.

Run: .venv/bin/python benchmarks/bench_kube_emulator.py [--objects 100 10000] [--concurrency 8] [--repeats 3]
     [--profile FILE]   (py-spy samples the emulator during the largest measurement; `pip install py-spy`)

The emulator runs in its own process (`python -m sealkit_testservers.kube`); this process is the client
(aiohttp, `--concurrency` connections), so the figures are what a controller in another process can get.
Each rate is the best of --repeats runs (the ceiling is what the emulator can do; a busy shared machine
only ever lowers a run). Measured per object count:
  - the requests one SealedSecret's convergence makes, each alone: GET Secret, POST Secret, PATCH
    SealedSecret status, POST Event (req/s), and LIST of the namespace's SealedSecrets (items/s);
  - the convergence mix: all four per object, as objects/s and req/s -- the "ceiling" a controller's
    convergence rate is compared with (issue #25 targets >= 0.7x of it).
Targets: per-request cost flat from the smallest to the largest object count (ratio <= 1.5); the
emulator's RSS with the largest count of SealedSecrets and as many Secrets stays reasonable (<= 500 MB
at 10,000 + 10,000).

Other benchmarks import `measure_ceiling()` (an emulator they started) and `format_ceiling()`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

import aiohttp

SS_API = "/apis/bitnami.com/v1alpha1"
JSON = {"Content-Type": "application/json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
TARGET_RATIO = 1.5
TARGET_RSS_MB = 500


@dataclasses.dataclass
class Rate:
    """One kind of request: what the client saw, and the emulator's own CPU time per request."""

    observed: float  # requests/s the client got
    cpu_us: float  # emulator CPU microseconds per request (0.0 when not measured)

    @property
    def ceiling(self) -> float:
        """Requests/s the emulator's single event loop can serve: 1 / its CPU time per request."""
        return 1e6 / self.cpu_us if self.cpu_us else self.observed


@dataclasses.dataclass
class Ceiling:
    """What the emulator sustains per kind of request (LIST in items), and the convergence mix."""

    objects: int
    get: Rate
    create: Rate
    patch_status: Rate
    event: Rate
    list_items: Rate
    mix: Rate  # per object: GET + POST Secret + PATCH status + POST Event

    @property
    def mix_objects(self) -> float:
        return self.mix.ceiling

    @property
    def mix_requests(self) -> float:
        return self.mix.ceiling * 4


def cpu_seconds(pid: int | None) -> float:
    """user+system CPU seconds of a process (Linux /proc), 0.0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sealed_secret(namespace: str, n: int) -> dict[str, object]:
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": f"s{n:05d}", "namespace": namespace, "labels": {"app": "bench", "batch": str(n % 10)}},
        "spec": {
            "encryptedData": {"password": "AgB" + "x" * 700},
            "template": {"metadata": {"labels": {"app": "bench"}}, "type": "Opaque"},
        },
    }


def _secret(namespace: str, name: str, uid: str) -> bytes:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {"app": "bench"},
                "annotations": {"sealedsecrets.bitnami.com/managed": "true"},
                "ownerReferences": [
                    {
                        "apiVersion": "bitnami.com/v1alpha1",
                        "kind": "SealedSecret",
                        "name": name,
                        "uid": uid,
                        "controller": True,
                    }
                ],
            },
            "type": "Opaque",
            "data": {"password": "cGFzc3dvcmQtcGFzc3dvcmQtcGFzc3dvcmQtcGFzc3dvcmQ="},
        }
    ).encode()


def _status(n: int) -> bytes:
    stamp = "2026-01-01T00:00:00Z"
    return json.dumps(
        {
            "status": {
                "observedGeneration": 1,
                "conditions": [
                    {"type": "Synced", "status": "True", "lastUpdateTime": stamp, "lastTransitionTime": stamp},
                    {"type": "Ready", "status": "True", "reason": "Unsealed", "message": f"round {n}"},
                ],
            }
        }
    ).encode()


def _event(namespace: str, name: str, uid: str) -> bytes:
    stamp = "2026-01-01T00:00:00Z"
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{name}.", "namespace": namespace},
            "involvedObject": {
                "apiVersion": "bitnami.com/v1alpha1",
                "kind": "SealedSecret",
                "name": name,
                "namespace": namespace,
                "uid": uid,
            },
            "type": "Normal",
            "reason": "Unsealed",
            "message": "SealedSecret unsealed successfully",
            "source": {"component": "sealed-secrets-controller"},
            "reportingComponent": "sealed-secrets-controller",
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
    ).encode()


async def _request(session: aiohttp.ClientSession, method: str, url: str, **kwargs: object) -> bytes:
    async with session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
        data = await response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {url}: HTTP {response.status}: {data[:200]!r}")
        return data


async def _rate(
    count: int, concurrency: int, one: Callable[[int], Awaitable[object]], pid: int | None = None, per: int = 1
) -> Rate:
    """Calls/s of `one(i)` for i in range(count), `concurrency` at a time, and the CPU the emulator `pid`
    spent per call (divided by `per` requests per call)."""
    queue = iter(range(count))

    async def worker() -> None:
        for i in queue:
            await one(i)

    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    spent = cpu_seconds(pid) - cpu
    return Rate(count / elapsed, spent * 1e6 / count / per if pid is not None and spent > 0 else 0.0)


async def seed(url: str, namespace: str, start: int, stop: int, concurrency: int = 8) -> None:
    """Create SealedSecrets s<start>..s<stop-1> in `namespace` over HTTP."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        base = f"{url}{SS_API}/namespaces/{namespace}/sealedsecrets"

        async def create(i: int) -> None:
            await _request(session, "POST", base, data=json.dumps(sealed_secret(namespace, start + i)), headers=JSON)

        await _rate(stop - start, concurrency, create)


async def measure_ceiling(
    url: str,
    namespace: str,
    objects: int,
    *,
    concurrency: int = 8,
    sample: int = 2000,
    round_: int = 0,
    repeats: int = 3,
    pid: int | None = None,
) -> Ceiling:
    """The emulator's ceiling over `objects` SealedSecrets named s00000.. that exist in `namespace`.

    Each measurement makes `sample` calls spread over the whole range of objects, `repeats` times, and
    keeps the best; with the emulator's `pid` (same machine) its CPU time per request is measured too,
    which gives its ceiling even when the client is the slower side. Secrets and Events get names of
    their own per `round_` and repeat, so calls can repeat on one emulator.
    """
    step = max(1, objects // sample)
    names = [f"s{(i * step) % objects:05d}" for i in range(sample)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        ss_base = f"{url}{SS_API}/namespaces/{namespace}/sealedsecrets"
        secrets = f"{url}/api/v1/namespaces/{namespace}/secrets"
        events = f"{url}/api/v1/namespaces/{namespace}/events"
        uids: dict[str, str] = {}

        async def read_ss(i: int) -> None:
            if names[i] not in uids:
                found = json.loads(await _request(session, "GET", f"{ss_base}/{names[i]}"))
                uids[names[i]] = found["metadata"]["uid"]

        await _rate(sample, 1, read_ss)

        async def best(
            make: Callable[[int], Callable[[int], Awaitable[object]]], count: int = sample, per: int = 1
        ) -> Rate:
            runs = [await _rate(count, concurrency, make(rep), pid, per) for rep in range(repeats)]
            cpu = [r.cpu_us for r in runs if r.cpu_us]
            return Rate(max(r.observed for r in runs), min(cpu) if cpu else 0.0)

        def list_once(rep: int) -> Callable[[int], Awaitable[object]]:
            async def one(_: int) -> None:
                items = json.loads(await _request(session, "GET", ss_base))["items"]
                assert len(items) == objects

            return one

        lists = max(2, min(50, 100_000 // max(objects, 1)))
        listed = await best(list_once, lists)
        list_items = Rate(listed.observed * objects, listed.cpu_us / objects)

        def secret_name(rep: int, i: int, phase: str) -> str:
            return f"b{round_}-{phase}{rep}-{i:05d}"

        def create(rep: int) -> Callable[[int], Awaitable[object]]:
            async def one(i: int) -> None:
                body = _secret(namespace, secret_name(rep, i, "c"), uids[names[i]])
                await _request(session, "POST", secrets, data=body, headers=JSON)

            return one

        def get(rep: int) -> Callable[[int], Awaitable[object]]:
            async def one(i: int) -> None:
                await _request(session, "GET", f"{secrets}/{secret_name(0, i, 'c')}")

            return one

        def patch(rep: int) -> Callable[[int], Awaitable[object]]:
            async def one(i: int) -> None:
                status = _status(i + rep * sample + round_ * 10 * sample)
                await _request(session, "PATCH", f"{ss_base}/{names[i]}/status", data=status, headers=MERGE)

            return one

        def event(rep: int) -> Callable[[int], Awaitable[object]]:
            async def one(i: int) -> None:
                await _request(session, "POST", events, data=_event(namespace, names[i], uids[names[i]]), headers=JSON)

            return one

        def converge(rep: int) -> Callable[[int], Awaitable[object]]:
            async def one(i: int) -> None:
                name = secret_name(rep, i, "m")
                async with session.get(f"{secrets}/{name}") as response:
                    await response.read()  # 404: not there yet
                body = _secret(namespace, name, uids[names[i]])
                await _request(session, "POST", secrets, data=body, headers=JSON)
                status = _status(i + rep * sample + round_ * 10 * sample + 5 * sample)
                await _request(session, "PATCH", f"{ss_base}/{names[i]}/status", data=status, headers=MERGE)
                await _request(session, "POST", events, data=_event(namespace, names[i], uids[names[i]]), headers=JSON)

            return one

        create_rate = await best(create)
        get_rate = await best(get)
        patch_rate = await best(patch)
        event_rate = await best(event)
        mix = await best(converge)
    return Ceiling(objects, get_rate, create_rate, patch_rate, event_rate, list_items, mix)


def format_ceiling(ceiling: Ceiling) -> str:
    """One line other benchmarks print beside a controller's convergence rate."""
    return (
        f"emulator ceiling at {ceiling.objects} objects: {ceiling.mix_objects:.0f} objects/s "
        f"({ceiling.mix_requests:.0f} req/s of GET+POST Secret, PATCH status, POST Event; "
        f"{ceiling.mix.cpu_us / 4:.0f} us of emulator CPU per request; a client in another process "
        f"got {ceiling.mix.observed:.0f} objects/s)"
    )


def rss_mb(pid: int) -> float:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _profile(pid: int, target: str, seconds: float) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy")
    if spy is None:
        print("  (--profile: py-spy is not installed; pip install py-spy)")
        return None
    args = [spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200"]
    args += ["--format", "raw" if not target.endswith(".svg") else "flamegraph", "--output", target, "--nonblocking"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize_profile(path: str, top: int = 25) -> str:
    """Self and inclusive sample shares per function from py-spy's raw (collapsed stacks) output."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in pathlib.Path(path).read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].split("/")[-1] + ")" for f in stack.split(";")
        ]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"  profile: {total} samples; self%  incl%  function"]
    for frame, count in own.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}  {100 * inclusive[frame] / total:5.1f}  {frame}")
    return "\n".join(lines)


async def run(sizes: list[int], concurrency: int, repeats: int = 3, profile: str | None = None) -> int:
    from sealkit.data import crd_path
    from sealkit_testservers.kube import KubeProcess

    namespace = "default"
    results: list[Ceiling] = []
    with tempfile.TemporaryDirectory() as folder:
        kubeconfig = pathlib.Path(folder) / "kubeconfig"
        with KubeProcess(kubeconfig, crds=[crd_path("bitnami.com_sealedsecrets.yaml")]) as kube:
            assert kube.process is not None
            created = 0
            for round_, size in enumerate(sizes):
                started = time.perf_counter()
                await seed(kube.url, namespace, created, size, concurrency)
                seeded = (size - created) / max(time.perf_counter() - started, 1e-9)
                created = size
                spy = _profile(kube.process.pid, profile, 60) if profile and size == sizes[-1] else None
                ceiling = await measure_ceiling(
                    kube.url,
                    namespace,
                    size,
                    concurrency=concurrency,
                    round_=round_,
                    repeats=repeats,
                    pid=kube.process.pid,
                )
                if spy is not None:
                    spy.send_signal(signal.SIGINT)  # py-spy writes what it has sampled so far
                    spy.wait(30)
                results.append(ceiling)
                print(f"  seeded {size} SealedSecrets ({seeded:.0f} creates/s)", flush=True)
        # memory: a fresh emulator holding N SealedSecrets and N Secrets, as after a full convergence
        with KubeProcess(kubeconfig, crds=[crd_path("bitnami.com_sealedsecrets.yaml")]) as kube:
            assert kube.process is not None
            base_rss = rss_mb(kube.process.pid)
            await seed(kube.url, namespace, 0, sizes[-1], concurrency)
            secrets = f"{kube.url}/api/v1/namespaces/{namespace}/secrets"
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

                async def secret(i: int) -> None:
                    body = _secret(namespace, f"s{i:05d}", f"uid-{i}")
                    await _request(session, "POST", secrets, data=body, headers=JSON)

                await _rate(sizes[-1], concurrency, secret)
                # read everything once, as a controller's first listing does (fills the encoding cache)
                await _request(session, "GET", f"{kube.url}{SS_API}/namespaces/{namespace}/sealedsecrets")
                await _request(session, "GET", secrets)
            rss = rss_mb(kube.process.pid)

    print(
        f"kube emulator ceiling ({os.cpu_count()} cpus; emulator in its own process, client here with "
        f"{concurrency} connections; best of {repeats})"
    )
    print("  ceiling = 1 / the emulator's CPU time per request (one event loop); observed = what this client got")
    kinds = ("GET Secret", "POST Secret", "PATCH status", "POST Event", "LIST (items)", "mix (objects)")
    print(f"  {'objects':>8}  {'request':<14} {'us CPU':>8} {'ceiling/s':>10} {'observed/s':>11}")
    for c in results:
        for name, rate in zip(kinds, (c.get, c.create, c.patch_status, c.event, c.list_items, c.mix), strict=True):
            print(f"  {c.objects:>8}  {name:<14} {rate.cpu_us:>8.1f} {rate.ceiling:>10.0f} {rate.observed:>11.0f}")
    small, large = results[0], results[-1]
    ratio = max(
        large.get.cpu_us / small.get.cpu_us if small.get.cpu_us else 0.0,
        large.create.cpu_us / small.create.cpu_us if small.create.cpu_us else 0.0,
        large.patch_status.cpu_us / small.patch_status.cpu_us if small.patch_status.cpu_us else 0.0,
        large.event.cpu_us / small.event.cpu_us if small.event.cpu_us else 0.0,
    )
    print(f"  {format_ceiling(large)}")
    flat = ratio <= TARGET_RATIO
    print(
        f"  per-request cost {large.objects} vs {small.objects} objects: x{ratio:.2f} "
        f"(target <= x{TARGET_RATIO}: {'OK' if flat else 'OVER TARGET'})"
    )
    lean = rss <= TARGET_RSS_MB
    print(
        f"  emulator RSS: {base_rss:.0f} MB empty, {rss:.0f} MB holding {sizes[-1]} SealedSecrets + {sizes[-1]} "
        f"Secrets, each read once ({(rss - base_rss) * 1024 / (2 * sizes[-1]):.1f} KB per object; "
        f"target <= {TARGET_RSS_MB} MB: {'OK' if lean else 'OVER TARGET'})"
    )
    return 0 if flat and lean else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--objects", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", metavar="FILE", help="py-spy output of the emulator (raw, or .svg flame graph)")
    args = parser.parse_args()
    code = asyncio.run(run(sorted(args.objects), args.concurrency, args.repeats, args.profile))
    if args.profile and not args.profile.endswith(".svg") and pathlib.Path(args.profile).exists():
        print(summarize_profile(args.profile))
    return code


if __name__ == "__main__":
    sys.exit(main())
