"""The running controller's HTTP API (through the emulator's service proxy, as `sealkit cert` and kubeseal
reach it) and its Prometheus metrics (scraped over HTTP), with Bitnami's names and labels."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cryptography.x509 import load_pem_x509_certificate

from sealkit.clients.kube.config import ClusterOptions
from sealkit.clients.kube.proxy import ControllerProxy
from sealkit.keygen import generate_key_pair
from sealkit.keys import KeyRing
from sealkit.keysecrets import key_secret_manifest
from sealkit.scope import Scope
from sealkit.unsealing import unseal
from sealkit_cli.main import cli
from sealkit_controller.wiring import ControllerThread
from tests.support.cluster import CONTROLLER_NS, Cluster

SERVICE = "sealed-secrets-controller"


def expose(cluster: Cluster, running: ControllerThread) -> ControllerProxy:
    """A Service for the controller in the emulator, its proxy backed by the controller's real listener."""
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": SERVICE,
                "namespace": CONTROLLER_NS,
                "labels": {"app.kubernetes.io/name": "sealed-secrets"},
            },
            "spec": {"ports": [{"name": "http", "port": 8080, "targetPort": 8080}]},
        }
    )
    cluster.kube.register_service_backend(CONTROLLER_NS, SERVICE, "http", running.api_url)
    return ControllerProxy(ClusterOptions(str(cluster.kubeconfig), None, SERVICE, CONTROLLER_NS))


