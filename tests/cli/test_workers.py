"""Worker processes for large runs: chunks' results in order, a process done with its share helping with
others' (work stealing), the earliest failure raised as one run would raise it, every other chunk's work
discarded, a child that dies reported in one line.

Which process runs which chunk depends on timing; the tests fix what they need with pipes (a child tells
that it started, the parent lets a child go on), never with sleeps."""

from __future__ import annotations

import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from sealkit.errors import CheckFailed, InputError, SealkitError
from sealkit_cli import workers
from sealkit_cli.workers import WorkerFailed, chunks, map_shares, split, worker_count


def test_split_cuts_contiguous_shares_as_equal_as_they_go() -> None:
    assert split(list(range(10)), 3) == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    assert split([1, 2], 5) == [[1], [2]], "never more shares than pieces"
    assert split([], 4) == [[]]
    assert [x for share in split(list(range(97)), 4) for x in share] == list(range(97))


def test_worker_count_follows_the_cpus_and_the_size_of_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers.threading, "active_count", lambda: 1)  # other tests' servers may run threads
    per = workers.MIN_PIECES_PER_WORKER
    assert worker_count(per - 1, cpus=8) == 1, "a small run stays in one process"
    assert worker_count(3 * per, cpus=8) == 3
    assert worker_count(100 * per, cpus=2) == 2
    assert worker_count(100 * per, cpus=1) == 1


def test_no_fork_while_another_thread_runs() -> None:
    assert threading.active_count() >= 1
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert worker_count(100 * workers.MIN_PIECES_PER_WORKER, cpus=4) == 1
    finally:
        stop.set()
        thread.join()


def test_chunks_cut_each_share_in_order() -> None:
    shares = chunks(list(range(48)), 3)
    assert [list(c) for c in shares[0]] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]
    assert [x for share in shares for chunk in share for x in chunk] == list(range(48))
    assert [len(share) for share in chunks(list(range(12)), 3)] == [1, 1, 1], "no chunk under MIN_CHUNK pieces"
    big = chunks(list(range(10_000)), 2)
    assert [len(share) for share in big] == [workers.CHUNKS_PER_SHARE] * 2


class Started:
    """Every process runs at least one chunk: a child, at its first, says so and waits; the parent, at its
    first (taken from its own share, since the children wait on theirs), waits for all of them, then lets
    them go on."""

    def __init__(self, children: int) -> None:
        self.parent, self.children = os.getpid(), children
        self.started = os.pipe()
        self.go = os.pipe()
        self.told = False

    def here(self) -> bool:
        return os.getpid() == self.parent

    def first_chunk(self) -> None:
        if self.told:
            return
        self.told = True  # in a child: its own copy
        if self.here():
            for _ in range(self.children):
                assert len(os.read(self.started[0], 4)) == 4
            os.write(self.go[1], b"g" * self.children)
        else:
            os.write(self.started[1], os.getpid().to_bytes(4, "little"))
            assert os.read(self.go[0], 1) == b"g"


def pids_and_sums(started: Started) -> Callable[[Sequence[int]], tuple[int, int]]:
    def run(chunk: Sequence[int]) -> tuple[int, int]:
        started.first_chunk()
        return os.getpid(), sum(chunk)

    return run


def test_every_process_takes_part_and_results_keep_the_chunks_order() -> None:
    shares = chunks(list(range(48)), 3)
    results = map_shares(pids_and_sums(Started(2)), shares)
    assert [total for _, total in results] == [sum(c) for share in shares for c in share]
    pids = {pid for pid, _ in results}
    assert os.getpid() in pids and len(pids) == 3, "the first share here, the others in children"


