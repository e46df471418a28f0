"""The spec's environments for sealing: certificate sources, SealedSecrets directories, sealing-only specs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sealkit.csi.model import CertSource
from sealkit.csi.spec import SpecError, parse_spec
from sealkit.envs import environment_names


def spec(envs: dict[str, Any], **top: Any) -> str:
    return yaml.safe_dump({"apiVersion": "sealkit/v1alpha1", "kind": "KeyVaultCsi", "environments": envs, **top})


def load(text: str) -> Any:
    return parse_spec(text, Path("repo/sealkit-csi.yaml"), check_bases=False)


def test_sealing_only_spec_with_every_certificate_source() -> None:
    loaded = load(
        spec(
            {
                "dev": {"sealingCert": "certs/dev.pem", "sealedSecrets": "clusters/dev/secrets"},
                "qa": {"sealingCert": "https://qa.example/v1/cert.pem", "sealedSecrets": "clusters/qa/secrets"},
                "prod": {
                    "sealingCert": {
                        "file": "certs/prod.pem",
                        "context": "prod-aks",
                        "controllerName": "sealkit",
                        "controllerNamespace": "sealkit-system",
                        "previous": "certs/prod-previous.pem",
                    },
                    "sealedSecrets": "clusters/prod/secrets",
                },
            }
        )
    )
    assert loaded.applications == {}
    assert loaded.environments["dev"].cert_source == CertSource(file="certs/dev.pem")
    assert loaded.environments["qa"].cert_source == CertSource(url="https://qa.example/v1/cert.pem")
    prod = loaded.environments["prod"]
    assert prod.cert_source == CertSource(
        "certs/prod.pem", None, "prod-aks", "sealkit", "sealkit-system", "certs/prod-previous.pem"
    )
    assert (prod.sealed_secrets, prod.overlay, prod.vault) == ("clusters/prod/secrets", None, None)


@pytest.mark.parametrize(
    ("envs", "problem"),
    [
        ({"dev": {"sealingCert": {}, "sealedSecrets": "s"}}, "name the certificate: file, url or context"),
        ({"dev": {"sealingCert": {"url": "https://x", "context": "c"}}}, "give url or context"),
        ({"dev": {"sealingCert": {"file": "c.pem", "controllerName": "x"}}}, "only used with context"),
        ({"dev": {"sealingCert": {"url": "ftp://x"}}}, "must be an https:// URL, not 'ftp://x'"),
        # In clear text the certificate can be swapped on the way (the spec's URLs are fetched in CI, every run).
        ({"dev": {"sealingCert": {"url": "http://certs.example/dev.pem"}}}, "http:// is only for localhost"),
        ({"dev": {"sealingCert": "http://certs.example/dev.pem", "sealedSecrets": "s"}}, "http:// is only for"),
        ({"dev": {"sealingCert": {"url": "http://u:pw@[::1"}}}, "must be an https:// URL, not '***'"),
        ({"dev": {"sealingCert": "c.pem", "sealedSecrets": "../out"}}, "must be a path inside the config repo"),
        ({"dev": {"sealingCert": {"file": "/etc/c.pem"}}}, "must be a path inside the config repo"),
        ({"dev": {"sealingCert": "c.pem", "sealedSecret": "x"}}, "unknown key"),
        (
            {
                "dev": {"sealingCert": "c.pem", "sealedSecrets": "clusters"},
                "prod": {"sealingCert": "c.pem", "sealedSecrets": "clusters/prod"},
            },
            "'clusters' overlaps environment prod's sealedSecrets 'clusters/prod' (each environment's SealedSecrets",
        ),
        ({"dev": {"sealedSecrets": "s"}}, "sealingCert is required"),
    ],
)
def test_refusals(envs: dict[str, Any], problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        load(spec(envs))
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_environment_names_for_completion(tmp_path: Path) -> None:
    path = tmp_path / "sealkit-csi.yaml"
    path.write_text(spec({"prod": {"sealingCert": "c"}, "dev": {"sealingCert": "c"}}))
    assert environment_names(path) == ["dev", "prod"]
    assert environment_names(tmp_path / "missing.yaml") == []
    path.write_text("{not yaml")
    assert environment_names(path) == []
