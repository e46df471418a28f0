"""The example config repo: committed output is current, every kustomization builds, wiring is right."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.csi import generate, rules
from sealkit.csi.spec import load_spec
from sealkit.keys import KeyRing, load_private_keys
from sealkit.unsealing import unseal

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
KUBECTL = shutil.which("kubectl")


def build(directory: Path) -> list[dict[str, Any]]:
    assert KUBECTL, "kubectl is required for the kustomize tests (.ci/run installs it)"
    out = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, f"{directory}: {out.stderr}"
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def pod(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    result: dict[str, Any] = spec["template"]["spec"]
    return result


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in pod(workload)["containers"] if c["name"] == name)


def test_committed_output_is_up_to_date(example_dir: Path) -> None:
    result = generate.check(generate.plan(load_spec(example_dir / "sealkit-csi.yaml")))
    assert result.ok, "\n".join([*result.diffs, *result.stale, *result.credential_problems])


KUSTOMIZATIONS = sorted(p.parent for p in EXAMPLES.rglob("kustomization.yaml"))


@pytest.mark.parametrize("directory", KUSTOMIZATIONS, ids=[str(p.relative_to(EXAMPLES)) for p in KUSTOMIZATIONS])
def test_every_kustomization_builds(directory: Path) -> None:
    assert build(directory)


def test_example_covers_all_identity_modes(example_dir: Path) -> None:
    spec = load_spec(example_dir / "sealkit-csi.yaml")
    modes = {app.identity_for(env).mode for app in spec.applications.values() for env in spec.environments.values()}
    assert {m.value for m in modes} == {"workloadIdentity", "vmManagedIdentity", "servicePrincipal"}


def test_dev_workloads(example_dir: Path) -> None:
    dev = build(example_dir / "clusters/dev/apps")
    api = find(dev, "Deployment", "orders-api")
    assert pod(api)["serviceAccountName"] == "orders-api"
    assert pod(api)["volumes"] == [
        {
            "name": "secrets-store-inline",
            "csi": {
                "driver": "secrets-store.csi.k8s.io",
                "readOnly": True,
                "volumeAttributes": {"secretProviderClass": "orders"},
            },
        }
    ]
    assert container(api, "api")["volumeMounts"] == [
        {"name": "secrets-store-inline", "mountPath": "/mnt/secrets", "readOnly": True}
    ]
    assert {
        "name": "DB_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "orders-db", "key": "password"}},
    } in container(api, "api")["env"]
    assert "volumeMounts" not in container(api, "metrics")
    report = find(dev, "CronJob", "orders-report")
    assert pod(report)["serviceAccountName"] == "orders-api"
    assert container(report, "report")["volumeMounts"][0]["mountPath"] == "/mnt/secrets-store"
    ledger = find(dev, "StatefulSet", "payments-ledger")
    assert pod(ledger)["serviceAccountName"] == "payments"
    assert [e["name"] for e in container(ledger, "ledger")["env"]] == ["PSP_API_KEY", "LEDGER_DB_URL"]
    assert find(dev, "ServiceAccount", "orders-api")["metadata"]["annotations"]["azure.workload.identity/client-id"]
    assert find(dev, "ServiceAccount", "payments")["metadata"]["annotations"]["azure.workload.identity/client-id"]
    assert find(dev, "SecretProviderClass", "orders")["spec"]["parameters"]["clientID"]


def test_prod_workloads(example_dir: Path) -> None:
    prod = build(example_dir / "clusters/prod/apps")
    api = find(prod, "Deployment", "orders-api")
    assert "serviceAccountName" not in pod(api)
    assert find(prod, "SecretProviderClass", "orders")["spec"]["parameters"]["useVMManagedIdentity"] == "true"
    payments = find(prod, "SecretProviderClass", "payments")["spec"]["parameters"]
    assert payments["keyvaultName"] == "sealkit-prod-pay"
    assert not {"clientID", "useVMManagedIdentity"} & payments.keys()
    for kind, name in (
        ("StatefulSet", "payments-ledger"),
        ("DaemonSet", "payments-agent"),
        ("Job", "payments-migrate"),
    ):
        volume = pod(find(prod, kind, name))["volumes"][0]
        assert volume["csi"]["nodePublishSecretRef"] == {"name": "secrets-store-creds"}, name
    agent = find(prod, "DaemonSet", "payments-agent")
    assert container(agent, "agent")["volumeMounts"][0]["mountPath"] == "/var/run/secrets/payments"
    assert find(prod, "SealedSecret", "secrets-store-creds")["metadata"]["namespace"] == "payments"


def test_built_classes_and_workloads_pass_the_rules(example_dir: Path) -> None:
    for env in ("dev", "prod"):
        objects = build(example_dir / f"clusters/{env}/apps")
        classes = [(o["metadata"]["name"], o) for o in objects if o["kind"] == "SecretProviderClass"]
        assert classes
        assert all(rules.spc_problems(spc) == [] for _, spc in classes)
        assert rules.duplicate_sync_problems(classes) == []
        assert rules.unmounted_sync_problems(classes, objects) == []
        assert all(rules.csi_volume_problems(o) == [] for o in objects)


def test_example_credentials_open_with_the_test_key(example_dir: Path, data_dir: Path) -> None:
    keys = KeyRing(load_private_keys((data_dir / "example-prod-key.pem").read_bytes()))  # prod's own key
    path = example_dir / "clusters/prod/apps/credentials/payments.secrets-store-creds.sealedsecret.yaml"
    secret = unseal(yaml.safe_load(path.read_text()), keys).secret
    assert secret["metadata"]["labels"] == {"secrets-store.csi.k8s.io/used": "true"}
    assert secret["metadata"]["namespace"] == "payments"
    assert sorted(secret["data"]) == ["clientid", "clientsecret"]
    assert base64.b64decode(secret["data"]["clientid"]).decode() == "0a1b2c3d-0000-4000-8000-00000000a001"


def test_no_private_key_in_the_example() -> None:
    for path in EXAMPLES.rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path
