"""The gates of .ci/run (formatting, complexity, typing, coverage) hold on the tree and fail on a violation
planted in a copy of it.

Each gate runs here as .ci/run runs it, over a copy of the tree (pyproject.toml and the package roots), so a
gate that stopped looking at a package, or a setting that loosened, fails a test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOTS = ("sealkit", "cli", "controller", "testservers", "tests/support")
BIN = Path(sys.executable).parent


def gate(tree: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """`command` (a tool of this venv) in `tree`, as .ci/run runs it."""
    return subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=tree,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the checked parts of the tree (with mypy's cache, so the typing gate only re-checks the plants)."""
    copy = tmp_path / "tree"
    copy.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache")
    for root in ROOTS:
        shutil.copytree(ROOT / root, copy / root, ignore=ignore)
    (copy / "tests" / "__init__.py").unlink(missing_ok=True)
    if (ROOT / ".mypy_cache").is_dir():
        shutil.copytree(ROOT / ".mypy_cache", copy / ".mypy_cache")
    return copy


def append(path: Path, code: str) -> None:
    path.write_text(path.read_text() + code)


def test_formatting_gate_fails_on_an_unformatted_module(tree: Path) -> None:
    assert gate(tree, "ruff", "format", "--check", ".").returncode == 0
    append(tree / "controller/sealkit_controller/wiring.py", "\n\nPLANTED = {'a':1,\n  'b' :2}\n")
    result = gate(tree, "ruff", "format", "--check", ".")
    assert result.returncode == 1
    assert "--> controller/sealkit_controller/wiring.py" in result.stdout
    assert "1 file would be reformatted" in result.stdout


def test_complexity_gate_fails_on_a_function_over_the_limit(tree: Path) -> None:
    branches = "".join(f"    if value == {i}:\n        return {i}\n" for i in range(25))
    append(tree / "sealkit/sealing.py", f"\n\ndef _planted(value: int) -> int:\n{branches}    return -1\n")
    result = gate(tree, "ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 1
    (finding,) = [line for line in result.stdout.splitlines() if "C901" in line]
    assert finding.startswith("sealkit/sealing.py:") and "`_planted` is too complex (26 > 20)" in finding


def test_complexity_exceptions_are_few_named_and_explained() -> None:
    """At most a handful of functions may pass the limit, each with a `noqa: C901` and its reason on the line."""
    found = []
    for root in ROOTS:
        for path in sorted((ROOT / root).rglob("*.py")):
            for line in path.read_text().splitlines():
                if "noqa: C901" in line:
                    found.append(line)
                    assert line.lstrip().startswith("def ") and " - " in line.split("noqa: C901")[1], line
    assert 0 < len(found) <= 5
    config = (ROOT / "pyproject.toml").read_text()
    assert "C901" not in config.split("[tool.ruff.lint.per-file-ignores]")[1].split("\n[")[0]


# An unannotated function fails only where mypy is strict: one planted in every package it checks.
PLANTS = (
    "sealkit/sealing.py",
    "cli/sealkit_cli/main.py",
    "controller/sealkit_controller/wiring.py",
    "testservers/sealkit_testservers/kube/__init__.py",
    "tests/support/keys.py",
)


def test_typing_gate_is_strict_on_every_package(tree: Path) -> None:
    for module in PLANTS:
        append(tree / module, "\n\ndef _planted(value):\n    return value\n")
    result = gate(tree, "mypy")
    assert result.returncode == 1, result.stdout
    untyped = {
        line.split(":")[0] for line in result.stdout.splitlines() if "Function is missing a type annotation" in line
    }
    assert untyped == set(PLANTS), result.stdout


def test_coverage_gate_fails_on_a_drop_in_each_package(tmp_path: Path) -> None:
    """Coverage data of a run that only imports the packages (a drop far below every floor) fails the gate,
    naming each package with its figure and floor."""
    data = tmp_path / "coverage-data"
    importing = tmp_path / "importing.py"
    importing.write_text("import sealkit.sealing, sealkit_cli.main, sealkit_controller.wiring\n")
    measured = gate(ROOT, "coverage", "run", f"--data-file={data}", str(importing))
    assert measured.returncode == 0, measured.stderr
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts/coverage.sh"), str(data)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert [line.split()[3] for line in errors] == ["sealkit", "sealkit_cli", "sealkit_controller"], errors
    assert all(line.startswith("error: coverage of ") and "below its floor of " in line for line in errors)
