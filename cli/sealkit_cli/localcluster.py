"""A local cluster: the Kubernetes API emulator (threads of this process) and the real controller as a
process of its own (`controllerprocess`, `sealkit controller` as in a cluster) behind its Service, for
`sealkit demo`'s cluster step and `sealkit dev up`.

Where it sits: the CLI, the one product module that imports the test servers (`sealkit_testservers.kube`,
the distribution `sealkit-testservers`, not in sealkit's wheel), inside `kube_server_class` only; without
them `TestServersMissing` says in one line how to install them. The controller's Service
(`sealed-secrets-controller` in `kube-system`, as Bitnami's chart names it) is backed, through the
emulator's service proxy, by the controller's own HTTP listener, so `sealkit cert`, `seal` and `verify`
reach it exactly as in a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealkit.bitnami import DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE
from sealkit.errors import InputError
from sealkit_cli.controllerprocess import ControllerProcess

if TYPE_CHECKING:
    from sealkit_testservers.kube import KubeServer

INSTALL_TESTSERVERS = "pip install -e ./testservers in a sealkit checkout, as scripts/bootstrap.sh does"
CONTROLLER_PORT = 8080


class TestServersMissing(InputError):
    """The Kubernetes emulator (distribution sealkit-testservers) is not installed."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        super().__init__(
            f"the Kubernetes emulator is not installed ({INSTALL_TESTSERVERS})", where="sealkit-testservers"
        )


def kube_server_class() -> type[KubeServer]:
    """The emulator's class; `TestServersMissing` (one line: how to install them) when it is not installed."""
    try:
        # The test servers are a distribution of their own (not in sealkit's wheel), loaded only here.
        from sealkit_testservers.kube import KubeServer
    except ImportError:
        raise TestServersMissing() from None
    return KubeServer


def _with_info(level: str) -> str:
    """`level`, lowered to INFO if it is above: the controller says it is ready in an info line."""
    return level if level.upper() == "DEBUG" else "INFO"


class LocalCluster:
    """The emulator (with the SealedSecret CRD and the usual namespaces) and the controller, started by
    `start()` and stopped by `stop()` (also as a context manager). The controller's log lines go to `log`
    (default: controller.log in `folder`), at `log_level` (INFO at least: its readiness line is one).

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
        log: Path | None = None,
    ) -> None:
        self.folder = folder
        self.key_size = key_size
        self.keys = keys
        self.port = port
        self.log_level = log_level
        self.log = log or folder / "controller.log"
        self.kube: KubeServer | None = None
        self.controller: ControllerProcess | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.folder / "kubeconfig"

    @property
    def url(self) -> str:
        return self.kube.url if self.kube is not None else ""

    def start(self) -> LocalCluster:
        server_class = kube_server_class()
        from sealkit.data import crd_path

        try:
            self.kube = server_class(crds=[crd_path("bitnami.com_sealedsecrets.yaml")], port=self.port).start()
            self.kube.write_kubeconfig(self.kubeconfig)
            for manifest in self.keys:
                self.kube.create(manifest)
            self.controller = ControllerProcess(
                self.kubeconfig, self.log, key_size=self.key_size, log_level=_with_info(self.log_level)
            ).start()
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
                controller.stop()
        finally:
            if kube is not None:
                kube.stop()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
