"""End to end: the GitOps example converges under the chart's RBAC.

Per environment, as Flux would do it on a cluster: render the chart with the example's HelmRelease values
and apply it (ServiceAccount, Roles, bindings, Services...), put the example cluster's key in place (on a
real cluster: restored from backup), start the real `sealkit controller` with the Deployment's own args as
the chart's service account (a bound token, RBAC enforced by the emulator), apply everything
`kubectl kustomize` builds from clusters/<env>/apps and clusters/<env>/secrets, then check that every
SealedSecret became the expected Secret with Synced and Ready True at its current generation, and that the
controller never needed a permission the chart does not grant.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from charttools import (
    CHART,
    ENVIRONMENTS,
    EXAMPLE,
    EXAMPLE_CERTS,
    EXAMPLE_KEYS,
    Render,
    by_kind,
    example_plaintext,
    http_get,
    kustomize,
    local_listen_args,
    run_helm,
)

from sealkit.keys import KeyRing, load_certificate, load_private_keys
from sealkit.sealing import seal_secret
from sealkit.unsealing import unseal
from sealkit_testservers.kube import KubeServer

SS = "bitnami.com/v1alpha1"
CONTROLLER_TOKEN = "e2e-controller-token"
# A stand-in for the Secrets Store CSI driver's CRD: the e2e only needs the API to store the objects.
SPC_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "secretproviderclasses.secrets-store.csi.x-k8s.io"},
    "spec": {
        "group": "secrets-store.csi.x-k8s.io",
        "names": {
            "kind": "SecretProviderClass",
            "plural": "secretproviderclasses",
            "singular": "secretproviderclass",
            "listKind": "SecretProviderClassList",
        },
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
# Objects the emulator has no API for; a cluster would need the Prometheus Operator for them.
NOT_SERVED = {"ServiceMonitor"}


@dataclass
class Release:
    name: str
    namespace: str
    values: dict[str, Any]
    objects: list[dict[str, Any]]

    @property
    def deployment(self) -> dict[str, Any]:
        (deployment,) = by_kind(self.objects, "Deployment")
        return deployment

    @property
    def service_account(self) -> str:
        return str(self.deployment["spec"]["template"]["spec"]["serviceAccountName"])

    @property
    def args(self) -> list[str]:
        return list(self.deployment["spec"]["template"]["spec"]["containers"][0]["args"])


def example_release(env: str, render: Render, override: dict[str, Any] | None = None) -> Release:
    """The chart as the example's HelmRelease installs it (values from clusters/<env>/infrastructure)."""
    (helm_release,) = by_kind(kustomize(EXAMPLE / "clusters" / env / "infrastructure"), "HelmRelease")
    spec = helm_release["spec"]
    values = merge(spec["values"], override or {})
    objects = render(values, release=spec["releaseName"], namespace=spec["targetNamespace"])
    return Release(spec["releaseName"], spec["targetNamespace"], values, objects)


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def apply(kube: KubeServer, objects: list[dict[str, Any]]) -> None:
    """Create in the order Flux/kubectl would: CRDs and namespaces first."""
    first = [o for o in objects if o["kind"] in ("CustomResourceDefinition", "Namespace")]
    for obj in [*first, *[o for o in objects if o not in first]]:
        if obj["kind"] in NOT_SERVED:
            continue
        if obj["kind"] == "CustomResourceDefinition":
            kube.load_crd(obj)
        elif obj["kind"] == "Namespace":
            if kube.get("v1", "Namespace", obj["metadata"]["name"]) is None:
                kube.create(obj)
        else:
            namespace = None if obj["kind"] in CLUSTER_SCOPED else obj["metadata"].get("namespace")
            kube.create(obj, namespace=namespace)


