"""The import contracts of docs/architecture.md hold, and `lint-imports` (as .ci/run runs it) fails on a
forbidden import planted in a copy of the tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOTS = ("sealkit", "cli", "controller", "testservers")
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over `tree`, importing the packages from it (not from the editable install)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(tree / root) if root != "sealkit" else str(tree) for root in ROOTS)
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for root in ROOTS:
        shutil.copytree(ROOT / root, copy / root, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return copy


def plant(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n\ndef _planted() -> None:\n    {line}  # noqa\n")


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("sealkit/sealing.py", "import click", "The core imports no adapter library"),
        ("sealkit/keysecrets.py", "from sealkit.clients.kube import api", "The clients sit above the rest of the core"),
        ("controller/sealkit_controller/reconciling/reconciler.py", "import kubernetes", "azure, kubernetes and hvac"),
        ("sealkit/csi/hashicorp/check.py", "import hvac", "azure, kubernetes and hvac"),
        ("cli/sealkit_cli/commands/csi.py", "import hvac", "azure, kubernetes and hvac"),
        ("cli/sealkit_cli/commands/keys.py", "from sealkit_controller.keys import keystore", "public entry point"),
        ("controller/sealkit_controller/wiring.py", "import sealkit_cli.main", "does not import the CLI"),
        ("cli/sealkit_cli/commands/seal.py", "import sealkit_testservers.kube", "No product package imports"),
    ],
)
def test_a_planted_violation_fails(tree: Path, module: str, line: str, contract: str) -> None:
    plant(tree / module, line)
    result = lint_imports(tree)
    assert result.returncode != 0
    broken = [text for text in result.stdout.splitlines() if "BROKEN" in text]
    assert any(contract in text for text in broken) or contract in result.stdout.split("Broken contracts")[-1], (
        result.stdout
    )
