"""Worker processes for large runs: shares in order, each child's result or its error, the earliest failure
raised as one run would raise it, other shares' work discarded, a child that dies reported in one line."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Sequence

import pytest

from sealkit.errors import CheckFailed, InputError, SealkitError
from sealkit_cli import workers
from sealkit_cli.workers import WorkerFailed, map_shares, split, worker_count


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


def pids_and_sums(share: Sequence[int]) -> tuple[int, int]:
    return os.getpid(), sum(share)


def test_each_share_runs_in_its_own_process_and_results_keep_their_order() -> None:
    results = map_shares(pids_and_sums, split(list(range(12)), 3))
    assert [total for _, total in results] == [0 + 1 + 2 + 3, 4 + 5 + 6 + 7, 8 + 9 + 10 + 11]
    pids = [pid for pid, _ in results]
    assert pids[0] == os.getpid() and len(set(pids)) == 3, "the first share here, the others in children"


def failing(bad: set[int], error: type[Exception] = InputError) -> workers.Callable[[Sequence[int]], int]:
    def run(share: Sequence[int]) -> int:
        for piece in share:
            if piece in bad:
                raise error(f"piece {piece} is bad", where="input") if issubclass(error, InputError) else error()
        return sum(share)

    return run


@pytest.mark.parametrize("bad", [{5}, {1, 9}, {9}])
def test_the_earliest_failure_is_raised_and_the_rest_discarded(bad: set[int]) -> None:
    discarded: list[int] = []
    with pytest.raises(SealkitError) as caught:
        map_shares(failing(bad), split(list(range(12)), 3), discard=discarded.append)
    assert str(caught.value) == f"piece {min(bad)} is bad: input"
    shares = split(list(range(12)), 3)
    assert discarded == [sum(s) for s in shares if not bad & set(s)], "every share that worked is undone"


def test_a_child_error_keeps_its_exit_status() -> None:
    def run(share: Sequence[int]) -> int:
        if 9 in share:
            raise CheckFailed("stale certificate", where="prod")
        return 0

    with pytest.raises(WorkerFailed) as caught:
        map_shares(run, split(list(range(12)), 3))
    assert (str(caught.value), caught.value.exit_status) == ("stale certificate: prod", 1)


def test_a_child_that_dies_or_breaks_is_one_line() -> None:
    def killed(share: Sequence[int]) -> int:
        if 9 in share:
            os.kill(os.getpid(), signal.SIGKILL)
        return 0

    with pytest.raises(WorkerFailed, match=r"^a worker process ended without an answer \(signal 9\)$"):
        map_shares(killed, split(list(range(12)), 3))
    with pytest.raises(WorkerFailed, match=r"^a worker process ended without an answer \(status 70\)$"):
        map_shares(failing({9}, ZeroDivisionError), split(list(range(12)), 3))


def test_an_unexpected_error_here_still_waits_for_and_undoes_the_children() -> None:
    discarded: list[int] = []
    with pytest.raises(ZeroDivisionError):
        map_shares(failing({0}, ZeroDivisionError), split(list(range(12)), 3), discard=discarded.append)
    assert discarded == [4 + 5 + 6 + 7, 8 + 9 + 10 + 11]
