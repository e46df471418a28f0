"""Files in and out for the CLI: stdin or a file (through the core's bounded reader), atomic writes, format
from the file name.

Every command's output file (`-w`, `--output`, `--to-file`) is written the same way: missing parent
directories are created first (as `mkdir -p` would); when one cannot be, the error names it, and when the
file itself then cannot be written, the directories made for it are removed again.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import TYPE_CHECKING

from sealkit.errors import InputError, os_reason
from sealkit.reading import read_file, read_stdin

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

YAML_SUFFIXES = (".yaml", ".yml")
IN_PLACE_STREAM = "not a regular file, so it cannot be rewritten in place"


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


def write_output(text: str, path: str | None, *, mode: int = 0o644, in_place: bool = False) -> None:
    """Print to stdout, or replace `path` atomically (write a temp file beside it, then rename). A symbolic
    link stays: the file it leads to is replaced. A stream (`-w /dev/stdout`, a pipe, /dev/null: see
    `sealkit.files.is_stream`) is written through as it is, never replaced by a file; with `in_place` (a file
    read and now rewritten: reencrypt, --merge-into) a stream is refused, as it cannot be written back."""
    if path is None or path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from sealkit.filewrites import uninterrupted  # only when writing a file

    target = output_target(path, stream_refused=IN_PLACE_STREAM if in_place else None)
    if target is None:
        _write_through(text, path)
        return
    with uninterrupted():  # Ctrl-C or SIGTERM waits (the file is written, or nothing is): no temporary left
        _write_beside(text, target, path, mode, make_parents(target))


def refuse_plaintext_over(output_path: str | None, inputs: Iterable[tuple[str, str]]) -> None:
    """Before a command that writes plaintext (`unseal`, `kubeseal --recovery-unseal`) reads anything: its
    output file must not be one of its `inputs` (each path with the flag naming it; `-` is stdin), by path,
    link or hard link (the same device and inode), nor a file that holds a SealedSecret now. Either would be
    replaced by the plaintext Secret, in a config repo one `git commit -a` from a leak. A stream (`-w
    /dev/stdout`) is written through, never replaced: not refused."""
    if output_path is None or output_path == "-":
        return
    try:
        out = os.stat(output_path)  # noqa: PTH116 - what the path leads to, through links
    except OSError:  # not there yet (or not reachable: the write says why)
        return
    if not stat.S_ISREG(out.st_mode):
        return
    for path, flag in inputs:
        try:
            given = os.fstat(sys.stdin.fileno()) if path == "-" else os.stat(path)  # noqa: PTH116
        except (OSError, ValueError):  # no such file (its read says so), or a stdin without a descriptor
            continue
        if (given.st_dev, given.st_ino) == (out.st_dev, out.st_ino):
            what = "stdin" if path == "-" else flag
            raise InputError(
                f"the output file is the {what} input; the plaintext Secret would replace it (choose another -w)",
                where=output_path,
            )
    if _holds_sealed_secret(output_path):
        raise InputError(
            "the output file holds a SealedSecret; the plaintext Secret would replace it "
            "(choose another -w, or remove the file first)",
            where=output_path,
        )


def _holds_sealed_secret(path: str) -> bool:
    """Whether the file at `path` reads as manifests with a SealedSecret among them (a List's items too). A
    file that does not read as manifests is no SealedSecret kubectl or Flux would apply: False."""
    from sealkit.reading import load_documents
    from sealkit.sealedsecret import is_sealed_secret, listed_sealed_secrets

    try:
        documents = load_documents(read_file(path), path)
    except InputError:
        return False
    return any(is_sealed_secret(doc.obj) or listed_sealed_secrets(doc.obj) for doc in documents)


def output_target(path: str, *, stream_refused: str | None = None) -> Path | None:
    """The file to replace for the output path `path`: itself, or the file its symbolic link leads to (the link
    stays); None for a stream (`sealkit.files.is_stream`: written through, never replaced), or with
    `stream_refused` an InputError saying that (a rewrite in place; key material). A link to nothing is
    refused: placing a file there would replace the link."""
    from pathlib import Path

    from sealkit.files import is_stream

    try:
        mode = os.stat(path).st_mode  # noqa: PTH116 - the mode of what the path leads to
    except FileNotFoundError:
        if os.path.islink(path):  # noqa: PTH114
            raise InputError("a symbolic link to nothing is in the way", where=path) from None
        return Path(path)
    except OSError:  # not there yet, or not reachable: the write says why
        return Path(path)
    if is_stream(path, mode):
        if stream_refused is not None:
            raise InputError(stream_refused, where=path)
        return None
    return Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)  # noqa: PTH114


def _write_through(text: str, path: str) -> None:
    """`text` written into a stream as `open(path, "w")` would (a pipe, a terminal, /dev/stdout, /dev/null)."""
    try:
        with open(path, "w", encoding="utf-8") as handle:  # noqa: PTH123
            handle.write(text)
    except OSError as exc:
        raise InputError(f"cannot write ({os_reason(exc)})", where=path) from None


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
