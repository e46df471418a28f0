"""All or nothing: a failure while staging changes nothing; one while writing puts back what was written."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sealkit import filewrites
from sealkit.errors import InputError
from sealkit.filewrites import FileChange, Staging, current_text, write_all


def test_writes_every_file_with_modes_and_creates_directories(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    old = tmp_path / "old.yaml"
    old.write_text("before, and longer than after\n")
    old.chmod(0o600)
    other_name = tmp_path / "linked.yaml"
    os.link(old, other_name)
    changes = [
        FileChange(old, "after\n", "before, and longer than after\n"),
        FileChange(tmp_path / "a" / "b" / "new.yaml", "new\n"),
    ]
    assert write_all(changes) == changes
    assert old.read_text() == "after\n" and (old.stat().st_mode & 0o777) == 0o600
    assert other_name.read_text() == "after\n", "rewritten in place: the file's other names see the change"
    assert (tmp_path / "a/b/new.yaml").read_text() == "new\n"
    assert ((tmp_path / "a/b/new.yaml").stat().st_mode & 0o777) == 0o644 & ~umask, "a new file: 0644 less the umask"
    assert sorted(p.name for p in tmp_path.rglob(".*")) == [], "no temporary files left"


def test_a_failure_while_writing_restores_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [tmp_path / f"f{i}.yaml" for i in range(4)]
    for f in files:
        f.write_text(f"old {f.name}\n")
    new = tmp_path / "sub" / "new.yaml"
    changes = [FileChange(f, f"new {f.name}, longer\n", f"old {f.name}\n") for f in files] + [FileChange(new, "n\n")]
    real = filewrites._overwrite
    calls = {"n": 0}

    def cut_short(fd: int, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # the third file: half written, then the disk is full
            real(fd, data[: len(data) // 2])
            raise OSError(28, "No space left on device")
        real(fd, data)

    monkeypatch.setattr(filewrites, "_overwrite", cut_short)
    with pytest.raises(InputError, match=r"cannot write \(no space left on device\): .*f2.yaml"):
        write_all(changes)
    assert [f.read_text() for f in files] == [f"old {f.name}\n" for f in files]
    assert not new.exists() and not new.parent.exists()
    assert [p.name for p in tmp_path.rglob(".*")] == []


def test_a_file_changed_meanwhile_stops_the_run_and_nothing_stays_written(tmp_path: Path) -> None:
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text("planned from this\n")
    second.write_text("someone edited this\n")
    changes = [
        FileChange(first, "sealed\n", "planned from this\n"),
        FileChange(second, "sealed\n", "planned from this\n"),
        FileChange(tmp_path / "new.yaml", "n\n"),
    ]
    with pytest.raises(InputError, match=r"changed while sealkit was working; run again: .*second.yaml"):
        write_all(changes)
    assert first.read_text() == "planned from this\n"
    assert second.read_text() == "someone edited this\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.yaml", "second.yaml"]


def test_files_staged_elsewhere_are_placed_or_discarded(tmp_path: Path) -> None:
    staging = Staging()
    staging.stage_new(tmp_path / "d" / "a.yaml", "a\n")
    staging.stage_new(tmp_path / "d" / "b.yaml", "b\n")
    handed = Staging()
    handed.absorb(staging)
    assert write_all([FileChange(tmp_path / "d" / "a.yaml", "a\n")], handed) == [
        FileChange(tmp_path / "d/a.yaml", "a\n")
    ]
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["a.yaml"], "an unused staged file is removed"

    again = Staging()
    again.stage_new(tmp_path / "e" / "c.yaml", "c\n")
    (tmp_path / "d" / "b.yaml").write_text("appeared\n")
    with pytest.raises(InputError, match="appeared while sealkit was working"):
        write_all([FileChange(tmp_path / "e/c.yaml", "c\n"), FileChange(tmp_path / "d/b.yaml", "b\n")], again)
    assert not (tmp_path / "e").exists(), "staged files and the directories made for them are gone"
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["a.yaml", "b.yaml"]


def test_a_failure_while_staging_changes_nothing(tmp_path: Path) -> None:
    ok = tmp_path / "ok.yaml"
    ok.write_text("old\n")
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    with pytest.raises(InputError) as caught:
        write_all([FileChange(ok, "new\n", "old\n"), FileChange(blocked / "child.yaml", "c\n")])
    assert ok.read_text() == "old\n"
    assert ".tmp" not in str(caught.value), "messages name the target, never a temporary file"


def test_a_directory_that_cannot_be_looked_up_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    """A name too long for a file system (ENAMETOOLONG: also as root) above a new file: one line naming the
    directory that cannot be made, never the bare OS error."""
    ok = tmp_path / "ok.yaml"
    ok.write_text("old\n")
    long = tmp_path / ("d" * 300)
    with pytest.raises(InputError) as caught:
        write_all([FileChange(ok, "new\n", "old\n"), FileChange(long / "sub" / "child.yaml", "c\n")])
    assert str(caught.value) == f"cannot create directory {long} (file name too long): {long / 'sub' / 'child.yaml'}"
    assert ok.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.yaml"]


def test_a_file_that_appears_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    change = FileChange(target, "mine\n", None)
    target.write_text("someone else's\n")
    with pytest.raises(InputError, match="appeared while sealkit was working"):
        write_all([change])
    assert target.read_text() == "someone else's\n"


@pytest.mark.parametrize("length", [1, 200, filewrites.NAME_MAX - filewrites.TEMP_ROOM, 250, filewrites.NAME_MAX])
def test_a_file_whose_name_fits_is_written_however_long(tmp_path: Path, length: int) -> None:
    name = ("é" + "a" * length)[:length] if length > 1 else "a"  # a two-byte character first: cut on bytes
    target = tmp_path / name.encode()[: filewrites.NAME_MAX].decode(errors="ignore")
    assert write_all([FileChange(target, "new\n")])
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == [target.name], "the temporary's shortened name is gone too"


def test_a_temporary_prefix_stays_within_the_name_limit() -> None:
    for name in ("a" * 300, "é" * 200, "db.yaml"):
        prefix = filewrites.temporary_prefix(name)
        assert len(os.fsencode(prefix)) + filewrites.TEMP_ROOM <= filewrites.NAME_MAX + 2  # the two dots
        assert prefix.startswith(".") and prefix.endswith(".")
    assert filewrites.temporary_prefix("db.yaml") == ".db.yaml."


def test_a_file_that_is_not_utf8_is_rewritten_and_put_back_byte_for_byte(tmp_path: Path) -> None:
    """`current_text` keeps bytes that are not UTF-8; checking, rewriting and undoing use those very bytes
    (they raised UnicodeEncodeError: a bare 'internal error')."""
    latin = tmp_path / "latin.pem"
    latin.write_bytes(b"caf\xe9\n")
    edited = tmp_path / "edited.pem"
    edited.write_text("edited meanwhile\n")
    first = FileChange(latin, "new\n", current_text(latin))
    with pytest.raises(InputError, match=r"changed while sealkit was working; run again: .*edited.pem"):
        write_all([first, FileChange(edited, "new\n", "planned from this\n")])
    assert latin.read_bytes() == b"caf\xe9\n", "put back as it was"
    assert write_all([first]) == [first] and latin.read_text() == "new\n"


def test_current_text_of_a_file_that_cannot_be_read_names_it(tmp_path: Path) -> None:
    assert current_text(tmp_path / "missing.pem") is None
    (tmp_path / "file").write_text("")
    assert current_text(tmp_path / "file" / "below.pem") is None, "a file above it: no file there either"
    (tmp_path / "dir.pem").mkdir()
    with pytest.raises(InputError) as caught:
        current_text(tmp_path / "dir.pem", "certs/dir.pem")
    assert str(caught.value) == "cannot read (is a directory): certs/dir.pem"


def test_a_symbolic_link_to_nothing_is_in_the_way_not_a_new_file(tmp_path: Path) -> None:
    """Taken for a new file it failed later as 'the file appeared while sealkit was working; run again'."""
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    with pytest.raises(InputError) as caught:
        current_text(tmp_path / "gone.yaml", "overlay/gone.yaml")
    assert str(caught.value) == "a symbolic link to nothing is in the way: overlay/gone.yaml"
    assert not (tmp_path / "nowhere.yaml").exists(), "nothing written through the link"


def test_an_os_error_without_the_systems_words_names_no_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError with no strerror (raised by a library, not the system) still reads as a reason, never as
    Python's name for the exception."""

    def fail(fd: int, data: bytes) -> None:
        raise OSError  # errno and strerror both None

    monkeypatch.setattr(filewrites, "_write_fd", fail)
    target = tmp_path / "new.yaml"
    with pytest.raises(InputError) as caught:
        write_all([FileChange(target, "new\n")])
    assert str(caught.value) == f"cannot write (input/output error): {target}"
    assert "OSError" not in str(caught.value)
    assert sorted(tmp_path.iterdir()) == [], "the temporary file removed"


