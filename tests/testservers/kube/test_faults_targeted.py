"""Faults by verb/resource/client, rates from a seeded RNG, slow responses, partitions, dropped watches, refusals."""

from __future__ import annotations

import json
import pathlib
import queue
import socket
import threading
from collections.abc import Iterator
from typing import Any

import kubernetes as _kubernetes
import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from sealkit_testservers.kube import KubeServer

kubernetes: Any = _kubernetes


def _core(kube: KubeServer, folder: pathlib.Path, token: str | None = None, url: str | None = None) -> Any:
    path = kube.write_kubeconfig(
        folder / f"kubeconfig-{token or 'admin'}-{len(list(folder.iterdir()))}", token, url=url
    )
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(path), client_configuration=configuration)
    configuration.retries = False  # see each failure itself, not urllib3's retries (it honours Retry-After)
    return kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))


@pytest.fixture()
def core(kube: KubeServer, tmp_path: pathlib.Path) -> Iterator[Any]:
    api = _core(kube, tmp_path)
    yield api
    api.api_client.close()


def _status(call: Any, *args: Any) -> int:
    try:
        call(*args)
    except ApiException as exc:
        return int(exc.status)
    return 200


def test_rules_match_verb_resource_and_namespace(kube: KubeServer, core: Any) -> None:
    kube.create_namespace("other")
    kube.fail(resource="secrets", verb="create", namespace="default", status=409, times=None)
    assert _status(core.create_namespaced_secret, "default", {"metadata": {"name": "a"}}) == 409
    assert _status(core.create_namespaced_secret, "other", {"metadata": {"name": "a"}}) == 200
    assert _status(core.list_namespaced_secret, "default") == 200
    assert _status(core.create_namespaced_config_map, "default", {"metadata": {"name": "a"}}) == 200
    kube.clear_faults()

    custom = kubernetes.client.CustomObjectsApi(core.api_client)
    ss = ("bitnami.com", "v1alpha1", "default", "sealedsecrets")
    custom.create_namespaced_custom_object(
        *ss,
        {
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "x"},
            "spec": {"encryptedData": {}},
        },
    )
    status_only = kube.fail(resource="sealedsecrets.bitnami.com/status", verb="patch|update", status=500, times=None)
    with pytest.raises(ApiException) as raised:
        custom.patch_namespaced_custom_object_status(*ss, "x", {"status": {"a": 1}})
    assert raised.value.status == 500
    custom.patch_namespaced_custom_object(*ss, "x", {"metadata": {"labels": {"a": "b"}}})  # main resource unaffected
    assert kube.faults[0].hits == 1 and status_only.verb == {"patch", "update"}


def test_429_carries_retry_after_as_the_server_sends_it(kube: KubeServer, core: Any) -> None:
    kube.fail(verb="list", resource="secrets", status=429, retry_after=3, times=1)
    with pytest.raises(ApiException) as raised:
        core.list_namespaced_secret("default")
    assert raised.value.status == 429 and raised.value.headers["Retry-After"] == "3"
    body = json.loads(raised.value.body)
    assert body["reason"] == "TooManyRequests" and body["details"] == {"retryAfterSeconds": 3}
    assert core.list_namespaced_secret("default").items == []


def _pattern(seed: int, tmp: pathlib.Path) -> list[int]:
    with KubeServer(fault_seed=seed) as kube:
        kube.fail(resource="configmaps", verb="get", status=503, rate=0.3, times=None)
        api = _core(kube, tmp)
        try:
            return [_status(api.read_namespaced_config_map, "x", "default") for _ in range(200)]
        finally:
            api.api_client.close()


def test_rates_draw_from_a_seeded_rng(tmp_path: pathlib.Path) -> None:
    first, again, other = _pattern(7, tmp_path), _pattern(7, tmp_path), _pattern(8, tmp_path)
    assert first == again  # same seed, same requests: same failures
    assert first != other
    failed = first.count(503)
    assert set(first) == {404, 503} and 30 <= failed <= 90  # ~30% of 200 (binomial, far from the bounds)


def test_slow_responses_then_normal_service(kube: KubeServer, core: Any) -> None:
    slow = kube.fail(resource="secrets", verb="get", delay=30, times=1)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        core.read_namespaced_secret("s", "default", _request_timeout=0.2)
    assert slow.hits == 1 or kube.faults[0].hits == 1
    assert _status(core.read_namespaced_secret, "s", "default") == 404  # used up: served at once
    kube.clear_faults()  # also releases the delayed request's rule


