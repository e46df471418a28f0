"""Helpers shared by the chart tests (imported as `charttools`; conftest.py puts this directory on sys.path)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "sealkit"
NONDEFAULT_VALUES = Path(__file__).with_name("values-nondefault.yaml")

Render = Callable[..., list[dict[str, Any]]]


def find_helm() -> str | None:
    local = ROOT / ".tools" / "bin" / "helm"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("helm")


def run_helm(helm: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    # No kubeconfig is needed for lint/template/--dry-run=client; keep a developer's away.
    env = {**os.environ, "KUBECONFIG": os.devnull, "HELM_CACHE_HOME": str(ROOT / ".tools" / "helm-cache")}
    result = subprocess.run([helm, *args], capture_output=True, text=True, env=env, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o.get("kind") == kind]


def find_kubectl() -> str | None:
    found = shutil.which("kubectl")
    local = ROOT / ".tools" / "bin" / "kubectl"
    return found or (str(local) if local.is_file() else None)


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize DIR` as objects (kubectl: PATH, else .tools/bin from scripts/install-helm.sh)."""
    kubectl = find_kubectl()
    if kubectl is None:
        pytest.fail("kubectl not found: run `bash scripts/install-helm.sh` (installs .tools/bin/kubectl)")
    out = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        pytest.fail(f"kubectl kustomize {directory}: {out.stderr}")
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


EXAMPLE = ROOT / "examples" / "gitops"
EXAMPLE_KEY = ROOT / "tests" / "data" / "example-cluster-key.pem"  # dev's (the example cluster's) key
ENVIRONMENTS = ("dev", "prod")
# Each environment seals with its own key (sealkit-csi.yaml's sealingCert), as separate clusters do.
EXAMPLE_KEYS = {"dev": EXAMPLE_KEY, "prod": ROOT / "tests" / "data" / "example-prod-key.pem"}
EXAMPLE_CERTS = {
    "dev": EXAMPLE / "clusters" / "example-cluster-cert.pem",
    "prod": EXAMPLE / "clusters" / "prod" / "sealing-cert.pem",
}


def example_plaintext(env: str) -> dict[tuple[str, str], dict[str, str]]:
    """What the example's SealedSecrets (clusters/<env>/secrets) hold: made-up values, sealed for `env`'s key."""
    user, password = f"orders-{env}-puller", f"{env}-registry-password-made-up"
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {
        ("shop", "orders-partner-api"): {"token": f"{env}-partner-token-not-a-real-one"},
        ("payments", "payments-webhook"): {"signing-key": f"{env}-webhook-signing-key-made-up"},
        ("shop", "orders-registry"): {
            "username": user,
            "password": password,
            ".dockerconfigjson": (
                f'{{"auths":{{"ghcr.io":{{"username":"{user}","password":"{password}","auth":"{auth}"}}}}}}'
            ),
        },
    }


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def local_listen_args() -> tuple[list[str], str, str]:
    """Flags appended after the chart's args (the last one wins): the HTTP servers on free local ports."""
    http, metrics = free_port(), free_port()
    args = [f"--listen-addr=127.0.0.1:{http}", f"--listen-metrics-addr=127.0.0.1:{metrics}"]
    return args, f"http://127.0.0.1:{http}", f"http://127.0.0.1:{metrics}"


def http_get(url: str, timeout: float = 20.0) -> bytes:
    """GET, retried until the server is up."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body: bytes = response.read()
                return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
