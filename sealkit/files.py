"""Finding manifest files under the paths a user names (files and directories), and walking a directory
tree so that a directory it cannot read is an error, never a part silently left out (`walk`: used by the
linter's discovery and the CSI generator too)."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path

from sealkit.errors import InputError, os_reason

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
SKIPPED_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__"}


def walk(
    directory: str | Path,
    skipped: Collection[str] = (),
    unreadable: Callable[[str, str], None] | None = None,
    *,
    seen: set[tuple[int, int]] | None = None,
) -> Iterator[tuple[str, list[str]]]:
    """(directory, its file names), both sorted, under `directory`; folders named in `skipped` are left out.
    A directory that cannot be listed stops the walk with an error naming it, or, given `unreadable`, is
    handed to it (path, why) and the walk goes on; one that does not exist (or no longer does) holds nothing.
    Symbolic links to directories are not followed (a link is listed under neither), unless `seen` is given:
    then they are followed, as kustomize and Flux follow them, and each real directory is read once, the
    (st_dev, st_ino) of those read so far kept in `seen` (shareable between walks): one reached again
    (another link to it, a link to a directory above it) is passed over, so a loop of links ends."""

    def refuse(exc: OSError) -> None:
        if exc.errno == errno.ENOENT:
            return
        where = os.fsdecode(exc.filename) if exc.filename is not None else str(directory)
        why = os_reason(exc)
        if unreadable is None:
            raise InputError(f"cannot read directory ({why})", where=where) from None
        unreadable(where, why)

    follow = seen is not None
    if seen is not None and not _first_visit(directory, seen):
        return
    for root, dirs, files in os.walk(directory, onerror=refuse, followlinks=follow):
        kept = sorted(d for d in dirs if d not in skipped)
        if seen is not None:
            kept = [d for d in kept if _first_visit(os.path.join(root, d), seen)]  # noqa: PTH118
        dirs[:] = kept
        yield root, sorted(files)


def _first_visit(directory: str | Path, seen: set[tuple[int, int]]) -> bool:
    """Whether the real directory at `directory` (links followed) is not in `seen` yet; it is then added. One
    that cannot be looked up counts as new: listing it says why."""
    try:
        info = os.stat(directory)  # noqa: PTH116
    except OSError:
        return True
    identity = (info.st_dev, info.st_ino)
    if identity in seen:
        return False
    seen.add(identity)
    return True


def _first_file_visit(path: Path, seen: set[str]) -> bool:
    """Whether the real file at `path` (every link resolved; a link to nothing resolves to where it leads, and
    its read says why) is not in `seen` yet; it is then added."""
    real = os.path.realpath(path)  # never raises: a loop of links is given back as it is
    if real in seen:
        return False
    seen.add(real)
    return True


def manifest_files(paths: Iterable[str | Path]) -> list[Path]:
    """Named files as given (a pipe too: `<(kustomize build)`, /dev/stdin); directories walked for YAML/JSON
    files, sorted, VCS folders skipped, links to directories followed (`clusters/prod/apps -> ../../base/apps`:
    kustomize and Flux read them), each real directory once. Each real file (its path with every link resolved)
    is given once, at the first path that reaches it: a link to a file beside it, or a file also named on its
    own, would otherwise be verified twice, or re-encrypted twice from the same text (hard links are files of
    their own, as in Git: each is rewritten). A named path that cannot be looked up (no permission) is given
    back as a file: its read says why."""
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    files_seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        mode = named_mode(raw)
        if not stat.S_ISDIR(mode):
            if not stat.S_ISREG(mode) or _first_file_visit(path, files_seen):  # a stream: read as often as named
                found.append(path)
            continue
        for root, files in walk(path, SKIPPED_DIRS, seen=seen):
            found.extend(
                Path(root) / f
                for f in files
                if f.lower().endswith(MANIFEST_SUFFIXES) and _first_file_visit(Path(root) / f, files_seen)
            )
    return found


def named_mode(raw: str | Path) -> int:
    """The mode of a path named on the command line, links followed (0 when it cannot be looked up, e.g. no
    permission: read as a file, its read then says why). InputError when nothing is there."""
    try:
        return Path(raw).stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise InputError("no such file or directory", where=os.fspath(raw)) from None
    except OSError:
        return 0


def is_stream(raw: str | Path, mode: int) -> bool:
    """Whether a named path (of `mode`, 0 when unknown) is a stream: a pipe, a terminal or another device, or a
    path under /dev or /proc (/dev/stdout, /dev/fd/63: whatever that descriptor is, a regular file too). A
    stream is read or written through as it is, never replaced by a new file nor rewritten in place."""
    if mode == 0:
        return False
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode):
        return True
    return os.path.abspath(raw).startswith(STREAM_PLACES)  # noqa: PTH100 - a string prefix test


STREAM_PLACES = ("/dev/", "/proc/")


def refuse_link_out_of_repo(
    path: Path, root: Path, where: str | Path | None = None, *, directory_checked: bool = False
) -> None:
    """Refuses a path inside the repo `root` (resolved) that a symbolic link leads out of it: the file itself
    or any directory above it (`clusters/dev/apps -> /etc`). What sealkit wrote through it would land out
    there and never be committed (the repo holds only the link), a stale file deleted there would be
    anyone's, and kustomize refuses such a file too. With `directory_checked` (the caller resolved the
    file's directory already) only the file itself is looked at: one system call instead of one per level."""
    if directory_checked and not path.is_symlink():
        return
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13)
        raise InputError("a loop of symbolic links is in the way", where=where or path) from None
    if not resolved.is_relative_to(root):
        raise InputError(f"a symbolic link out of the repo ({root}) is in the way", where=where or path)