def test_a_process_done_with_its_share_takes_chunks_of_a_slow_one() -> None:
    shares = chunks(list(range(48)), 3)
    last = shares[2][-1][0]
    go_read, go_write = os.pipe()
    started = Started(2)

    def run(chunk: Sequence[int]) -> tuple[int, int]:
        started.first_chunk()
        if chunk[0] == shares[2][0][0]:  # the third share's first chunk: held until its last one is done
            assert os.read(go_read, 1) == b"g"
        if chunk[0] == last:
            os.write(go_write, b"g")
        return os.getpid(), sum(chunk)

    results = map_shares(run, shares)
    pids = [pid for pid, _ in results]
    slow = pids[8]  # whoever took the held chunk
    assert all(pid != slow for pid in pids[9:12]), "the rest of its share was done by the other processes"
    assert [total for _, total in results] == [sum(c) for share in shares for c in share]


def failing(bad: set[int], error: type[Exception] = InputError) -> Callable[[Sequence[int]], int]:
    def run(share: Sequence[int]) -> int:
        for piece in share:
            if piece in bad:
                raise error(f"piece {piece} is bad", where="input") if issubclass(error, InputError) else error()
        return sum(share)

    return run


@pytest.mark.parametrize("bad", [{5}, {1, 9}, {9}, {20, 47}])
def test_the_earliest_failure_is_raised_and_the_rest_discarded(bad: set[int]) -> None:
    shares = chunks(list(range(48)), 3)
    discarded: list[int] = []
    with pytest.raises(SealkitError) as caught:
        map_shares(failing(bad), shares, discard=discarded.append)
    assert str(caught.value) == f"piece {min(bad)} is bad: input"
    worked = [sum(c) for share in shares for c in share if not bad & set(c)]
    assert sorted(discarded) == sorted(worked), "a process that never fails runs every chunk left: all undone"


def test_a_single_process_runs_every_chunk_in_order() -> None:
    seen: list[int] = []

    def run(chunk: Sequence[int]) -> int:
        seen.extend(chunk)
        return len(chunk)

    assert map_shares(run, chunks(list(range(10)), 1)) == [5, 5]
    assert seen == list(range(10))


def test_a_child_error_keeps_its_exit_status() -> None:
    started = Started(2)

    def run(chunk: Sequence[int]) -> int:
        started.first_chunk()
        if not started.here():
            raise CheckFailed("stale certificate", where="prod")
        return 0

    with pytest.raises(WorkerFailed) as caught:
        map_shares(run, chunks(list(range(48)), 3))
    assert (str(caught.value), caught.value.exit_status) == ("stale certificate: prod", 1)


def test_a_child_that_dies_or_breaks_is_one_line() -> None:
    def dying(how: Callable[[], object]) -> Callable[[Sequence[int]], int]:
        started = Started(2)

        def run(chunk: Sequence[int]) -> int:
            started.first_chunk()
            if not started.here():
                how()
            return 0

        return run

    with pytest.raises(WorkerFailed, match=r"^a worker process ended without an answer \(signal 9\)$"):
        map_shares(dying(lambda: os.kill(os.getpid(), signal.SIGKILL)), chunks(list(range(48)), 3))
    with pytest.raises(WorkerFailed, match=r"^a worker process ended without an answer \(status 70\)$"):
        map_shares(dying(lambda: 1 / 0), chunks(list(range(48)), 3))


def test_an_unexpected_error_here_still_waits_for_and_undoes_the_children() -> None:
    shares = chunks(list(range(48)), 3)
    started = Started(2)
    failed: list[int] = []

    def run(chunk: Sequence[int]) -> int:
        started.first_chunk()
        if started.here():
            failed.append(sum(chunk))
            raise ZeroDivisionError
        return sum(chunk)

    discarded: list[int] = []
    with pytest.raises(ZeroDivisionError):
        map_shares(run, shares, discard=discarded.append)
    everything = [sum(c) for share in shares for c in share]
    assert len(failed) == 1, "the parent stopped at its first chunk"
    assert sorted([*discarded, *failed]) == sorted(everything), "the children ran every other chunk: all undone"


