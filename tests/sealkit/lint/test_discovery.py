"""Symbolic links in a config repo: followed as kustomize follows them, each real file and directory once; a
link lint cannot follow (out of the repo, to nothing, in a loop) is an error naming it, never a silent skip."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealkit.lint.config import LintConfig
from sealkit.lint.discovery import discover
from sealkit.lint.scanner import lint

PLAIN = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {password: x}\n"


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def linked_repo(root: Path, *, commit: bool) -> Path:
    """clusters/prod/apps -> ../../base/apps, where a plaintext Secret lives (the layout Flux docs show)."""
    (root / "base" / "apps").mkdir(parents=True)
    (root / "base" / "apps" / "secret.yaml").write_text(PLAIN)
    (root / "base" / "apps" / "kustomization.yaml").write_text("resources:\n  - secret.yaml\n")
    (root / "clusters" / "prod").mkdir(parents=True)
    (root / "clusters" / "prod" / "kustomization.yaml").write_text("resources:\n  - apps\n")
    (root / "clusters" / "prod" / "apps").symlink_to("../../base/apps", target_is_directory=True)
    if commit:
        git(root, "init", "-q")
        git(root, "add", ".")
        git(root, "commit", "-qm", "init")
    return root


def findings(root: Path, *paths: Path, all_files: bool = False) -> set[tuple[str, str]]:
    report = lint(list(paths), LintConfig(root=root), all_files=all_files)
    return {(Path(f.path).relative_to(root).as_posix(), f.rule.id) for f in report.findings}


@pytest.mark.parametrize("commit", [True, False], ids=["git", "walked"])
def test_a_secret_behind_a_directory_link_is_found(
    tmp_path: Path, commit: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linting clusters/prod alone: the plaintext Secret kustomize deploys through the link was skipped (the link
    counted as not applicable) and the run passed. Outside git the repo is the current directory (as for SK011)."""
    root = linked_repo(tmp_path, commit=commit)
    monkeypatch.chdir(root)
    assert findings(root, root / "clusters" / "prod") == {("clusters/prod/apps/secret.yaml", "SK101")}
    if not commit:
        assert findings(root, root / "clusters" / "prod", all_files=True) == {
            ("clusters/prod/apps/secret.yaml", "SK101")
        }


def test_each_real_file_is_read_once(tmp_path: Path) -> None:
    """The whole repo: the Secret is reported where it lives, not again through the link."""
    root = linked_repo(tmp_path, commit=True)
    found = discover([root])
    shown = sorted(Path(s.display).relative_to(root).as_posix() for s in found.sources)
    assert shown == ["base/apps/kustomization.yaml", "base/apps/secret.yaml", "clusters/prod/kustomization.yaml"]
    assert found.skipped == 1  # the link, its target read where it lives
    assert findings(root, root) == {("base/apps/secret.yaml", "SK101")}


@pytest.mark.parametrize("commit", [True, False], ids=["git", "walked"])
def test_links_lint_cannot_follow_are_errors_naming_them(
    tmp_path: Path, commit: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(PLAIN)
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "ok.yaml").write_text("a: 1\n")
    (root / "app" / "out").symlink_to(outside, target_is_directory=True)
    (root / "app" / "out.yaml").symlink_to(outside / "secret.yaml")
    (root / "app" / "dangling.yaml").symlink_to("gone.yaml")
    (root / "app" / "loop").symlink_to("loop")
    (root / "app" / "up").symlink_to("..", target_is_directory=True)  # a loop lint ends: nothing new there
    if commit:
        git(root, "init", "-q")
        git(root, "add", ".")
        git(root, "commit", "-qm", "init")
    monkeypatch.chdir(root)
    report = lint([root / "app"], LintConfig(root=root), all_files=not commit)
    got = {(Path(f.path).relative_to(root).as_posix(), f.rule.id, f.message) for f in report.findings}
    what = "what it leads to is not checked"
    assert got == {
        ("app/out", "SK007", f"symbolic link leads out of the repo: {what}"),
        ("app/out.yaml", "SK007", f"symbolic link leads out of the repo: {what}"),
        ("app/dangling.yaml", "SK007", f"symbolic link leads to nothing (dangling): {what}"),
        ("app/loop", "SK007", f"symbolic link leads in a loop of links: {what}"),
    }
    assert str(outside) not in str(got)


def test_a_file_link_into_the_repo_outside_the_paths_linted_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path
    monkeypatch.chdir(root)
    (root / "shared").mkdir()
    (root / "shared" / "secret.yaml").write_text(PLAIN)
    (root / "app").mkdir()
    (root / "app" / "secret.yaml").symlink_to("../shared/secret.yaml")
    assert findings(root, root / "app") == {("app/secret.yaml", "SK101")}
    assert findings(root, root) == {("shared/secret.yaml", "SK101")}  # once, where it lives


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=6))
def test_any_links_between_directories_read_each_real_file_once(tmp_path_factory: pytest.TempPathFactory,
                                                               links: list[tuple[int, int]]) -> None:  # fmt: skip
    """Directories d0/d1/d2/d3 nested (d1 in d0, d3 in d2), one file each, and links from any to any (loops,
    links to a directory above): the walk ends, and every real file reachable is read exactly once."""
    root = tmp_path_factory.mktemp("links")
    dirs = [root / "d0", root / "d0" / "d1", root / "d2", root / "d2" / "d3"]
    for i, directory in enumerate(dirs):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{i}.yaml").write_text("a: 1\n")
    for n, (source, target) in enumerate(links):
        (dirs[source] / f"link{n}").symlink_to(os.path.relpath(dirs[target], dirs[source]), target_is_directory=True)
    with contextlib.chdir(root):  # outside git, the repo reaches up to the current directory
        found = discover([dirs[0]], all_files=True)
    real = [os.path.realpath(root / s.display) for s in found.sources]
    assert len(real) == len(set(real))
    reachable = {0, 1}
    grew = True
    while grew:
        more = {t for s, t in links if s in reachable} | {t + 1 for t in (0, 2) if t in reachable}
        grew = not more <= reachable
        reachable |= more
    assert set(real) == {os.path.realpath(dirs[i] / f"f{i}.yaml") for i in reachable}


def test_a_git_submodule_is_read_and_one_not_checked_out_is_an_error(tmp_path: Path) -> None:
    """git lists a submodule as one entry (a gitlink, a directory in the work tree): it was counted as not
    applicable, and a plaintext Secret in it (Flux deploys it with recurseSubmodules) went through."""
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "secret.yaml").write_text(PLAIN)
    git(sub, "init", "-q")
    git(sub, "add", ".")
    git(sub, "commit", "-qm", "init")
    top = tmp_path / "top"
    top.mkdir()
    git(top, "init", "-q")
    git(top, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "apps")
    git(top, "commit", "-qm", "init")
    assert findings(top, top) == {("apps/secret.yaml", "SK101")}
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(top), str(clone))  # without --recurse-submodules: apps/ is empty
    report = lint([clone], LintConfig(root=clone))
    assert [(Path(f.path).name, f.rule.id, f.message) for f in report.findings] == [
        ("apps", "SK007", "directory cannot be read (a git submodule that is not checked out): its files not checked")
    ]
