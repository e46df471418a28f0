"""Writing a set of files all or nothing: every file staged beside its target first, then all renamed.

Where it sits: the core, for commands that change many files in one run (`sealkit seal --env`, `set`,
`reencrypt --env`): when any file cannot be written, none is changed. Staging (a temporary file in the
target's own directory, so the rename is atomic) catches full disks, permissions and missing directories
before any target changes; a failure while renaming puts back what was already renamed. A new file is
linked into place (never over a file that appeared meanwhile). Messages name the target, never a
temporary path.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sealkit.errors import InputError

NEW_FILE_MODE = 0o644


@dataclass(frozen=True)
class FileChange:
    """One file's new content; `old` is what it held when the change was planned (None: a new file)."""

    path: Path
    text: str
    old: str | None = None
    mode: int | None = None  # None: the existing file's mode, else NEW_FILE_MODE

    @property
    def changed(self) -> bool:
        return self.text != self.old


def _fail(what: str, change: FileChange, exc: OSError) -> InputError:
    return InputError(f"{what} ({exc.strerror or type(exc).__name__}): {change.path}")


def _mode(change: FileChange) -> int:
    if change.mode is not None:
        return change.mode
    if change.old is None:
        return NEW_FILE_MODE
    try:
        return change.path.stat().st_mode & 0o777
    except OSError:
        return NEW_FILE_MODE


def _stage(change: FileChange, made_dirs: list[Path], present: set[Path] | None = None) -> str:
    """`change` written to a new temporary file beside its target (its directories made as needed)."""
    parent = change.path.parent
    missing = []
    known = present is not None and parent in present  # most files go to a directory already seen
    for directory in () if known else (parent, *parent.parents):
        if (present is not None and directory in present) or directory.exists():
            break
        missing.append(directory)
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise _fail("cannot create the directory", change, exc) from None
        made_dirs.append(directory)
    if present is not None:
        present.add(parent)
    mode = _mode(change)
    data = change.text.encode("utf-8")
    for attempt in range(100):
        tmp = str(parent / f".{change.path.name}.{os.getpid()}.{attempt}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise _fail("cannot write", change, exc) from None
    else:
        raise InputError(f"cannot write (no free temporary name beside it): {change.path}")
    try:
        if change.old is not None or change.mode is not None:  # an existing file keeps its mode exactly
            os.fchmod(fd, mode)  # (a new one gets NEW_FILE_MODE less the umask, as any new file does)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise _fail("cannot write", change, exc) from None
    os.close(fd)
    return tmp


def _place(tmp: str, change: FileChange) -> None:
    if change.old is None:
        try:
            os.link(tmp, change.path)
        except FileExistsError:
            raise InputError(f"the file appeared while sealkit was working; run again: {change.path}") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            if change.path.exists():
                raise InputError(f"the file appeared while sealkit was working; run again: {change.path}") from None
            Path(tmp).replace(change.path)
            return
        os.unlink(tmp)  # noqa: PTH108 - a plain string path, once per file
        return
    Path(tmp).replace(change.path)


def _undo(done: list[FileChange]) -> None:
    """Put back what was already renamed (best effort: this runs only after another failure)."""
    for change in reversed(done):
        with contextlib.suppress(OSError):
            if change.old is None:
                change.path.unlink()
            else:
                tmp = _stage(FileChange(change.path, change.old, None, _mode(change)), [])
                Path(tmp).replace(change.path)


def write_all(changes: Sequence[FileChange]) -> list[FileChange]:
    """Write every changed file, or none; returns the changes that were written."""
    todo = [c for c in changes if c.changed]
    seen: set[Path] = set()
    for change in todo:
        if change.path in seen:
            raise InputError(f"two changes to one file in one run: {change.path}")
        seen.add(change.path)
    made_dirs: list[Path] = []
    staged: list[tuple[str, FileChange]] = []
    try:
        present: set[Path] = set()  # directories known to exist: one check per directory, not per file
        for change in todo:
            staged.append((_stage(change, made_dirs, present), change))
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        for directory in reversed(made_dirs):
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    done: list[FileChange] = []
    try:
        for tmp, change in staged:
            try:
                _place(tmp, change)
            except OSError as exc:
                raise _fail("cannot replace", change, exc) from None
            done.append(change)
    except BaseException:
        _undo(done)
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        for directory in reversed(made_dirs):
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    return done
