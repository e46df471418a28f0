"""Large `sealkit seal --env` runs split over worker processes, and kept busy to the end.

Where it sits: the CLI, under `envseal`. Sealing is CPU work (RSA-OAEP per value, YAML per file) and so is
making files on many file systems: a run of hundreds of files uses the CPUs the process may use
(`sealkit.cpus`). The pieces of work are cut into one contiguous share per process, and each share into
chunks; this process runs the first share and a forked child each other one, so the children start with
everything already read and checked (plaintext never crosses a pipe or touches disk). A process that
finishes its own share takes the next chunks of shares still under way (work stealing): a process slowed
by the machine (another job on its core, page faults after the fork) no longer holds the run back. Each
share's chunk numbers wait in a pipe of their own, filled before the fork; a 4-byte read takes one chunk,
and the kernel hands each to one reader only. Shares follow the pieces' order, so processes work in
different places (directories) until the last chunks.

A child sends back its chunks' results, or its error as one line, pickled through a pipe, then leaves with
`os._exit` (no buffered output of the parent is flushed twice, no exit handlers run). The parent waits for
every child, then returns the chunks' results in the pieces' order, or raises the error of the earliest
chunk that failed: the same error a run in one process gives (every chunk before it was run).

Forking is used only where it is safe and pays: on Linux, with no other thread running, and with at least
`MIN_PIECES_PER_WORKER` pieces per process; otherwise everything runs here.
"""

from __future__ import annotations

import functools
import logging
import os
import pickle
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from sealkit.cpus import allowed_cpus
from sealkit.errors import EXIT_USAGE, SealkitError
from sealkit.filewrites import uninterrupted

logger = logging.getLogger(__name__)

MIN_PIECES_PER_WORKER = 32
CHUNKS_PER_SHARE = 16  # the grain of stealing: a share of 250 files in chunks of about 16 (10-20 ms each)
MIN_CHUNK = 4
_RECORD = struct.Struct("<I")  # a chunk number in a queue pipe
_LOST = 1 << 32  # a lost child's outcome sorts after every chunk's

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


