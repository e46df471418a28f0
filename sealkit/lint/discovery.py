"""Which files a lint run reads: every committed file that can hold a secret, whatever its name.

Inside a git work tree a directory's files are what git tracks plus what is staged (`git
ls-files --cached`), so ignored build output and local scratch files are not read; a directory
that git ignores (a `rendered/` folder named on purpose) is walked instead. A git submodule is read
through its own git (one not checked out is SK007).
Outside git, or with `all_files`, directories are walked (VCS metadata folders skipped; without
`all_files` also virtualenvs, `node_modules` and caches). Files named on the command line are
always read; a pipe named there (`sealkit lint <(kustomize build overlay)`, /dev/stdin) is read as
YAML, as stdin is. In a directory, sockets and other special files are counted as skipped (not
applicable). Symbolic links are followed as kustomize (and Argo CD, kubectl -k) follow them, each real
file and directory once: a link whose target this run reads anyway is counted as skipped; one leading to
a file or directory in the repo that it does not read (`clusters/prod/apps -> ../../base/apps` when only
`clusters/prod` is linted) has that target read under the link's path; one leading out of the repo, to
nothing, or round in a loop is an error naming the link (SK007): what it leads to cannot be checked.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sealkit.errors import os_reason
from sealkit.files import SKIPPED_DIRS, is_stream, named_mode
from sealkit.lint import catalog, loader
from sealkit.lint.config import CONFIG_NAMES
from sealkit.lint.model import Hit

logger = logging.getLogger(__name__)

VCS_DIRS = frozenset({".git", ".hg", ".svn"})
GIT_TIMEOUT_SECONDS = 60
LINK_FIX = "Commit what the link leads to in the repo (or point the link at it there), or remove the link."


@dataclass(frozen=True)
class Source:
    """One input: a file on disk, or text from stdin (`path` None)."""

    display: str
    path: Path | None
    data: bytes | None = None
    unreadable: str | None = None  # a directory that could not be listed: why (its files were not found)
    link: str | None = None  # a symbolic link lint cannot follow: why (what it leads to was not checked)
    stream: bool = False  # a pipe, device or /dev/stdin named on the command line: YAML, as stdin is
    config: bool = False  # named as lint's config (.sealkit-lint.yaml): not linted, but still checked for keys

    def read(self, limit: int | None = None) -> bytes | Hit:
        """The whole input, or the finding that says why it cannot be read whole."""
        if self.unreadable is not None:
            why = f"directory cannot be read ({self.unreadable}): its files not checked"
            return Hit(catalog.FILE_UNREADABLE, 1, why)
        if self.link is not None:
            return Hit(
                catalog.FILE_UNREADABLE, 1, f"symbolic link {self.link}: what it leads to is not checked", LINK_FIX
            )
        cap = loader.max_input_bytes() if limit is None else limit
        if self.data is not None:
            return loader.too_large(cap) if len(self.data) > cap else self.data
        assert self.path is not None
        return loader.read_file(self.path, cap)


@dataclass
class Discovery:
    sources: list[Source] = field(default_factory=list)
    skipped: int = 0  # not applicable: links to what is read anyway, special files, tracked but deleted
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


def _walk(directory: Path, all_files: bool, found: Discovery) -> tuple[list[str], list[str]]:
    """The regular files and the symbolic links under `directory` (relative names; links to directories are
    not descended into here), other special files counted as skipped; a directory that cannot be listed
    becomes a source of its own (SK007). `os.scandir` tells each entry's type from the listing itself, so no
    file needs a system call of its own."""
    skipped_dirs = VCS_DIRS if all_files else SKIPPED_DIRS
    files: list[str] = []
    links: list[str] = []
    pending = [""]
    while pending:
        base = pending.pop()
        where = os.path.join(directory, base) if base else os.fspath(directory)  # noqa: PTH118
        try:
            with os.scandir(where) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except FileNotFoundError:
            continue  # gone since it was listed: it holds nothing
        except OSError as exc:
            found.sources.append(Source(where, Path(where), unreadable=os_reason(exc)))
            continue
        below: list[str] = []
        for entry in entries:
            name = os.path.join(base, entry.name) if base else entry.name  # noqa: PTH118
            kind = _entry_kind(entry)
            if kind == "dir":
                if entry.name not in skipped_dirs:
                    below.append(name)
            elif kind == "link":
                links.append(name)
            elif kind == "file":
                files.append(name)
            else:
                found.skipped += 1
        pending.extend(reversed(below))
    return files, links


def _entry_kind(entry: os.DirEntry[str]) -> str:
    """ "file", "dir", "link" or "other" for one listed entry; one whose type cannot be told counts as a file:
    its read then says why (SK007)."""
    try:
        if entry.is_symlink():
            return "link"
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        return "file" if entry.is_file(follow_symlinks=False) else "other"
    except OSError:
        return "file"


def _kind(path: Path) -> str:
    """ "file" (lint reads it), "link", "dir" (in a git listing: a submodule), "gone" (a file git tracks that is
    gone from the work tree) or "other" (a special file). One that cannot be looked up (no permission, a name
    too long) counts as a file: its read then says why (SK007), never a file skipped without a word."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "gone"
    except OSError:
        return "file"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return "link" if stat.S_ISLNK(mode) else "other"


