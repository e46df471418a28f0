"""A local cluster on threads of this process: the Kubernetes API emulator and the real controller behind
its Service, for `sealkit demo`'s cluster step and `sealkit dev up`.

Where it sits: the CLI, the one product module that imports the test servers (`sealkit_testservers.kube`,
the distribution `sealkit-testservers`, not in sealkit's wheel), inside `kube_server_class` only; without
them `TestServersMissing` says in one line how to install them. The controller's Service
(`sealed-secrets-controller` in `kube-system`, as Bitnami's chart names it) is backed, through the
emulator's service proxy, by the controller's own HTTP listener, so `sealkit cert`, `seal` and `verify`
reach it exactly as in a cluster.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealkit.bitnami import DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE
from sealkit.errors import InputError

if TYPE_CHECKING:
    from sealkit_testservers.kube import KubeServer

INSTALL_TESTSERVERS = "pip install -e ./testservers in a sealkit checkout, as scripts/bootstrap.sh does"
CONTROLLER_PORT = 8080


class TestServersMissing(InputError):
    """The Kubernetes emulator (distribution sealkit-testservers) is not installed."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        super().__init__(f"the Kubernetes emulator is not installed ({INSTALL_TESTSERVERS})")


def kube_server_class() -> type[KubeServer]:
    """The emulator's class; `TestServersMissing` (one line: how to install them) when it is not installed."""
    try:
        # The test servers are a distribution of their own (not in sealkit's wheel), loaded only here.
        from sealkit_testservers.kube import KubeServer
    except ImportError:
        raise TestServersMissing() from None
    return KubeServer


@contextlib.contextmanager
def quiet_kopf() -> Iterator[None]:
    """Kopf warns that it runs off the main thread: true, and intended here."""
    kopf_logger = logging.getLogger("kopf")
    level = kopf_logger.level
    kopf_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        kopf_logger.setLevel(level)


class LocalCluster:
    """The emulator (with the SealedSecret CRD and the usual namespaces) and the controller, started by
    `start()` and stopped by `stop()` (also as a context manager).

    `keys` are key Secret manifests created before the controller starts (it then seals with the newest);
    without any, the controller makes its own key of `key_size` bits, as on a fresh cluster.
    """

    def __init__(
        self,
        folder: Path,
        *,
        key_size: int = 4096,
        keys: tuple[Mapping[str, Any], ...] = (),
        port: int = 0,
        log_level: str = "WARNING",
    ) -> None:
        self.folder = folder
        self.key_size = key_size
        self.keys = keys
        self.port = port
        self.log_level = log_level
        self.kube: KubeServer | None = None
        self.controller: Any = None  # sealkit_controller.in_thread's ControllerThread, once started

    @property
    def kubeconfig(self) -> Path:
        return self.folder / "kubeconfig"

    @property
    def url(self) -> str:
        return self.kube.url if self.kube is not None else ""

    def start(self) -> LocalCluster:
        server_class = kube_server_class()
        from sealkit.data import crd_path
        from sealkit_controller import Settings, in_thread

        try:
            self.kube = server_class(crds=[crd_path("bitnami.com_sealedsecrets.yaml")], port=self.port).start()
            self.kube.write_kubeconfig(self.kubeconfig)
            for manifest in self.keys:
                self.kube.create(manifest)
            settings = Settings(
                kubeconfig=str(self.kubeconfig),
                namespace=DEFAULT_CONTROLLER_NAMESPACE,
                key_size=self.key_size,
                listen_addr="127.0.0.1:0",
                listen_metrics_addr="127.0.0.1:0",
                log_level=self.log_level,
            )
            with quiet_kopf():
                self.controller = in_thread(settings).start()
            self.kube.create(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": DEFAULT_CONTROLLER_NAME, "namespace": DEFAULT_CONTROLLER_NAMESPACE},
                    "spec": {"ports": [{"name": "http", "port": CONTROLLER_PORT, "targetPort": CONTROLLER_PORT}]},
                }
            )
            self.kube.register_service_backend(
                DEFAULT_CONTROLLER_NAMESPACE, DEFAULT_CONTROLLER_NAME, "http", self.controller.api_url
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the controller, then the emulator (each at most once; safe after a failed start)."""
        controller, kube = self.controller, self.kube
        self.controller = self.kube = None
        try:
            if controller is not None:
                with quiet_kopf():
                    controller.stop()
        finally:
            if kube is not None:
                kube.stop()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
