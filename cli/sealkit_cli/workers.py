"""Large `sealkit seal --env` runs split over worker processes, one share of the work each.

Where it sits: the CLI, under `envseal`. Sealing is CPU work (RSA-OAEP per value, YAML per file) and so is
making files on many file systems: a run of hundreds of files uses the CPUs the process may use
(`sealkit.cpus`). The work is a list of pieces cut into contiguous shares; this process runs the first
share and a forked child each other one, so the children start with everything already read and checked
(plaintext never crosses a pipe or touches disk). A child sends back its share's result, or its error as
one line, pickled through a pipe, then leaves with `os._exit` (no buffered output of the parent is
flushed twice, no exit handlers run). The parent waits for every child, then returns the results in share
order or raises the error of the earliest share that failed: the same error a run in one process gives.

Forking is used only where it is safe and pays: on Linux, with no other thread running, and with at least
`MIN_PIECES_PER_WORKER` pieces per process; otherwise everything runs here.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from sealkit.cpus import allowed_cpus
from sealkit.errors import EXIT_USAGE, SealkitError

logger = logging.getLogger(__name__)

MIN_PIECES_PER_WORKER = 32

T = TypeVar("T")
R = TypeVar("R")


class WorkerFailed(SealkitError):
    """A worker process's error, raised again in the parent with the child's message and exit status."""

    def __init__(self, message: str, exit_status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_status = exit_status


def worker_count(pieces: int, cpus: int | None = None) -> int:
    """How many processes share `pieces`: up to the CPUs allowed, each with enough pieces to pay for a fork."""
    if sys.platform != "linux" or threading.active_count() > 1:
        return 1
    cpus = allowed_cpus() if cpus is None else cpus
    return max(1, min(cpus, pieces // MIN_PIECES_PER_WORKER))


def split(pieces: Sequence[T], count: int) -> list[Sequence[T]]:
    """`pieces` cut into `count` contiguous shares, as equal as they go (none empty unless `pieces` is)."""
    count = max(1, min(count, len(pieces)))
    bounds = [len(pieces) * i // count for i in range(count + 1)]
    return [pieces[bounds[i] : bounds[i + 1]] for i in range(count)]


def _child(run: Callable[[Sequence[T]], R], share: Sequence[T], write_end: int) -> None:
    """In the child: run the share, send the outcome, leave without unwinding the parent's stack."""
    status = 0
    try:
        try:
            outcome: tuple[str, object] = ("ok", run(share))
        except SealkitError as exc:
            outcome = ("error", (str(exc), exc.exit_status))
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
    except BaseException:  # anything else (a bug, Ctrl-C): no answer; the parent reports it
        status = 70
    finally:
        os._exit(status)


def map_shares(
    run: Callable[[Sequence[T]], R], shares: Sequence[Sequence[T]], discard: Callable[[R], None] | None = None
) -> list[R]:
    """`run(share)` for every share: the first here, each other in a forked child; results in share order.

    `run` leaves nothing behind when it raises; when any share fails, `discard` is called on every other
    share's result (e.g. to remove files it staged) before the earliest failure is raised.
    """
    if len(shares) <= 1:
        return [run(share) for share in shares]
    children: list[tuple[int, int]] = []  # (pid, read end)
    outcomes: list[tuple[str, object]] = []
    try:
        for share in shares[1:]:
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
                os.close(read_end)
                _child(run, share, write_end)
            os.close(write_end)
            children.append((pid, read_end))
        try:
            outcomes.append(("ok", run(shares[0])))
        except SealkitError as exc:
            outcomes.append(("error", exc))
    except BaseException:
        for pid, read_end in children:  # every child is waited for, and what it did undone
            _drop([_collect(pid, read_end)], discard)
        _drop(outcomes, discard)
        raise
    outcomes.extend(_collect(pid, read_end) for pid, read_end in children)
    if any(kind != "ok" for kind, _ in outcomes):
        _drop(outcomes, discard)
        _raise_first(outcomes)
    return [value for _, value in outcomes]  # type: ignore[misc]


def _collect(pid: int, read_end: int) -> tuple[str, object]:
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        how = (
            f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {os.waitstatus_to_exitcode(status)}"
        )
        return ("lost", f"a worker process ended without an answer ({how})")
    outcome = pickle.loads(data)  # noqa: S301 - our own child's bytes, through our own pipe
    assert isinstance(outcome, tuple)
    return outcome


def _drop(outcomes: list[tuple[str, object]], discard: Callable[[R], None] | None) -> None:
    for kind, value in outcomes:
        if kind == "ok" and discard is not None:
            discard(value)  # type: ignore[arg-type]


def _raise_first(outcomes: list[tuple[str, object]]) -> None:
    """The earliest share's failure, as a run in one process would meet it."""
    for kind, value in outcomes:
        if kind == "error" and isinstance(value, SealkitError):
            raise value
        if kind == "error" and isinstance(value, tuple):
            message, status = value
            raise WorkerFailed(str(message), int(status))
        if kind == "lost":
            raise WorkerFailed(str(value))