@pytest.fixture(params=[3])
def served(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[tuple[ControllerThread, ControllerProxy]]:
    """The controller with key 0 behind the service proxy, rate limited at 1/s with the burst of `params`."""
    cluster.add_key(0)
    with cluster.start(rate_limit=1.0, rate_limit_burst=request.param) as running:
        yield running, expose(cluster, running)


def scrape(running: ControllerThread) -> str:
    with urllib.request.urlopen(running.metrics_url + "/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        return str(response.read().decode())


def sample(text: str, metric: str, **labels: str) -> float | None:
    """The value of one series in Prometheus text format, or None."""
    for line in text.splitlines():
        if not line.startswith(metric + ("{" if labels else "")) and not line.startswith(metric + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.mark.parametrize("served", [100], indirect=True)  # a burst this test does not use up
def test_cert_verify_rotate_through_the_service_proxy(
    cluster: Cluster, served: tuple[ControllerThread, ControllerProxy]
) -> None:
    _, proxy = served
    result = CliRunner().invoke(
        cli, ["cert", "--kubeconfig", str(cluster.kubeconfig)], env={"KUBECONFIG": None, "SEALED_SECRETS_CERT": None}
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == cluster.keys[0].certificate_pem.decode()
    assert any(
        "/services/http:sealed-secrets-controller:http/proxy/v1/cert.pem" in r.path for r in cluster.kube.request_log
    )
    assert proxy.request("GET", "healthz").body == b"ok"

    good = cluster.seal("app", data={"token": "t"})
    assert proxy.request("POST", "v1/verify", good, "application/json").status == 200
    assert proxy.request("POST", "v1/verify", yaml.safe_dump(good), "application/yaml").status == 200
    foreign = cluster.seal("app", data={"token": "t"}, key=1)
    refused = proxy.request("POST", "v1/verify", foreign, "application/json")
    assert refused.status == 409 and b"no key could decrypt" in refused.body
    invalid = cluster.seal("app", data={"token": "t"})
    invalid["spec"]["template"]["type"] = 5  # every value opens; the Secret it describes would be refused
    not_unsealed = proxy.request("POST", "v1/verify", invalid, "application/json")
    assert (not_unsealed.status, not_unsealed.body) == (
        409,
        b"the Secret it describes is invalid: spec.template.type: is a number, not a string\n",
    ), "a refusal of any unseal step is 409 with its reason, as Bitnami's /v1/verify answers"

    # A newer key arrives while running: the cert and rotation follow it at once. Born a second after key 0
    # (certificates count whole seconds), which is in the past unless this test runs within a second of it.
    born = load_pem_x509_certificate(cluster.keys[0].certificate_pem).not_valid_before_utc + dt.timedelta(seconds=1)
    newer = generate_key_pair(bits=2048, now=born)
    cluster.create(key_secret_manifest(newer, namespace=CONTROLLER_NS, prefix="sealed-secrets-key"))
    cluster.wait(lambda: proxy.request("GET", "v1/cert.pem").body == newer.certificate_pem)
    cluster.wait(lambda: dt.datetime.now(dt.UTC) >= born)  # the new certificate is valid
    wide = cluster.seal("app", data={"token": "t"}, scope=Scope.NAMESPACE_WIDE)
    rotated = proxy.request("POST", "v1/rotate", wide, "application/json")
    assert rotated.status == 200
    body = json.loads(rotated.body)
    assert body["metadata"]["annotations"] == wide["metadata"]["annotations"]  # scope kept
    assert body["spec"]["encryptedData"] != wide["spec"]["encryptedData"]
    newest_only = KeyRing([newer.key])
    assert unseal(body, newest_only).items == {"token": b"t"}
    unreadable = proxy.request("POST", "v1/verify", "{not: [yaml", "application/yaml")
    assert unreadable.status == 400


def direct(running: ControllerThread, body: str, forwarded: str | None = None) -> int:
    """POST /v1/verify straight to the controller (peer 127.0.0.1), with an X-Forwarded-For of our choosing."""
    headers = {"Content-Type": "application/json"} | ({"X-Forwarded-For": forwarded} if forwarded else {})
    request = urllib.request.Request(running.api_url + "/v1/verify", data=body.encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_verify_and_rotate_are_rate_limited_per_peer(
    cluster: Cluster, served: tuple[ControllerThread, ControllerProxy]
) -> None:
    running, proxy = served
    sealed = cluster.seal("app")
    codes = [proxy.request("POST", "v1/verify", sealed, "application/json").status for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]  # burst 3, then 1/s
    limited = proxy.request("POST", "v1/rotate", sealed, "application/json")
    assert limited.status == 429 and limited.retry_after is not None and limited.retry_after >= 1

    # No trusted proxies (the default): the peer address counts. 20 requests with forged
    # X-Forwarded-For addresses share the one bucket of their connection's address.
    forged = [direct(running, json.dumps(sealed), f"10.9.{i}.{i}") for i in range(20)]
    assert forged == [429] * 20


def test_trusted_proxies_name_the_client(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start(rate_limit=0.01, rate_limit_burst=1, trusted_proxies=("127.0.0.0/8",)) as running:
        body = json.dumps(cluster.seal("app"))
        assert direct(running, body, "10.9.9.9") == 200
        assert direct(running, body, "10.9.9.9") == 429, "the same client, named by a trusted proxy"
        assert direct(running, body, "10.8.8.8") == 200, "another client has its own bucket"
        # The right-most address that is not a trusted proxy counts, not a forged first entry.
        assert direct(running, body, "1.2.3.4, 10.8.8.8") == 429
        assert direct(running, body, "10.7.7.7, 127.0.0.1") == 200, "trusted hops are skipped"
        # Garbage from a trusted peer: only the connection is believed.
        assert direct(running, body, "not-an-address") == 200
        assert direct(running, body) == 429


def test_trusted_proxies_must_be_addresses() -> None:
    result = CliRunner().invoke(cli, ["controller", "--trusted-proxies", "10.0.0.0/8,apiserver"])
    assert result.exit_code == 2
    assert result.output == "error: not an IP address or CIDR range: --trusted-proxies\n"


def test_read_timeout_answers_408(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start(read_timeout=_seconds(0.3)) as running:
        host, port = running.api_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            conn.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            reply = conn.recv(200)  # the server's answer to the stalled body (the socket gives up at 5 s)
        assert reply.startswith(b"HTTP/1.1 408")


def test_write_timeout_answers_503(cluster: Cluster) -> None:
    cluster.add_key(0)
    many = cluster.seal("big", data={f"k{i}": "v" for i in range(40)})
    with cluster.start(write_timeout=_seconds(0.001)) as running:
        request = urllib.request.Request(running.api_url + "/v1/rotate", data=json.dumps(many).encode(), method="POST")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        assert caught.value.code == 503


def test_listeners_can_be_turned_off(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start(listen_addr="", listen_metrics_addr="") as running:
        assert running.api_url == "" and running.metrics_url == ""
        cluster.create(cluster.seal())
        assert cluster.wait(cluster.data) == {"foo": b"bar"}


def test_metrics_with_bitnami_names(cluster: Cluster, served: tuple[ControllerThread, ControllerProxy]) -> None:
    running, proxy = served
    cluster.create(cluster.seal("good"))
    cluster.create(cluster.seal("foreign", key=2))
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "theirs", "namespace": "default"},
            "data": {"x": "eA=="},
        }
    )
    cluster.create(cluster.seal("theirs"))
    cluster.wait(lambda: cluster.condition("foreign") and cluster.condition("good") and cluster.condition("theirs"))
    proxy.request("GET", "v1/cert.pem")

    def settled() -> str:
        text = scrape(running)
        done = sample(text, "sealed_secrets_controller_condition_info", name="theirs", condition="Synced") == -1
        return text if done else ""

    text = cluster.wait(settled)
    assert sample(text, "sealed_secrets_controller_build_info") == 1
    assert (sample(text, "sealed_secrets_controller_unseal_requests_total") or 0) >= 3
    assert (
        sample(text, "sealed_secrets_controller_unseal_errors_total", reason="unseal", namespace="default") or 0
    ) >= 1
    assert sample(text, "sealed_secrets_controller_unseal_errors_total", reason="unmanaged", namespace="default") == 1
    for name, value in (("good", 1), ("foreign", -1)):
        for condition in ("Synced", "Ready"):
            assert (
                sample(
                    text,
                    "sealed_secrets_controller_condition_info",
                    namespace="default",
                    name=name,
                    condition=condition,
                )
                == value
            )
    assert (
        sample(text, "sealed_secrets_controller_http_requests_total", path="/v1/cert.pem", code="200", method="get")
        == 1
    )
    assert (
        sample(text, "sealed_secrets_controller_http_request_duration_seconds_count", path="/v1/cert.pem", method="get")
        == 1
    )
    assert "process_resident_memory_bytes" in text
    # A deleted SealedSecret leaves condition_info.
    cluster.kube.delete("bitnami.com/v1alpha1", "SealedSecret", "good", "default")
    cluster.wait(
        lambda: (
            sample(scrape(running), "sealed_secrets_controller_condition_info", name="good", condition="Synced") is None
        )
    )


def test_fetch_and_status_errors_are_counted(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start() as running:
        cluster.kube.fail("GET", r"/namespaces/default/secrets/flaky", 500, times=2, message="injected")
        cluster.kube.fail("PATCH", r"/sealedsecrets/flaky/status", 500, times=1, message="injected")
        cluster.create(cluster.seal("flaky"))
        cluster.wait(lambda: cluster.condition("flaky"))
        text = scrape(running)
    assert sample(text, "sealed_secrets_controller_unseal_errors_total", reason="fetch", namespace="default") == 2
    assert sample(text, "sealed_secrets_controller_unseal_errors_total", reason="status", namespace="default") == 1


def _seconds(value: float) -> Any:
    return dt.timedelta(seconds=value)


def post(running: ControllerThread, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(running.api_url + path, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def test_request_bodies_go_through_the_bounded_reader(cluster: Cluster) -> None:
    cluster.add_key(0)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    planted = "Pl4nted-S3cret"
    with cluster.start(rate_limit=0) as running:
        for path in ("/v1/verify", "/v1/rotate"):
            status, text = post(running, path, bomb.encode())
            assert (
                status == 400 and "excessive aliasing" in text and text.endswith(": request body document 1 line 4\n")
            )
            status, text = post(running, path, b"\x00\x01" + planted.encode())
            assert (status, text) == (400, "binary data (NUL bytes), not YAML or JSON text: request body\n")
            status, text = post(running, path, b"[" * 5000 + b"]" * 5000)
            assert status == 400 and "deeper than 128 levels" in text
            head = '{"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret"'
            dup = head + f', "spec": {{"a": "{planted}", "a": 1}}}}'
            status, text = post(running, path, dup.encode())
            assert status == 400 and "is given twice" in text and planted not in text


def test_request_bodies_over_2_mib_are_refused_unread(cluster: Cluster) -> None:
    cluster.add_key(0)
    with cluster.start(rate_limit=0) as running:
        host, port = running.api_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            conn.sendall(b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n{")
            reply = conn.recv(300)
        assert reply.startswith(b"HTTP/1.1 413")
        assert b"request body larger than 2 MiB: request body" in reply
