"""Faults from outside the process: the standalone emulator's flags and its `/__emulator/...` admin endpoint."""

from __future__ import annotations

import json
import pathlib
import queue
import subprocess
import sys
import threading
from typing import Any

import kubernetes as _kubernetes
import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from sealkit_testservers.kube import AdminError, KubeProcess, KubeServer

kubernetes: Any = _kubernetes


def _core(kubeconfig: pathlib.Path) -> Any:
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    configuration.retries = False
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))


def test_admin_endpoint_changes_faults_at_runtime(kube: KubeServer, tmp_path: pathlib.Path) -> None:
    admin = kube.admin
    a = _core(kube.write_kubeconfig(tmp_path / "a", token="ctrl-a"))
    b = _core(kube.write_kubeconfig(tmp_path / "b", token="ctrl-b"))
    rule = admin.fail(client="ctrl-a", status=503, times=None, message="partitioned")
    assert rule.id > 0 and rule.client == "ctrl-a" and rule.times is None
    with pytest.raises(ApiException) as raised:
        a.list_namespaced_secret("default")
    assert raised.value.status == 503 and json.loads(raised.value.body)["message"] == "partitioned"
    assert b.list_namespaced_secret("default").items == []
    assert [(f.id, f.hits) for f in admin.faults()] == [(rule.id, 1)]
    admin.remove_fault(rule)
    assert a.list_namespaced_secret("default").items == []
    with pytest.raises(AdminError, match="404"):
        admin.remove_fault(rule.id)
    with pytest.raises(AdminError, match="unknown fault field"):
        admin._call("POST", "faults", {"status": 500, "colour": "red"})
    with pytest.raises(AdminError, match="needs a status"):
        admin.fail(client="x")

    reset = admin.partition("ctrl-a")
    with pytest.raises(urllib3.exceptions.ProtocolError):
        a.list_namespaced_secret("default")
    admin.clear_faults()
    assert admin.faults() == []
    assert a.list_namespaced_secret("default").items == [] and reset.reset

    stats = admin.stats()
    assert stats["requests"] == kube.request_count and stats["objects"] >= 4 and stats["faults"] == []
    assert not any(r.path.startswith("/__emulator") for r in kube.request_log)  # admin calls are not API calls
    a.api_client.close()
    b.api_client.close()


def test_admin_drops_watches_and_refuses_a_listener(kube: KubeServer, tmp_path: pathlib.Path) -> None:
    admin = kube.admin
    url = admin.add_listener("ctrl-b")
    assert admin.listeners() == {"main": kube.url, "ctrl-b": url}
    b = _core(kube.write_kubeconfig(tmp_path / "b", url=url))
    events: queue.Queue[Any] = queue.Queue()

    def watch() -> None:
        for event in kubernetes.watch.Watch().stream(b.list_namespaced_secret, "default", timeout_seconds=30):
            events.put(event["type"])
        events.put("<end>")

    kube.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}})
    threading.Thread(target=watch, daemon=True).start()
    assert events.get(timeout=10) == "ADDED"
    assert admin.drop_watches(client="ctrl-b") == 1
    assert events.get(timeout=10) == "<end>"

    assert admin.refuse_connections(None, listener="ctrl-b") == ["ctrl-b"]
    with pytest.raises((urllib3.exceptions.ProtocolError, urllib3.exceptions.NewConnectionError)):
        b.list_namespaced_secret("default")
    assert admin.stats()["listeners"] == {"main": kube.url, "ctrl-b": url}  # main still answers
    assert admin.resume_connections(listener="ctrl-b") == ["ctrl-b"]
    assert [s.metadata.name for s in b.list_namespaced_secret("default").items] == ["s"]
    with pytest.raises(AdminError, match="no listener named 'nope'"):
        admin.refuse_connections(1, listener="nope")
    b.api_client.close()


def test_admin_paths_are_never_kubernetes_paths(kube: KubeServer) -> None:
    http = urllib3.PoolManager()
    assert http.request("GET", kube.url + "/api/v1/__emulator/faults").status == 404
    reply = http.request("GET", kube.url + "/__emulator/nothing")
    assert reply.status == 404 and json.loads(reply.data)["kind"] == "Status"


@pytest.mark.slow
def test_standalone_process_takes_fault_flags(tmp_path: pathlib.Path) -> None:
    from sealkit.data import crd_path

    flags = [
        "--fault",
        "status=500,resource=secrets,verb=create,times=1,message=etcd is down",
        "--fault",
        "status=429,retry_after=1,rate=0.5,resource=configmaps,verb=get|list",
        "--fault-seed",
        "11",
        "--drop-watches-every",
        "0.2",
        "--listener",
        "ctrl-a",
    ]
    with KubeProcess(
        tmp_path / "kubeconfig", crds=[crd_path("bitnami.com_sealedsecrets.yaml")], extra_args=flags
    ) as kp:
        core = _core(kp.kubeconfig)
        with pytest.raises(ApiException) as raised:
            core.create_namespaced_secret("default", {"metadata": {"name": "s"}})
        assert raised.value.status == 500 and json.loads(raised.value.body)["message"] == "etcd is down"
        core.create_namespaced_secret("default", {"metadata": {"name": "s"}})  # times=1: used up
        codes = []
        for _ in range(40):
            try:
                core.list_namespaced_config_map("default")
                codes.append(200)
            except ApiException as exc:
                codes.append(exc.status)
        assert set(codes) == {200, 429}  # about half, drawn from seed 11
        faults = kp.admin.faults()
        assert [f.hits for f in faults] == [1, codes.count(429)] and faults[1].rate == 0.5
        assert set(kp.admin.listeners()) == {"main", "ctrl-a"}

        ended = threading.Event()

        def watch() -> None:
            for _ in kubernetes.watch.Watch().stream(core.list_namespaced_secret, "default", timeout_seconds=60):
                pass
            ended.set()  # the stream ended before its 60 s timeout: dropped by the emulator

        threading.Thread(target=watch, daemon=True).start()
        assert ended.wait(30)
        assert kp.admin.stats()["watchesDropped"] >= 1
        core.api_client.close()


def test_bad_fault_flag_is_one_line_and_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sealkit_testservers.kube", "--fault", "status=500,colour=red"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert (
        result.stderr.startswith("error: --fault: unknown fault field(s) ['colour']") and result.stderr.count("\n") == 1
    )
