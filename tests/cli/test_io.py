"""`sealkit_cli.io.write_output`: an output file (`-w`, `--output`) is written whole or not at all, and a
stop signal (Ctrl-C, SIGTERM) while it is written leaves no temporary file beside it."""

from __future__ import annotations

import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
