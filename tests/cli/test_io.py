"""`sealkit_cli.io.write_output`: an output file (`-w`, `--output`) is written whole or not at all, and a
stop signal (Ctrl-C, SIGTERM) while it is written leaves no temporary file beside it."""

from __future__ import annotations

import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sealkit.errors import InputError
from sealkit_cli import io


class Stop(BaseException):
    """What the CLI's SIGTERM handler raises (`sealkit_cli.main.Terminated`), for this test's handler."""


@pytest.fixture
def sigterm_raises() -> Iterator[None]:
    def stop(signum: int, frame: object) -> None:
        raise Stop

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_signal_as_the_temporary_is_made_waits_until_the_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sigterm_raises: None
) -> None:
    """Raised as mkstemp returned (making the inode is the slow part), it left `.out.yaml.XXXX` behind."""
    real = tempfile.mkstemp

    def made_then_signalled(*args: Any, **kwargs: Any) -> tuple[int, str]:
        made = real(*args, **kwargs)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
        return made

    monkeypatch.setattr(tempfile, "mkstemp", made_then_signalled)
    target = tmp_path / "sealed" / "out.yaml"
    with pytest.raises(Stop):
        io.write_output("kind: SealedSecret\n", str(target))
    assert target.read_text() == "kind: SealedSecret\n", "written whole, then the signal"
    assert [p.name for p in target.parent.iterdir()] == ["out.yaml"], "no temporary beside it"


def test_a_pipe_is_written_through_and_stays_a_pipe(tmp_path: Path) -> None:
    """`-w /dev/stdout`, `-w >(cmd)`, `-w /dev/null`: written into as `open(path, "w")` would; as root the
    temporary-and-rename write made a file in its directory and renamed it over the pipe or device."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # opened first: the write's open does not wait
    try:
        io.write_output("kind: SealedSecret\n", str(pipe))
        received = os.read(reader, 1000)
    except BlockingIOError:
        received = b""  # nothing came through the pipe
    finally:
        os.close(reader)
    assert received == b"kind: SealedSecret\n"
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_pipe_is_not_rewritten_in_place(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(InputError) as refused:
        io.write_output("kind: SealedSecret\n", str(pipe), in_place=True)
    assert str(refused.value) == f"not a regular file, so it cannot be rewritten in place: {pipe}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_symbolic_link_stays_and_the_file_it_leads_to_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "sealed.yaml"
    real.write_text("old\n")
    link = tmp_path / "sealed.yaml"
    link.symlink_to(real)
    io.write_output("new\n", str(link))
    assert link.is_symlink() and link.readlink() == real
    assert real.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real", "sealed.yaml"]
    assert [p.name for p in (tmp_path / "real").iterdir()] == ["sealed.yaml"]


def test_a_symbolic_link_to_nothing_is_refused_and_nothing_is_made(tmp_path: Path) -> None:
    link = tmp_path / "sealed.yaml"
    link.symlink_to(tmp_path / "absent.yaml")
    with pytest.raises(InputError) as refused:
        io.write_output("new\n", str(link))
    assert str(refused.value) == f"a symbolic link to nothing is in the way: {link}"
    assert [p.name for p in tmp_path.iterdir()] == ["sealed.yaml"] and link.is_symlink()
