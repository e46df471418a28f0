"""Writing a set of files all or nothing: new files staged first, then every file placed; any failure undone.

Where it sits: the core, for commands that change many files in one run (`sealkit seal --env`, `set`,
`reencrypt --env`, `certs pull`, `csi seal-creds`): when any file cannot be written, none is changed.

- A new file is first written to a temporary file in its target's own directory (`stage_new`: catches
  full disks, permissions and missing directories before any target changes), then linked into place,
  never over a file that appeared meanwhile.
- An existing file is rewritten in place, as `kubeseal --merge-into` and editors that keep a file's
  identity do: its mode, owner, ACLs and hard links stay. Just before, its bytes are read back and must
  still be what the change was planned from, else the run stops ("changed while sealkit was working").
  An interrupted process (power loss, `kill -9`) can leave the one file it was writing cut short; every
  error, though, puts back what was already written.

Staging is separate (`Staging`) so that worker processes can stage their new files in parallel and hand
the temporary names to the writer. Messages name the target, never a temporary path.

Ctrl-C and SIGTERM (which the CLI raises like Ctrl-C) wait while files are placed, put back or removed
(`uninterrupted`), and are raised when that is done: a stopped run changes nothing and leaves no temporary
file, instead of stopping between two files of one set.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sealkit.errors import InputError, os_reason

NEW_FILE_MODE = 0o644
NAME_MAX = 255  # bytes in one file name, on every file system a config repo lives on
TEMP_ROOM = 32  # what a temporary name adds after its prefix: ".<pid>.<n>.tmp", or mkstemp's 8 characters


@dataclass(frozen=True)
class FileChange:
    """One file's new content; `old` is what it held when the change was planned (None: a new file);
    `shown` is how an error names it (e.g. its path in the repo; default: `path`)."""

    path: Path
    text: str
    old: str | None = None
    shown: str | None = None

    @property
    def changed(self) -> bool:
        return self.text != self.old


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """SIGINT and SIGTERM held (delivered, and raised, on leaving) in a process whose only thread this is:
    Python runs signal handlers in the main thread, so with other threads running (which the CLI's writing
    commands never have) a signal one of them takes is raised here all the same."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    # The mask to put back is read first, without changing it: a handler raising as the blocking call
    # returns (a signal that came just before) is then inside `try`, and the mask is put back all the same.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def temporary_prefix(name: str) -> str:
    """`.NAME.`, NAME cut short where needed so that a temporary name made from it (at most TEMP_ROOM more
    bytes) fits where a file called NAME fits: a long Secret's file must not fail for its temporary's name."""
    raw = os.fsencode(name)
    if len(raw) > NAME_MAX - TEMP_ROOM:
        name = os.fsdecode(raw[: NAME_MAX - TEMP_ROOM])
    return f".{name}."


def current_text(path: Path, where: str | Path | None = None) -> str | None:
    """A file's text as it is now, for a `FileChange`'s `old` (bytes that are not UTF-8 kept as they are, so
    an undo puts back exactly these); None when there is no file. See `current_bytes` for what is refused."""
    data = current_bytes(path, where)
    return None if data is None else data.decode("utf-8", errors="surrogateescape")


def current_bytes(path: Path, where: str | Path | None = None) -> bytes | None:
    """The bytes of a file about to be rewritten; None when there is no file (nor can be: a file above it,
    which making its directory then names). One that is there but cannot be read (a directory, no permission,
    a symbolic link to nothing), is not a regular file (a pipe: opened without waiting, never read) or is over
    the input size limit is an error naming it (`where`, else the path), never taken for a new file."""
    shown = where or path
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a pipe opens at once, and is then refused
    except (FileNotFoundError, NotADirectoryError):
        if path.is_symlink():  # not new: placing a file there would find the link ('the file appeared')
            raise InputError("a symbolic link to nothing is in the way", where=shown) from None
        return None
    except OSError as exc:
        raise InputError(f"cannot read ({os_reason(exc)})", where=shown) from None
    try:
        return _read_regular(fd, shown)
    except OSError as exc:
        raise InputError(f"cannot read ({os_reason(exc)})", where=shown) from None
    finally:
        os.close(fd)


def _read_regular(fd: int, shown: str | Path) -> bytes:
    """The bytes of the regular file open on `fd`, within the input size limit."""
    from sealkit.reading import max_input_bytes, too_large  # not at import: writing output starts without YAML

    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        raise InputError("cannot read (is a directory)", where=shown)
    if not stat.S_ISREG(info.st_mode):
        raise InputError("cannot read (not a regular file)", where=shown)
    cap = max_input_bytes()
    data = _read_up_to(fd, cap + 1)
    if info.st_size > cap or len(data) > cap:
        raise too_large(cap, str(shown))
    return data


def _fail(what: str, path: Path, exc: OSError) -> InputError:
    return InputError(f"{what} ({os_reason(exc)})", where=path)


