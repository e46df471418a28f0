"""Fault injection: chosen requests answer 409/500/429 or hang, N times, then the store answers again."""

from __future__ import annotations

from typing import Any

import kubernetes as _kubernetes
import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from sealkit_testservers.kube import KubeServer

kubernetes: Any = _kubernetes  # the generated client's strict types add nothing to contract tests


@pytest.fixture()
def core(kube_api_client: Any) -> Any:
    return kubernetes.client.CoreV1Api(kube_api_client)


@pytest.mark.parametrize("status", [409, 500, 429])
def test_status_faults_fire_n_times(kube: KubeServer, core: Any, status: int) -> None:
    fault = kube.fail("POST", r"/namespaces/default/secrets$", status, times=2, retry_after=1)
    for _ in range(2):
        with pytest.raises(ApiException) as raised:
            core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
        assert raised.value.status == status
        assert (raised.value.headers or {})["Retry-After"] == "1"
    core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
    assert fault.hits == 2 and not fault.active
    assert kube.get("v1", "Secret", "s", "default") is not None


def test_faults_match_method_path_and_params(kube: KubeServer, core: Any) -> None:
    kube.fail(None, r"/secrets$", 500, times=None, params={"watch": "true"})
    assert core.list_namespaced_secret("default").items == []  # a list is not a watch
    with pytest.raises(ApiException) as raised:
        list(kubernetes.watch.Watch().stream(core.list_namespaced_secret, "default", timeout_seconds=1))
    assert raised.value.status == 500
    core.create_namespaced_secret("default", {"metadata": {"name": "ok"}})


def test_hanging_requests_time_out_on_the_client(kube: KubeServer, core: Any) -> None:
    fault = kube.fail("GET", r"/secrets/slow$", hang=True, times=None)
    with pytest.raises(urllib3.exceptions.MaxRetryError):  # the client retries reads, each one hangs
        core.read_namespaced_secret("slow", "default", _request_timeout=0.2)
    assert fault.hits >= 2
    kube.clear_faults()
    with pytest.raises(ApiException) as after:
        core.read_namespaced_secret("slow", "default")
    assert after.value.status == 404  # without the rule, requests reach the store again


def test_fault_needs_a_status_or_hang(kube: KubeServer) -> None:
    with pytest.raises(ValueError, match="needs a status, hang=True, reset=True or a delay"):
        kube.fail("GET", "/x")