def chunks(pieces: Sequence[T], processes: int) -> list[list[Sequence[T]]]:
    """`pieces` cut into one share per process (`split`), each share into up to CHUNKS_PER_SHARE chunks of
    at least MIN_CHUNK pieces: chunk numbers run in the pieces' order."""
    out = []
    for share in split(pieces, processes):
        count = max(1, min(CHUNKS_PER_SHARE, len(share) // MIN_CHUNK))
        out.append(split(share, count))
    return out


Outcome = tuple[int, str, object]  # (chunk number, "ok" / "error" / "lost", result / error / message)


def _work(
    run: Callable[[Sequence[T]], R],
    flat: Sequence[Sequence[T]],
    queues: Sequence[int],
    own: int,
    discard: Callable[[R], None] | None,
) -> list[Outcome]:
    """Chunks taken from this process's own queue, then from the others', until all are empty or one fails
    with a SealkitError (its outcome ends the list; later chunks do not matter then). Anything else raised
    (Ctrl-C, a stop signal, a bug) discards this process's results before it goes on: no one else has them."""
    done: list[Outcome] = []
    order = [*queues[own:], *queues[:own]]
    try:
        for queue in order:
            while record := os.read(queue, _RECORD.size):
                (number,) = _RECORD.unpack(record)
                try:
                    done.append((number, "ok", run(flat[number])))
                except SealkitError as exc:
                    done.append((number, "error", exc))
                    return done
    except BaseException:
        with uninterrupted():
            _drop(done, discard)
        raise
    return done


def _child(work: Callable[[], list[Outcome]], write_end: int, discard: Callable[[R], None] | None) -> None:
    """In the child: do its work, send the outcomes whole (a stop signal waits), leave without unwinding the
    parent's stack. Whatever keeps the answer from the parent (a bug, Ctrl-C before it is sent) discards
    the work here first: no one else knows of it."""
    status = 0
    outcomes: list[Outcome] = []
    try:
        outcomes = work()
        answer = [(n, kind, (str(v), v.exit_status) if isinstance(v, SealkitError) else v) for n, kind, v in outcomes]
        with uninterrupted():
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
            outcomes = []  # the parent's now
    except BaseException:  # no answer; the parent reports it
        with uninterrupted():
            _drop(outcomes, discard)
        status = 70
    finally:
        os._exit(status)


def _queues(shares: Sequence[Sequence[object]]) -> list[int]:
    """One pipe per share holding its chunks' numbers (filled, its write end closed): read ends."""
    queues, number = [], 0
    for share in shares:
        read_end, write_end = os.pipe()
        try:
            os.write(write_end, b"".join(_RECORD.pack(n) for n in range(number, number + len(share))))
        finally:
            os.close(write_end)
        number += len(share)
        queues.append(read_end)
    return queues


def map_shares(
    run: Callable[[Sequence[T]], R], shares: Sequence[Sequence[Sequence[T]]], discard: Callable[[R], None] | None = None
) -> list[R]:
    """`run(chunk)` for every chunk of every share (`chunks`): the first share here, each other in a forked
    child, any process helping with others' chunks once its own are done; results in chunk order.

    `run` leaves nothing behind when it raises; when any chunk fails, `discard` is called on every other
    chunk's result (e.g. to remove files it staged) before the earliest failure is raised.
    """
    flat = [chunk for share in shares for chunk in share]
    if len(shares) <= 1:
        done: list[R] = []
        try:
            done.extend(run(chunk) for chunk in flat)
        except BaseException:
            with uninterrupted():
                _drop([(0, "ok", value) for value in done], discard)
            raise
        return done
    queues = _queues(shares)
    children: list[tuple[int, int]] = []  # (pid, read end) of each child not yet heard from
    outcomes: list[Outcome] = []
    try:
        for index in range(1, len(shares)):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
                os.close(read_end)
                _child(functools.partial(_work, run, flat, queues, index, discard), write_end, discard)
            os.close(write_end)
            children.append((pid, read_end))
        outcomes.extend(_work(run, flat, queues, 0, discard))
        with uninterrupted():  # each answer taken in whole: a stop signal waits until all are in
            while children:
                outcomes.extend(_collect(*children[0]))
                del children[0]
    except BaseException:
        with uninterrupted():
            for pid, read_end in children:  # every child is waited for, and what it did undone
                _drop(_collect(pid, read_end), discard)
            _drop(outcomes, discard)
        raise
    finally:
        for queue in queues:
            os.close(queue)
    outcomes.sort(key=lambda outcome: outcome[0])
    if any(kind != "ok" for _, kind, _ in outcomes) or len(outcomes) != len(flat):
        with uninterrupted():
            _drop(outcomes, discard)
        _raise_first(outcomes)
    return [value for _, _, value in outcomes]  # type: ignore[misc]


def _collect(pid: int, read_end: int) -> list[Outcome]:
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        how = (
            f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {os.waitstatus_to_exitcode(status)}"
        )
        return [(_LOST, "lost", f"a worker process ended without an answer ({how})")]
    outcomes = pickle.loads(data)  # noqa: S301 - our own child's bytes, through our own pipe
    assert isinstance(outcomes, list)
    return outcomes


def _drop(outcomes: list[Outcome], discard: Callable[[R], None] | None) -> None:
    for _, kind, value in outcomes:
        if kind == "ok" and discard is not None:
            discard(value)  # type: ignore[arg-type]


def _raise_first(outcomes: list[Outcome]) -> None:
    """The earliest chunk's failure, as a run in one process would meet it (a lost child: after those)."""
    for _, kind, value in outcomes:
        if kind == "error" and isinstance(value, SealkitError):
            raise value
        if kind == "error" and isinstance(value, tuple):
            message, status = value
            raise WorkerFailed(str(message), int(status))
        if kind == "lost":
            raise WorkerFailed(str(value))
