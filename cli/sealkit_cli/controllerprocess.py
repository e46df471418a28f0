"""The real controller as its own process (`sealkit controller`, as in a cluster) for `sealkit dev up` and
`sealkit demo`'s cluster step.

Where it sits: the CLI, used by `localcluster`. The process is started with `os.posix_spawn` (a clean signal
mask and default stop signals, whatever the caller blocks), its info lines on a pipe and its warnings in the
log file. It is ready when it logs where its HTTP API listens (`serving api on URL`, after its keys are
loaded): that line is waited for, not a delay. Afterwards a thread copies its info lines into the log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import signal
import sys
import threading
from pathlib import Path

from sealkit.bitnami import DEFAULT_CONTROLLER_NAMESPACE
from sealkit.errors import SealkitError

logger = logging.getLogger(__name__)

READY = re.compile(rb"serving api on (http://\S+)")
START_GUARD = 120.0  # seconds: only reached when the controller hangs on its way up
STOP_GUARD = 30.0
DEFAULT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE)


class ControllerDidNotStart(SealkitError):
    """The controller process ended (or hung) before it served its API."""


class ControllerProcess:
    """`sealkit controller --kubeconfig KUBECONFIG` on free local ports; `start()` returns once it serves."""

    def __init__(self, kubeconfig: Path, log: Path, *, key_size: int = 4096, log_level: str = "INFO") -> None:
        self.kubeconfig = kubeconfig
        self.log = log
        self.key_size = key_size
        self.log_level = log_level
        self.pid: int | None = None
        self.api_url = ""
        self._status: int | None = None
        self._copier: threading.Thread | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "sealkit_cli.main",
            "controller",
            "--kubeconfig",
            str(self.kubeconfig),
            "--namespace",
            DEFAULT_CONTROLLER_NAMESPACE,
            "--key-size",
            str(self.key_size),
            "--listen-addr",
            "127.0.0.1:0",
            "--listen-metrics-addr",
            "127.0.0.1:0",
            "--log-level",
            self.log_level,
        ]

    def start(self) -> ControllerProcess:
        # The user's SEALED_SECRETS_* settings are for their own cluster's controller, not this one.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEALED_SECRETS_") and k != "POD_NAMESPACE"}
        read_end, write_end = os.pipe()
        log_fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            self.pid = os.posix_spawn(
                sys.executable,
                self.command(),
                env,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, write_end, 1),
                    (os.POSIX_SPAWN_DUP2, log_fd, 2),
                ],
                setsigmask=(),
                setsigdef=DEFAULT_SIGNALS,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
            os.close(log_fd)
        try:
            self.api_url = self._wait_ready(read_end)
        except BaseException:
            os.close(read_end)
            self.stop()
            raise
        self._copier = threading.Thread(target=self._copy, args=(read_end,), name="controller-log", daemon=True)
        self._copier.start()
        return self

    def _wait_ready(self, fd: int) -> str:
        """Read the controller's info lines (into the log) until it says where its API listens."""
        buffer = b""
        with self.log.open("ab") as log:
            while True:
                ready, _, _ = select.select([fd], [], [], START_GUARD)
                chunk = os.read(fd, 65536) if ready else b""
                if not chunk:
                    why = "it ended" if ready else f"no answer within {START_GUARD:g} s"
                    raise ControllerDidNotStart(f"the controller did not start ({why}; see its log)")
                log.write(chunk)
                buffer = (buffer + chunk)[-65536:]
                found = READY.search(buffer)
                if found:
                    return found.group(1).decode()

    def _copy(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as pipe, self.log.open("ab", buffering=0) as log:
            while chunk := pipe.read(65536):
                log.write(chunk)

    def stop(self) -> int | None:
        """SIGTERM, then wait for it to exit (SIGKILL after a guard time); its exit status."""
        if self.pid is None:
            return self._status
        pid, self.pid = self.pid, None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not _exited_within(pid, STOP_GUARD):
            logger.warning("the controller (pid %d) did not stop within %g s: killed", pid, STOP_GUARD)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        self._status = os.waitstatus_to_exitcode(status)
        if self._copier is not None:
            self._copier.join(STOP_GUARD)
        return self._status


def _exited_within(pid: int, timeout: float) -> bool:
    """Whether `pid` (a child) exits within `timeout` (a pidfd turns readable when it does)."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return True  # no pidfd here: waitpid blocks instead
    try:
        ready, _, _ = select.select([handle], [], [], timeout)
        return bool(ready)
    finally:
        os.close(handle)
