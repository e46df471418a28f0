"""Fixtures for the chart tests: the real helm binary and a renderer around `helm template`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from charttools import CHART, NONDEFAULT_VALUES, Render, find_helm, run_helm


@pytest.fixture(scope="session")
def helm() -> str:
    """The helm binary; a missing one fails (never skips): CI installs it with scripts/install-helm.sh."""
    path = find_helm()
    if path is None:
        pytest.fail("helm not found: run `bash scripts/install-helm.sh` (installs .tools/bin/helm)")
    return path


@pytest.fixture(scope="session")
def render(helm: str, tmp_path_factory: pytest.TempPathFactory) -> Render:
    """render(values=None, values_file=None, release=..., namespace=...) -> the rendered objects, CRDs included."""
    cache: dict[str, list[dict[str, Any]]] = {}
    workdir = tmp_path_factory.mktemp("values")

    def _render(
        values: dict[str, Any] | None = None,
        *,
        values_file: Path | None = None,
        release: str = "sealed-secrets-controller",
        namespace: str = "kube-system",
    ) -> list[dict[str, Any]]:
        key = yaml.safe_dump([values, str(values_file), release, namespace])
        if key not in cache:
            args = ["template", release, str(CHART), "--namespace", namespace, "--include-crds"]
            if values_file is not None:
                args += ["--values", str(values_file)]
            if values is not None:
                path = workdir / f"values-{len(cache)}.yaml"
                path.write_text(yaml.safe_dump(values))
                args += ["--values", str(path)]
            out = run_helm(helm, *args).stdout
            cache[key] = [doc for doc in yaml.safe_load_all(out) if doc]
        return [dict(doc) for doc in yaml.safe_load_all(yaml.safe_dump_all(cache[key]))]

    return _render


@pytest.fixture(scope="session")
def nondefault_values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(NONDEFAULT_VALUES.read_text())
    return loaded
