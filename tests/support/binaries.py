"""The real command-line tools some tests run (helm, kubectl): the project's own copies in `.tools/bin/`
(installed by `scripts/install-helm.sh`, which the test command runs), else the ones on PATH."""

from __future__ import annotations

import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    """The path of `name`; the test fails, saying how to install it, when there is none."""
    local = ROOT / ".tools" / "bin" / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: run `bash scripts/install-helm.sh` (installs .tools/bin/{name})")
    return found