def key_secret(namespace: str, env: str) -> dict[str, Any]:
    """The environment's sealing key as the controller stores keys (restored from a backup)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {
            "name": "sealed-secrets-keyexmpl",
            "namespace": namespace,
            "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"},
        },
        "data": {
            "tls.crt": base64.b64encode(EXAMPLE_CERTS[env].read_bytes()).decode(),
            "tls.key": base64.b64encode(EXAMPLE_KEYS[env].read_bytes()).decode(),
        },
    }


@pytest.fixture
def controller_process(tmp_path: Path) -> Iterator[list[Any]]:
    """Started processes are stopped (SIGTERM, then kill) when the test ends."""
    started: list[Any] = []
    yield started
    for proc, _log in started:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_controller(
    kube: KubeServer, release: Release, tmp_path: Path, started: list[Any], *, healthy: bool = True
) -> tuple[subprocess.Popen[bytes], Path]:
    """`sealkit controller` with the Deployment's args, as its service account, in its namespace."""
    kube.add_token(CONTROLLER_TOKEN, release.namespace, release.service_account)
    kubeconfig = kube.write_kubeconfig(tmp_path / "controller-kubeconfig", token=CONTROLLER_TOKEN)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEALED_SECRETS_", "KUBECONFIG"))}
    env.update(POD_NAMESPACE=release.namespace, POD_NAME=f"{release.name}-e2e")
    sealkit = Path(sys.executable).with_name("sealkit")
    log = tmp_path / "controller.log"
    # The chart's args, then local ports for the two HTTP servers (here, not in a pod: nothing may bind
    # 0.0.0.0:8080); the Service's "http" port is backed by the controller's HTTP API.
    listen, api, _metrics = local_listen_args()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(sealkit), "controller", *release.args, "--kubeconfig", str(kubeconfig), *listen],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    started.append((proc, log))
    kube.register_service_backend(release.namespace, release.name, "http", api)
    if healthy:
        assert http_get(f"{api}/healthz") == b"ok"  # what the Deployment's probes ask
    return proc, log


def expected_secrets(env: str, sealed: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, str]]:
    """Known plaintext for clusters/<env>/secrets; anything else (e.g. the CSI credentials) opened offline."""
    expected = dict(example_plaintext(env))
    keys = KeyRing(load_private_keys(EXAMPLE_KEYS[env].read_bytes()))
    for obj in sealed:
        where = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if where not in expected:
            data = unseal(obj, keys).secret.get("data") or {}
            expected[where] = {k: base64.b64decode(v).decode() for k, v in data.items()}
    return expected


def converged(kube: KubeServer, namespace: str, name: str, want: dict[str, str]) -> dict[str, Any] | None:
    """The SealedSecret once its Secret holds `want` and its status says so for the current generation."""
    sealed = kube.get(SS, "SealedSecret", name, namespace)
    secret = kube.get("v1", "Secret", name, namespace)
    if sealed is None or secret is None:
        return None
    data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    status = sealed.get("status") or {}
    conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
    ok = (
        data == want
        and conditions.get("Synced") == "True"
        and conditions.get("Ready") == "True"
        and status.get("observedGeneration") == sealed["metadata"]["generation"]
    )
    return sealed if ok else None


def deploy_example(
    env: str, release: Release, kube: KubeServer, tmp_path: Path, started: list[Any], *, healthy: bool = True
) -> tuple[subprocess.Popen[bytes], Path, dict[tuple[str, str], dict[str, str]]]:
    """Chart objects, the key, the controller, then what Flux applies from clusters/<env>/{apps,secrets}.

    The apps' namespaces come first: with namespaced RBAC the chart puts Roles in them.
    """
    apps = kustomize(EXAMPLE / "clusters" / env / "apps")
    secrets = kustomize(EXAMPLE / "clusters" / env / "secrets")
    apply(kube, by_kind(apps, "Namespace"))
    apply(kube, release.objects)
    kube.create(key_secret(release.namespace, env))
    proc, log = start_controller(kube, release, tmp_path, started, healthy=healthy)
    kube.load_crd(SPC_CRD)
    apply(kube, apps)
    apply(kube, secrets)
    sealed = [o for o in [*apps, *secrets] if o["kind"] == "SealedSecret"]
    expected = expected_secrets(env, sealed)
    assert len(expected) == len(sealed) >= 3
    return proc, log, expected


