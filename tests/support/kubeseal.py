"""Test support for the kubeseal compatibility suite (tests/cli/kubeseal): a shell whose `kubeseal` is
`sealkit kubeseal`, and the controller's Service in the emulator, backed by the real controller's listener."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.cluster import Cluster

SERVICE = "sealed-secrets-controller"


@dataclass
class Shell:
    """kubeseal's documented command lines, run by bash with `kubeseal` = `sealkit kubeseal` on PATH."""

    cwd: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self, script: str, *, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", script],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        if check:
            assert result.returncode == 0, f"{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        return result

    def path(self, name: str) -> Path:
        return self.cwd / name


def expose(cluster: Cluster, running: Any, name: str, namespace: str) -> None:
    if namespace not in ("default", "kube-system"):
        cluster.kube.create_namespace(namespace)
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": "sealed-secrets"}},
            "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]},
        }
    )
    cluster.kube.register_service_backend(namespace, name, "http", running.api_url)