@dataclass
class Staging:
    """New files written beside their targets, not yet placed: target -> temporary path, and the
    directories made for them (removed again if the run is undone)."""

    temps: dict[Path, str] = field(default_factory=dict)
    made_dirs: list[Path] = field(default_factory=list)
    _seen_dirs: set[Path] = field(default_factory=set, repr=False)

    def make_parents(self, path: Path) -> None:
        """The missing directories above `path` made, and remembered (removed by `discard`)."""
        if path.parent not in self._seen_dirs:  # most files go to a directory already seen
            with uninterrupted():  # made and noted as one step: never a directory no one knows to remove
                self.made_dirs.extend(make_parents(path, self._seen_dirs))
                self._seen_dirs.add(path.parent)

    def stage_new(self, path: Path, text: str, *, mode: int = NEW_FILE_MODE, sync: bool = False) -> None:
        """`text` written to a new temporary file beside `path` (its directories made as needed), created with
        `mode` (less the umask: never wider); `sync` flushes it to disk before it is handed on."""
        self.make_parents(path)
        data = text.encode("utf-8")
        for attempt in range(100):
            tmp = str(path.parent / f"{temporary_prefix(path.name)}{os.getpid()}.{attempt}.tmp")
            # Made and noted as one step: a stop signal during the slow part (making the inode) would else be
            # raised as the call returns, before the name is noted, and the file would stay behind.
            with uninterrupted():
                try:
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)  # less the umask
                except FileExistsError:
                    continue
                except OSError as exc:
                    raise _fail("cannot write", path, exc) from None
                self.temps[path] = tmp  # from here on `discard` removes it, whatever stops the run
                break
        else:
            raise InputError("cannot write (no free temporary name beside it)", where=path)
        try:
            try:
                _write_fd(fd, data)
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            del self.temps[path]
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # noqa: PTH108 - a plain string path
            raise _fail("cannot write", path, exc) from None

    def place(self, path: Path, *, replace: bool = False) -> None:
        """The file staged for `path` moved into place: linked, never over a file that is there (one that
        appeared meanwhile is an error), or with `replace` renamed over whatever is there, atomically."""
        tmp = self.temps[path]
        if replace:
            try:
                Path(tmp).replace(path)
            except OSError as exc:
                raise _fail("cannot write", path, exc) from None
        else:
            _link(tmp, path)
            with contextlib.suppress(FileNotFoundError):  # moved, on a file system without hard links
                os.unlink(tmp)  # noqa: PTH108 - a plain string path
        del self.temps[path]

    def discard(self) -> None:
        """Remove every temporary file and the directories made for them (best effort: after a failure)."""
        with uninterrupted():
            for tmp in self.temps.values():
                with contextlib.suppress(OSError):
                    os.unlink(tmp)  # noqa: PTH108 - a plain string path
            self.temps.clear()
            remove_made_dirs(self.made_dirs)
            self.made_dirs.clear()

    def absorb(self, other: Staging) -> None:
        """Take over another staging's files (a worker's, handed back to the writer)."""
        self.temps.update(other.temps)
        self.made_dirs.extend(d for d in other.made_dirs if d not in self.made_dirs)


def remove_made_dirs(made: Sequence[Path]) -> None:
    """Remove directories `make_parents` made (outermost first), innermost first; best effort, after another
    failure: one that holds something by now stays. A stop signal waits until it is done."""
    with uninterrupted():
        for directory in reversed(made):
            with contextlib.suppress(OSError):
                directory.rmdir()


def make_parents(target: Path, known: set[Path] | frozenset[Path] = frozenset()) -> list[Path]:
    """Create the missing directories above `target` (those in `known` exist); returns the ones made,
    outermost first. When one cannot be made, the message says which and why, and those made before it are
    removed again."""
    missing = []
    for directory in (target.parent, *target.parent.parents):
        if directory in known or _is_dir(directory):
            break
        missing.append(directory)
    made: list[Path] = []
    try:
        with uninterrupted():  # each directory noted as it is made (a stop signal waits to the end)
            _make(missing, made, target)
    except BaseException:
        remove_made_dirs(made)
        raise
    return made


def _make(missing: list[Path], made: list[Path], target: Path) -> None:
    """`missing` (innermost first) made outermost first, each appended to `made` once it is."""
    for directory in reversed(missing):
        try:
            directory.mkdir()
        except FileExistsError:
            if not _is_dir(directory):
                raise InputError(f"cannot create directory {directory} (a file is in the way)", where=target) from None
            continue
        except PermissionError:
            raise InputError(f"cannot create directory {directory} (permission denied)", where=target) from None
        except OSError as exc:
            raise InputError(f"cannot create directory {directory} ({os_reason(exc)})", where=target) from None
        made.append(directory)


