"""Integration fixtures: the real controller (Kopf over HTTP) against the Kubernetes emulator."""

from __future__ import annotations

import logging
import pathlib
from collections.abc import Iterator

import pytest

from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit_controller.wiring import ControllerThread
from sealkit_testservers.kube import KubeServer
from tests.support.cluster import Cluster, LogLines


@pytest.fixture(scope="session")
def cluster_keys() -> list[GeneratedKey]:
    """Three 2048-bit key pairs (4096-bit generation is too slow to repeat in tests)."""
    return [generate_key_pair(bits=2048) for _ in range(3)]


@pytest.fixture()
def logs() -> Iterator[LogLines]:
    handler = LogLines()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.fixture()
def cluster(kube: KubeServer, kubeconfig: pathlib.Path, cluster_keys: list[GeneratedKey]) -> Cluster:
    return Cluster(kube, kubeconfig, cluster_keys)


@pytest.fixture()
def controller(cluster: Cluster) -> Iterator[ControllerThread]:
    """The controller running with key 0 already in the cluster."""
    cluster.add_key(0)
    running = cluster.start()
    try:
        yield running
    finally:
        running.stop()
        assert running.error is None
