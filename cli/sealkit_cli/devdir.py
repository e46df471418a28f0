"""The working directory of `sealkit dev up`: its files, which process owns it, and removing it.

Where it sits: the CLI, beside `commands/dev.py`. A directory holds one local cluster's files:
`kubeconfig`, `cert.pem`, `sealing-key.yaml` (the throwaway key Secret, mode 0600), `dev.log` and
`dev.pid` (the owner's and its controller's pids), which the running `dev up` keeps locked (flock) for as
long as it lives. The lock tells
`sealkit dev down` a live owner from a file left by a killed one, and waiting for it is how `down` knows
the owner has finished cleaning up, without polling. A temporary directory is removed when the owner
stops (key material included); `--workdir` and `--keep` keep the files (a kept key is used again).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sealkit.bitnami import DEFAULT_CONTROLLER_NAMESPACE, SEALING_KEY_PREFIX
from sealkit.errors import InputError

KUBECONFIG = "kubeconfig"
CERT = "cert.pem"
KEY = "sealing-key.yaml"
LOG = "dev.log"
PID = "dev.pid"
TEMP_PREFIX = "sealkit-dev-"


@dataclass
class DevDir:
    """A claimed working directory (see the module docstring); `release()` gives it up."""

    path: Path
    keep: bool
    lock_fd: int = field(default=-1, repr=False)

    @classmethod
    def claim(cls, workdir: Path | None, *, keep: bool) -> DevDir:
        """A new temporary directory, or `workdir` (created if missing, kept); locked for this process."""
        if workdir is None:
            devdir = cls(Path(tempfile.mkdtemp(prefix=TEMP_PREFIX)), keep)
        else:
            workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
            devdir = cls(workdir.resolve(), True)
        try:
            devdir._lock()
        except BaseException:
            if workdir is None:
                shutil.rmtree(devdir.path, ignore_errors=True)
            raise
        return devdir

    def _lock(self) -> None:
        fd = os.open(self.path / PID, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _state(fd).get("pid", "?")
            os.close(fd)
            raise InputError(
                f"a local cluster already runs from this directory (pid {owner}; stop it with "
                "sealkit dev down --dir DIR)",
                where=self.path,
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "keep": self.keep}).encode())
        self.lock_fd = fd

    def note(self, **facts: Any) -> None:
        """Add `facts` to what `dev.pid` says (the controller's pid, for `dev down` after a killed owner)."""
        state = {**_state(self.lock_fd), **facts}
        os.ftruncate(self.lock_fd, 0)
        os.pwrite(self.lock_fd, json.dumps(state).encode(), 0)

    def file(self, name: str) -> Path:
        return self.path / name

    def key_secret(self, generate: Any) -> dict[str, Any]:
        """The key Secret manifest to start with: the kept one in this directory, else `generate()`'s key,
        written here first (mode 0600 from the first byte)."""
        from sealkit.keysecrets import key_secret_manifest

        path = self.file(KEY)
        if path.exists():
            return _kept_key_secret(path)
        manifest = key_secret_manifest(generate(), namespace=DEFAULT_CONTROLLER_NAMESPACE, prefix=SEALING_KEY_PREFIX)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(manifest, handle, sort_keys=False)
        return manifest

    def release(self) -> None:
        """Remove the directory (or, when kept, only `dev.pid`), then unlock: `dev down` returns after this."""
        try:
            if self.keep:
                self.file(PID).unlink(missing_ok=True)
            else:
                shutil.rmtree(self.path, ignore_errors=True)
        finally:
            if self.lock_fd >= 0:
                os.close(self.lock_fd)
                self.lock_fd = -1


def _kept_key_secret(path: Path) -> dict[str, Any]:
    """The key Secret kept in a working directory, read within the input limits; it must be what the local
    controller takes as its key (one active key Secret in its namespace): any other would have the controller
    make a key of its own while `cert.pem` and the printed fingerprint named this one."""
    from sealkit.bitnami import SEALING_KEY_LABEL
    from sealkit.keysecrets import is_active_key_secret
    from sealkit.reading import load_documents, read_file

    documents = load_documents(read_file(path), str(path))
    manifest = documents[0].obj if len(documents) == 1 else None
    if not isinstance(manifest, dict) or manifest.get("apiVersion") != "v1" or manifest.get("kind") != "Secret":
        raise InputError("not a key Secret (one v1 Secret expected)", where=path)
    metadata = manifest.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    if namespace != DEFAULT_CONTROLLER_NAMESPACE or not is_active_key_secret(manifest):
        raise InputError(
            f"not a key Secret the local controller uses (namespace {DEFAULT_CONTROLLER_NAMESPACE}, label "
            f"{SEALING_KEY_LABEL}=active expected)",
            where=path,
        )
    return manifest


def _state(fd: int) -> dict[str, Any]:
    """What `dev.pid` says: {"pid": N, "keep": bool}, or {} while it is being written or when unreadable."""
    try:
        data = os.pread(fd, 4096, 0)
        state = json.loads(data) if data else {}
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


@dataclass(frozen=True)
class Stopped:
    """What `stop` did: `pid` of the stopped owner (None: none was running), whether the files are gone."""

    pid: int | None
    removed: bool


def stop(path: Path) -> Stopped:
    """Stop the `dev up` that owns `path` (SIGTERM) and return once it has cleaned up and exited.

    When no process owns it any more (it was killed), its files are removed here instead, unless it was
    started to keep them.
    """
    try:
        fd = os.open(path / PID, os.O_RDWR)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError("no local cluster runs from this directory", where=path) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        else:  # nobody holds it: its owner died without cleaning up
            state = _state(fd)
            _stop_leftover(state.get("controller"), path)
            keep = bool(state.get("keep"))
            if keep:
                (path / PID).unlink(missing_ok=True)
            else:
                shutil.rmtree(path, ignore_errors=True)
            return Stopped(None, not keep)
        state = _state(fd)
        pid = state.get("pid")
        if not isinstance(pid, int) or pid <= 0:
            raise InputError("the local cluster is still starting (run sealkit dev down again)", where=path)
        with _process_handle(pid) as handle:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            fcntl.flock(fd, fcntl.LOCK_EX)  # returns when the owner has released the directory
            _wait_exit(handle)
        return Stopped(pid, not state.get("keep"))
    finally:
        os.close(fd)


def _stop_leftover(pid: object, path: Path) -> None:
    """Stop the controller a killed owner left running: only a process whose command line names this
    directory's kubeconfig (so a reused pid is never signalled)."""
    if not isinstance(pid, int) or pid <= 0:
        return
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return  # gone already (or no /proc: nothing known to stop)
    if str((path / KUBECONFIG).resolve()).encode() not in arguments:
        return
    with _process_handle(pid) as handle:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        _wait_exit(handle)


@contextlib.contextmanager
def _process_handle(pid: int) -> Any:
    """A pidfd for `pid` where the system has them (Linux), to wait for its exit; else None."""
    opener = getattr(os, "pidfd_open", None)
    handle = None
    if opener is not None:
        with contextlib.suppress(OSError):
            handle = opener(pid)
    try:
        yield handle
    finally:
        if handle is not None:
            os.close(handle)


def _wait_exit(handle: int | None) -> None:
    """Block until the process behind the pidfd has exited (a pidfd turns readable then)."""
    if handle is not None:
        select.select([handle], [], [])
