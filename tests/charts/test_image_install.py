"""The container image's install path without Docker: the Dockerfile's build context -> wheel -> clean venv -> run.

What the image does, step for step: copy what the Dockerfile COPYs (nothing else), `pip wheel --no-deps`,
install the locked dependencies (requirements/runtime.txt, hashes, binary wheels only) and then that wheel
with `--no-deps` into a fresh venv, `pip check`, then run the entrypoint: `--help`,
and the controller itself against the Kubernetes emulator until it has made its sealing key.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from charttools import ROOT, http_get, local_listen_args

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit_testservers.kube import KubeServer

DOCKERFILE = ROOT / "Dockerfile"
PIP_QUIET = ["--quiet", "--disable-pip-version-check"]


def dockerfile_entrypoint() -> list[str]:
    match = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", DOCKERFILE.read_text(), re.M)
    assert match, "Dockerfile has no exec-form ENTRYPOINT"
    import json

    entry: list[str] = json.loads(match.group(1))
    return entry


def build_context_copies() -> list[str]:
    """The sources the build stage COPYs from the context (not --from another stage)."""
    copies = []
    for line in DOCKERFILE.read_text().splitlines():
        parts = shlex.split(line) if line.startswith("COPY ") else []
        if parts and not any(p.startswith("--from") for p in parts):
            copies += parts[1:-1]
    return copies


def test_dockerfile_shape() -> None:
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(stages) == 2, "multi-stage: build, then runtime"
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+", base.group(1)), "base pinned to an exact version"
    assert re.search(r"^USER\s+\d+:\d+\s*$", text, re.M), "numeric non-root user"
    runtime = text.split("\nFROM ")[-1]
    assert "pip install" not in runtime and "apt-get" not in runtime, "nothing is built in the final stage"
    assert "COPY --from=build /opt/sealkit /opt/sealkit" in runtime
    assert dockerfile_entrypoint() == ["sealkit", "controller"]
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for source in build_context_copies():
        assert f"!{source.rstrip('/')}/" in ignored or f"!{source}" in ignored, f"{source} excluded by .dockerignore"


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's /opt/sealkit, built the Dockerfile's way in a temp dir."""
    work = tmp_path_factory.mktemp("image")
    context = work / "context"
    context.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for source in build_context_copies():
        src = ROOT / source
        if src.is_dir():
            shutil.copytree(src, context / source, ignore=ignore)
        else:
            shutil.copy2(src, context / source)
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *PIP_QUIET, "--no-deps", "--wheel-dir", str(wheels), str(context)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("sealkit-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    # As the Dockerfile: the locked dependencies with their hashes and nothing resolved, then the wheel alone.
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    lock = context / "requirements" / "runtime.txt"
    for args in (
        ["install", *PIP_QUIET, "--require-hashes", "--only-binary=:all:", "--no-deps", "-r", str(lock)],
        ["install", *PIP_QUIET, "--no-deps", str(wheel)],
        ["check"],
    ):
        result = subprocess.run([*pip, *args], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"pip {args[0]}: {result.stdout}{result.stderr}"
    return venv


def clean_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEALED_SECRETS_", "PYTHON", "KUBECONFIG"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.mark.slow
def test_clean_venv_holds_only_runtime_packages(image_venv: Path) -> None:
    listed = subprocess.run(
        [str(image_venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.lower()
    names = {line.split("==")[0] for line in listed.splitlines()}
    assert {"sealkit", "kopf", "kubernetes", "cryptography"} <= names
    assert not {"kmock", "pytest", "hypothesis", "mypy", "ruff", "sealkit-testservers"} & names
    site = next((image_venv / "lib").glob("python3*/site-packages"))
    assert (site / "sealkit_controller").is_dir() and not (site / "sealkit_testservers").exists()
    assert "testservers" not in build_context_copies()  # not even in the image's build context


@pytest.mark.slow
def test_entrypoint_help(image_venv: Path) -> None:
    result = subprocess.run(
        [*dockerfile_entrypoint(), "--help"],
        env=clean_env(image_venv),
        capture_output=True,
        text=True,
        check=False,
        cwd=image_venv,
    )
    assert result.returncode == 0, result.stderr
    assert "--key-renew-period" in result.stdout


@pytest.mark.slow
def test_entrypoint_runs_against_the_emulator(image_venv: Path, kube: KubeServer, tmp_path: Path) -> None:
    """The installed controller starts, makes its first sealing key, and serves the probe, cert and metrics."""
    kubeconfig = tmp_path / "kubeconfig"
    kube.write_kubeconfig(kubeconfig)
    env = {**clean_env(image_venv), "POD_NAMESPACE": "kube-system"}
    listen, api, metrics = local_listen_args()
    args = [*dockerfile_entrypoint(), "--kubeconfig", str(kubeconfig), "--key-size=2048", *listen]
    log = tmp_path / "controller.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            key = kube.wait_for(
                lambda k: k.list("v1", "Secret", "kube-system", label_selector=SEALING_KEY_LABEL), timeout=60
            )
            assert key[0]["type"] == "kubernetes.io/tls"
            assert proc.poll() is None, log.read_text()
            assert http_get(f"{api}/healthz") == b"ok"  # the chart's liveness/readiness probe
            assert http_get(f"{api}/v1/cert.pem").startswith(b"-----BEGIN CERTIFICATE-----")
            assert b"sealed_secrets_controller_" in http_get(f"{metrics}/metrics")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    text = log.read_text()
    assert "PRIVATE KEY" not in text
    assert "Traceback" not in text, text
