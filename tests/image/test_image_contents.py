"""What a platform team checks before admitting the image: labels, version, user, SBOM, and nothing extra.

All from the OCI layout scripts/build-image.sh exported (its config, its layers' file list, its SBOM),
plus two runs of the image as the chart's user: `--version`, and who that user is.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from imagetools import ROOT, Image, controller_container, pod_process, render_chart, write_service_account
from packaging.markers import Marker
from packaging.utils import canonicalize_name
from test_lock import read_lock

import sealkit

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CHART = yaml.safe_load((ROOT / "charts" / "sealkit" / "Chart.yaml").read_text())
SITE_PACKAGES = "/opt/sealkit/lib/python3.11/site-packages"
# What the image must not hold: none of it runs the controller.
FORBIDDEN = {
    "a compiler, assembler or linker": r"^/usr/(local/)?bin/([\w.-]*-)?(gcc|g\+\+|cc|c\+\+|cpp|clang|ld|as)(-[\d.]+)?$"
    r"|/cc1(plus)?$|^/usr/lib/gcc/",
    "C headers of the system or of Python": r"^/usr/(local/)?include/",
    "documentation (only copyright files stay)": r"^/usr/(local/)?share/(doc/.+/(?!copyright$)[^/]+"
    r"|man/.+|info/(?!dir$).+)$",
    "a package manager's cache or index": r"^/var/cache/apt/.+\.(deb|bin)$"
    r"|^/var/lib/apt/lists/[^/]+_(Packages|Sources|InRelease|Release)|/\.cache/",
    "pip or another build tool": r"/site-packages/(pip|setuptools|wheel|uv|cyclonedx\w*|_distutils_hack)/"
    r"|^/opt/sealkit/bin/(pip|uv|cyclonedx)|^/opt/build/|^/wheels/|^/src/",
    "test files": r"/site-packages/.+/tests?/|^/usr/(local/)?lib/python3[\d.]*/test/|/sealkit_testservers/",
    "the kubernetes client's asyncio copy (never imported)": r"/site-packages/kubernetes/aio/",
    "build-time configuration": r"^/etc/pip\.conf$|^/run/sealkit-build",
}


def run_in_image(image: Image, argv: list[str], tmp_path: Path, values: dict[str, Any] | None = None) -> str:
    """`argv` in the image as the chart's container: its user, env, read-only root, /tmp only writable."""
    (deployment,) = [o for o in render_chart(values, tmp_path) if o["kind"] == "Deployment"]
    sa = write_service_account(tmp_path / "sa", token="unused", ca_pem=b"", namespace="kube-system")
    pod = pod_process(deployment, image, pod_name="p", api_host="127.0.0.1", api_port=1, service_account_dir=sa)
    pod.argv = argv
    result = subprocess.run(
        pod.command(tmp_path / "pod.json"), capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_versions_agree() -> None:
    """The package, the chart's appVersion and the Dockerfile's label default name one version."""
    version = PYPROJECT["project"]["version"]
    assert sealkit.__version__ == version
    assert CHART["appVersion"] == version
    defaults = re.findall(r"^ARG VERSION=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert defaults and set(defaults) == {version}


def test_labels(image: Image) -> None:
    labels = image.config()["Labels"]
    assert labels["org.opencontainers.image.version"] == CHART["appVersion"] == image.tag
    assert labels["org.opencontainers.image.source"] == CHART["home"]
    assert labels["org.opencontainers.image.licenses"] == PYPROJECT["project"]["license"]
    revision = labels["org.opencontainers.image.revision"]
    assert re.fullmatch(r"[0-9a-f]{40}", revision), revision
    known = subprocess.run(["git", "cat-file", "-e", f"{revision}^{{commit}}"], cwd=ROOT, check=False)
    assert known.returncode == 0, f"revision {revision} is no commit of this repository"


def test_config_matches_the_chart(image: Image, deployment: dict[str, Any]) -> None:
    """The chart runs the image's entrypoint as the image's user, with the image's TMPDIR on its emptyDir."""
    config = image.config()
    container = controller_container(deployment)
    assert "command" not in container and config["Entrypoint"] == ["sealkit", "controller"]
    security = container["securityContext"]
    assert config["User"] == f"{security['runAsUser']}:{security['runAsGroup']}"
    env = dict(item.split("=", 1) for item in config["Env"])
    assert [m["mountPath"] for m in container["volumeMounts"]] == [env["TMPDIR"]]
    exposed = {int(port.split("/")[0]) for port in config["ExposedPorts"]}
    assert exposed == {p["containerPort"] for p in container["ports"]}


@pytest.mark.slow
def test_controller_version_in_the_image(pods: Image, tmp_path: Path) -> None:
    out = run_in_image(pods, ["sealkit", "controller", "--version"], tmp_path)
    assert out == f"controller version: {CHART['appVersion']}\n"


@pytest.mark.slow
def test_image_user_is_resolvable_and_has_no_writable_home(pods: Image, tmp_path: Path) -> None:
    probe = (
        "import getpass, json, os, pwd, grp;"
        "home = os.environ['HOME'];"
        "print(json.dumps([getpass.getuser(), grp.getgrgid(os.getgid()).gr_name, pwd.getpwuid(os.getuid()).pw_dir,"
        " home, os.path.exists(home), os.access('/', os.W_OK), os.access('/tmp', os.W_OK)]))"
    )
    out = json.loads(run_in_image(pods, ["python", "-c", probe], tmp_path))
    assert out == ["sealkit", "sealkit", "/nonexistent", "/nonexistent", False, False, True]


def test_nothing_but_what_runs_the_controller(image: Image) -> None:
    files = image.files()
    content = [path for path, member in files.items() if member.isfile()]  # not directories or dangling links
    found = {what: sorted(p for p in content if re.search(pattern, p))[:5] for what, pattern in FORBIDDEN.items()}
    assert {what: paths for what, paths in found.items() if paths} == {}
    assert {f"{SITE_PACKAGES}/sealkit/__init__.py", "/opt/sealkit/bin/sealkit", "/opt/sealkit/sbom.cdx.json"} <= set(
        files
    )


def installed_distributions(rootfs: Path) -> dict[str, str]:
    """name -> version of every distribution in the image's venv (its .dist-info METADATA)."""
    found = {}
    for metadata in (rootfs / SITE_PACKAGES.lstrip("/")).glob("*.dist-info/METADATA"):
        headers = HeaderParser().parsestr(metadata.read_text(encoding="utf-8", errors="replace"))
        found[canonicalize_name(headers["Name"])] = headers["Version"]
    return found


def test_sbom_lists_what_the_venv_holds(image: Image) -> None:
    exported = (image.layout.parent / "sbom.cdx.json").read_bytes()
    assert exported == (image.rootfs / "opt/sealkit/sbom.cdx.json").read_bytes(), (
        "the SBOM beside the layout is the image's"
    )
    bom = json.loads(exported)
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")
    root = bom["metadata"]["component"]
    assert (root["name"], root["version"], root["type"]) == ("sealkit", CHART["appVersion"], "application")
    listed = {canonicalize_name(c["name"]): c["version"] for c in bom["components"]}
    installed = installed_distributions(image.rootfs)
    assert installed.pop("sealkit") == CHART["appVersion"]
    assert listed == installed
    for component in bom["components"]:
        name, _, version = component["purl"].removeprefix("pkg:pypi/").partition("@")
        assert (canonicalize_name(name), version) == (canonicalize_name(component["name"]), component["version"])
    # What the venv holds is exactly what the lock pins for this platform.
    environment = {"python_version": "3.11", "python_full_version": "3.11.2", "sys_platform": "linux"}
    pins = read_lock(ROOT / "requirements" / "runtime.txt")
    wanted = {n: str(p.version) for n, p in pins.items() if not p.marker or Marker(p.marker).evaluate(environment)}
    assert installed == wanted
