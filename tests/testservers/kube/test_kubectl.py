"""The real kubectl against the standalone emulator, as against a cluster (issue #21: a local cluster by hand).

kubectl sends protobuf for `create namespace|secret|configmap|serviceaccount`, asks OpenAPI v3 whether
the server validates fields (then sends `fieldValidation=Strict`), computes client-side apply patches
(strategic merge for builtins, merge patch for custom resources) and prints the server's Tables.
"""

from __future__ import annotations

import base64
import os
import pathlib
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from sealkit_testservers.kube import KubeProcess
from tests.support.binaries import tool

MANIFEST = """\
apiVersion: v1
kind: Secret
metadata:
  name: app
  namespace: x
stringData:
  password: {password}
---
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: app
  namespace: x
spec:
  encryptedData:
    password: {sealed}
"""


class Kubectl:
    def __init__(self, binary: str, kubeconfig: pathlib.Path, cache: pathlib.Path) -> None:
        self.binary, self.cache = binary, cache
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig)}

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.binary, "--cache-dir", str(self.cache), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            check=False,
        )
        if ok and result.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    from sealkit.data import crd_path

    folder = tmp_path_factory.mktemp("kubectl")
    with KubeProcess(folder / "kubeconfig", crds=[crd_path("bitnami.com_sealedsecrets.yaml")]) as process:
        yield Kubectl(tool("kubectl"), process.kubeconfig, folder / "cache")


def _header(output: str) -> list[str]:
    return output.splitlines()[0].split()


def test_create_namespace_and_generated_objects(kubectl: Kubectl) -> None:
    assert kubectl("create", "namespace", "x").stdout.strip() == "namespace/x created"
    kubectl("create", "secret", "generic", "s", "-n", "x", "--from-literal=a=b", "--type=Opaque")
    kubectl("create", "configmap", "c", "-n", "x", "--from-literal=k=v")
    kubectl("create", "serviceaccount", "robot", "-n", "x")
    kubectl("label", "secret", "s", "-n", "x", "team=blue")
    secret = yaml.safe_load(kubectl("get", "secret", "-n", "x", "s", "-o", "yaml").stdout)
    assert secret["data"] == {"a": base64.b64encode(b"b").decode()} and secret["metadata"]["labels"] == {"team": "blue"}
    assert yaml.safe_load(kubectl("get", "configmap", "c", "-n", "x", "-o", "yaml").stdout)["data"] == {"k": "v"}
    listed = kubectl("get", "secrets", "-n", "x").stdout
    assert _header(listed) == ["NAME", "TYPE", "DATA", "AGE"] and "s      Opaque   1" in listed
    assert _header(kubectl("get", "namespaces").stdout) == ["NAME", "STATUS", "AGE"]
    assert "x  " in kubectl("get", "namespaces").stdout
    duplicate = kubectl("create", "namespace", "x", ok=False)
    assert duplicate.returncode == 1 and 'namespaces "x" already exists' in duplicate.stderr


def test_apply_get_and_delete(kubectl: Kubectl, tmp_path: pathlib.Path) -> None:
    kubectl("create", "namespace", "ns-y", ok=False)
    manifest = tmp_path / "app.yaml"
    manifest.write_text(MANIFEST.format(password="hunter2", sealed="AgBone").replace("namespace: x", "namespace: ns-y"))
    created = kubectl("apply", "-f", str(manifest)).stdout.splitlines()
    assert created == ["secret/app created", "sealedsecret.bitnami.com/app created"]
    again = kubectl("apply", "-f", str(manifest)).stdout.splitlines()
    assert again[1] == "sealedsecret.bitnami.com/app unchanged"
    manifest.write_text(MANIFEST.format(password="hunter3", sealed="AgBtwo").replace("namespace: x", "namespace: ns-y"))
    assert kubectl("apply", "-f", str(manifest)).stdout.splitlines() == [
        "secret/app configured",
        "sealedsecret.bitnami.com/app configured",
    ]
    secret = yaml.safe_load(kubectl("get", "secret", "-n", "ns-y", "app", "-o", "yaml").stdout)
    assert base64.b64decode(secret["data"]["password"]) == b"hunter3"
    assert "kubectl.kubernetes.io/last-applied-configuration" in secret["metadata"]["annotations"]
    sealed = yaml.safe_load(kubectl("get", "sealedsecret", "-n", "ns-y", "app", "-o", "yaml").stdout)
    assert sealed["spec"]["encryptedData"] == {"password": "AgBtwo"}

    table = kubectl("get", "sealedsecrets", "-n", "ns-y").stdout
    assert _header(table) == ["NAME", "STATUS", "SYNCED", "AGE"] and table.splitlines()[1].startswith("app ")
    everywhere = kubectl("get", "sealedsecrets", "-A").stdout
    assert _header(everywhere)[:2] == ["NAMESPACE", "NAME"] and "ns-y        app" in everywhere

    deleted = kubectl("delete", "-f", str(manifest)).stdout.splitlines()
    assert deleted == ['secret "app" deleted', 'sealedsecret.bitnami.com "app" deleted']
    assert "No resources found" in kubectl("get", "sealedsecrets", "-n", "ns-y").stderr
    assert kubectl("delete", "namespace", "ns-y").stdout.strip() == 'namespace "ns-y" deleted'
    gone = kubectl("get", "namespace", "ns-y", ok=False)
    assert gone.returncode == 1 and 'namespaces "ns-y" not found' in gone.stderr


def test_server_side_field_validation_refuses_unknown_fields(kubectl: Kubectl, tmp_path: pathlib.Path) -> None:
    kubectl("create", "namespace", "ns-z", ok=False)
    manifest = tmp_path / "typo.yaml"
    manifest.write_text(
        MANIFEST.split("---\n")[1].replace("namespace: x", "namespace: ns-z").format(sealed="AgB") + "  colour: red\n"
    )
    refused = kubectl("apply", "-f", str(manifest), ok=False)
    assert refused.returncode == 1 and 'strict decoding error: unknown field "spec.colour"' in refused.stderr
    assert kubectl("apply", "--validate=false", "-f", str(manifest)).stdout.strip().endswith("created")
    pruned = yaml.safe_load(kubectl("get", "sealedsecret", "-n", "ns-z", "app", "-o", "yaml").stdout)
    assert "colour" not in pruned["spec"]  # without Strict the server prunes, as a cluster does


def test_unreadable_protobuf_is_415(kube: Any) -> None:
    import urllib3

    http = urllib3.PoolManager()
    headers = {"Content-Type": "application/vnd.kubernetes.protobuf"}
    garbage = http.request("POST", kube.url + "/api/v1/namespaces", body=b"k8s\x00\x0a\x02\xff", headers=headers)
    assert garbage.status == 415 and b"UnsupportedMediaType" in garbage.data
    custom = http.request(
        "POST",
        kube.url + "/apis/bitnami.com/v1alpha1/namespaces/default/sealedsecrets",
        body=b"k8s\x00",
        headers=headers,
    )
    assert custom.status == 415 and b"application/json, application/yaml" in custom.data
