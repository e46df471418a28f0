"""`sealkit cert` finds the chart's Service with the flags NOTES.txt prints, through the service proxy, as any user.

The chart's objects are applied to the emulator with RBAC on; the Service is backed by the controller's
HTTP API (`sealkit_controller.httpapi.make_app`, holding the example cluster's certificate); the user is
an ordinary authenticated user, so only the chart's service-proxier Role lets the request through.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from charttools import CHART, EXAMPLE, Render, run_helm

from sealkit.keys import KeyRing, load_certificate
from sealkit_controller.serving.httpapi import make_app
from sealkit_testservers.kube import KubeServer

EXAMPLE_CERT = EXAMPLE / "clusters" / "example-cluster-cert.pem"
USER_TOKEN = "alice-token"
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding"}


class ExampleKeys:
    """The controller's key source, reduced to the example cluster's certificate."""

    def keyring(self) -> KeyRing:
        return KeyRing([])

    def newest_certificate_pem(self) -> bytes | None:
        return EXAMPLE_CERT.read_bytes()


@pytest.fixture
def http_api() -> Iterator[str]:
    """The controller's HTTP API on a free local port, on its own thread and loop."""
    loop = asyncio.new_event_loop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    runner = web.AppRunner(make_app(ExampleKeys()))
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def install(kube: KubeServer, render: Render, release: str, namespace: str, values: dict[str, Any] | None) -> None:
    if kube.get("v1", "Namespace", namespace) is None:
        kube.create_namespace(namespace)
    for obj in render(values, release=release, namespace=namespace):
        if obj["kind"] in ("CustomResourceDefinition", "Deployment"):
            continue
        kube.create(obj, namespace=None if obj["kind"] in CLUSTER_SCOPED else namespace)


def notes_cert_command(helm: str, release: str, namespace: str) -> list[str]:
    out = run_helm(helm, "install", release, str(CHART), "--namespace", namespace, "--dry-run=client").stdout
    (line,) = re.findall(r"^\s*(sealkit cert\b.*?)\s*>\s*cert\.pem\s*$", out.split("NOTES:", 1)[1], re.M)
    return shlex.split(line)


def run_cli(command: list[str], kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    assert command[0] == "sealkit"
    sealkit = Path(sys.executable).with_name("sealkit")
    env = {"KUBECONFIG": str(kubeconfig), "PATH": str(sealkit.parent), "HOME": str(kubeconfig.parent)}
    return subprocess.run([str(sealkit), *command[1:]], env=env, capture_output=True, text=True, check=False)


@pytest.mark.kube_emulator(rbac=True)
@pytest.mark.parametrize(
    ("release", "namespace"),
    [("sealed-secrets-controller", "kube-system"), ("sk", "sealkit")],
    ids=["defaults", "flags"],
)
def test_sealkit_cert_with_the_notes_command(
    release: str, namespace: str, kube: KubeServer, render: Render, helm: str, http_api: str, tmp_path: Path
) -> None:
    install(kube, render, release, namespace, None)
    kube.register_service_backend(namespace, release, "http", http_api)
    kube.add_user_token(USER_TOKEN, "alice")
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", token=USER_TOKEN)
    command = notes_cert_command(helm, release, namespace)
    if release == "sealed-secrets-controller":
        assert command == ["sealkit", "cert"]
    result = run_cli([*command, "--fingerprint"], kubeconfig)
    assert result.returncode == 0, result.stderr
    expected = load_certificate(EXAMPLE_CERT.read_bytes(), "example").fingerprint
    assert result.stdout.strip() == expected
    assert kube.denied == []
    proxied = [r for r in kube.request_log if "/proxy/v1/cert.pem" in r.path]
    assert proxied and {r.user for r in proxied} == {"alice"}


@pytest.mark.kube_emulator(rbac=True)
def test_without_the_service_proxier_role_users_are_refused(
    kube: KubeServer, render: Render, http_api: str, tmp_path: Path
) -> None:
    install(kube, render, "sealed-secrets-controller", "kube-system", {"rbac": {"serviceProxier": {"create": False}}})
    kube.register_service_backend("kube-system", "sealed-secrets-controller", "http", http_api)
    kube.add_user_token(USER_TOKEN, "alice")
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig", token=USER_TOKEN)
    result = run_cli(["sealkit", "cert"], kubeconfig)
    assert result.returncode == 2
    assert "403" in result.stderr
    assert kube.denied
