"""Finding manifest files under the paths a user names (files and directories), and walking a directory
tree so that a directory it cannot read is an error, never a part silently left out (`walk`: used by the
linter's discovery and the CSI generator too)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path

from sealkit.errors import InputError, os_reason

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
SKIPPED_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__"}


def walk(
    directory: str | Path,
    skipped: Collection[str] = (),
    unreadable: Callable[[str, str], None] | None = None,
) -> Iterator[tuple[str, list[str]]]:
    """(directory, its file names), both sorted, under `directory`; folders named in `skipped` are left out.
    A directory that cannot be listed stops the walk with an error naming it, or, given `unreadable`, is
    handed to it (path, why) and the walk goes on; one that does not exist (or no longer does) holds nothing."""

    def refuse(exc: OSError) -> None:
        if exc.errno == errno.ENOENT:
            return
        where = os.fsdecode(exc.filename) if exc.filename is not None else str(directory)
        why = os_reason(exc)
        if unreadable is None:
            raise InputError(f"cannot read directory ({why})", where=where) from None
        unreadable(where, why)

    for root, dirs, files in os.walk(directory, onerror=refuse):
        dirs[:] = sorted(d for d in dirs if d not in skipped)
        yield root, sorted(files)


def manifest_files(paths: Iterable[str | Path]) -> list[Path]:
    """Named files as given; directories walked for YAML/JSON files, sorted, VCS folders skipped."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            for root, files in walk(path, SKIPPED_DIRS):
                found.extend(Path(root) / f for f in files if f.lower().endswith(MANIFEST_SUFFIXES))
        else:
            raise InputError("no such file or directory", where=raw)
    return found
