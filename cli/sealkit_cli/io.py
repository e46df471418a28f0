"""Files in and out for the CLI: stdin or a file (through the core's bounded reader), atomic writes, format
from the file name.

Every command's output file (`-w`, `--output`, `--to-file`) is written the same way: missing parent
directories are created first (as `mkdir -p` would); when one cannot be, the error names it, and when the
file itself then cannot be written, the directories made for it are removed again.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from sealkit.errors import InputError, os_reason
from sealkit.reading import read_file, read_stdin

if TYPE_CHECKING:
    from pathlib import Path

YAML_SUFFIXES = (".yaml", ".yml")


def read_input(path: str) -> tuple[bytes, str]:
    """The bytes of `path` (`-` is stdin) and a name for error messages, within the input size cap."""
    if path == "-":
        if sys.stdin.isatty():
            raise InputError("no input: give -f FILE or pipe a manifest on stdin", where="stdin")
        return read_stdin(), "stdin"
    return read_file(path), path


def output_format(explicit: str | None, output_path: str | None, default: str = "yaml") -> str:
    """`-o` when given, else the output file's extension, else `default`."""
    if explicit:
        return explicit
    if output_path and output_path != "-":
        suffix = os.path.splitext(output_path)[1].lower()  # noqa: PTH122 - no pathlib: `sealkit seal` starts without it
        if suffix == ".json":
            return "json"
        if suffix in YAML_SUFFIXES:
            return "yaml"
    return default


def write_output(text: str, path: str | None, *, mode: int = 0o644) -> None:
    """Print to stdout, or replace `path` atomically (write a temp file beside it, then rename)."""
    if path is None or path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from pathlib import Path  # only when writing a file

    from sealkit.filewrites import uninterrupted

    target = Path(path)
    with uninterrupted():  # Ctrl-C or SIGTERM waits (the file is written, or nothing is): no temporary left
        _write_beside(text, target, path, mode, make_parents(target))


def _write_beside(text: str, target: Path, path: str, mode: int, made: list[Path]) -> None:
    """`text` into a temporary file beside `target` (`path` as the user gave it, for messages), renamed over
    it; on failure the temporary and the directories `made` for it are removed."""
    import tempfile
    from pathlib import Path

    from sealkit.filewrites import remove_made_dirs, temporary_prefix

    directory = target.parent if str(target.parent) else Path()
    try:
        try:
            fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(target.name), dir=directory)
        except FileNotFoundError:
            raise InputError("the directory does not exist", where=path) from None
        except PermissionError:
            raise InputError("permission denied", where=path) from None
        except OSError as exc:
            raise InputError(f"cannot write ({os_reason(exc)})", where=path) from None
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            Path(tmp).replace(target)
        except OSError as exc:  # the message names the target, never the temporary file beside it
            Path(tmp).unlink(missing_ok=True)
            raise InputError(f"cannot write ({os_reason(exc)})", where=path) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except BaseException:
        remove_made_dirs(made)  # nothing left behind by a write that failed
        raise


def make_parents(target: Path) -> list[Path]:
    """Create the missing directories above `target`; when one cannot be made, say which and why. Returns the
    ones made (outermost first), for `filewrites.remove_made_dirs` when the write then fails."""
    from sealkit.filewrites import make_parents as make  # not at import: `seal` starts without it

    return make(target)
