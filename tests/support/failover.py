"""Failover runs: controller processes with leader election on the emulator (its own process), as in a cluster.

Test support shared by tests/controller/test_failover.py (small, in CI) and benchmarks/bench_failover.py (the
acceptance run): `Failover` starts the emulator (`KubeProcess`, optionally failing requests and dropping
watches) and N `sealkit controller --leader-elect` processes, each with its own client identity (a token, so
the emulator can partition it); seals objects for the key the first leader makes, plants unmanaged Secrets in
the way of some, kills or partitions the leader at seeded moments of convergence, restarts killed replicas
as new pods, polls `/v1/cert.pem` on the survivors throughout, and checks the end state: every Secret with
the right data, unmanaged Secrets untouched, one Warning event per unmanaged one, one key per renewal
period. Timing figures (time to a new leader) come from the Lease's acquireTime against the kill's time.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import os
import pathlib
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sealkit.clients.kube.api import ApiError, KubeClient
from sealkit.clients.kube.config import load_configuration
from sealkit.data import crd_path
from sealkit.keys import load_certificate
from sealkit.keysecrets import ANY_KEY_SELECTOR, keys_from_secret, successor_secret_name
from sealkit.sealing import seal_secret
from sealkit_testservers.kube import KubeProcess

T = TypeVar("T")
ROOT = pathlib.Path(__file__).resolve().parents[2]
NS = "kube-system"
APPS = "default"
LEASE = "sealed-secrets-controller"
LABEL = "failover.sealkit.test/run"
SS_PATH = f"/apis/bitnami.com/v1alpha1/namespaces/{APPS}/sealedsecrets"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse_micro_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Replica:
    """One controller process (a pod): its identity is also its emulator client name."""

    name: str
    process: subprocess.Popen[bytes]
    api_url: str
    metrics_url: str
    log: pathlib.Path


@dataclass
class Takeover:
    """One failover: what was done to whom, and when the next leader took the Lease (by its acquireTime)."""

    how: str
    old: str
    new: str
    seconds: float  # from the kill/partition to the new leader's acquireTime


@dataclass
class Failover:
    """The emulator, the controller processes and the checks (see the module docstring)."""

    workdir: pathlib.Path
    replicas: int = 2
    lease: tuple[float, float, float] = (3.0, 2.0, 0.5)  # duration, renew deadline, retry period
    key_renew_period: str = "0"
    emulator_args: tuple[str, ...] = ()
    controller_args: tuple[str, ...] = ()  # more flags for every replica
    seed: int = 1
    controllers: dict[str, Replica] = field(default_factory=dict)
    takeovers: list[Takeover] = field(default_factory=list)
    cert_requests: int = 0
    cert_failures: list[str] = field(default_factory=list)
    served: set[str] = field(default_factory=set)  # replicas that have answered a certificate
    expected: dict[str, bytes] = field(default_factory=dict)
    unmanaged: dict[str, str] = field(default_factory=dict)  # name -> its resourceVersion when planted
    _generation: int = 0
    _kube: KubeProcess | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _poller: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- lifecycle ---------------------------------------------------------------------------------------

    def __enter__(self) -> Failover:
        args = ["--fault-seed", str(self.seed), *self.emulator_args]
        self._kube = KubeProcess(
            self.workdir / "kubeconfig", crds=[crd_path("bitnami.com_sealedsecrets.yaml")], extra_args=args
        ).start()
        process = self._kube.process
        assert process is not None and process.stderr is not None
        threading.Thread(target=process.stderr.read, daemon=True).start()  # never let its stderr pipe fill
        self.client = KubeClient(load_configuration(str(self._kube.kubeconfig), None), 10.0)
        for _ in range(self.replicas):
            self.start_replica()
        self._poller = threading.Thread(target=self._poll_certs, name="cert-poller", daemon=True)
        self._poller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(10)
        for replica in list(self.controllers.values()):
            self._end(replica, signal.SIGTERM)
        self.client.close()
        if self._kube is not None:
            self._kube.stop()

    @property
    def kube(self) -> KubeProcess:
        assert self._kube is not None
        return self._kube

    def start_replica(self) -> Replica:
        """A new pod: a fresh name (identity and client token), its own ports and log."""
        self._generation += 1
        name = f"ctrl-{self._generation}"
        kubeconfig = self.kube.write_kubeconfig(self.workdir / f"kubeconfig-{name}", token=name)
        api, metrics = free_port(), free_port()
        duration, renew, retry = self.lease
        log = self.workdir / f"{name}.log"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in (".", "cli", "controller", "testservers")),
            "POD_NAME": name,
            "POD_NAMESPACE": NS,
            "SEALED_SECRETS_KEY_SIZE": "2048",
        }
        command = [
            sys.executable,
            "-m",
            "sealkit_cli.main",
            "controller",
            "--kubeconfig",
            str(kubeconfig),
            "--leader-elect",
            f"--leader-elect-lease-duration={duration:g}s",
            f"--leader-elect-renew-deadline={renew:g}s",
            f"--leader-elect-retry-period={retry:g}s",
            f"--key-renew-period={self.key_renew_period}",
            f"--listen-addr=127.0.0.1:{api}",
            f"--listen-metrics-addr=127.0.0.1:{metrics}",
            "--log-level=INFO",
            *self.controller_args,
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        replica = Replica(name, process, f"http://127.0.0.1:{api}", f"http://127.0.0.1:{metrics}", log)
        with self._lock:
            self.controllers[name] = replica
        return replica

    def _end(self, replica: Replica, sig: signal.Signals) -> None:
        with self._lock:
            self.controllers.pop(replica.name, None)
        if replica.process.poll() is None:
            replica.process.send_signal(sig)
            try:
                replica.process.wait(20)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()

    # --- the cluster -------------------------------------------------------------------------------------

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(ApiError):
                result = predicate()
                if result:
                    return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {timeout:g} s")
            time.sleep(interval)

    def lease_spec(self) -> dict[str, Any]:
        lease = self.client.get_lease(NS, LEASE) or {}
        return dict(lease.get("spec") or {})

    def holder(self) -> str:
        return str(self.lease_spec().get("holderIdentity") or "")

    def leader(self, timeout: float = 60.0) -> Replica:
        """The replica holding the Lease (waits for one)."""

        def live_holder() -> Replica | None:
            return self.controllers.get(self.holder())

        found: Replica = self.wait(live_holder, timeout, "a live leader")
        return found

    def first_certificate(self, timeout: float = 60.0) -> bytes:
        """The certificate of the first key (made by the first leader)."""

        def key() -> bytes | None:
            found = self.client.list_secrets(NS, ANY_KEY_SELECTOR)
            return base64.b64decode(found[0]["data"]["tls.crt"]) if found else None

        pem: bytes = self.wait(key, timeout, "the first key Secret")
        return pem

    def seal_objects(self, count: int, unmanaged: int) -> None:
        """`count` SealedSecrets for the first key; the first `unmanaged` meet a Secret not theirs."""
        certificate = load_certificate(self.first_certificate())
        for i in range(unmanaged):
            name = f"taken-{i}"
            secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": APPS}}
            body = {**secret, "data": {"mine": base64.b64encode(b"x").decode()}}
            created = retried(functools.partial(self.client.create_secret, APPS, body))
            self.unmanaged[name] = str(created["metadata"]["resourceVersion"])
        for i in range(count):
            name = f"taken-{i}" if i < unmanaged else f"app-{i}"
            value = f"value-{i}-{self.seed}".encode()
            source = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": APPS, "labels": {LABEL: "yes"}},
                "data": {"v": base64.b64encode(value).decode()},
            }
            sealed = seal_secret(source, certificate)
            retried(functools.partial(self.client.request, "POST", SS_PATH, body=sealed))
            if i >= unmanaged:
                self.expected[name] = value

    def converged(self) -> int:
        """How many Secrets hold exactly what was sealed (raises if any holds something else)."""
        ok = 0
        for secret in self.client.list_secrets(APPS, f"{LABEL}=yes"):
            name = secret["metadata"]["name"]
            data = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
            if name not in self.expected or data != {"v": self.expected[name]}:
                raise AssertionError(f"Secret {APPS}/{name} holds data it was not sealed with")
            ok += 1
        return ok

    def wait_converged(self, timeout: float) -> None:
        total = len(self.expected)
        self.wait(lambda: self.converged() == total and self.unmanaged_reported(), timeout, "convergence", 0.5)

    def unmanaged_reported(self) -> bool:
        """Every SealedSecret meeting an unmanaged Secret says so in its status."""
        items = self.client.list_sealed_secrets(APPS)
        reported = {
            i["metadata"]["name"]
            for i in items
            if any(c.get("type") == "Stalled" for c in (i.get("status") or {}).get("conditions") or [])
        }
        return set(self.unmanaged) <= reported

    # --- disruptions -------------------------------------------------------------------------------------

    def kill_leader(self, timeout: float) -> Takeover:
        """SIGKILL the leader, start a replacement pod, and wait for another replica to take the Lease."""
        old = self.leader()
        killed_at = dt.datetime.now(dt.UTC)
        self._end(old, signal.SIGKILL)
        self.start_replica()
        return self._takeover("kill", old.name, killed_at, timeout)

    def partition_leader(self, timeout: float) -> Takeover:
        """Cut the leader off the API server (every request reset) until another takes the Lease; then heal."""
        old = self.leader()
        cut = self.kube.admin.partition(old.name)
        cut_at = dt.datetime.now(dt.UTC)
        try:
            takeover = self._takeover("partition", old.name, cut_at, timeout)
            self.wait(lambda: self.metric(old, "sealed_secrets_controller_leader") == 0, timeout, "the fence")
        finally:
            self.kube.admin.remove_fault(cut)
        return takeover

    def _takeover(self, how: str, old: str, since: dt.datetime, timeout: float) -> Takeover:
        def taken() -> dict[str, Any] | None:
            spec = self.lease_spec()
            holder = str(spec.get("holderIdentity") or "")
            return spec if holder not in ("", old) and holder in self.controllers else None

        spec = self.wait(taken, timeout, f"a new leader after the {how} of {old}")
        seconds = (parse_micro_time(str(spec["acquireTime"])) - since).total_seconds()
        takeover = Takeover(how, old, str(spec["holderIdentity"]), seconds)
        self.takeovers.append(takeover)
        return takeover

    def metric(self, replica: Replica, name: str) -> float | None:
        try:
            with urllib.request.urlopen(replica.metrics_url + "/metrics", timeout=5) as response:
                text = response.read().decode()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def _poll_certs(self) -> None:
        """Every live replica that has a key must answer /v1/cert.pem, throughout (failures are recorded)."""
        while not self._stop.is_set():
            with self._lock:
                targets = list(self.controllers.values())
            for replica in targets:
                if replica.process.poll() is not None:
                    continue
                try:
                    with urllib.request.urlopen(replica.api_url + "/v1/cert.pem", timeout=5) as response:
                        ok = response.status == 200 and response.read().startswith(b"-----BEGIN CERTIFICATE")
                except OSError as exc:
                    # Not up yet (a new pod starting), or no key yet: only a started replica with a key counts.
                    if replica.name in self.served:
                        with self._lock:
                            if replica.name in self.controllers:
                                self.cert_failures.append(f"{replica.name}: {exc}")
                    continue
                with self._lock:
                    self.cert_requests += 1
                    self.served.add(replica.name)
                    if not ok:
                        self.cert_failures.append(f"{replica.name}: not a certificate")
            self._stop.wait(0.05)

    # --- end-state checks --------------------------------------------------------------------------------

    def key_chain(self) -> list[str]:
        """The key Secrets, oldest first, checked to form one chain of successors: one key per renewal period."""
        secrets = retried(lambda: self.client.list_secrets(NS, ANY_KEY_SELECTOR))
        keys = []
        for secret in secrets:
            (key,) = keys_from_secret(secret, secret["metadata"]["name"])
            keys.append((key.not_before, key.fingerprint, secret["metadata"]["name"]))
        keys.sort()
        previous = None
        names = []
        for _, fingerprint, name in keys:
            assert name == successor_secret_name("sealed-secrets-key", previous), "two keys for one period"
            previous = fingerprint
            names.append(name)
        return names

    def warning_events(self) -> dict[str, int]:
        """ErrUpdateFailed events per unmanaged Secret's SealedSecret."""
        result = retried(lambda: self.client.request("GET", f"/api/v1/namespaces/{APPS}/events"))
        counts = dict.fromkeys(self.unmanaged, 0)
        for event in result.get("items") or []:
            name = (event.get("involvedObject") or {}).get("name")
            if name in counts and event.get("reason") == "ErrUpdateFailed":
                counts[name] += int(event.get("count") or 1)
        return counts

    def unmanaged_untouched(self) -> bool:
        for name, version in self.unmanaged.items():
            secret = retried(functools.partial(self.client.get_secret, APPS, name))
            if secret is None or str(secret["metadata"]["resourceVersion"]) != version:
                return False
        return True


def retried(call: Callable[[], T], attempts: int = 20) -> T:
    """The test's own requests through the emulator's injected faults (it fails them too): retried."""
    for attempt in range(attempts):
        try:
            return call()
        except ApiError as exc:
            if not exc.transient or attempt + 1 == attempts:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def moments(seed: int, total: int, count: int) -> list[int]:
    """`count` seeded convergence thresholds (objects converged, in 1..total-1) at which to disrupt the leader."""
    rng = random.Random(seed)
    return sorted(rng.choice(range(1, max(2, total))) for _ in range(count))
