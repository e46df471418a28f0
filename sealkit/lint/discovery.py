"""Which files a lint run reads: every committed file that can hold a secret, whatever its name.

Inside a git work tree a directory's files are what git tracks plus what is staged (`git
ls-files --cached`), so ignored build output and local scratch files are not read; a directory
that git ignores (a `rendered/` folder named on purpose) is walked instead.
Outside git, or with `all_files`, directories are walked (VCS metadata folders skipped; without
`all_files` also virtualenvs, `node_modules` and caches). Files named on the command line are
always read; a pipe named there (`sealkit lint <(kustomize build overlay)`, /dev/stdin) is read as
YAML, as stdin is. In a directory, symlinks, sockets and other non-regular files are counted as
skipped (not applicable): a link's target is read where it lives in the tree.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sealkit.files import SKIPPED_DIRS, is_stream, named_mode, walk
from sealkit.lint import catalog, loader
from sealkit.lint.config import CONFIG_NAMES
from sealkit.lint.model import Hit

logger = logging.getLogger(__name__)

VCS_DIRS = frozenset({".git", ".hg", ".svn"})
GIT_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Source:
    """One input: a file on disk, or text from stdin (`path` None)."""

    display: str
    path: Path | None
    data: bytes | None = None
    unreadable: str | None = None  # a directory that could not be listed: why (its files were not found)
    stream: bool = False  # a pipe, device or /dev/stdin named on the command line: YAML, as stdin is

    def read(self, limit: int | None = None) -> bytes | Hit:
        """The whole input, or the finding that says why it cannot be read whole."""
        if self.unreadable is not None:
            why = f"directory cannot be read ({self.unreadable}): its files not checked"
            return Hit(catalog.FILE_UNREADABLE, 1, why)
        cap = loader.max_input_bytes() if limit is None else limit
        if self.data is not None:
            return loader.too_large(cap) if len(self.data) > cap else self.data
        assert self.path is not None
        return loader.read_file(self.path, cap)


@dataclass
class Discovery:
    sources: list[Source] = field(default_factory=list)
    skipped: int = 0  # not applicable: symlinks, special files, the lint config, tracked but deleted
    git: bool = False  # at least one directory was listed by git
    # The directories listed (absolute, normalised, symlinks kept) and whether git listed them (only what it
    # tracks or has staged is read there), and where the repo ends for what a kustomization names: a git
    # listing's work tree; outside git, the directories walked, the directories of the files named, and the
    # current directory.
    listed: list[tuple[str, bool]] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    """`git -C directory ARGS`, bounded in time; None when git is missing or cannot be run."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        return subprocess.run(
            [git, "-C", str(directory), *args], capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _git_files(directory: Path) -> list[str] | None:
    """Paths (relative to `directory`) git tracks or has staged under it; None outside a work tree."""
    result = _git(directory, "ls-files", "-z", "--cached", "--deduplicate")
    if result is None or result.returncode != 0:
        return None
    names = [n for n in result.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    if not names and _git_ignored(directory):
        return None  # an ignored folder (rendered output) named on purpose: walk it
    return names


def _git_top(directory: Path) -> str | None:
    """The top of the work tree holding `directory`, reached from it (`..` joined, so symlinks on the way are
    kept as the paths lint reads are); None when git cannot tell."""
    result = _git(directory, "rev-parse", "--show-cdup")
    if result is None or result.returncode != 0:
        return None
    up = result.stdout.decode("utf-8", "surrogateescape").strip()
    return os.path.normpath(os.path.join(os.path.abspath(directory), up))  # noqa: PTH100, PTH118


def _git_ignored(directory: Path) -> bool:
    result = _git(directory, "check-ignore", "-q", ".")
    return result is not None and result.returncode == 0


def _walk(directory: Path, all_files: bool, found: Discovery) -> list[str]:
    """The files under `directory`; a directory that cannot be listed becomes a source of its own (SK007)."""
    skipped_dirs = VCS_DIRS if all_files else SKIPPED_DIRS
    out: list[str] = []

    def unreadable(where: str, why: str) -> None:
        found.sources.append(Source(where, Path(where), unreadable=why))

    for root, files in walk(directory, skipped_dirs, unreadable):
        base = os.path.relpath(root, directory)
        out.extend(name if base == "." else os.path.join(base, name) for name in files)  # noqa: PTH118
    return out


def _regular(path: Path) -> bool:
    """A regular file (lint reads it); False for symlinks, special files and a file git tracks that is gone
    from the work tree. One that cannot be looked up (no permission, a name too long) counts as a file: its
    read then says why (SK007), never a file skipped without a word."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True
    return stat.S_ISREG(mode)


def discover(paths: Iterable[str | Path], *, all_files: bool = False) -> Discovery:
    """Named files as given; directories through git (tracked and staged) or walked."""
    found = Discovery()
    here = os.path.abspath(os.curdir)  # noqa: PTH100
    for raw in paths:
        path = Path(raw)
        mode = named_mode(raw)
        absolute = os.path.normpath(os.path.abspath(path))  # noqa: PTH100
        if not stat.S_ISDIR(mode):
            found.sources.append(Source(str(raw), path, stream=is_stream(raw, mode)))
            found.roots.extend((os.path.dirname(absolute), here))  # noqa: PTH120
            continue
        names = None if all_files else _git_files(path)
        by_git = names is not None
        top = _git_top(path) if by_git else None
        if names is not None:
            found.git = True
            logger.debug("%s: %d files from git", raw, len(names))
        else:
            names = _walk(path, all_files, found)
        found.listed.append((absolute, by_git))
        found.roots.extend([top] if top is not None else [absolute, here])
        for name in sorted(names):
            full = path / name
            if full.name in CONFIG_NAMES or not _regular(full):
                found.skipped += 1
                continue
            found.sources.append(Source(str(full), full))
    return found
