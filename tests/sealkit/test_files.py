"""Walking a directory tree fails closed: a directory that cannot be listed is an error naming it, never a
part of the tree silently left out (`sealkit.files.walk`, used by `manifest_files`, lint and csi)."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealkit.errors import InputError, os_reason
from sealkit.files import manifest_files, walk


def refuse_listing(monkeypatch: pytest.MonkeyPatch, blocked: Path, err: int = errno.EACCES) -> None:
    """`os.scandir` refuses `blocked` as the file system does for a directory without read permission
    (which root, as CI runs, would read anyway)."""
    real = os.scandir

    def scandir(path: str | os.PathLike[str] = ".") -> Iterator[os.DirEntry[str]]:
        if Path(path) == blocked:
            raise OSError(err, os.strerror(err), os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel in ("a.yaml", "b/c.yaml", "b/.git/x.yaml", "d/e/f.yml", "d/e/notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x: 1\n")
    return tmp_path


def test_walk_lists_every_directory_sorted_and_leaves_out_the_skipped(tree: Path) -> None:
    seen = [(Path(root).relative_to(tree).as_posix(), files) for root, files in walk(tree, {".git"})]
    assert seen == [(".", ["a.yaml"]), ("b", ["c.yaml"]), ("d", []), ("d/e", ["f.yml", "notes.txt"])]
    assert manifest_files([tree]) == [tree / "a.yaml", tree / "b/c.yaml", tree / "d/e/f.yml"]


@pytest.mark.parametrize(("err", "why"), [(errno.EACCES, "permission denied"), (errno.EIO, "input/output error")])
def test_a_directory_that_cannot_be_listed_is_an_error_naming_it(
    tree: Path, monkeypatch: pytest.MonkeyPatch, err: int, why: str
) -> None:
    refuse_listing(monkeypatch, tree / "d" / "e", err)
    with pytest.raises(InputError) as caught:
        manifest_files([tree])
    assert str(caught.value) == f"cannot read directory ({why}): {tree / 'd' / 'e'}"


def test_the_top_directory_that_cannot_be_listed_is_an_error_too(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_listing(monkeypatch, tree)
    with pytest.raises(InputError, match=r"^cannot read directory \(permission denied\): "):
        list(walk(tree))


def test_a_directory_that_does_not_exist_holds_nothing(tmp_path: Path) -> None:
    assert list(walk(tmp_path / "not-yet-generated")) == []


@pytest.mark.parametrize(
    ("err", "why"),
    [
        (errno.ENOTDIR, "a file is in the way"),
        (errno.ENAMETOOLONG, "file name too long"),
        (errno.EACCES, "permission denied"),
    ],
)
def test_os_reason_words_a_path_error_for_a_message(err: int, why: str) -> None:
    assert os_reason(OSError(err, os.strerror(err), "/x")) == why
    assert os_reason(OSError()) == "input/output error", "no words from the system: still something to say"
