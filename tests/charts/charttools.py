"""Helpers shared by the chart tests (imported as `charttools`; conftest.py puts this directory on sys.path)."""

from __future__ import annotations

import base64
import datetime as dt
import os
import shutil
import subprocess
import tempfile
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


def helm_template(
    helm: str, workdir: Path, values: dict[str, Any], *extra: str, chart: Path = CHART
) -> subprocess.CompletedProcess[str]:
    """`helm template x CHART --values <values>` as it ran (not checked): the caller judges the outcome."""
    fd, name = tempfile.mkstemp(suffix=".yaml", dir=workdir)
    with os.fdopen(fd, "w") as out:
        out.write(yaml.safe_dump(values))
    return run_helm(helm, "template", "x", str(chart), "--values", name, *extra, check=False)


def helm_refusal(result: subprocess.CompletedProcess[str]) -> str:
    """What helm said when it refused, on one line; a template that crashed (nil pointer, Go trace) fails."""
    assert result.returncode != 0, "helm accepted the values"
    message = " ".join(line.strip() for line in result.stderr.splitlines() if line.strip())
    assert "nil pointer" not in message and "error calling" not in message, message
    return message


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = by_kind(objects, "Deployment")
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


_SIGNER: list[Any] = []


def controller_refusal(args: list[str], namespace: str = "kube-system") -> str | None:
    """None when `sealkit controller` starts with these args; else why not (its error line).

    Beyond the flags and Settings.validate, what it checks as it starts up: the challenge resources
    (wiring builds the credentials with them) and the first key's certificate (common name, validity).
    """
    from click.testing import CliRunner
    from cryptography.hazmat.primitives.asymmetric import ec

    import sealkit_controller as runner
    from sealkit.errors import SealkitError
    from sealkit.keygen import build_certificate
    from sealkit.vault.urls import check_resource
    from sealkit_cli.commands.controller import controller as controller_command

    captured: list[Any] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "configure_logging", lambda settings: None)
        patch.setattr(runner, "run", captured.append)
        for name in [n for n in os.environ if n.startswith("SEALED_SECRETS_")]:
            patch.delenv(name)
        result = CliRunner().invoke(controller_command, args, env={"POD_NAMESPACE": namespace})
    if result.exit_code != 0:
        return (result.output.strip() or repr(result.exception)).splitlines()[-1]
    (s,) = captured
    if not _SIGNER:
        _SIGNER.append(ec.generate_private_key(ec.SECP256R1()))
    try:
        for resource in s.escrow_accept_challenge_resources:
            check_resource(resource, "--escrow-accept-challenge-resource")
        for resource in s.kek_accept_challenge_resources:
            check_resource(resource, "--kek-accept-challenge-resource")
        now = dt.datetime.now(dt.UTC)
        build_certificate(_SIGNER[0], subject=s.my_cn, not_before=now, not_after=now + s.key_ttl)
    except (SealkitError, ValueError, OverflowError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


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
