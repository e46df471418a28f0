"""`plumbing.background.BackgroundLoop`: stopping a loop, and a cancellation of whoever stops it."""

from __future__ import annotations

import asyncio

import pytest

from sealkit_controller.plumbing.background import BackgroundLoop


class SlowToStop:
    """A loop body that waits for ever and, once cancelled, finishes its clean-up only when released."""

    def __init__(self) -> None:
        self.running = asyncio.Event()
        self.cleaning_up = asyncio.Event()
        self.release = asyncio.Event()
        self.cleaned_up = False
        self.ended = False

    async def body(self) -> None:
        self.running.set()
        try:
            await asyncio.Event().wait()
        finally:
            self.cleaning_up.set()
            try:
                await self.release.wait()
                self.cleaned_up = True
            finally:
                self.ended = True


def test_stop_cancels_the_loop_and_waits_for_it_to_end() -> None:
    async def scenario() -> None:
        body = SlowToStop()
        loop = BackgroundLoop("test-loop", body.body)
        loop.start()
        await body.running.wait()
        stopping = asyncio.create_task(loop.stop())
        await body.cleaning_up.wait()
        assert not stopping.done()
        body.release.set()
        await stopping  # the loop's own cancellation is not raised
        assert body.cleaned_up and body.ended
        await loop.stop()  # stopped already: nothing to do

    asyncio.run(scenario())


def test_a_cancellation_of_the_caller_of_stop_is_not_swallowed() -> None:
    """`stop()` suppressed every CancelledError, the caller's own too: a task cancelled while it stopped a loop
    (a shutdown, a leader stepping down) went on after `stop()` as if nothing had happened. Now the caller is
    cancelled, once the loop has ended (as for any awaited task, the cancellation reaches the loop too)."""

    async def scenario() -> None:
        body = SlowToStop()
        loop = BackgroundLoop("test-loop", body.body)
        loop.start()
        await body.running.wait()
        went_on = asyncio.Event()

        async def caller() -> None:
            await loop.stop()
            went_on.set()

        stopping = asyncio.create_task(caller())
        await body.cleaning_up.wait()
        stopping.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stopping
        assert stopping.cancelled() and not went_on.is_set()
        assert body.ended

    asyncio.run(scenario())


def test_a_caller_already_being_cancelled_gets_on_with_its_clean_up() -> None:
    """Stopping a loop in the `finally` of a cancelled task: only the loop's cancellation is met there, and the
    rest of the clean-up runs."""

    async def scenario() -> None:
        body = SlowToStop()
        body.release.set()
        loop = BackgroundLoop("test-loop", body.body)
        cleaned: list[str] = []
        entered = asyncio.Event()

        async def owner() -> None:
            loop.start()
            try:
                entered.set()
                await asyncio.Event().wait()
            finally:
                await loop.stop()
                cleaned.append("after stop")

        task = asyncio.create_task(owner())
        await entered.wait()
        await body.running.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleaned == ["after stop"] and body.ended

    asyncio.run(scenario())


def test_a_cancellation_the_loop_swallows_still_cancels_the_caller() -> None:
    """A loop body that catches CancelledError and returns: asyncio drops the caller's cancellation that met it."""

    async def scenario() -> None:
        running = asyncio.Event()
        cleaning_up = asyncio.Event()
        release = asyncio.Event()

        async def stubborn() -> None:
            running.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cleaning_up.set()
                while not release.is_set():
                    try:
                        await release.wait()
                    except asyncio.CancelledError:
                        continue

        loop = BackgroundLoop("test-loop", stubborn)
        loop.start()
        await running.wait()
        stopping = asyncio.create_task(loop.stop())
        await cleaning_up.wait()
        stopping.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await stopping

    asyncio.run(scenario())


def test_an_error_ending_the_loop_reaches_the_caller_of_stop() -> None:
    async def scenario() -> None:
        async def broken() -> None:
            raise ValueError("boom")

        loop = BackgroundLoop("test-loop", broken)
        loop.start()
        await asyncio.wait({loop._task} if loop._task is not None else set())  # the body has failed
        with pytest.raises(ValueError):
            await loop.stop()

    asyncio.run(scenario())
