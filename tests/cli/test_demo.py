"""The README's main job: the demo runs offline and shows no plaintext."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from sealkit_cli.main import cli


def test_demo_seals_and_opens_without_printing_values(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--key-size", "2048", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "every value came back byte for byte" in result.output
    assert "kind: SecretProviderClass" in result.output
    assert "sealkit csi generate --check: up to date" in result.output
    assert "demo-only-not-a-real-password" not in result.output
    sealed = yaml.safe_load((tmp_path / "db-credentials.sealed.yaml").read_text())
    assert sealed["kind"] == "SealedSecret" and set(sealed["spec"]["encryptedData"]) == {"username", "password"}
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0
