"""Which files a run reads (git-tracked and staged, --all-files, named files), what it counts, and
that one file's failure never stops the run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealkit.errors import InputError
from sealkit.lint import literals
from sealkit.lint.config import LintConfig
from sealkit.lint.discovery import discover
from sealkit.lint.scanner import Scanner, lint

PLAIN = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {password: x}\n"


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / ".gitignore").write_text("build/\n")
    (root / "tracked.yaml").write_text(PLAIN)
    git(root, "add", ".gitignore", "tracked.yaml")
    git(root, "commit", "-qm", "init")
    (root / "staged.yaml").write_text(PLAIN)
    git(root, "add", "staged.yaml")
    (root / "untracked.yaml").write_text(PLAIN)
    (root / "build").mkdir()
    (root / "build" / "rendered.yaml").write_text(PLAIN)
    return root


def names(report_paths: Iterator[str] | list[str], root: Path) -> set[str]:
    return {Path(p).relative_to(root).as_posix() for p in report_paths}


def test_git_tree_reads_tracked_and_staged_files_only(repo: Path) -> None:
    found = discover([repo])
    assert found.git
    assert names([s.display for s in found.sources], repo) == {".gitignore", "tracked.yaml", "staged.yaml"}
    report = lint([repo], LintConfig(root=repo))
    assert names({f.path for f in report.findings}, repo) == {"tracked.yaml", "staged.yaml"}


def test_all_files_reads_everything(repo: Path) -> None:
    found = discover([repo], all_files=True)
    assert not found.git
    listed = names([s.display for s in found.sources], repo)
    assert {"untracked.yaml", "build/rendered.yaml", "tracked.yaml"} <= listed
    assert not any(n.startswith(".git/") for n in listed)


def test_an_ignored_directory_named_on_purpose_is_walked(repo: Path) -> None:
    report = lint([repo / "build"], LintConfig(root=repo))
    assert [Path(f.path).name for f in report.findings] == ["rendered.yaml"]


def test_named_files_and_skipped_counts(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(PLAIN)
    (tmp_path / "link.yaml").symlink_to(tmp_path / "a.yaml")
    (tmp_path / ".sealkit-lint.yaml").write_text("ignore: ['vendor/**']\n")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "x.yaml").write_text(PLAIN)
    config = LintConfig(root=tmp_path, ignore=[__import__("re").compile(r"vendor/.*")])
    report = Scanner(config).run(discover([tmp_path]))
    assert report.files == 1
    assert report.skipped == 3  # the symlink, the config file, the ignored vendor file
    assert len(report.findings) == 1


def test_a_pipe_named_on_the_command_line_is_read_as_yaml(tmp_path: Path) -> None:
    """`sealkit lint <(kustomize build overlay)`: the shell names a pipe (/dev/fd/63, no .yaml suffix); it was
    refused as 'no such file or directory', and a named pipe was read but not parsed (0 objects)."""
    pipe = tmp_path / "rendered"
    os.mkfifo(pipe)
    writer = threading.Thread(target=pipe.write_text, args=(PLAIN,))
    writer.start()
    try:
        report = lint([pipe], LintConfig(root=tmp_path))
    finally:
        writer.join()
    assert (report.files, report.objects) == (1, 1)
    assert [(f.path, f.line, f.rule.id) for f in report.findings] == [(str(pipe), 4, "SK101")]


def test_dev_stdin_is_read_as_yaml_even_when_it_leads_to_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text(PLAIN)  # no .yaml suffix: by its own name a file lint only scans for keys
    with (tmp_path / "secret").open("rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-m", "sealkit_cli.main", "lint", "/dev/stdin"],
            stdin=stdin, capture_output=True, text=True, check=False, cwd=tmp_path,
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "/dev/stdin:4: error SK101 plaintext-secret" in result.stdout


def test_a_named_path_that_is_not_there_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        discover([tmp_path / "absent.yaml"])
    assert str(refused.value) == f"no such file or directory: {tmp_path / 'absent.yaml'}"


def test_a_failing_check_is_a_finding_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n")
    (tmp_path / "b.yaml").write_text(PLAIN)

    def broken(manifest: object) -> Iterator[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(literals, "check_literals", broken)
    report = lint([tmp_path], LintConfig(root=tmp_path))
    assert sorted((Path(f.path).name, f.rule.id) for f in report.findings) == [
        ("a.yaml", "SK009"),
        ("b.yaml", "SK009"),
        ("b.yaml", "SK101"),
    ]
    assert all("boom" not in f.message for f in report.findings)


def test_a_private_key_in_a_lint_config_is_still_found(tmp_path: Path) -> None:
    """Any file named .sealkit-lint.yaml was counted as not applicable and never read: a private key committed
    in one (the config in use, or one in a subdirectory) went unreported, while SK104 is never ignored."""
    from cryptography.hazmat.primitives import serialization as ser
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption()
    )
    commented = b"".join(b"# " + line + b"\n" for line in pem.splitlines())
    (tmp_path / ".sealkit-lint.yaml").write_bytes(b"fail-on: error\n" + commented)
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / ".sealkit-lint.yml").write_bytes(pem + PLAIN.encode())
    report = lint([tmp_path], LintConfig(root=tmp_path), all_files=True)
    assert sorted((Path(f.path).relative_to(tmp_path).as_posix(), f.rule.id) for f in report.findings) == [
        (".sealkit-lint.yaml", "SK104"),
        ("apps/.sealkit-lint.yml", "SK104"),
    ]
    assert report.skipped == 2 and report.files == 0


def test_a_git_lfs_pointer_is_an_error_not_a_clean_file(tmp_path: Path) -> None:
    """A manifest kept in Git LFS, checked out without its content (no git-lfs in CI), is a three-line pointer:
    it read as a YAML string and the run passed, with the Secret it stands for never seen."""
    pointer = (
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 1234\n"
    )
    (tmp_path / "secret.yaml").write_text(pointer)
    (tmp_path / "values.bin").write_text(pointer)
    report = lint([tmp_path], LintConfig(root=tmp_path), all_files=True)
    assert sorted((Path(f.path).name, f.rule.id) for f in report.findings) == [
        ("secret.yaml", "SK007"),
        ("values.bin", "SK007"),
    ]
    assert "Git LFS pointer" in report.findings[0].message
