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
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
import attrs
import kmock

from . import kubeconfig
from .emulator import DEFAULT_NAMESPACES, KubeEmulator, RequestRecord
from .faults import Fault
from .rbac import User
from .resources import ResourceDef
from .store import Obj

T = TypeVar("T")
CrdSource = str | pathlib.Path | Mapping[str, Any]


@attrs.define(kw_only=False)
class LoopbackServer(kmock.Server):
    """kmock's aiohttp test server without its process-wide DNS interceptor (unsafe across threads)."""

    async def __aenter__(self) -> Self:
        if self._managed_server is not None:
            raise RuntimeError("The server can be started only once.")
        self._managed_server = self._server_cls(self.handler, host=self._host, port=self._port)
        await self._managed_server.__aenter__()
        self._managed_client = aiohttp.ClientSession(self._managed_server.make_url("/"))
        self.handler.servers.append(self)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self in self.handler.servers:
            self.handler.servers.remove(self)
        if self._managed_client is not None:
            await self._managed_client.close()
        if self._managed_server is not None:
            await self._managed_server.close()
        self._managed_client = None
        self._managed_server = None


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
    ) -> None:
        self.emulator = KubeEmulator(history=history)
        self._crds = list(crds)
        self._namespaces = list(namespaces)
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: LoopbackServer | None = None
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
        self._server = LoopbackServer(self.emulator, host=self._host, port=self._port or None)
        await self._server.__aenter__()
        self.url = str(self._server.url).rstrip("/")
        for name in self._namespaces:
            self.emulator.create_namespace(name)
        for crd in self._crds:
            self.emulator.load_crd(crd)

    async def _astop(self) -> None:
        await self.emulator.aclose()
        if self._server is not None:
            await self._server.__aexit__(None, None, None)
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
        method: str | None,
        path: str,
        status: int | None = None,
        *,
        hang: bool = False,
        times: int | None = 1,
        message: str | None = None,
        retry_after: int | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer matching requests (`path` is a regex searched in the URL path) with `status`, or hang."""
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
        )

    def clear_faults(self) -> None:
        self.call(self.emulator.faults.clear)

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

    def write_kubeconfig(
        self, path: str | pathlib.Path, token: str | None = None, namespace: str | None = None
    ) -> pathlib.Path:
        return kubeconfig.write(path, self.url, token=token, namespace=namespace)

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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
