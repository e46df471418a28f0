"""The README's main job: the demo runs offline, shows no plaintext, and leaves no key behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from sealkit_cli.main import cli
from tests.support.devcluster import GUARD, LineReader

ROOT = Path(__file__).resolve().parents[2]

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
    # --workdir keeps the files, and says so.
    assert f"Demo files are in {tmp_path}" in result.output


def test_demo_skips_the_cluster_step_without_the_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sealkit_testservers.kube", None)  # as if sealkit-testservers were missing
    result = CliRunner().invoke(cli, ["demo", "--key-size", "2048", "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if "skipped:" in line]
    assert "the Kubernetes emulator is not installed" in line and "pip install -e ./testservers" in line
    assert PLAINTEXT not in result.output


def demo_env(tmpdir: Path) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k != "KUBECONFIG"}, "TMPDIR": str(tmpdir)}


@pytest.mark.slow
def test_scripts_demo_sh_leaves_no_temporary_directory(tmp_path: Path) -> None:
    area = tmp_path / "tmp"
    area.mkdir()
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh"), "--key-size", "2048"],
        env=demo_env(area),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every value came back byte for byte" in result.stdout
    assert "Removed the demo's temporary files, the throwaway key with them" in result.stdout
    assert list(area.iterdir()) == []  # no sealkit-demo-* directory, no key.pem


def test_keep_keeps_the_temporary_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sealkit_testservers.kube", None)  # the cluster step is tested above
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = CliRunner().invoke(cli, ["demo", "--key-size", "2048", "--keep"])
    assert result.exit_code == 0, result.output
    (kept,) = tmp_path.iterdir()
    assert kept.name.startswith("sealkit-demo-") and (kept / "key.pem").stat().st_mode & 0o077 == 0
    assert f"Demo files are in {kept} (the private key too: delete it when done)" in result.output


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_demo_removes_its_files(sig: signal.Signals, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sealkit_cli.main", "demo"],  # 4096-bit: the key is still being made
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=demo_env(tmp_path),
    )
    try:
        reader = LineReader(process)
        while not (line := reader.line()).startswith("== 1."):
            assert line, "the demo ended before its first step"
        assert [p.name[:13] for p in tmp_path.iterdir()] == ["sealkit-demo-"]  # made before step 1
        process.send_signal(sig)
        assert process.wait(GUARD) != 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(GUARD)
        assert process.stdout is not None
        process.stdout.close()
    assert list(tmp_path.iterdir()) == []


def failed_demo(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setitem(sys.modules, "sealkit_testservers.kube", None)  # fails before the cluster step
    result = CliRunner().invoke(cli, ["demo", "--key-size", "2048", *args])
    (last,) = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.output.endswith(last + "\n") and "Traceback" not in result.output
    assert PLAINTEXT not in result.output
    return result.exit_code, last


def test_a_file_the_demo_cannot_write_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory where cert.pem goes (EISDIR, also as root): 'error: is a directory' named nothing."""
    (tmp_path / "cert.pem").mkdir()
    status, line = failed_demo(monkeypatch, f"--workdir={tmp_path}")
    assert (status, line) == (2, f"error: cannot write (is a directory): {tmp_path / 'cert.pem'}")


def test_a_work_directory_that_cannot_be_made_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--workdir=DIR below a file (ENOTDIR): the last resort could not match DIR to a word of the command line."""
    (tmp_path / "file").write_text("")
    status, line = failed_demo(monkeypatch, f"--workdir={tmp_path / 'file' / 'work'}")
    assert (status, line) == (2, f"error: cannot create directory (a file is in the way): {tmp_path / 'file' / 'work'}")


def test_an_example_that_cannot_be_copied_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file in the work directory where the example's clusters/ directory goes: copytree's collected errors
    were a bare 'error: input/output error'; nothing of the example's clusters/ is written."""
    (tmp_path / "gitops").mkdir()
    (tmp_path / "gitops" / "clusters").write_text("a file, not a directory")
    status, line = failed_demo(monkeypatch, "--workdir", str(tmp_path))
    where = tmp_path / "gitops" / "clusters"
    assert (status, line) == (2, f"error: cannot create directory (a file is in the way): {where}")
    assert where.read_text() == "a file, not a directory"


def test_a_generated_file_the_demo_cannot_replace_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory where a generated file goes in the copy (EISDIR on its removal, also as root)."""
    example = tmp_path / "example"
    shutil.copytree(ROOT / "examples" / "gitops", example)
    relpath = "clusters/dev/apps/orders/secretproviderclass.yaml"
    (example / relpath).unlink()
    work = tmp_path / "work"
    (work / "gitops" / relpath / "inside").mkdir(parents=True)
    status, line = failed_demo(monkeypatch, "--workdir", str(work), "--example", str(example))
    assert (status, line) == (2, f"error: cannot remove (is a directory): {work / 'gitops' / relpath}")


def test_an_example_without_a_spec_is_named_by_its_own_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spec is read from the demo's copy of the example: its errors named the copy, a temporary directory
    gone when the line is read; they name the example's file, the one to mend."""
    example = tmp_path / "example"
    shutil.copytree(ROOT / "examples" / "gitops", example)
    (example / "sealkit-csi.yaml").unlink()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    status, line = failed_demo(monkeypatch, "--example", str(example))
    assert (status, line) == (2, f"error: no such spec file: {example / 'sealkit-csi.yaml'}")
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_symbolic_link_loop_in_the_example_is_refused_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Followed, a link to `.` copied the example again at every level (40 deep) before the system refused."""
    example = tmp_path / "example"
    shutil.copytree(ROOT / "examples" / "gitops", example)
    (example / "clusters" / "back").symlink_to("..")
    work = tmp_path / "work"
    status, line = failed_demo(monkeypatch, "--workdir", str(work), "--example", str(example))
    assert (status, line) == (
        2,
        f"error: a symbolic link loop (it leads back to a directory above it): {example / 'clusters' / 'back'}",
    )
    assert not (work / "gitops" / "clusters" / "back").exists()
