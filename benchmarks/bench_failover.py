"""Failover at the acceptance size: controller processes with leader election on the emulator, the leader lost
at seeded moments of convergence, and convergence with 10% of requests failing and watches dropped.

Run: .venv/bin/python benchmarks/bench_failover.py [--replicas 3] [--objects 1000] [--kills 20] [--partitions 20]
     [--lease 3,2,0.5] [--seed 24] [--client-qps 25] [--only kill|partition|faults]

Three runs (tests/support/failover.py; the CI-sized variant is tests/controller/test_failover.py), each
printing its figures beside the targets of issue #24:
  1. kill: N SealedSecrets (some meeting an unmanaged Secret), the leader SIGKILLed at `--kills` seeded
     moments of convergence (a replacement pod started each time); time from each kill to the new leader's
     acquireTime (target: <= lease duration + 5 s), objects converged (all), unmanaged Secrets touched (0),
     Warning events per unmanaged Secret (1), keys against renewal periods (one per period), certificate
     requests answered on the surviving replicas (all);
  2. partition: the same with the leader cut off from the API server (the emulator resets all its requests)
     instead of killed, healed once another replica leads;
  3. faults: N SealedSecrets with the emulator failing 10% of all requests (503) and dropping every watch
     every 2 s, one leader kill midway: objects converged (all), time to converge.
Lease timings are shortened by default (3 s lease, 2 s renew deadline, 0.5 s retry) so 20 failovers take
minutes; `--lease 15,10,2` runs the production defaults. The controllers' client limit is 25 requests/s
(burst 50) by default, as in the CI-sized test: at Bitnami's 5/s (`--client-qps 5`) a new leader's fresh
listing of 1,000 objects alone takes minutes, and the default run over half an hour. Uses the heavy lock's
machine: run under `flock /tmp/sealkit-heavy.lock`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.failover import Failover, moments  # noqa: E402

CONVERGE = 1800.0


def report_takeovers(run: Failover, lease: float) -> bool:
    seconds = [t.seconds for t in run.takeovers]
    bound = lease + 5
    ok = bool(seconds) and max(seconds) <= bound
    print(
        f"  time to new leader: median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s "
        f"over {len(seconds)} failovers   (target: each <= lease {lease:g} s + 5 s = {bound:g} s)  "
        f"{'OK' if ok else 'MISSED'}"
    )
    return ok


def report_end_state(run: Failover, started: float) -> bool:
    run.wait_converged(CONVERGE)
    elapsed = time.monotonic() - started
    total = len(run.expected)
    converged = run.converged()
    untouched = run.unmanaged_untouched()
    events = run.warning_events()
    repeated = {name: n for name, n in events.items() if n != 1}
    keys = run.key_chain()
    print(
        f"  objects converged: {converged} of {total} in {elapsed:.1f} s, and {len(run.unmanaged)} Stalled "
        f"behind unmanaged Secrets, as they should be   (target: all)"
    )
    print(f"  unmanaged Secrets touched: {0 if untouched else 'some'} of {len(run.unmanaged)}   (target: 0)")
    print(f"  Warning events per unmanaged Secret: {sorted(set(events.values()))}   (target: exactly 1 each)")
    print(f"  keys: {len(keys)}, one per renewal period (a chain of successors)   (target: one per period)")
    print(
        f"  /v1/cert.pem on live replicas: {run.cert_requests - len(run.cert_failures)} of {run.cert_requests} "
        f"answered   (target: all)"
    )
    return converged == total and untouched and not repeated and not run.cert_failures


def client_args(args: argparse.Namespace) -> tuple[str, ...]:
    """The controllers' client limit (--kubeclient-qps, burst twice that)."""
    return (f"--kubeclient-qps={args.client_qps:g}", f"--kubeclient-burst={max(1, int(args.client_qps * 2))}")


def disrupt(args: argparse.Namespace, how: str, workdir: Path) -> bool:
    count = args.kills if how == "kill" else args.partitions
    print(
        f"{how}: {args.replicas} replicas, {args.objects} SealedSecrets, {count} {how}s of the leader, "
        f"client limit {args.client_qps:g} requests/s"
    )
    lease = tuple(float(x) for x in args.lease.split(","))
    unmanaged = 20
    with Failover(
        workdir,
        replicas=args.replicas,
        lease=lease,  # type: ignore[arg-type]
        key_renew_period="20s",
        seed=args.seed,
        controller_args=client_args(args),
    ) as run:
        run.seal_objects(args.objects, unmanaged)
        started = time.monotonic()
        for threshold in moments(args.seed, args.objects - unmanaged, count):
            run.wait(lambda t=threshold: run.converged() >= t, CONVERGE, f"{threshold} converged", 0.2)
            if how == "kill":
                run.kill_leader(CONVERGE)
            else:
                run.partition_leader(CONVERGE)
        ok = report_end_state(run, started)
        return report_takeovers(run, lease[0]) and ok


def faults(args: argparse.Namespace, workdir: Path) -> bool:
    print(f"faults: {args.replicas} replicas, {args.objects} SealedSecrets, 10% of requests fail, watches dropped")
    lease = tuple(float(x) for x in args.lease.split(","))
    emulator = ("--fault", "status=503,rate=0.1", "--drop-watches-every", "2")
    with Failover(
        workdir,
        replicas=args.replicas,
        lease=lease,  # type: ignore[arg-type]
        emulator_args=emulator,
        seed=args.seed,
        controller_args=client_args(args),
    ) as run:
        run.seal_objects(args.objects, 20)
        started = time.monotonic()
        run.wait(lambda: run.converged() >= args.objects // 2, CONVERGE, "half converged", 0.2)
        run.kill_leader(CONVERGE)
        ok = report_end_state(run, started)
        return report_takeovers(run, lease[0]) and ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--partitions", type=int, default=20)
    parser.add_argument("--lease", default="3,2,0.5", help="lease duration, renew deadline, retry period (s)")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--client-qps", type=float, default=25.0, help="the controllers' --kubeclient-qps")
    parser.add_argument("--only", choices=["kill", "partition", "faults"])
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as tmp:
        for how in ("kill", "partition", "faults"):
            if args.only not in (None, how):
                continue
            workdir = Path(tmp) / how
            workdir.mkdir()
            results.append(faults(args, workdir) if how == "faults" else disrupt(args, how, workdir))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
