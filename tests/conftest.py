"""Suite-wide fixtures: the local test servers' plugins and the shared test data."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "sealkit_testservers.kube.pytest_plugin",
    "sealkit_testservers.keyvault.pytest_plugin",
]

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
