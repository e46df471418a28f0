"""Test support: the controller against the Kubernetes emulator, with the helpers scenarios share.

Used by tests/controller and tests/cli: `Cluster` wraps a running `KubeServer` from `sealkit_testservers.kube`
with sealing, waiting and inspection helpers; `LogLines` collects every log line. Not product code: it
lives beside the tests, not in the controller package.
"""

from __future__ import annotations

import base64
import logging
import pathlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sealkit.keygen import GeneratedKey
from sealkit.keys import load_certificate
from sealkit.keysecrets import key_secret_manifest
from sealkit.scope import Scope
from sealkit.sealing import seal_secret
from sealkit_controller.settings import Settings
from sealkit_controller.wiring import ControllerThread

if TYPE_CHECKING:
    from sealkit_testservers.kube import KubeServer

T = TypeVar("T")
SS = "bitnami.com/v1alpha1"
CONTROLLER_NS = "kube-system"


class LogLines(logging.Handler):
    """Every log record of every thread, formatted with its traceback if any."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class Cluster:
    """The emulator plus the helpers the scenarios share."""

    def __init__(self, kube: KubeServer, kubeconfig: pathlib.Path, keys: list[GeneratedKey]) -> None:
        self.kube = kube
        self.kubeconfig = kubeconfig
        self.keys = keys
        self.cert = load_certificate(keys[0].certificate_pem)

    def settings(self, **overrides: Any) -> Settings:
        fast: dict[str, Any] = {
            "kubeconfig": str(self.kubeconfig),
            "namespace": CONTROLLER_NS,
            "key_size": 2048,
            "workers": 2,
            "threads": 4,
            "api_timeout": 1.0,
            "retry_base_delay": 0.05,
            "retry_max_delay": 0.5,
            "watch_server_timeout": 10,
            "watch_error_backoffs": (0.05, 0.1, 0.2),
            "listen_addr": "127.0.0.1:0",
            "listen_metrics_addr": "127.0.0.1:0",
            # No client-side limit (Bitnami's default is 5/s): scenarios create many objects at once.
            "kubeclient_qps": -1.0,
        }
        return Settings(**{**fast, **overrides})

    def add_key(self, index: int = 0, name: str | None = None) -> dict[str, Any]:
        manifest = key_secret_manifest(self.keys[index], namespace=CONTROLLER_NS, prefix="sealed-secrets-key")
        if name:
            manifest["metadata"]["name"] = name
        return self.kube.create(manifest)

    def seal(
        self,
        name: str = "testsecret",
        namespace: str = "default",
        data: dict[str, str] | None = None,
        *,
        key: int = 0,
        scope: Scope | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        **secret: Any,
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels or {"mylabel": "myvalue"}}
        if annotations:
            meta["annotations"] = annotations
        source = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta,
            "stringData": data if data is not None else {"foo": "bar"},
            **secret,
        }
        return seal_secret(source, load_certificate(self.keys[key].certificate_pem), scope=scope)

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        return self.kube.create(obj)

    def secret(self, name: str = "testsecret", namespace: str = "default") -> dict[str, Any] | None:
        return self.kube.get("v1", "Secret", name, namespace)

    def sealed(self, name: str = "testsecret", namespace: str = "default") -> dict[str, Any] | None:
        return self.kube.get(SS, "SealedSecret", name, namespace)

    def data(self, name: str = "testsecret", namespace: str = "default") -> dict[str, bytes] | None:
        secret = self.secret(name, namespace)
        if secret is None:
            return None
        return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}

    def events(self, name: str = "testsecret", namespace: str = "default") -> list[dict[str, Any]]:
        return [e for e in self.kube.list("v1", "Event", namespace) if e.get("involvedObject", {}).get("name") == name]

    def reasons(self, name: str = "testsecret", namespace: str = "default") -> list[str]:
        return [e["reason"] for e in self.events(name, namespace)]

    def condition(self, name: str = "testsecret", namespace: str = "default") -> dict[str, Any] | None:
        obj = self.sealed(name, namespace) or {}
        conditions = (obj.get("status") or {}).get("conditions") or []
        return conditions[0] if conditions else None

    def wait(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            time.sleep(0.02)

    def never(self, predicate: Callable[[], object], duration: float = 0.5) -> None:
        """`predicate` stays false for `duration` seconds (Gomega's Consistently)."""
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            assert not predicate()
            time.sleep(0.02)

    def start(
        self, *, escrow_credential: object = None, kek_credential: object = None, **overrides: Any
    ) -> ControllerThread:
        return ControllerThread(
            self.settings(**overrides), escrow_credential=escrow_credential, kek_credential=kek_credential
        ).start()