def wait_converged(kube: KubeServer, expected: dict[tuple[str, str], dict[str, str]], log: Path) -> None:
    for (namespace, name), want in expected.items():
        try:
            kube.wait_for(lambda k, ns=namespace, n=name, w=want: converged(k, ns, n, w), timeout=30)
        except TimeoutError:
            pytest.fail(f"{namespace}/{name} did not converge; controller log:\n{log.read_text()[-4000:]}")


def assert_no_provenance_on_secrets(kube: KubeServer, expected: dict[tuple[str, str], dict[str, str]]) -> None:
    """The SealedSecrets carry sealkit's provenance annotations; the controller leaves them off the Secrets
    (it builds them from spec.template, as Bitnami's does)."""
    for namespace, name in expected:
        sealed = kube.get(SS, "SealedSecret", name, namespace)
        assert sealed is not None and "sealkit.io/certificate-sha256" in sealed["metadata"]["annotations"]
        secret = kube.get("v1", "Secret", name, namespace)
        assert secret is not None
        annotations = secret["metadata"].get("annotations") or {}
        assert not {"sealkit.io/certificate-sha256", "sealkit.io/environment"} & set(annotations), annotations


def reseal_partner_token(kube: KubeServer, token: str, env: str) -> dict[str, Any]:
    """A change in Git (a re-sealed value): the Secret follows, and the status the new generation."""
    cert = load_certificate(EXAMPLE_CERTS[env].read_bytes(), str(EXAMPLE_CERTS[env]))
    resealed = seal_secret(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "orders-partner-api", "namespace": "shop"},
            "stringData": {"token": token},
        },
        cert,
    )
    kube.patch(
        SS, "SealedSecret", "orders-partner-api", {"spec": {"encryptedData": resealed["spec"]["encryptedData"]}}, "shop"
    )
    updated: dict[str, Any] = kube.wait_for(
        lambda k: converged(k, "shop", "orders-partner-api", {"token": token}), timeout=30
    )
    assert updated["metadata"]["generation"] == 2
    assert updated["status"]["observedGeneration"] == 2
    return updated