def _changes(tmp_path: Path) -> tuple[list[Path], Path, list[FileChange]]:
    files = [tmp_path / f"f{i}.yaml" for i in range(3)]
    for f in files:
        f.write_text(f"old {f.name}, the longer text\n")
    new = tmp_path / "sub" / "new.yaml"
    changes = [FileChange(f, f"new {f.name}\n", f"old {f.name}, the longer text\n") for f in files]
    return files, new, [FileChange(new, "n\n"), *changes]


def _untouched(tmp_path: Path, files: list[Path], new: Path) -> None:
    assert [f.read_text() for f in files] == [f"old {f.name}, the longer text\n" for f in files]
    assert not new.exists() and not new.parent.exists(), "the new file and its directory removed"
    assert [p.name for p in tmp_path.rglob(".*")] == [], "no temporary file left"


def test_stopped_right_after_a_new_file_is_placed_it_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signal (Ctrl-C, SIGTERM raising) between placing a file and noting it: it is still found and removed."""
    files, new, changes = _changes(tmp_path)
    real = filewrites._link

    def placed_then_stopped(tmp: str, path: Path) -> None:
        real(tmp, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(filewrites, "_link", placed_then_stopped)
    with pytest.raises(KeyboardInterrupt):
        write_all(changes)
    _untouched(tmp_path, files, new)


def test_stopped_in_the_middle_of_a_rewrite_every_file_holds_what_it_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half of the second file's new text written when the signal comes: before, the file kept the new head
    over the old tail and the first file stayed rewritten."""
    files, new, changes = _changes(tmp_path)
    real = filewrites._write_fd
    calls = {"n": 0}

    def stopped_midway(fd: int, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # 1: the new file staged, 2: f0 rewritten, 3: f1 half rewritten
            real(fd, data[: len(data) // 2])
            raise KeyboardInterrupt
        real(fd, data)

    monkeypatch.setattr(filewrites, "_write_fd", stopped_midway)
    with pytest.raises(KeyboardInterrupt):
        write_all(changes)
    _untouched(tmp_path, files, new)


def test_stopped_while_staging_the_temporary_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def stopped(fd: int, data: bytes) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(filewrites, "_write_fd", stopped)
    staging = Staging()
    with pytest.raises(KeyboardInterrupt):
        staging.stage_new(tmp_path / "sub" / "new.yaml", "n\n")
    staging.discard()
    assert list(tmp_path.iterdir()) == [], "the temporary and the directory made for it removed"


class Stop(BaseException):
    """What the CLI's SIGTERM handler raises (`sealkit_cli.main.Terminated`), for these tests' handler."""


@pytest.fixture
def sigterm_raises() -> Iterator[Callable[[], None]]:
    """SIGTERM raises Stop while the test runs; yields a function sending SIGTERM to this (the main) thread."""

    def stop(signum: int, frame: object) -> None:
        raise Stop

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield lambda: signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_signal_as_the_temporary_is_made_leaves_it_noted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sigterm_raises: Callable[[], None]
) -> None:
    """Making an inode is the slow part: a signal then was raised as os.open returned, before the name was
    noted, and `discard` did not know the file (it stayed as `.new.yaml.<pid>.0.tmp`)."""
    real = os.open

    def open_then_signalled(path: Any, flags: int, mode: int = 0o777) -> int:
        fd = real(path, flags, mode)
        if flags & os.O_CREAT:
            sigterm_raises()
        return fd

    monkeypatch.setattr(filewrites.os, "open", open_then_signalled)
    staging = Staging()
    with pytest.raises(Stop):
        staging.stage_new(tmp_path / "sub" / "new.yaml", "n\n")
    monkeypatch.undo()
    staging.discard()
    assert list(tmp_path.iterdir()) == [], "the temporary and its directory removed"


def test_a_signal_as_a_directory_is_made_removes_the_directories_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sigterm_raises: Callable[[], None]
) -> None:
    real = Path.mkdir

    def mkdir_then_signalled(self: Path, *args: Any, **kwargs: Any) -> None:
        real(self, *args, **kwargs)
        sigterm_raises()

    monkeypatch.setattr(Path, "mkdir", mkdir_then_signalled)
    with pytest.raises(Stop):
        filewrites.make_parents(tmp_path / "a" / "b" / "new.yaml")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == [], "a/ and a/b/ removed again"


def test_a_signal_while_files_are_placed_waits_and_then_undoes_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sigterm_raises: Callable[[], None]
) -> None:
    files, new, changes = _changes(tmp_path)
    real = filewrites._link

    def link_then_signalled(tmp: str, path: Path) -> None:
        real(tmp, path)
        sigterm_raises()

    monkeypatch.setattr(filewrites, "_link", link_then_signalled)
    with pytest.raises(Stop):
        write_all(changes)
    _untouched(tmp_path, files, new)


