"""Fixtures of the kubeseal compatibility suite: a `kubeseal` on PATH that is `sealkit kubeseal`, keys, and
the real controller on the Kubernetes emulator behind the service proxy."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit_testservers.kube import KubeServer
from tests.support.cluster import CONTROLLER_NS, Cluster
from tests.support.kubeseal import SERVICE, Shell, expose

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def shell(tmp_path: Path) -> Shell:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "kubeseal"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m sealkit_cli.main kubeseal "$@"\n')
    wrapper.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SEALED_SECRETS_", "KUBERNETES_"))
        and k not in ("KUBECONFIG", "SEALKIT_DEBUG", "POD_NAMESPACE")
    }
    paths = os.pathsep.join(str(ROOT / p) for p in (".", "cli", "controller", "testservers"))
    env = inherited | {
        "HOME": str(home),
        "PATH": os.pathsep.join([str(bin_dir), inherited.get("PATH", "")]),
        "PYTHONPATH": os.pathsep.join([paths, inherited.get("PYTHONPATH", "")]),
    }
    return Shell(work, env)


@pytest.fixture(scope="session")
def cluster_keys() -> list[GeneratedKey]:
    """Two 2048-bit keys, the second newer (the controller seals and re-encrypts with it)."""
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    return [generate_key_pair(bits=2048, now=now - dt.timedelta(days=2 - i)) for i in range(2)]


@pytest.fixture()
def cluster(kube: KubeServer, kubeconfig: Path, cluster_keys: list[GeneratedKey]) -> Cluster:
    return Cluster(kube, kubeconfig, cluster_keys)


@pytest.fixture()
def controller(cluster: Cluster) -> Iterator[Any]:
    """The real controller (Kopf, its HTTP API) with key 0, reachable as kubeseal reaches it: the Service
    sealed-secrets-controller in kube-system, through the API server's service proxy."""
    cluster.add_key(0)
    with cluster.start() as running:
        expose(cluster, running, SERVICE, CONTROLLER_NS)
        yield running