def cert_as_a_user(kube: KubeServer, release: Release, tmp_path: Path) -> str:
    """A developer runs the `sealkit cert` line NOTES.txt prints: through the API server's service proxy
    to the running controller, allowed only by the chart's service-proxier Role."""
    out = run_helm(
        helm_binary(), "install", release.name, str(CHART), "--namespace", release.namespace, "--dry-run=client"
    ).stdout
    (line,) = re.findall(r"^\s*(sealkit cert\b.*?)\s*>\s*cert\.pem\s*$", out.split("NOTES:", 1)[1], re.M)
    kube.add_user_token("developer-token", "developer")
    kubeconfig = kube.write_kubeconfig(tmp_path / "developer-kubeconfig", token="developer-token")
    sealkit = Path(sys.executable).with_name("sealkit")
    result = subprocess.run(
        [str(sealkit), *shlex.split(line)[1:], "--fingerprint"],
        env={"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert kube.denied == []
    return result.stdout.strip()


def newest_key_fingerprint(kube: KubeServer, namespace: str, env: str) -> str:
    """The newest sealing key's fingerprint. The example key's certificate is from 2026-01-01, so with the
    default 720h renewal the controller may already have made a newer one: that is the one users get."""
    from cryptography import x509

    keys = kube.list("v1", "Secret", namespace, label_selector="sealedsecrets.bitnami.com/sealed-secrets-key")
    pems = [base64.b64decode(k["data"]["tls.crt"]) for k in keys]
    assert EXAMPLE_CERTS[env].read_bytes().strip() in [p.strip() for p in pems]
    newest = max(pems, key=lambda pem: x509.load_pem_x509_certificate(pem).not_valid_before_utc)
    return load_certificate(newest, "newest key").fingerprint


def helm_binary() -> str:
    from charttools import find_helm

    found = find_helm()
    assert found, "helm not found: run `bash scripts/install-helm.sh`"
    return found


def assert_clean_run(kube: KubeServer, proc: subprocess.Popen[bytes], log: Path, *secrets: str) -> None:
    assert proc.poll() is None, log.read_text()
    denied = [f"{r.verb} {r.path}" for r in kube.denied]
    assert denied == [], f"the chart's RBAC refused the controller: {denied}"
    # The controller really ran as the service account, so RBAC applied to every request it made.
    users = {r.user for r in kube.request_log if r.path.startswith("/apis/bitnami.com/")}
    assert users == {"system:serviceaccount:kube-system:sealed-secrets-controller"}, users
    text = log.read_text()
    assert "PRIVATE KEY" not in text
    for secret in secrets:
        assert secret not in text


@pytest.mark.slow
@pytest.mark.kube_emulator(rbac=True)
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_example_converges_under_the_charts_rbac(
    env: str, kube: KubeServer, render: Render, tmp_path: Path, controller_process: list[Any]
) -> None:
    release = example_release(env, render)
    assert by_kind(release.objects, "ClusterRole")
    proc, log, expected = deploy_example(env, release, kube, tmp_path, controller_process)
    wait_converged(kube, expected, log)
    assert_no_provenance_on_secrets(kube, expected)
    reseal_partner_token(kube, f"{env}-rotated-token", env)
    assert_clean_run(kube, proc, log, f"{env}-rotated-token")
    assert cert_as_a_user(kube, release, tmp_path) == newest_key_fingerprint(kube, release.namespace, env)


@pytest.mark.slow
@pytest.mark.kube_emulator(rbac=True)
def test_example_converges_with_namespaced_rbac(
    kube: KubeServer, render: Render, tmp_path: Path, controller_process: list[Any]
) -> None:
    """allNamespaces: false: Roles in kube-system, shop and payments only, nothing cluster-wide."""
    override = {"controller": {"allNamespaces": False, "additionalNamespaces": ["shop", "payments"]}}
    release = example_release("dev", render, override)
    assert not by_kind(release.objects, "ClusterRole") and not by_kind(release.objects, "ClusterRoleBinding")
    proc, log, expected = deploy_example("dev", release, kube, tmp_path, controller_process)
    wait_converged(kube, expected, log)
    reseal_partner_token(kube, "dev-rotated-token", "dev")
    assert_clean_run(kube, proc, log, "dev-rotated-token")
    assert cert_as_a_user(kube, release, tmp_path) == newest_key_fingerprint(kube, release.namespace, "dev")


# Each ClusterRole rule, and how a request it covers looks.
UNSEALER_RULES = {
    "sealedsecrets": lambda path: "/sealedsecrets" in path and not path.endswith("/status"),
    "sealedsecrets/status": lambda path: "/sealedsecrets/" in path and path.endswith("/status"),
    "secrets": lambda path: "/secrets" in path,
    "events": lambda path: "/events" in path,
}


@pytest.mark.slow
@pytest.mark.kube_emulator(rbac=True)
@pytest.mark.parametrize("resource", sorted(UNSEALER_RULES))
def test_every_unsealer_rule_is_needed(
    resource: str, kube: KubeServer, render: Render, tmp_path: Path, controller_process: list[Any]
) -> None:
    """Least privilege, the other way round: without any one of the ClusterRole's rules, something is refused."""
    release = example_release("dev", render, {"controller": {"keyRenewPeriod": "0"}})  # no key generation
    (role,) = by_kind(release.objects, "ClusterRole")
    role["rules"] = [r for r in role["rules"] if r["resources"] != [resource]]
    assert len(role["rules"]) == len(UNSEALER_RULES) - 1
    if resource == "secrets":
        # Keep the key Role from covering for the removed rule in the controller's own namespace.
        (key_role,) = [r for r in by_kind(release.objects, "Role") if r["metadata"]["name"].endswith("-key-admin")]
        key_role["rules"] = []
    _proc, log, _expected = deploy_example("dev", release, kube, tmp_path, controller_process, healthy=False)
    try:
        kube.wait_for(lambda k: [r for r in k.denied if UNSEALER_RULES[resource](r.path)], timeout=30)
    except TimeoutError:
        pytest.fail(f"nothing needed the {resource} rule; controller log:\n{log.read_text()[-3000:]}")