def test_a_handler_raising_as_signals_are_held_leaves_the_mask_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """A signal that came just before: its handler raises as the blocking call returns. The mask was left
    blocking SIGINT and SIGTERM for good (in a test runner: every later child process inherited it)."""
    real = signal.pthread_sigmask
    before = real(signal.SIG_BLOCK, ())

    def blocked_then_raised(how: int, mask: Any) -> Any:
        previous = real(how, mask)
        if how == signal.SIG_BLOCK and signal.SIGTERM in set(mask):
            raise Stop
        return previous

    monkeypatch.setattr(signal, "pthread_sigmask", blocked_then_raised)
    with pytest.raises(Stop), filewrites.uninterrupted():
        pass
    monkeypatch.undo()
    assert real(signal.SIG_BLOCK, ()) == before


def test_current_text_refuses_a_pipe_without_waiting_and_a_file_over_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipe where a file is about to be rewritten blocked the read for ever; a huge file was read whole.
    (A watchdog opens the pipe's other end after 5 s, so that a regression fails instead of hanging.)"""
    pipe = tmp_path / "pipe.yaml"
    os.mkfifo(pipe)
    watchdog = threading.Timer(5.0, lambda: os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)))
    watchdog.start()
    try:
        with pytest.raises(InputError) as refused:
            current_text(pipe, where="overlay/pipe.yaml")
    finally:
        watchdog.cancel()
    assert str(refused.value) == "cannot read (not a regular file): overlay/pipe.yaml"
    big = tmp_path / "big.yaml"
    big.write_bytes(b"x" * 2048)
    monkeypatch.setenv("SEALKIT_MAX_INPUT_BYTES", "1024")
    with pytest.raises(InputError) as over:
        current_text(big)
    assert str(over.value).startswith("larger than the ") and str(over.value).endswith(f": {big}")
    assert current_text(tmp_path / "absent.yaml") is None
