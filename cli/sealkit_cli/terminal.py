"""Output habits of every command: what goes where depending on whether a person is watching.

Where it sits: the CLI's one place for terminal checks. Results go to stdout and are line-buffered when
stdout is not a terminal (so `sealkit verify ... | tee log` shows each line as it is decided, not at exit);
progress lines and time estimates on repo-wide work go to stderr only when stderr is a terminal (a file,
a pipe or CI gets results and errors, no progress). `-w`'s missing parent directories are made in `io`.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO


def is_terminal(stream: TextIO | None) -> bool:
    """Whether `stream` is an interactive terminal (False for pipes, files, closed or replaced streams)."""
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False


def on_terminal() -> bool:
    """Progress is for people watching: True only when stderr is a terminal."""
    return is_terminal(sys.stderr)


def line_buffer_stdout() -> None:
    """Flush stdout at every newline when it is a pipe or a file (a terminal is line-buffered already)."""
    stream = sys.stdout
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and not is_terminal(stream) and not getattr(stream, "line_buffering", True):
        with contextlib.suppress(ValueError, OSError):  # a detached or closed stream: nothing to buffer
            reconfigure(line_buffering=True)
