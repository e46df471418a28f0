"""Running the emulator: on its own thread and event loop (`KubeServer`) or as a subprocess (`KubeProcess`).

Why a thread of its own: the sync `kubernetes` client blocks its caller and Kopf runs its own loop; with the
server on a separate loop neither can deadlock it, whatever thread or loop the test itself uses.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import os
import pathlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, Self, TypeVar

from ..keyvault.tls import TlsFiles, make_tls_files
from . import kubeconfig
from .admin_client import EmulatorAdmin
from .emulator import DEFAULT_NAMESPACES, KubeEmulator, RequestRecord
from .faults import Fault
from .rbac import User
from .resources import ResourceDef
from .store import Obj

T = TypeVar("T")
CrdSource = str | pathlib.Path | Mapping[str, Any]


class KubeServer:
    """A started emulator with a thread-safe, synchronous API for tests and demos.

    All seeding/inspection methods run on the server's loop, so they are safe from any thread or loop.
    """

    def __init__(
        self,
        *,
        crds: Iterable[CrdSource] = (),
        namespaces: Iterable[str] = DEFAULT_NAMESPACES,
        host: str = "127.0.0.1",
        port: int = 0,
        history: int = 50_000,
        fault_seed: int | None = None,
        tls_dir: str | pathlib.Path | None = None,
    ) -> None:
        self.tls: TlsFiles | None = None
        if tls_dir is not None:
            self.tls = make_tls_files(pathlib.Path(tls_dir), ca_name="sealkit Kubernetes emulator test CA")
        context = self.tls.server_context() if self.tls is not None else None
        self.emulator = KubeEmulator(history=history, fault_seed=fault_seed, tls_context=context)
        self._crds = list(crds)
        self._namespaces = list(namespaces)
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # --- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> Self:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="kube-emulator", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._astart(), loop).result(30)
        return self

    async def _astart(self) -> None:
        await self.emulator.__aenter__()
        main = await self.emulator.start_listener("main", self._host, self._port)
        self.url = main.url
        for name in self._namespaces:
            self.emulator.create_namespace(name)
        for crd in self._crds:
            self.emulator.load_crd(crd)

    async def _astop(self) -> None:
        await self.emulator.aclose()
        await self.emulator.__aexit__(None, None, None)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._astop(), loop).result(30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()
            self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop and return its result."""
        if self._loop is None:
            raise RuntimeError("the kube emulator is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` on the server's loop (where the store lives) and return its result."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the kube emulator is not running")
        if threading.current_thread() is self._thread:
            return fn(*args, **kwargs)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(30)

    # --- seeding and inspection ---------------------------------------------------------------------------

    def create(self, obj: Mapping[str, Any], namespace: str | None = None) -> Obj:
        """Store an object as if POSTed (server-set metadata, pruning, validation); returns the stored copy."""
        return self.call(self.emulator.create_object, obj, namespace)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        return self.call(self.emulator.get_object, api_version, kind, name, namespace)

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> builtins.list[Obj]:
        return self.call(self.emulator.list_objects, api_version, kind, namespace, label_selector)

    def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Mapping[str, Any],
        namespace: str | None = None,
        *,
        subresource: str | None = None,
    ) -> Obj:
        return self.call(self.emulator.patch_object, api_version, kind, name, patch, namespace, subresource=subresource)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
        return self.call(self.emulator.delete_object, api_version, kind, name, namespace)

    def create_namespace(self, name: str) -> Obj:
        return self.call(self.emulator.create_namespace, name)

    def load_crd(self, crd: CrdSource) -> builtins.list[ResourceDef]:
        return self.call(self.emulator.load_crd, crd)

    def register_service_backend(self, namespace: str, service: str, port: str | int, url: str) -> None:
        self.call(self.emulator.register_service_backend, namespace, service, port, url)

    def fail(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        *,
        hang: bool = False,
        times: int | None = 1,
        message: str | None = None,
        retry_after: int | None = None,
        params: Mapping[str, str] | None = None,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        client: str | None = None,
        rate: float = 1.0,
        delay: float = 0.0,
        reset: bool = False,
    ) -> Fault:
        """Add a fault rule; the first active rule matching a request (and winning its `rate` draw) acts.

        Matching: `method`, `path` (a regex searched in the URL path), `params` (query values), `verb`
        (get/list/watch/create/update/patch/delete/deletecollection, comma-separated), `resource`
        (`secrets`, `sealedsecrets.bitnami.com`, `sealedsecrets/status`, comma-separated), `namespace`,
        `client` (a bearer token, the user it maps to, or a listener's name). Acting: wait `delay`
        seconds, then `reset` the connection, or `hang` until the rule is removed, or answer `status`
        (with `Retry-After: retry_after`); with none of those the request is served after the delay.
        `rate` is the fraction of matching requests it acts on (seeded RNG); `times` (None: forever)
        bounds how often it acts. A rule aimed at a client with `reset`/`hang` (rate 1) also resets or
        stalls that client's open watches: a network partition.
        """
        return self.call(
            self.emulator.fail,
            method,
            path,
            status,
            hang=hang,
            times=times,
            message=message,
            retry_after=retry_after,
            params=params,
            verb=verb,
            resource=resource,
            namespace=namespace,
            client=client,
            rate=rate,
            delay=delay,
            reset=reset,
        )

    def partition(self, client: str, *, mode: str = "reset") -> Fault:
        """Cut one client off (its requests and open watches reset, or hang with mode="hang"); `heal` with
        `remove_fault(fault)`."""
        if mode not in {"reset", "hang"}:
            raise ValueError("mode must be 'reset' or 'hang'")
        return self.fail(client=client, times=None, reset=mode == "reset", hang=mode == "hang")

    def remove_fault(self, fault: Fault | int) -> None:
        fault_id = fault.id if isinstance(fault, Fault) else fault
        if self.call(self.emulator.faults.remove, fault_id) is None:
            raise LookupError(f"no fault rule with id {fault_id}")

    def clear_faults(self) -> None:
        self.call(self.emulator.faults.clear)

    @property
    def faults(self) -> builtins.list[Fault]:
        return self.call(lambda: list(self.emulator.faults.rules))

    def drop_watches(
        self,
        *,
        client: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        mode: str = "close",
    ) -> int:
        """End open watches (all, or a client's / resource's / namespace's): `close` ends the stream as a
        server-side timeout does, `reset` aborts the connection. Returns how many were dropped."""
        return self.call(self.emulator.drop_watches, client=client, resource=resource, namespace=namespace, mode=mode)

    def refuse_connections(self, seconds: float | None, *, listener: str | None = None) -> builtins.list[str]:
        """Stop listening (connecting fails with ECONNREFUSED) and abort open connections, on one listener
        or all, for `seconds` (None: until `resume_connections`)."""
        names = [listener] if listener else None
        return self.call(self.emulator.disruptions.refuse, seconds, names)

    def resume_connections(self, *, listener: str | None = None) -> builtins.list[str]:
        names = [listener] if listener else None
        return self._run(self.emulator.disruptions.resume(names))

    def add_listener(self, name: str) -> str:
        """One more port; requests through it carry `name` as their client identity. Returns its URL."""
        return self._run(self.emulator.start_listener(name, self._host)).url

    @property
    def admin(self) -> EmulatorAdmin:
        """The admin endpoint over HTTP (what a test of a separate emulator process uses)."""
        return EmulatorAdmin(self.url)

    def enable_rbac(self) -> None:
        """From now on, requests with a token from `add_token` are authorized by the stored RBAC objects."""
        self.call(self.emulator.enable_rbac)

    def add_token(self, token: str, namespace: str, service_account: str) -> User:
        return self.call(self.emulator.add_token, token, namespace, service_account)

    def add_user_token(self, token: str, user: str, groups: tuple[str, ...] = ()) -> User:
        return self.call(self.emulator.add_user_token, token, user, groups)

    @property
    def request_log(self) -> builtins.list[RequestRecord]:
        return self.call(lambda: list(self.emulator.request_log))

    @property
    def denied(self) -> builtins.list[RequestRecord]:
        return self.call(lambda: list(self.emulator.denied))

    @property
    def internal_errors(self) -> builtins.list[BaseException]:
        return self.call(lambda: list(self.emulator.internal_errors))

    @property
    def request_count(self) -> int:
        """Requests served so far (all of them; `request_log` keeps only the latest)."""
        return self.call(lambda: self.emulator.request_count)

    @property
    def resource_version(self) -> int:
        return self.call(lambda: self.emulator.store.rv)

    @property
    def ca_path(self) -> pathlib.Path | None:
        """The CA that signed the server certificate (TLS only): a pod's ca.crt."""
        return self.tls.ca_path if self.tls is not None else None

    def write_kubeconfig(
        self,
        path: str | pathlib.Path,
        token: str | None = None,
        namespace: str | None = None,
        *,
        url: str | None = None,
    ) -> pathlib.Path:
        """A kubeconfig for this emulator; `token` names the client for fault rules (and RBAC), `url` picks a
        listener (`add_listener`)."""
        return kubeconfig.write(path, url or self.url, token=token, namespace=namespace, ca_path=self.ca_path)

    def wait_for(self, predicate: Callable[[KubeServer], T | None], timeout: float = 10.0, interval: float = 0.02) -> T:
        """Poll `predicate(self)` from a sync test until it returns something truthy; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self)
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            time.sleep(interval)

    async def await_for(
        self, predicate: Callable[[KubeServer], T | None], timeout: float = 10.0, interval: float = 0.02
    ) -> T:
        """`wait_for` for async tests: sleeps with asyncio so the test's own loop keeps running."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self)
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await asyncio.sleep(interval)


