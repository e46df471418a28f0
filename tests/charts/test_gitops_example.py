"""The Flux parts of examples/gitops: they build, validate, and install the chart the way the tests render it."""

from __future__ import annotations

import base64
import json
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from charttools import (
    CHART,
    ENVIRONMENTS,
    EXAMPLE,
    EXAMPLE_KEYS,
    Render,
    by_kind,
    example_plaintext,
    kustomize,
)

from sealkit.keys import KeyRing, load_private_keys
from sealkit.unsealing import unseal

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
CRD = yaml.safe_load((CHART / "crds" / "bitnami.com_sealedsecrets.yaml").read_text())
SEALED_SECRET_SCHEMA = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
FLUX_KINDS = {
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
    ("source.toolkit.fluxcd.io/v1", "HelmRepository"),
}


def helm_release(env: str) -> dict[str, Any]:
    (release,) = by_kind(kustomize(EXAMPLE / "clusters" / env / "infrastructure"), "HelmRelease")
    return release


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_flux_sync_order_and_paths(env: str) -> None:
    """clusters/<env>/flux: infrastructure -> apps -> secrets, each path an existing kustomization."""
    objects = kustomize(EXAMPLE / "clusters" / env / "flux")
    assert {(o["apiVersion"], o["kind"]) for o in objects} == {("kustomize.toolkit.fluxcd.io/v1", "Kustomization")}
    syncs = {o["metadata"]["name"]: o["spec"] for o in objects}
    assert set(syncs) == {"infrastructure", "apps", "secrets"}
    assert "dependsOn" not in syncs["infrastructure"]
    assert syncs["apps"]["dependsOn"] == [{"name": "infrastructure"}]
    assert syncs["secrets"]["dependsOn"] == [{"name": "infrastructure"}, {"name": "apps"}]
    assert syncs["secrets"]["wait"] is True  # Flux waits for each SealedSecret's Ready condition
    for spec in syncs.values():
        assert spec["sourceRef"] == {"kind": "GitRepository", "name": "flux-system"}
        assert spec["prune"] is True
        path = EXAMPLE / spec["path"]
        assert path.parent == EXAMPLE / "clusters" / env
        assert (path / "kustomization.yaml").is_file()
        assert kustomize(path)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_helm_release_installs_the_chart_with_valid_values(env: str, render: Render) -> None:
    objects = kustomize(EXAMPLE / "clusters" / env / "infrastructure")
    assert {(o["apiVersion"], o["kind"]) for o in objects} <= FLUX_KINDS
    (repository,) = by_kind(objects, "HelmRepository")
    release = helm_release(env)
    spec = release["spec"]
    assert spec["chart"]["spec"]["chart"] == yaml.safe_load((CHART / "Chart.yaml").read_text())["name"]
    assert spec["chart"]["spec"]["sourceRef"] == {"kind": "HelmRepository", "name": repository["metadata"]["name"]}
    assert repository["metadata"]["namespace"] == release["metadata"]["namespace"]
    assert repository["spec"]["url"].startswith("oci://")
    # The CRD lives in the chart's crds/: Flux must be told to create it and keep it current.
    assert spec["install"]["crds"] == "Create"
    assert spec["upgrade"]["crds"] == "CreateReplace"
    assert list(jsonschema.Draft7Validator(SCHEMA).iter_errors(spec["values"])) == []
    # kubeseal's and `sealkit cert`'s defaults find this release without flags.
    assert (spec["releaseName"], spec["targetNamespace"]) == ("sealed-secrets-controller", "kube-system")
    rendered = render(spec["values"], release=spec["releaseName"], namespace=spec["targetNamespace"])
    services = {s["metadata"]["name"] for s in by_kind(rendered, "Service")}
    assert "sealed-secrets-controller" in services
    if env == "prod":
        assert {"NetworkPolicy", "PodDisruptionBudget", "ServiceMonitor"} <= {o["kind"] for o in rendered}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_sealed_secrets_validate_and_open_with_the_example_key(env: str) -> None:
    objects = kustomize(EXAMPLE / "clusters" / env / "secrets")
    keys = KeyRing(load_private_keys(EXAMPLE_KEYS[env].read_bytes()))
    expected = example_plaintext(env)
    found = {}
    for obj in objects:
        assert obj["kind"] == "SealedSecret"
        jsonschema.Draft7Validator(SEALED_SECRET_SCHEMA).validate(obj)
        secret = unseal(obj, keys).secret
        kubernetes_validate.validate(secret, "1.37.0", strict=True)
        found[(secret["metadata"]["namespace"], secret["metadata"]["name"])] = {
            k: base64.b64decode(v).decode() for k, v in secret["data"].items()
        }
    assert found == expected


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_plaintext_in_the_example(env: str) -> None:
    values = [v for items in example_plaintext(env).values() for v in items.values()]
    for path in EXAMPLE.rglob("*.yaml"):
        text = path.read_text()
        for value in values:
            assert value not in text, f"{path.relative_to(EXAMPLE)} holds a plaintext value"


def test_each_flux_sealed_secret_file_is_listed() -> None:
    """A new `*.sealedsecret.yaml` must be added to its kustomization, or Flux never applies it."""
    for env in ENVIRONMENTS:
        directory = EXAMPLE / "clusters" / env / "secrets"
        listed = yaml.safe_load((directory / "kustomization.yaml").read_text())["resources"]
        assert sorted(listed) == sorted(p.name for p in directory.glob("*.sealedsecret.yaml"))


def test_readme_walkthrough_commands_point_at_real_paths() -> None:
    readme = (EXAMPLE / "README.md").read_text()
    assert "## Deploying the controller with Flux" in readme
    paths = ("clusters/dev/secrets", "clusters/dev/flux", "infrastructure/sealkit", "clusters/example-cluster-cert.pem")
    for path in paths:
        assert path in readme
        assert (EXAMPLE / path).exists(), path
