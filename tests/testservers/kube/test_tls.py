"""HTTPS with a throwaway CA, as an API server serves in-cluster clients (token plus ca.crt)."""

from __future__ import annotations

import pathlib
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import kubernetes as _kubernetes
import pytest
import yaml

from sealkit_testservers.kube import KubeServer

kubernetes: Any = _kubernetes


@pytest.mark.kube_emulator(tls=True, rbac=True)
def test_in_cluster_client_verifies_the_ca_and_sends_its_token(kube: KubeServer, tmp_path: pathlib.Path) -> None:
    """The kubernetes client's in-cluster configuration: https, the CA file, "bearer <token>" (lower case)."""
    assert kube.url.startswith("https://127.0.0.1:") and kube.ca_path is not None
    kube.add_token("pod-token", "kube-system", "controller")
    (tmp_path / "token").write_text("pod-token")
    host, port = kube.url.removeprefix("https://").rsplit(":", 1)
    loader = kubernetes.config.incluster_config.InClusterConfigLoader(
        token_filename=str(tmp_path / "token"),
        cert_filename=str(kube.ca_path),
        environ={"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port},
    )
    configuration = kubernetes.client.Configuration()
    loader.load_and_set(configuration)
    assert configuration.api_key["BearerToken"] == "bearer pod-token"
    with kubernetes.client.ApiClient(configuration) as client, pytest.raises(kubernetes.client.ApiException) as denied:
        kubernetes.client.CoreV1Api(client).list_namespaced_secret("kube-system")
    assert denied.value.status == 403  # authenticated as the service account, which RBAC grants nothing
    assert {r.user for r in kube.denied} == {"system:serviceaccount:kube-system:controller"}


@pytest.mark.kube_emulator(tls=True)
def test_kubeconfig_names_the_ca_and_plain_clients_are_refused(kube: KubeServer, tmp_path: pathlib.Path) -> None:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
    cluster = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]
    assert cluster == {"server": kube.url, "certificate-authority": str(kube.ca_path)}
    client = kubernetes.config.new_client_from_config(str(kubeconfig))
    names = [n.metadata.name for n in kubernetes.client.CoreV1Api(client).list_namespace().items]
    client.close()
    assert "kube-system" in names
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(f"{kube.url}/api", context=ssl.create_default_context(), timeout=5)
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)


def test_standalone_tls_dir(tmp_path: pathlib.Path) -> None:
    """`python -m sealkit_testservers.kube --tls-dir DIR`: an https URL, the CA in DIR and in the kubeconfig."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sealkit_testservers.kube",
            "--port",
            "0",
            "--tls-dir",
            str(tmp_path / "tls"),
            "--kubeconfig",
            str(tmp_path / "kubeconfig"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "ca.pem"))
        with urllib.request.urlopen(f"{url}/api", context=context, timeout=5) as response:
            assert response.status == 200
        cluster = yaml.safe_load((tmp_path / "kubeconfig").read_text())["clusters"][0]["cluster"]
        assert cluster["certificate-authority"] == str(tmp_path / "tls" / "ca.pem")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
