"""Pytest fixtures for the Kubernetes API emulator.

- ``kube``: a fresh :class:`KubeServer` per test (own thread and loop), with the default namespaces and the
  Bitnami SealedSecret CRD installed; fails the test at teardown if the emulator itself raised.
- ``kubeconfig``: a kubeconfig file (no token: the unrestricted test admin) pointing at ``kube``.
- ``kube_api_client``: a ``kubernetes.client.ApiClient`` for ``kube``.
- ``kube_process``: the emulator as a subprocess, for code that must run against a separate server.

Per-test options: ``@pytest.mark.kube_emulator(crds=[...], namespaces=[...], rbac=True, tls=True)``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from .server import KubeProcess, KubeServer

SEALED_SECRETS_CRD = "bitnami.com_sealedsecrets.yaml"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kube_emulator(crds=None, namespaces=None, rbac=False, tls=False): options of the `kube` fixture"
    )


def _default_crds() -> list[pathlib.Path]:
    from sealkit.data import crd_path

    return [crd_path(SEALED_SECRETS_CRD)]


@pytest.fixture()
def kube(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeServer]:
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("kube_emulator"))):
        options.update(marker.kwargs)
    kwargs: dict[str, Any] = {"crds": options.get("crds") or _default_crds()}
    if options.get("namespaces") is not None:
        kwargs["namespaces"] = options["namespaces"]
    if options.get("tls"):
        kwargs["tls_dir"] = tmp_path_factory.mktemp("kube-tls")
    server = KubeServer(**kwargs).start()
    try:
        if options.get("rbac"):
            server.enable_rbac()
        yield server
        errors = server.internal_errors
        if errors:
            pytest.fail(f"the kube emulator failed internally: {errors!r}")
    finally:
        server.stop()


@pytest.fixture()
def kubeconfig(kube: KubeServer, tmp_path: pathlib.Path) -> pathlib.Path:
    return kube.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture()
def kube_api_client(kubeconfig: pathlib.Path) -> Iterator[Any]:
    import kubernetes

    client = kubernetes.config.new_client_from_config(str(kubeconfig))  # type: ignore[no-untyped-call]
    try:
        yield client
    finally:
        client.close()


@pytest.fixture()
def kube_process(tmp_path: pathlib.Path) -> Iterator[KubeProcess]:
    with KubeProcess(tmp_path / "kubeconfig-process", crds=_default_crds()) as process:
        yield process
