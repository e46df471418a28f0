"""The layout every tool relies on: import roots, wheel contents, and the import boundary."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("click", "kopf", "kubernetes", "azure", "hvac", "kmock", "aiohttp", "prometheus_client")


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
    assert "sealkit.clients.kube.api" in loaded and "sealkit.clients.keyvault.reader" in loaded  # SDKs load lazily
    assert "sealkit.clients.vault.reader" in loaded
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["seal", "--help"],
        ["csi", "--help"],
        ["verify", "--help"],
        ["controller", "--version"],
        ["kubeseal", "--help"],
        ["kubeseal", "--version"],
    ],
)
def test_cli_help_imports_no_cluster_or_cloud_library(args: list[str]) -> None:
    code = (
        "from sealkit_cli.main import cli\n"
        f"try:\n    cli.main(args={args!r}, standalone_mode=False)\nexcept SystemExit:\n    pass"
    )
    loaded = imported_after(code)
    assert [m for m in loaded if m.split(".")[0] in ("kopf", "kubernetes", "azure", "hvac", "kmock")] == []


def build_wheel(source: Path, into: Path, pattern: str, parts: tuple[str, ...]) -> Path:
    """The wheel of `source`, built from a clean copy of `parts` (an in-tree build/ could hold stale modules)."""
    clean = into / "src"
    clean.mkdir()
    for part in parts:
        if (source / part).is_dir():
            shutil.copytree(source / part, clean / part, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
        else:
            shutil.copy(source / part, clean / part)
    source = clean
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(into), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = into.glob(pattern)
    return wheel


@pytest.mark.slow
def test_wheel_holds_the_three_product_packages_and_no_test_servers(tmp_path: Path) -> None:
    wheel = build_wheel(
        ROOT, tmp_path, "sealkit-*.whl", ("pyproject.toml", "README.md", "sealkit", "cli", "controller")
    )
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("sealkit", "sealkit_cli", "sealkit_controller"):
        assert f"{package}/__init__.py" in names, package
        assert f"{package}/py.typed" in names, package
    assert "sealkit/clients/kube/api.py" in names and "sealkit/clients/keyvault/escrow.py" in names
    assert "sealkit/data/crds/bitnami.com_sealedsecrets.yaml" in names
    assert not any(n.startswith("sealkit_testservers") for n in names)
    assert not any(n.startswith(("tests/", "cli/", "controller/", "testservers/")) for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "sealkit = sealkit_cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires and not [line for line in requires if "kmock" in line]  # the test servers' deps left with them


@pytest.mark.slow
def test_test_servers_are_a_distribution_of_their_own(tmp_path: Path) -> None:
    wheel = build_wheel(
        ROOT / "testservers", tmp_path, "sealkit_testservers-*.whl", ("pyproject.toml", "sealkit_testservers")
    )
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sealkit_testservers/kube/__init__.py" in names and "sealkit_testservers/keyvault/__init__.py" in names
    assert not any(n.startswith(("sealkit/", "sealkit_cli/", "sealkit_controller/")) for n in names)


def test_product_modules_do_not_import_the_test_servers_when_imported() -> None:
    code = (
        "import importlib, pkgutil, sealkit, sealkit_cli, sealkit_controller\n"
        "for root in (sealkit, sealkit_cli, sealkit_controller):\n"
        "    for m in pkgutil.walk_packages(root.__path__, root.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
    )
    loaded = imported_after(code)
    assert "sealkit_controller.wiring" in loaded and "sealkit_cli.commands.demo" in loaded
    assert [m for m in loaded if m.startswith("sealkit_testservers")] == []
