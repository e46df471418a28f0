"""The README's "Try it by hand" section runs as written (scripts/try-it-by-hand.sh) and leaves nothing behind.

The script holds the README's lines between markers; the first test keeps both the same, the second runs
the script: `sealkit dev up --detach`, kubectl create namespace / apply / wait / get, the value read back,
`sealkit verify`, `sealkit cert`, `sealkit dev down`, then its own checks (no process, no directory, no key
material in its temporary area), and this test checks the temporary area it handed the script.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "try-it-by-hand.sh"


def readme_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- try-it-by-hand: begin[^\n]*-->\n```bash\n(.*?)```\n<!-- try-it-by-hand: end -->", readme, re.S
    )
    assert match, "README.md has no try-it-by-hand block between its markers"
    return match.group(1)


def script_block() -> str:
    text = SCRIPT.read_text(encoding="utf-8")
    match = re.search(r"\n# README: begin\n(.*?)# README: end\n", text, re.S)
    assert match, "scripts/try-it-by-hand.sh has no README block"
    return match.group(1)


def test_readme_and_script_agree() -> None:
    assert readme_block() == script_block()
    lines = [line.split("#")[0].strip() for line in readme_block().splitlines()]
    # The acceptance's steps, in order: start, create a namespace, apply, read back, verify, stop.
    steps = ["sealkit dev up", "kubectl create namespace", "kubectl apply -f", "kubectl get secret", "sealkit verify"]
    positions = [next(i for i, line in enumerate(lines) if step in line) for step in [*steps, "sealkit dev down"]]
    assert positions == sorted(positions)


@pytest.mark.slow
def test_the_walk_through_runs_and_leaves_nothing_behind(tmp_path: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "activate").exists():
        pytest.fail("the walk-through sources .venv/bin/activate: run scripts/test.sh (it makes .venv)")
    tools = ROOT / ".tools" / "bin"
    path = os.pathsep.join([str(tools), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    if not shutil.which("kubectl", path=path):
        pytest.fail("kubectl not found: run `bash scripts/install-helm.sh` (installs .tools/bin/kubectl)")
    area = tmp_path / "tmp"
    area.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "SEALKIT_DEV_DIR", "SEALKIT_DEV_CERT")},
        "PATH": path,
        "TMPDIR": str(area),
        "HOME": str(tmp_path / "home"),  # kubectl's cache goes there, not into the real home
    }
    try:
        result = subprocess.run(
            ["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    finally:  # a hung walk-through is killed without its trap: stop what it left in the background
        for left in area.rglob("sealkit-dev-*"):
            subprocess.run(
                [sys.executable, "-m", "sealkit_cli.main", "dev", "down", "--dir", str(left)],
                env=env,
                capture_output=True,
                timeout=120,
                check=False,
            )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for expected in (
        "namespace/try-it created",
        "sealedsecret.bitnami.com/db created",
        "sealedsecret.bitnami.com/db condition met",
        "1 SealedSecrets in 1 files: 1 open, 0 failed",
    ):
        assert expected in output
    lines = result.stdout.splitlines()
    assert "change-me" in lines  # read back from the Secret the controller made
    assert re.search(r"^db\s+Opaque\s+1\s", result.stdout, re.M)
    assert any(re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", line) for line in lines)
    assert "try-it-by-hand: ok: process" in result.stdout
    # The script's own area (a mktemp -d under this TMPDIR) and everything in it are gone.
    assert list(area.iterdir()) == []