def _watch_lines(api: Any, events: queue.Queue[Any]) -> threading.Thread:
    def run() -> None:
        try:
            for event in kubernetes.watch.Watch().stream(api.list_namespaced_config_map, "default", timeout_seconds=30):
                events.put(event["object"].metadata.name)
            events.put("<end>")
        except Exception as exc:
            events.put(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_partition_one_client_by_token_while_another_works(kube: KubeServer, tmp_path: pathlib.Path) -> None:
    a, b = _core(kube, tmp_path, "ctrl-a"), _core(kube, tmp_path, "ctrl-b")
    a_events: queue.Queue[Any] = queue.Queue()
    b_events: queue.Queue[Any] = queue.Queue()
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first", "namespace": "default"}})
    _watch_lines(a, a_events)
    _watch_lines(b, b_events)
    assert a_events.get(timeout=10) == "first" and b_events.get(timeout=10) == "first"

    cut = kube.partition("ctrl-a")
    assert isinstance(a_events.get(timeout=10), urllib3.exceptions.ProtocolError)  # its open watch was reset
    with pytest.raises(urllib3.exceptions.ProtocolError):
        a.list_namespaced_config_map("default")
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "second", "namespace": "default"}})
    assert b_events.get(timeout=10) == "second"  # the other client keeps working
    assert [c.metadata.name for c in b.list_namespaced_config_map("default").items] == ["first", "second"]

    kube.remove_fault(cut)  # heal
    assert [c.metadata.name for c in a.list_namespaced_config_map("default").items] == ["first", "second"]
    a.api_client.close()
    b.api_client.close()


def test_hanging_partition_holds_a_clients_watch_events_until_healed(kube: KubeServer, tmp_path: pathlib.Path) -> None:
    a, b = _core(kube, tmp_path, "ctrl-a"), _core(kube, tmp_path, "ctrl-b")
    a_events: queue.Queue[Any] = queue.Queue()
    b_events: queue.Queue[Any] = queue.Queue()
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first", "namespace": "default"}})
    _watch_lines(a, a_events)
    _watch_lines(b, b_events)
    assert a_events.get(timeout=10) == "first" and b_events.get(timeout=10) == "first"
    cut = kube.partition("ctrl-a", mode="hang")
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "second", "namespace": "default"}})
    assert b_events.get(timeout=10) == "second"
    assert a_events.empty()  # held back: the partitioned client hears nothing
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        a.list_namespaced_config_map("default", _request_timeout=0.3)
    kube.remove_fault(cut)
    assert a_events.get(timeout=10) == "second"  # delivered once the partition heals
    a.api_client.close()
    b.api_client.close()


def test_drop_watches_cleanly_or_by_reset(kube: KubeServer, core: Any) -> None:
    events: queue.Queue[Any] = queue.Queue()
    kube.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one", "namespace": "default"}})
    _watch_lines(core, events)
    assert events.get(timeout=10) == "one"
    kube.wait_for(lambda k: k.call(lambda: len(k.emulator.disruptions.streams)) == 1)
    assert kube.drop_watches(resource="secrets") == 0  # nothing open on secrets
    assert kube.drop_watches(resource="configmaps") == 1
    assert events.get(timeout=10) == "<end>"  # a clean end, as a server-side timeout

    _watch_lines(core, events)
    assert events.get(timeout=10) == "one"
    kube.wait_for(lambda k: k.call(lambda: len(k.emulator.disruptions.streams)) == 1)
    assert kube.drop_watches(mode="reset") == 1
    assert isinstance(events.get(timeout=10), urllib3.exceptions.ProtocolError)
    with pytest.raises(ValueError, match="mode"):
        kube.drop_watches(mode="explode")


def _refused(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_listeners_name_clients_and_refuse_connections(kube: KubeServer, tmp_path: pathlib.Path) -> None:
    url = kube.add_listener("ctrl-c")
    via_c = _core(kube, tmp_path, url=url)
    main = _core(kube, tmp_path)
    kube.fail(client="ctrl-c", status=503, times=None)
    assert _status(via_c.list_namespaced_secret, "default") == 503  # the port names the client
    assert _status(main.list_namespaced_secret, "default") == 200
    kube.clear_faults()

    assert kube.refuse_connections(None, listener="ctrl-c") == ["ctrl-c"]
    assert _refused(url) and not _refused(kube.url)
    with pytest.raises((urllib3.exceptions.ProtocolError, urllib3.exceptions.NewConnectionError)):
        via_c.list_namespaced_secret("default")  # its open keep-alive connection was aborted
    with pytest.raises(urllib3.exceptions.NewConnectionError):
        via_c.list_namespaced_secret("default")  # and new ones are refused
    kube.resume_connections(listener="ctrl-c")
    assert _status(via_c.list_namespaced_secret, "default") == 200

    kube.refuse_connections(0.2)  # every listener, for a while
    assert _refused(kube.url)
    kube.wait_for(lambda k: not _refused(k.url) and not _refused(url), timeout=10)
    assert _status(main.list_namespaced_secret, "default") == 200
    via_c.api_client.close()
    main.api_client.close()