def _is_dir(path: Path) -> bool:
    """Whether `path` is a directory; one that cannot even be looked up (a name too long, no permission on a
    directory above it) counts as not: making it then fails and says which one and why."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _link(tmp: str, path: Path) -> None:
    """`tmp` placed at `path`, never over a file that is there: a second name for it (`tmp` stays until the
    staging is discarded: while it is there, `path` can be told for ours) or, where the file system has no
    hard links, renamed (`tmp` gone: `path` is ours)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise InputError("the file appeared while sealkit was working; run again", where=path) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise _fail("cannot write", path, exc) from None
        if path.exists():  # a file system without hard links: rename, after the same check
            raise InputError("the file appeared while sealkit was working; run again", where=path) from None
        try:
            Path(tmp).replace(path)
        except OSError as exc2:
            raise _fail("cannot write", path, exc2) from None


def _rewrite(path: Path, expected: str, text: str) -> None:
    """Write `text` over the file in place, after checking it still holds `expected`."""
    want = expected.encode("utf-8", errors="surrogateescape")  # a file read by `current_text`: its own bytes
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        raise InputError("the file changed while sealkit was working; run again", where=path) from None
    except OSError as exc:
        raise _fail("cannot write", path, exc) from None
    try:
        if _read_up_to(fd, len(want) + 1) != want:
            raise InputError("the file changed while sealkit was working; run again", where=path)
    except OSError as exc:
        os.close(fd)
        raise _fail("cannot read", path, exc) from None
    except InputError:
        os.close(fd)
        raise
    try:
        _overwrite(fd, text.encode("utf-8", errors="surrogateescape"))  # an undo: the bytes it held
    except BaseException as exc:  # cut short (a full disk, Ctrl-C, a stop signal): what it held goes back
        with contextlib.suppress(OSError):
            _overwrite(fd, want)
        if isinstance(exc, OSError):
            raise _fail("cannot write", path, exc) from None
        raise
    finally:
        os.close(fd)


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _overwrite(fd: int, data: bytes) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    _write_fd(fd, data)
    os.ftruncate(fd, len(data))


def _undo(done: Iterable[FileChange], placed: dict[Path, tuple[int, int]], made: Sequence[Path]) -> None:
    """Put back what was begun (best effort: this runs only after another failure). A change is in `done`
    before its file is touched, so a run stopped at any point finds it here: a new file is removed only while
    it is still the one placed (`placed`: its device and inode, the temporary's before it was linked or
    renamed into place), a rewritten file is rewritten only while it holds the new text (an unfinished rewrite
    put back what it held itself); then the directories made for new files (`made`), once empty."""
    for change in reversed(list(done)):
        with contextlib.suppress(OSError, InputError):
            if change.old is None:
                found = change.path.lstat()
                if placed.get(change.path) == (found.st_dev, found.st_ino):
                    change.path.unlink()
            else:
                _rewrite(change.path, change.text, change.old)
    remove_made_dirs(made)


def _identity(tmp: str, path: Path) -> tuple[int, int]:
    """The staged file's device and inode: what `path` is once it is placed there."""
    try:
        found = os.stat(tmp)  # noqa: PTH116 - a plain string path
    except OSError as exc:
        raise _fail("cannot write", path, exc) from None
    return found.st_dev, found.st_ino


def _shown(changes: Sequence[FileChange], where: str) -> str | None:
    """How the change an error names (by its path) is to be shown, when it says."""
    return next((c.shown for c in changes if c.shown and os.fspath(c.path) == where), None)


def write_all(changes: Sequence[FileChange], staging: Staging | None = None) -> list[FileChange]:
    """Write every changed file, or none; returns the changes that were written.

    `staging` holds new files a worker already staged (any new file not in it is staged here); it is
    emptied either way: its files placed, or discarded on failure (also when a signal stops the run).
    """
    staging = staging if staging is not None else Staging()
    todo = [c for c in changes if c.changed]
    done: list[FileChange] = []
    placed: dict[Path, tuple[int, int]] = {}  # new file -> (device, inode) of what is placed there
    made: list[Path] = []
    try:
        seen: set[Path] = set()
        for change in todo:
            if change.path in seen:
                raise InputError("two changes to one file in one run", where=change.path)
            seen.add(change.path)
        for change in todo:
            if change.old is None and change.path not in staging.temps:
                staging.stage_new(change.path, change.text)
        made = list(staging.made_dirs)
        with uninterrupted():  # a stop signal meanwhile is raised at the end, and undoes it all
            for change in todo:  # new files first: each is the likelier to fail (a file that appeared)
                if change.old is None:
                    placed[change.path] = _identity(staging.temps[change.path], change.path)
                    done.append(change)
                    _link(staging.temps[change.path], change.path)
            for change in todo:
                if change.old is not None:
                    done.append(change)
                    _rewrite(change.path, change.old, change.text)
            staging.made_dirs.clear()  # they hold the new files now
            staging.discard()  # the temporaries' names (the placed files keep theirs), and any not needed
    except BaseException as exc:
        with uninterrupted():
            _undo(done, placed, made)
            staging.discard()
        if isinstance(exc, InputError) and (shown := _shown(todo, exc.where)):
            raise InputError(exc.what, where=shown) from None
        raise
    return todo
