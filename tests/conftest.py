"""Suite-wide fixtures: the local test servers' plugins and the shared test data."""

from __future__ import annotations

import datetime as dt
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sealkit.keygen import build_certificate

pytest_plugins = [
    "sealkit_testservers.kube.pytest_plugin",
    "sealkit_testservers.keyvault.pytest_plugin",
    "sealkit_testservers.vault.pytest_plugin",
]

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def signal_mask_kept() -> Iterator[None]:
    """No test leaves signals blocked in this process: every child process a later test starts (a controller
    told to stop with SIGTERM) would inherit the block. Put back, and the test that left it fails."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    yield
    after = signal.pthread_sigmask(signal.SIG_SETMASK, before)
    assert after == before, f"the test left signals blocked: {sorted(s.name for s in set(after) - set(before))}"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    """The Go-made Sealed Secrets vectors (see tests/data/README.md)."""
    loaded: dict[str, Any] = json.loads((DATA / "sealed-secrets-hybrid.json").read_text())
    return loaded


@pytest.fixture(scope="session")
def key_files(tmp_path_factory: pytest.TempPathFactory, vectors: dict[str, Any]) -> list[tuple[Path, Path]]:
    """(private key PEM, certificate PEM) files of the vectors' three keys (4096, 4096, 2048 bits)."""
    folder = tmp_path_factory.mktemp("keys")
    out = []
    for i, key in enumerate(vectors["keys"]):
        private, cert = folder / f"key{i}.pem", folder / f"cert{i}.pem"
        private.write_text(key["private_pem"])
        cert.write_text(key["cert_pem"])
        out.append((private, cert))
    return out


def make_certificate(
    key: rsa.RSAPrivateKey,
    *,
    not_before: dt.datetime | None = None,
    days: int = 3650,
    common_name: str = "sealed-secret",
) -> bytes:
    """A self-signed certificate for `key` (PEM), for tests that need unusual validity dates."""
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    cert = build_certificate(key, subject=common_name, not_before=start, not_after=start + dt.timedelta(days=days))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def small_key() -> rsa.RSAPrivateKey:
    """A 2048-bit key made once per run (4096-bit generation is too slow to repeat)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def certificate_factory() -> Any:
    """`make_certificate` for tests in other folders (conftest modules are not importable)."""
    return make_certificate


def vector_sealed_secret(case: dict[str, Any]) -> dict[str, Any]:
    """A SealedSecret named as a vector case is to be unsealed, holding the case's ciphertext."""
    from sealkit.scope import Scope, scope_annotations

    metadata: dict[str, Any] = {"name": case["unseal_name"], "namespace": case["unseal_namespace"]}
    if annotations := scope_annotations(Scope(case["scope"])):
        metadata["annotations"] = annotations
    return {
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": metadata,
        "spec": {"encryptedData": {case["item"]: case["ciphertext_b64"]}},
    }


@pytest.fixture(scope="session")
def vector_document() -> Any:
    """`vector_sealed_secret` for tests in other folders (conftest modules are not importable)."""
    return vector_sealed_secret
