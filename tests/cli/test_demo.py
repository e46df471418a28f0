"""The README's main job: the demo runs offline and shows no plaintext."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sealkit_cli.main import cli

PLAINTEXT = "demo-only-not-a-real-password"


def test_demo_seals_and_opens_without_printing_values(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--key-size", "2048", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "every value came back byte for byte" in result.output
    assert "kind: SecretProviderClass" in result.output
    assert "sealkit csi generate --check: up to date" in result.output
    assert PLAINTEXT not in result.output
    sealed = yaml.safe_load((tmp_path / "db-credentials.sealed.yaml").read_text())
    assert sealed["kind"] == "SealedSecret" and set(sealed["spec"]["encryptedData"]) == {"username", "password"}
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0
    # Step 5: the controller against the emulator made the Secret and reported Synced/Ready.
    step = result.output.split("== 5.")[1]
    assert "fetched through the API server's service proxy" in step
    shown = yaml.safe_load(step.split("(values hidden):\n")[1].split("SealedSecret demo/")[0])
    assert shown["metadata"]["name"] == "db-credentials" and shown["metadata"]["namespace"] == "demo"
    assert shown["metadata"]["ownerReferences"][0]["kind"] == "SealedSecret"
    assert shown["data"] == {"password": f"<{len(PLAINTEXT)} bytes>", "username": "<3 bytes>"}
    assert "Synced=True reason=Unsealed" in step and "Ready=True reason=Unsealed" in step


def test_demo_skips_the_cluster_step_without_the_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sealkit_testservers.kube", None)  # as if sealkit-testservers were missing
    result = CliRunner().invoke(cli, ["demo", "--key-size", "2048", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if "skipped:" in line]
    assert "the Kubernetes emulator is not installed" in line and "pip install -e ./testservers" in line
    assert PLAINTEXT not in result.output
