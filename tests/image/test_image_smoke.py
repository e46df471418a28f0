"""The built image started as the chart runs it in a cluster, against the Kubernetes emulator.

The chart is rendered (defaults, and an arbitrary uid as OpenShift assigns one), the controller
container's spec is taken from the Deployment and started from the image's root filesystem as a kubelet
would: the image's entrypoint with the chart's args, the image's env then the container's (POD_NAME and
POD_NAMESPACE filled in), the pod's uid/gid/fsGroup, a read-only root with only the /tmp emptyDir
writable, the service-account token and CA mounted read-only and the API server found through
KUBERNETES_SERVICE_HOST/PORT over TLS, with the chart's RBAC enforced. One difference: the host network
is shared, so the two listen addresses are moved to free loopback ports (flags appended after the chart's
args; the last one wins) and the chart's ports are checked against its flags instead.
"""

from __future__ import annotations

import base64
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from charttools import by_kind, http_get, local_listen_args
from imagetools import (
    NAMESPACE,
    RELEASE,
    Image,
    controller_container,
    pod_process,
    proc_status,
    render_chart,
    root_mount_options,
    write_service_account,
)

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.keys import load_certificate
from sealkit.sealing import seal_secret
from sealkit_testservers.kube import KubeServer

T = TypeVar("T")
TOKEN = "image-smoke-controller-token"
POD_NAME = f"{RELEASE}-6d9c7b8f5-x7k2p"
PLAINTEXT = "image-smoke-value-not-a-real-secret"
SERVED_ELSEWHERE = {"CustomResourceDefinition", "ServiceMonitor"}
UIDS = {
    "chart-defaults": None,
    # OpenShift's restricted SCC runs pods as an arbitrary uid that no passwd file names.
    "uid-without-passwd-entry": {
        "securityContext": {"runAsUser": 1000650000, "runAsGroup": 1000650000, "fsGroup": 1000650000}
    },
}


def apply(kube: KubeServer, objects: list[dict[str, Any]]) -> None:
    """The chart's objects (ServiceAccount, RBAC, Services...) as `helm install` creates them."""
    for obj in objects:
        if obj["kind"] in SERVED_ELSEWHERE:
            continue
        cluster_scoped = obj["kind"] in ("ClusterRole", "ClusterRoleBinding")
        kube.create(obj, namespace=None if cluster_scoped else obj["metadata"]["namespace"])


def wait(proc: subprocess.Popen[bytes], log: Path, what: str, check: Callable[[], T | None], kube: KubeServer) -> T:
    """Poll `check` until it answers, failing at once (with the log) if the controller died."""

    def probe(_: KubeServer) -> T | None:
        if proc.poll() is not None:
            pytest.fail(f"the controller exited ({proc.returncode}) before {what}:\n{log.read_text()[-4000:]}")
        return check()

    try:
        return kube.wait_for(probe, timeout=120, interval=0.2)
    except TimeoutError:
        pytest.fail(f"no {what} within 120 s; controller log:\n{log.read_text()[-4000:]}")


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test started: killed if the test left them running."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.kube_emulator(rbac=True, tls=True)
@pytest.mark.parametrize("values", UIDS.values(), ids=UIDS.keys())
def test_image_runs_as_the_chart_runs_it(
    values: dict[str, Any] | None,
    pods: Image,
    kube: KubeServer,
    tmp_path: Path,
    started: list[subprocess.Popen[bytes]],
) -> None:
    objects = render_chart(values, tmp_path)
    (deployment,) = by_kind(objects, "Deployment")
    container = controller_container(deployment)
    # The chart's container ports are the ports of its listen flags (only the address changes below).
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    listens = {f"--listen-addr=:{ports['http']}", f"--listen-metrics-addr=:{ports['metrics']}"}
    assert listens <= set(container["args"])

    apply(kube, objects)
    kube.add_token(TOKEN, NAMESPACE, deployment["spec"]["template"]["spec"]["serviceAccountName"])
    assert kube.ca_path is not None
    service_account = write_service_account(
        tmp_path / "serviceaccount", token=TOKEN, ca_pem=kube.ca_path.read_bytes(), namespace=NAMESPACE
    )
    host, port = kube.url.removeprefix("https://").rsplit(":", 1)
    listen, api, metrics = local_listen_args()
    pod = pod_process(
        deployment,
        pods,
        pod_name=POD_NAME,
        api_host=host,
        api_port=int(port),
        service_account_dir=service_account,
        extra_args=tuple(listen),
    )
    security = container["securityContext"]
    assert (pod.uid, pod.gid, pod.read_only_root) == (security["runAsUser"], security["runAsGroup"], True)
    assert [m["path"] for m in pod.mounts if m["type"] == "tmpfs"] == ["/tmp"], "the only writable place"
    assert {pod.env["POD_NAME"], pod.env["POD_NAMESPACE"]} == {POD_NAME, NAMESPACE}

    log = tmp_path / "controller.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(pod.command(tmp_path / "pod.json"), stdout=out, stderr=subprocess.STDOUT)
    started.append(proc)

    # A sealing key, made through the service account's token (RBAC enforced) on the TLS API server.
    keys = wait(
        proc, log, "key Secret", lambda: kube.list("v1", "Secret", NAMESPACE, label_selector=SEALING_KEY_LABEL), kube
    )
    assert keys[0]["type"] == "kubernetes.io/tls"
    assert wait(proc, log, "/healthz", lambda: http_get(f"{api}/healthz"), kube) == b"ok"
    cert_pem = http_get(f"{api}/v1/cert.pem")
    assert cert_pem.strip() == base64.b64decode(keys[0]["data"]["tls.crt"]).strip()
    assert b"sealed_secrets_controller_" in http_get(f"{metrics}/metrics")

    # It runs as the pod would: the chart's uid and groups, no privileges, a read-only root.
    status = proc_status(proc.pid)
    assert status["Uid"].split() == [str(pod.uid)] * 4
    assert status["Gid"].split() == [str(pod.gid)] * 4
    assert sorted(int(g) for g in status["Groups"].split()) == pod.groups
    assert (status["NoNewPrivs"], int(status["CapEff"], 16), int(status["CapPrm"], 16)) == ("1", 0, 0)
    assert "ro" in root_mount_options(proc.pid)

    # A SealedSecret sealed with the served certificate becomes its Secret.
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "smoke", "namespace": "default"}}
    sealed = seal_secret({**secret, "stringData": {"value": PLAINTEXT}}, load_certificate(cert_pem, "/v1/cert.pem"))
    kube.create(sealed, namespace="default")
    unsealed = wait(proc, log, "unsealed Secret", lambda: kube.get("v1", "Secret", "smoke", "default"), kube)
    assert base64.b64decode(unsealed["data"]["value"]).decode() == PLAINTEXT

    assert kube.denied == [], "the chart's RBAC refused the controller"
    users = {r.user for r in kube.request_log if r.path.startswith("/apis/bitnami.com/")}
    assert users == {f"system:serviceaccount:{NAMESPACE}:{RELEASE}"}, users

    # SIGTERM, as the kubelet stops a pod: a clean exit.
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, log.read_text()[-4000:]
    text = log.read_text()
    for leak in ("Traceback", "PRIVATE KEY", PLAINTEXT, TOKEN):
        assert leak not in text, f"{leak!r} in the controller's log"