@pytest.mark.parametrize("stop", [KeyboardInterrupt, InputError])
def test_a_single_process_stopped_midway_discards_the_chunks_it_did(stop: type[BaseException]) -> None:
    """Their staged files would stay behind in the user's directories (`.name.pid.n.tmp`)."""
    discarded: list[int] = []

    def run(chunk: Sequence[int]) -> int:
        if 8 in chunk:
            raise stop("piece 8", where="input") if stop is InputError else stop()
        return sum(chunk)

    with pytest.raises(stop):
        map_shares(run, chunks(list(range(16)), 1), discard=discarded.append)
    assert discarded == [sum(range(4)), sum(range(4, 8))]


def test_a_child_stopped_midway_discards_its_chunks_before_it_goes(tmp_path: Path) -> None:
    """A child interrupted (Ctrl-C or SIGTERM to the process group: its copy of the handler raises) after a
    chunk undoes that chunk itself: the parent never hears of it. The parent holds its first chunk until
    the child has reached its second, so neither takes the other's chunks first."""
    parent = os.getpid()
    second_read, second_write = os.pipe()
    done_here: list[int] = []

    def run(chunk: Sequence[int]) -> str:
        if os.getpid() == parent:
            if not done_here:
                assert os.read(second_read, 1) == b"2", "the child reached its second chunk"
            done_here.append(chunk[0])
        elif list(tmp_path.glob(f"{os.getpid()}-*")):
            os.write(second_write, b"2")
            raise KeyboardInterrupt
        made = tmp_path / f"{os.getpid()}-{chunk[0]}"
        made.write_text("staged")
        return str(made)

    with pytest.raises(WorkerFailed, match=r"\(status 70\)$"):
        map_shares(run, chunks(list(range(48)), 2), discard=lambda path: Path(path).unlink())
    assert list(tmp_path.iterdir()) == [], "every chunk's file removed, the child's by the child"


class Stop(BaseException):
    """What the CLI's SIGTERM handler raises (`sealkit_cli.main.Terminated`), for this test's handler."""


def test_a_stop_signal_while_the_answers_are_read_waits_and_everything_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM to this process alone (`kill PID`) as it reads the children's answers: it is held until every
    answer is in, then raised where the results are still known, and every chunk's files are removed. Before,
    it was raised in the middle of reading and nothing was undone: the children's staged files stayed."""

    def run(chunk: Sequence[int]) -> str:
        made = tmp_path / f"{os.getpid()}-{chunk[0]}"
        made.write_text("staged")
        return str(made)

    real = workers._collect

    def signalled(pid: int, read_end: int) -> list[workers.Outcome]:
        # Arrives now, while the answers are read. To this thread: the CLI forks workers only when no other
        # thread runs, so a `kill PID` reaches this one; a test runner has threads of its own that would take it.
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
        return real(pid, read_end)

    def stop(signum: int, frame: object) -> None:
        raise Stop

    monkeypatch.setattr(workers, "_collect", signalled)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(Stop):
            map_shares(run, chunks(list(range(48)), 3), discard=lambda path: Path(path).unlink())
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert list(tmp_path.iterdir()) == [], "every chunk's file removed, the children's too"


def test_a_stop_signal_as_a_child_sends_its_answer_waits_until_it_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child's work is done, its answer being made: the signal then used to end it without an answer and
    without undoing its chunks (the parent could not: it never heard of them). Now the answer goes whole."""
    parent = os.getpid()
    real = pickle.dumps

    def dumps_then_signalled(obj: Any, *args: Any, **kwargs: Any) -> bytes:
        if os.getpid() != parent:
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
        return real(obj, *args, **kwargs)

    def run(chunk: Sequence[int]) -> str:
        made = tmp_path / f"{chunk[0]}"
        made.write_text("staged")
        return str(made)

    def stop(signum: int, frame: object) -> None:
        raise Stop

    monkeypatch.setattr(pickle, "dumps", dumps_then_signalled)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        results = map_shares(run, chunks(list(range(48)), 3), discard=lambda path: Path(path).unlink())
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert sorted(Path(r).name for r in results) == sorted(p.name for p in tmp_path.iterdir())
    assert len(results) == len([c for share in chunks(list(range(48)), 3) for c in share])