def discover(paths: Iterable[str | Path], *, all_files: bool = False) -> Discovery:
    """Named files as given; directories through git (tracked and staged) or walked; then the symbolic links
    found there, followed (see the module's docstring)."""
    found = Discovery()
    links = _Links(found, all_files)
    here = os.path.abspath(os.curdir)  # noqa: PTH100
    for raw in paths:
        path = Path(raw)
        mode = named_mode(raw)
        absolute = os.path.normpath(os.path.abspath(path))  # noqa: PTH100
        if not stat.S_ISDIR(mode):
            found.sources.append(Source(str(raw), path, stream=is_stream(raw, mode)))
            found.roots.extend((os.path.dirname(absolute), here))  # noqa: PTH120
            links.named.append(path)
            continue
        names = None if all_files else _git_files(path)
        by_git = names is not None
        top = _git_top(path) if by_git else None
        if names is not None:
            found.git = True
            logger.debug("%s: %d files from git", raw, len(names))
        found.listed.append((absolute, by_git))
        found.roots.extend([top] if top is not None else [absolute, here])
        links.add_listing(path, names, by_git)
    links.follow()
    return found


class _Links:
    """Follows the symbolic links found in the listings of one run, each real file and directory once.

    Every listing (a directory named, or a directory a link leads to) is kept as its real directory, with
    the real paths of the files read from it; these are string joins, made only once a link is met. A link
    to a file or directory already covered is passed over (counted as skipped); a link to a directory in the
    repo not covered yet is listed in its turn (by git when the link was, else walked), under the link's
    path, so a chain or loop of links ends once every real directory it reaches is covered."""

    def __init__(self, found: Discovery, all_files: bool) -> None:
        self.found = found
        self.all_files = all_files
        self.named: list[Path] = []  # files named on the command line
        self.listings: list[tuple[Path, list[str], bool]] = []  # (directory, its files, by git)
        self.pending: list[tuple[Path, bool]] = []  # (link, found in a git listing)
        self._covered: list[tuple[str, bool]] | None = None  # real directories listed, by git
        self._real_files: set[str] = set()

    def add_listing(self, path: Path, names: list[str] | None, by_git: bool) -> None:
        """The files of the directory at `path`: from git (`names`), or walked. While links are followed, what
        an earlier listing covered is left out (a linked directory holding one listed already)."""
        files: list[str] = []
        if names is None:
            walked, link_names = _walk(path, self.all_files, self.found)
            links = [(n, False) for n in link_names]
        else:
            walked, links = [], []
            for name in names:
                kind = _kind(path / name)
                if kind == "file":
                    walked.append(name)
                elif kind == "link":
                    links.append((name, True))
                elif kind == "dir":
                    self._submodule(path / name)
                else:
                    self.found.skipped += 1
        if self._covered is not None:
            real = os.path.realpath(path)
            walked = [n for n in walked if os.path.join(real, n) not in self._real_files]  # noqa: PTH118
            links = [(n, g) for n, g in links if not self._covers(_joined(real, os.path.dirname(n)), True)]  # noqa: PTH120
        self.pending.extend((path / n, g) for n, g in links)
        for name in sorted(walked):
            full = path / name
            files.append(name)
            self.found.sources.append(Source(str(full), full, config=full.name in CONFIG_NAMES))
        self.listings.append((path, files, by_git))
        if self._covered is not None:
            self._cover(path, files, by_git)

    def _submodule(self, path: Path) -> None:
        """A directory git lists is a submodule (a gitlink): Flux clones it with `recurseSubmodules`, and it is
        the repo's as much as any file. Checked out, what it tracks is read; not checked out, it is SK007 naming
        it (lint cannot tell what it holds)."""
        names = _git_files(path) if (path / ".git").exists() else None
        if names is None:
            self.found.sources.append(Source(str(path), path, unreadable="a git submodule that is not checked out"))
            return
        self.found.listed.append((os.path.normpath(os.path.abspath(path)), True))  # noqa: PTH100
        self.add_listing(path, names, True)

    def _cover(self, path: Path, files: list[str], by_git: bool) -> None:
        assert self._covered is not None
        real = os.path.realpath(path)
        self._covered.append((real, by_git))
        self._real_files.update(os.path.join(real, n) for n in files)  # noqa: PTH118

    def _covers(self, real: str, is_dir: bool) -> bool:
        """Whether the real file or directory at `real` is read by this run already."""
        if not is_dir:
            return real in self._real_files
        assert self._covered is not None
        skipped_dirs = VCS_DIRS if self.all_files else SKIPPED_DIRS
        for directory, by_git in self._covered:
            if real == directory or real.startswith(directory.rstrip(os.sep) + os.sep):  # the one or below it
                inside = Path(os.path.relpath(real, directory)).parts
                if by_git or not any(part in skipped_dirs for part in inside):
                    return True
        return False

    def follow(self) -> None:
        if not self.pending:
            return
        self._covered = []
        for path, files, by_git in self.listings:
            self._cover(path, files, by_git)
        self._real_files.update(os.path.realpath(p) for p in self.named)
        roots = [os.path.realpath(r) for r in self.found.roots]
        while self.pending:
            link, by_git = self.pending.pop(0)
            self._one(link, by_git, roots)

    def _one(self, link: Path, by_git: bool, roots: list[str]) -> None:
        try:
            mode = link.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            self._refuse(link, "to nothing (dangling)")
            return
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self._refuse(link, "in a loop of links")
            else:
                self._refuse(link, f"that cannot be followed ({os_reason(exc)})")
            return
        real = os.path.realpath(link)
        if not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
            self._refuse(link, "out of the repo")
            return
        is_dir = stat.S_ISDIR(mode)
        if self._covers(real, is_dir) or not (is_dir or stat.S_ISREG(mode)):
            self.found.skipped += 1  # read where it lives (or a link to a special file: not applicable)
            return
        if not is_dir:
            self._real_files.add(real)
            self.found.sources.append(Source(str(link), link, config=link.name in CONFIG_NAMES))
            return
        names = _git_files(Path(real)) if by_git else None
        self.found.listed.append((os.path.normpath(os.path.abspath(link)), names is not None))  # noqa: PTH100
        self.add_listing(link, names, names is not None)

    def _refuse(self, link: Path, why: str) -> None:
        self.found.sources.append(Source(str(link), link, link=f"leads {why}"))


def _joined(directory: str, name: str) -> str:
    return os.path.normpath(os.path.join(directory, name))  # noqa: PTH118
