"""`sealkit unseal -w`: the plaintext never replaces a file it reads, nor a SealedSecret in the config repo."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from sealkit_cli.main import cli

PLAINTEXT = "Unseal-0utput-Marker-5521"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture()
def repo(tmp_path: Path, key_files: list[tuple[Path, Path]]) -> Path:
    """A config repo with db.sealed.yaml (sealed for the vectors' key 0) and keys.pem beside it."""
    private, cert = key_files[0]
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "team-a"}}
    sealed = tmp_path / "db.sealed.yaml"
    source = yaml.safe_dump({**secret, "stringData": {"password": PLAINTEXT}})
    result = CliRunner().invoke(cli, ["seal", "--cert", str(cert), "-w", str(sealed)], input=source)
    assert result.exit_code == 0, result.output
    (tmp_path / "keys.pem").write_bytes(private.read_bytes())
    return tmp_path


def symlink(repo: Path) -> str:
    (repo / "out.yaml").symlink_to("db.sealed.yaml")
    return "out.yaml"


def hard_link(repo: Path) -> str:
    os.link(repo / "db.sealed.yaml", repo / "out.yaml")
    return "out.yaml"


SAME_FILE: dict[str, Callable[[Path], str]] = {
    "the same path": lambda repo: "db.sealed.yaml",
    "the same path spelled otherwise": lambda repo: "./sub/../db.sealed.yaml",
    "a symbolic link to it": symlink,
    "a hard link to it": hard_link,
}


@pytest.mark.parametrize("case", sorted(SAME_FILE))
def test_the_output_is_never_the_input(repo: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    # It was written over: the SealedSecret in the config repo became the plaintext Secret (mode 0600).
    monkeypatch.chdir(repo)
    (repo / "sub").mkdir()
    before = (repo / "db.sealed.yaml").read_bytes()
    output = SAME_FILE[case](repo)
    result = run("unseal", "--private-key", "keys.pem", "-f", "db.sealed.yaml", "-w", output)
    assert result.exit_code == 2
    assert result.output == (
        f"error: the output file is the -f input; the plaintext Secret would replace it (choose another -w): {output}\n"
    )
    assert (repo / "db.sealed.yaml").read_bytes() == before
    assert PLAINTEXT not in result.output


def test_the_output_is_never_a_key_file(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    before = (repo / "keys.pem").read_bytes()
    result = run("unseal", "--private-key", "keys.pem", "-f", "db.sealed.yaml", "-w", "keys.pem")
    assert result.exit_code == 2
    assert result.output.startswith("error: the output file is the --private-key input;")
    assert (repo / "keys.pem").read_bytes() == before


def test_the_input_on_stdin_is_recognised(repo: Path) -> None:
    """`sealkit unseal -f - < db.sealed.yaml -w db.sealed.yaml`: stdin is that file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALED_SECRETS_") and k != "SEALKIT_DEBUG"}
    before = (repo / "db.sealed.yaml").read_bytes()
    with (repo / "db.sealed.yaml").open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "sealkit_cli.main", "unseal", "--private-key", "keys.pem", "-w", "db.sealed.yaml"],
            cwd=repo,
            stdin=stdin,
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("error: the output file is the stdin input;")
    assert (repo / "db.sealed.yaml").read_bytes() == before


@pytest.mark.parametrize("listed", [False, True])
def test_a_sealed_secret_is_not_replaced_by_plaintext(
    repo: Path, monkeypatch: pytest.MonkeyPatch, listed: bool
) -> None:
    """`sealkit unseal -f <(git show HEAD:db.sealed.yaml) -w db.sealed.yaml` is not the same file, and the
    same leak: a SealedSecret (alone, or an item of a List) is not written over."""
    monkeypatch.chdir(repo)
    sealed = yaml.safe_load((repo / "db.sealed.yaml").read_text())
    copy = repo / "copy.yaml"
    copy.write_text(yaml.safe_dump(sealed))
    kept: Any = {"apiVersion": "v1", "kind": "List", "items": [sealed]} if listed else sealed
    (repo / "other.sealed.yaml").write_text(yaml.safe_dump_all([{"kind": "ConfigMap"}, kept]))
    before = (repo / "other.sealed.yaml").read_bytes()
    result = run("unseal", "--private-key", "keys.pem", "-f", "copy.yaml", "-w", "other.sealed.yaml")
    assert result.exit_code == 2
    assert result.output == (
        "error: the output file holds a SealedSecret; the plaintext Secret would replace it "
        "(choose another -w, or remove the file first): other.sealed.yaml\n"
    )
    assert (repo / "other.sealed.yaml").read_bytes() == before


@pytest.mark.parametrize("held", ["a Secret written before", "not a manifest", "nothing"])
def test_any_other_output_file_is_replaced(repo: Path, monkeypatch: pytest.MonkeyPatch, held: str) -> None:
    monkeypatch.chdir(repo)
    args = ("unseal", "--private-key", "keys.pem", "-f", "db.sealed.yaml", "-w", "db.secret.yaml")
    if held == "a Secret written before":
        assert run(*args).exit_code == 0
    elif held == "not a manifest":
        (repo / "db.secret.yaml").write_bytes(b"\xff\xfe not text")
    result = run(*args)
    assert result.exit_code == 0, result.output
    secret = yaml.safe_load((repo / "db.secret.yaml").read_text())
    assert base64.b64decode(secret["data"]["password"]).decode() == PLAINTEXT
