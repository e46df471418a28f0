"""Walking a directory tree fails closed: a directory that cannot be listed is an error naming it, never a
part of the tree silently left out (`sealkit.files.walk`, used by `manifest_files`, lint and csi)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealkit.errors import InputError, os_reason
from sealkit.files import is_stream, manifest_files, named_mode, walk


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


@pytest.mark.parametrize(
    ("path", "mode", "stream"),
    [
        ("/dev/stdout", stat.S_IFREG | 0o644, True),  # fd 1 redirected to a file: still written through
        ("/dev/null", stat.S_IFCHR | 0o666, True),
        ("/proc/self/fd/63", stat.S_IFIFO | 0o600, True),
        ("repo/pipe", stat.S_IFIFO | 0o600, True),
        ("repo/tty", stat.S_IFCHR | 0o620, True),
        ("repo/sealed.yaml", stat.S_IFREG | 0o644, False),
        ("/dev/stdout", 0, False),  # could not be looked up: read or written as a file, which says why
    ],
)
def test_streams_are_pipes_devices_and_paths_under_dev_and_proc(path: str, mode: int, stream: bool) -> None:
    assert is_stream(path, mode) is stream


def test_a_named_pipe_is_given_back_as_a_file_and_a_missing_path_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "rendered")
    assert manifest_files([tmp_path / "rendered"]) == [tmp_path / "rendered"]
    assert stat.S_ISFIFO(named_mode(tmp_path / "rendered"))
    with pytest.raises(InputError) as refused:
        manifest_files([tmp_path / "absent"])
    assert str(refused.value) == f"no such file or directory: {tmp_path / 'absent'}"


def test_links_to_directories_are_followed_and_each_directory_read_once(tmp_path: Path) -> None:
    """`clusters/prod/apps -> ../../base/apps` (kustomize and Flux read it) was skipped without a word, so
    `sealkit verify clusters/prod` passed SealedSecrets it never read; links are followed now, and a directory
    reached again (another link to it, a link back up: a loop) is read once."""
    (tmp_path / "base" / "apps").mkdir(parents=True)
    (tmp_path / "base" / "apps" / "db.yaml").write_text("x: 1\n")
    prod = tmp_path / "clusters" / "prod"
    prod.mkdir(parents=True)
    (prod / "own.yaml").write_text("x: 1\n")
    (prod / "apps").symlink_to("../../base/apps")
    (prod / "same-apps").symlink_to("../../base/apps")
    (tmp_path / "base" / "apps" / "up").symlink_to("..")  # a loop: base/apps/up/apps/up/...
    assert manifest_files([prod]) == [prod / "own.yaml", prod / "apps" / "db.yaml"]
    assert manifest_files([tmp_path / "base", prod]) == [tmp_path / "base" / "apps" / "db.yaml", prod / "own.yaml"]
    assert [root for root, _ in walk(prod)] == [str(prod)], "lint and csi walk the tree as it is, links not followed"


def test_each_real_file_is_given_once_at_the_first_path_reaching_it(tmp_path: Path) -> None:
    """A file reachable directly and through a link to it (beside it, in another directory, named again on the
    command line) was verified twice, and re-encrypted twice from the same text; each real file once now. Hard
    links are files of their own (Git keeps them apart): both are given. Pipes are read as often as named."""
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "db.yaml").write_text("x: 1\n")
    (tmp_path / "apps" / "current.yaml").symlink_to("db.yaml")
    (tmp_path / "apps" / "z-other.yaml").symlink_to(tmp_path / "apps" / "db.yaml")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "a.yaml").symlink_to("../apps/db.yaml")
    os.link(tmp_path / "apps" / "db.yaml", tmp_path / "apps" / "hard.yaml")
    (tmp_path / "apps" / "gone.yaml").symlink_to("nowhere.yaml")  # read, so its read says why
    apps = tmp_path / "apps"
    assert manifest_files([apps]) == [apps / "current.yaml", apps / "gone.yaml", apps / "hard.yaml"]
    assert manifest_files([tmp_path]) == [apps / "current.yaml", apps / "gone.yaml", apps / "hard.yaml"]
    assert manifest_files([apps / "db.yaml", apps, tmp_path / "shared"]) == [
        apps / "db.yaml",
        apps / "gone.yaml",
        apps / "hard.yaml",
    ]
    assert manifest_files([apps / "db.yaml", apps / "db.yaml"]) == [apps / "db.yaml"]
    os.mkfifo(tmp_path / "rendered")
    assert manifest_files([tmp_path / "rendered"] * 2) == [tmp_path / "rendered"] * 2
