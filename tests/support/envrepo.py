"""Test support: a config repo whose spec declares environments for sealing, each with its own key.

Used by the environment-sealing tests (tests/cli, tests/sealkit/envs, tests/sealkit/lint): `make_repo`
writes `sealkit-csi.yaml` (environments only, no applications), each environment's certificate under
`certs/`, and returns where everything is plus each environment's private key to open what was sealed.
Not product code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sealkit.keys import KeyRing, SealingCertificate, load_certificate, load_private_keys
from sealkit.unsealing import unseal

SECRET_SUFFIX = ".sealedsecret.yaml"


@dataclass
class EnvRepo:
    root: Path
    spec: Path
    keys: dict[str, KeyRing]
    certs: dict[str, SealingCertificate]

    def dir(self, env: str) -> Path:
        return self.root / "clusters" / env / "secrets"

    def file(self, env: str, namespace: str, name: str) -> Path:
        return self.dir(env) / f"{namespace}.{name}{SECRET_SUFFIX}"

    def opens(self, env: str, obj: Mapping[str, Any]) -> dict[str, bytes]:
        """The items of a SealedSecret opened with `env`'s key (UnsealError when it does not open)."""
        return unseal(obj, self.keys[env]).items

    def write_spec(self, environments: Mapping[str, Mapping[str, Any]]) -> None:
        body = {"apiVersion": "sealkit/v1alpha1", "kind": "KeyVaultCsi", "environments": dict(environments)}
        self.spec.write_text(yaml.safe_dump(body, sort_keys=False))


def environment(env: str, **extra: Any) -> dict[str, Any]:
    """One environment's spec entry: its certificate file and its SealedSecrets directory."""
    return {"sealingCert": f"certs/{env}.pem", "sealedSecrets": f"clusters/{env}/secrets", **extra}


def make_repo(root: Path, pairs: Mapping[str, tuple[str, str]]) -> EnvRepo:
    """`pairs`: environment -> (private key PEM, certificate PEM)."""
    (root / "certs").mkdir(parents=True)
    keys, certs = {}, {}
    for env, (private_pem, cert_pem) in pairs.items():
        (root / "certs" / f"{env}.pem").write_text(cert_pem)
        keys[env] = KeyRing(load_private_keys(private_pem.encode()))
        certs[env] = load_certificate(cert_pem.encode())
    repo = EnvRepo(root, root / "sealkit-csi.yaml", keys, certs)
    repo.write_spec({env: environment(env) for env in pairs})
    return repo


def vector_pairs(vectors: Mapping[str, Any], names: tuple[str, ...] = ("dev", "staging", "prod")) -> dict[str, Any]:
    """The shared vectors' three keys (4096, 4096, 2048 bits) as environments."""
    return {name: (vectors["keys"][i]["private_pem"], vectors["keys"][i]["cert_pem"]) for i, name in enumerate(names)}
