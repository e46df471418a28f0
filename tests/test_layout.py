"""The layout every tool relies on: import roots, wheel contents, and the import boundary."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("click", "kopf", "kubernetes", "azure", "kmock", "aiohttp", "prometheus_client")


def imported_after(code: str) -> list[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_core_imports_no_adapter_library() -> None:
    code = (
        "import importlib, pkgutil, sealkit\n"
        "for m in pkgutil.walk_packages(sealkit.__path__, 'sealkit.'):\n"
        "    importlib.import_module(m.name)\n"
    )
    loaded = imported_after(code)
    assert "sealkit.csi" in loaded and "sealkit.gotemplate" in loaded
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []


@pytest.mark.parametrize("args", [["--help"], ["seal", "--help"], ["csi", "--help"], ["verify", "--help"]])
def test_cli_help_imports_no_cluster_or_cloud_library(args: list[str]) -> None:
    code = (
        "from sealkit_cli.main import cli\n"
        f"try:\n    cli.main(args={args!r}, standalone_mode=False)\nexcept SystemExit:\n    pass"
    )
    loaded = imported_after(code)
    assert [m for m in loaded if m.split(".")[0] in ("kopf", "kubernetes", "azure", "kmock")] == []


@pytest.mark.slow
def test_wheel_holds_the_four_packages_and_their_data(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("sealkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("sealkit", "sealkit_cli", "sealkit_controller", "sealkit_testservers"):
        assert f"{package}/__init__.py" in names, package
        assert f"{package}/py.typed" in names, package
    assert "sealkit/data/crds/bitnami.com_sealedsecrets.yaml" in names
    assert not any(n.startswith(("tests/", "cli/", "controller/", "testservers/")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "sealkit = sealkit_cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
