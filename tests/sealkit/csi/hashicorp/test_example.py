"""The HashiCorp Vault example repo (examples/vault-csi): three environments, committed output current,
every overlay builds with the real kubectl, and every generated class passes the driver's CRD schema and
the Vault provider's rules (`sealkit.csi.hashicorp.rules`, each rule citing hashicorp/vault-csi-provider)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sealkit.csi import generate, rules
from sealkit.csi.hashicorp import rules as vault_rules
from sealkit.csi.spec import load_spec

ROOT = Path(__file__).resolve().parents[4]
EXAMPLE = ROOT / "examples" / "vault-csi"
CRD = ROOT / "tests" / "data" / "secrets-store-csi-driver" / "secrets-store.csi.x-k8s.io_secretproviderclasses.yaml"
KUBECTL = shutil.which("kubectl")
ENVS = ("dev", "staging", "prod")


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


def crd_schema(version: str) -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    served = {v["name"]: v for v in crd["spec"]["versions"] if v["served"]}
    schema: dict[str, Any] = served[version]["schema"]["openAPIV3Schema"]
    return schema


@pytest.fixture(scope="module")
def built() -> dict[str, list[dict[str, Any]]]:
    return {env: build(EXAMPLE / "clusters" / env / "apps") for env in ENVS}


def test_the_example_has_three_vault_environments() -> None:
    spec = load_spec(EXAMPLE / "sealkit-csi.yaml")
    assert list(spec.environments) == ["dev", "prod", "staging"]
    assert all(env.hashicorp_vault is not None for env in spec.environments.values())


def test_committed_output_is_up_to_date() -> None:
    result = generate.check(generate.plan(load_spec(EXAMPLE / "sealkit-csi.yaml")))
    assert result.ok, "\n".join([*result.diffs, *result.stale])


def test_generate_is_deterministic() -> None:
    spec = load_spec(EXAMPLE / "sealkit-csi.yaml")
    assert generate.plan(spec).files == generate.plan(load_spec(EXAMPLE / "sealkit-csi.yaml")).files


def test_generated_classes_pass_the_crd_schema_and_the_provider_rules(built: dict[str, list[dict[str, Any]]]) -> None:
    """The driver's CRD (v1.6.0) validates the shape; the provider's rules (no problem of any kind,
    warnings included) validate what the `vault` provider reads: roleName, vaultAddress, objects as a
    YAML list in a string, unique objectNames, secretKey on every KV read, KV v2 data/ exactly once."""
    schema = crd_schema("v1")
    classes = [o for env in ENVS for o in built[env] if o["kind"] == "SecretProviderClass"]
    assert len(classes) == 6
    for spc in classes:
        jsonschema.validate(spc, schema)
        assert spc["spec"]["provider"] == "vault"
        assert rules.spc_problems(spc) == [], spc["metadata"]
        problems, files = vault_rules.provider_problems(spc["spec"]["parameters"])
        assert problems == [] and files
        items = yaml.safe_load(spc["spec"]["parameters"]["objects"])
        assert isinstance(items, list) and all(isinstance(i, dict) for i in items)  # a YAML array, in a string
        for item in items:
            path = item["secretPath"]
            if path.startswith("secret/"):
                assert path.count("/data/") == 1 and "/data/data/" not in path, path


def test_a_broken_class_fails_the_crd_schema() -> None:
    """The schema check is real: parameters must be strings (the CRD's additionalProperties)."""
    spc = yaml.safe_load((EXAMPLE / "clusters/dev/apps/orders/secretproviderclass.yaml").read_text())
    spc["spec"]["parameters"]["vaultSkipTLSVerify"] = False
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(spc, crd_schema("v1"))


def test_wiring_in_every_environment(built: dict[str, list[dict[str, Any]]]) -> None:
    """Volume, mounts, env from the synced Secret and the account the Vault role binds, as for Azure."""
    for env in ENVS:
        objects = built[env]
        api = find(objects, "Deployment", "orders-api")
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
        container = next(c for c in pod(api)["containers"] if c["name"] == "api")
        assert container["volumeMounts"] == [
            {"name": "secrets-store-inline", "mountPath": "/mnt/secrets", "readOnly": True}
        ]
        assert [e["valueFrom"]["secretKeyRef"] for e in container["env"]] == [
            {"name": "orders-db", "key": "username"},
            {"name": "orders-db", "key": "password"},
        ]
        metrics = next(c for c in pod(api)["containers"] if c["name"] == "metrics")
        assert "volumeMounts" not in metrics
        report = find(objects, "CronJob", "orders-report")
        assert pod(report)["volumes"][0]["csi"]["volumeAttributes"] == {"secretProviderClass": "orders"}
        ledger = find(objects, "StatefulSet", "billing-ledger")
        assert pod(ledger)["serviceAccountName"] == "billing-ledger"
        assert find(objects, "ServiceAccount", "billing-ledger")["metadata"].get("annotations") is None
        orders = find(objects, "SecretProviderClass", "orders")["spec"]
        assert orders["secretObjects"][0]["secretName"] == "orders-db"
        assert "nodePublishSecretRef" not in pod(api)["volumes"][0]["csi"]


def test_per_environment_settings(built: dict[str, list[dict[str, Any]]]) -> None:
    dev = find(built["dev"], "SecretProviderClass", "orders")["spec"]["parameters"]
    assert dev["vaultAddress"] == "https://vault.dev.example.internal:8200"
    assert dev["vaultKubernetesMountPath"] == "kubernetes-dev"
    assert dev["vaultCACertPath"] == "/vault/ca/ca.crt"
    assert "vaultNamespace" not in dev and "vaultSkipTLSVerify" not in dev
    prod = find(built["prod"], "SecretProviderClass", "orders")["spec"]["parameters"]
    assert (prod["vaultNamespace"], prod["audience"], prod["vaultTLSServerName"]) == (
        "shop/prod",
        "vault",
        "vault.example.com",
    )
    assert "secret/data/orders/partner?version=4" in prod["objects"]
    assert "?version=" not in dev["objects"]
    billing = find(built["prod"], "SecretProviderClass", "billing")["spec"]["parameters"]
    assert (billing["roleName"], billing["vaultNamespace"]) == ("billing-prod", "billing/prod")
    staging = find(built["staging"], "SecretProviderClass", "billing")["spec"]["parameters"]
    assert staging["roleName"] == "billing"
    items = yaml.safe_load(prod["objects"])
    assert items[0]["filePermission"] == 0o440  # an octal integer, as yaml.v3 needs it
    assert {i["secretPath"] for i in items if i["objectName"] == "signing-key.pem"} == {"legacy/orders/signing"}
