"""The key queue: one worker per key at a time, deduplication, re-run when added while busy, delays.

On looptime's fake loop clock: `asyncio.sleep` here lets the loop run until it is idle and then moves its clock
on (the queue's delays are loop timers), so nothing waits in real time and nothing depends on how busy the
machine is."""

from __future__ import annotations

import asyncio
import logging

import pytest

from sealkit_controller.plumbing.workqueue import WorkQueue

pytestmark = pytest.mark.looptime


async def test_dedup_busy_rerun_and_delays() -> None:
    seen: list[str] = []
    running: set[str] = set()
    overlap: list[str] = []
    gate = asyncio.Event()
    started = asyncio.Event()

    async def handler(keys: list[str]) -> None:
        (key,) = keys  # no backlog: one key at a time
        if key in running:
            overlap.append(key)
        running.add(key)
        seen.append(key)
        if key == "slow":
            started.set()
            await gate.wait()
        running.discard(key)

    queue: WorkQueue[str] = WorkQueue(handler, workers=3, batch=8)
    queue.start()
    try:
        queue.add("a")
        queue.add("a")  # queued once
        queue.add("slow")
        await started.wait()
        queue.add("slow")  # busy: runs again afterwards, not in parallel
        queue.add("slow")
        gate.set()
        await asyncio.sleep(0.01)  # the loop runs until idle
        assert seen.count("a") == 1 and seen.count("slow") == 2 and not overlap and queue.pending() == 0

        queue.add_after("later", 0.05)
        queue.add_after("later", 0.5)  # a later delay never postpones an earlier one
        queue.add_after("gone", 0.05)
        queue.discard("gone")
        assert queue.pending() == 1
        await asyncio.sleep(0.049)
        assert "later" not in seen  # not before its delay
        await asyncio.sleep(0.002)
        assert seen.count("later") == 1 and "gone" not in seen
        await asyncio.sleep(1)
        assert seen.count("later") == 1  # not again at 0.5 s

        queue.add_after("now", 5)
        queue.add("now")  # an immediate add replaces the pending delay
        await asyncio.sleep(10)
        assert seen.count("now") == 1 and queue.pending() == 0
    finally:
        await queue.stop()


async def test_a_failing_handler_does_not_kill_the_worker(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    async def handler(keys: list[str]) -> None:
        seen.extend(keys)
        if "boom" in keys:
            raise RuntimeError("secret value 'hunter2' leaked?")

    queue: WorkQueue[str] = WorkQueue(handler, workers=1)
    queue.start()
    try:
        queue.add("boom")
        queue.add("next")
        await asyncio.sleep(0.02)
        assert seen == ["boom", "next"]
        assert "reconciling boom failed: an unexpected error (a bug) at test_workqueue.py:" in caplog.text
        assert "hunter2" not in caplog.text
    finally:
        await queue.stop()


async def test_a_failure_is_logged_with_object_and_where_and_the_stack_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def handler(keys: list[str]) -> None:
        raise RuntimeError("secret value 'hunter2' leaked?")

    caplog.set_level(logging.DEBUG, logger="sealkit_controller.plumbing.workqueue")
    queue: WorkQueue[str] = WorkQueue(handler, workers=1)
    queue.start()
    try:
        queue.add("default/app")
        await asyncio.sleep(0.02)
    finally:
        await queue.stop()
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith("reconciling default/app failed: an unexpected error (a bug) at ")
    assert "test_workqueue.py" in warning.getMessage() and "in handler" in warning.getMessage()  # where it was raised
    assert "RuntimeError" not in warning.getMessage(), "no Python class name at warning"
    (debug,) = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert 'raise RuntimeError("secret value' in debug.getMessage()  # the stack, as source lines
    assert "hunter2' leaked?\n" not in caplog.text and "RuntimeError: secret" not in caplog.text  # never the message


async def test_a_backlog_goes_in_batches_and_the_last_keys_alone() -> None:
    batches: list[list[str]] = []
    running: set[str] = set()
    overlap: list[str] = []
    gate = asyncio.Event()

    async def handler(keys: list[str]) -> None:
        overlap.extend(k for k in keys if k in running)
        running.update(keys)
        batches.append(keys)
        await gate.wait()
        running.difference_update(keys)

    queue: WorkQueue[str] = WorkQueue(handler, workers=2, batch=4)
    queue.start()
    try:
        backlog = [f"k{i}" for i in range(12)]
        for key in backlog:
            queue.add(key)
        await asyncio.sleep(0.01)
        # Two workers, each with a batch of 4 taken from the backlog; 4 keys wait.
        assert [len(b) for b in batches] == [4, 4] and queue.pending() == 12
        queue.add("k0")  # busy in a batch: runs again afterwards, alone (no backlog by then)
        gate.set()
        await asyncio.sleep(0.01)
        # Then k8..k11 and k0 again wait: a batch while more than 2 wait (k8, k9, k10), then the last alone.
        assert batches[2:] == [["k8", "k9", "k10"], ["k11"], ["k0"]]
        assert sorted(k for b in batches for k in b) == sorted([*backlog, "k0"])
        assert not overlap and queue.pending() == 0
    finally:
        await queue.stop()