class KubeProcess:
    """The emulator as a child process (`python -m sealkit_testservers.kube`), e.g. for CLI/demo runs."""

    def __init__(
        self,
        kubeconfig_path: str | pathlib.Path,
        *,
        crds: Iterable[str | pathlib.Path] = (),
        extra_args: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.kubeconfig = pathlib.Path(kubeconfig_path)
        self._args = [
            sys.executable,
            "-m",
            "sealkit_testservers.kube",
            "--port",
            "0",
            "--kubeconfig",
            str(self.kubeconfig),
        ]
        for crd in crds:
            self._args += ["--crd", str(crd)]
        self._args += list(extra_args)
        self._env = dict(env) if env is not None else dict(os.environ)
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, timeout: float = 30.0) -> Self:
        self.process = subprocess.Popen(
            self._args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self._env
        )
        assert self.process.stdout is not None
        pool = concurrent.futures.ThreadPoolExecutor(1)
        try:
            line = pool.submit(self.process.stdout.readline).result(timeout)
        finally:
            pool.shutdown(wait=False)
        if not line.startswith("http"):
            self.stop()
            raise RuntimeError(f"the kube emulator process did not start: {line.strip() or 'no output'}")
        self.url = line.strip()
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        self.process = None

    @property
    def admin(self) -> EmulatorAdmin:
        """The child's admin endpoint: faults, watch drops, refused connections, listeners at runtime."""
        if not self.url:
            raise RuntimeError("the kube emulator process is not running")
        return EmulatorAdmin(self.url)

    def write_kubeconfig(
        self,
        path: str | pathlib.Path,
        token: str | None = None,
        namespace: str | None = None,
        *,
        url: str | None = None,
    ) -> pathlib.Path:
        """Another kubeconfig for the child, e.g. with a token of its own per client (see `KubeServer`)."""
        return kubeconfig.write(path, url or self.url, token=token, namespace=namespace)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
