"""A small config repo (one app base) and a valid spec for it, for tests to break one field at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

BASE_FILES = {
    "kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: team
resources: [deployment.yaml, cronjob.yaml, serviceaccount.yaml]
""",
    "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: app, image: example/web:1, env: [{name: LOG_LEVEL, value: info}]}
        - {name: proxy, image: example/proxy:1}
""",
    "cronjob.yaml": """\
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: job, image: example/job:1}]
""",
    "serviceaccount.yaml": """\
apiVersion: v1
kind: ServiceAccount
metadata: {name: web-existing}
""",
}

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
VM_ID = "99999999-8888-4777-8666-555555555555"
VERSION = "0123456789abcdef0123456789abcdef"


def valid_spec() -> dict[str, Any]:
    """Two environments (workload identity, VM identity), one app with sync and env wiring."""
    return {
        "apiVersion": "sealkit/v1alpha1",
        "kind": "KeyVaultCsi",
        "environments": {
            "dev": {
                "vault": "web-dev-kv",
                "tenant": TENANT,
                "overlay": "clusters/dev/apps",
                "sealingCert": "cert.pem",
                "identity": {"workloadIdentity": {"clientID": CLIENT_ID}},
            },
            "prod": {
                "vault": "web-prod-kv",
                "tenant": TENANT,
                "cloud": "AzurePublicCloud",
                "overlay": "clusters/prod/apps",
                "sealingCert": "cert.pem",
                "identity": {"vmManagedIdentity": {"userAssignedIdentityID": VM_ID}},
            },
        },
        "applications": {
            "web": {
                "namespace": "team",
                "base": "apps/web/base",
                "serviceAccount": {"name": "web", "create": True},
                "objects": [
                    {"name": "db-password", "alias": "db.txt", "version": {"prod": VERSION}},
                    {"name": "tls-cert", "type": "secret", "format": "pem"},
                    {"name": "signing", "type": "key", "versionHistory": 2},
                ],
                "sync": [
                    {"secretName": "web-db", "data": [{"key": "password", "objectName": "db.txt"}]},
                    {
                        "secretName": "web-tls",
                        "type": "kubernetes.io/tls",
                        "data": [
                            {"key": "tls.crt", "objectName": "tls-cert"},
                            {"key": "tls.key", "objectName": "tls-cert"},
                        ],
                    },
                ],
                "workloads": [
                    {
                        "kind": "Deployment",
                        "name": "web",
                        "containers": ["app"],
                        "env": [{"name": "DB_PASSWORD", "secretName": "web-db", "key": "password"}],
                    },
                    {"kind": "CronJob", "name": "nightly", "mountPath": "/secrets"},
                ],
            }
        },
    }


def write_repo(root: Path, spec: dict[str, Any]) -> Path:
    base = root / "apps" / "web" / "base"
    base.mkdir(parents=True, exist_ok=True)
    for name, text in BASE_FILES.items():
        (base / name).write_text(text)
    path = root / "sealkit-csi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture
def spec_dict() -> dict[str, Any]:
    return copy.deepcopy(valid_spec())


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    """Write the base and `spec` into a fresh repo; returns the spec path."""
    counter = iter(range(1000))

    def make(spec: dict[str, Any]) -> Path:
        return write_repo(tmp_path / f"repo{next(counter)}", spec)

    return make


@pytest.fixture
def example_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "examples" / "gitops"
