"""A background loop owned by a component: started with the operator, cancelled at its cleanup."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any


class BackgroundLoop:
    """One named asyncio task running `body()`; `stop()` cancels it and waits for it to end."""

    def __init__(self, name: str, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.name = name
        self._body = body
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._body(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait for it to end; the loop's own cancellation is not an error.

        A cancellation of the caller while it waits here is its own and goes on up (the loop is cancelled
        either way): a shutdown or a leader stepping down that is itself cancelled must not carry on as if
        `stop()` had returned. The caller's pending cancellations are counted before and after (Python
        3.11's `Task.cancelling()`), so a caller already being cancelled (a `finally` that stops the loop)
        gets on with its clean-up.
        """
        task = self._task
        if task is None:
            return
        caller = asyncio.current_task()
        pending = caller.cancelling() if caller is not None else 0
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            if caller is not None and caller.cancelling() > pending:
                raise
        finally:
            self._task = None
        if caller is not None and caller.cancelling() > pending:
            # The loop swallowed the cancellation and ended normally: asyncio then drops the caller's too.
            raise asyncio.CancelledError


async def woken(wake: asyncio.Event, seconds: float) -> None:
    """Wait until `wake` is set or `seconds` have passed, whichever comes first (a background loop's pause).

    Not asyncio.wait_for: on Python 3.11 it drops a cancel (the loop's stop()) that meets a wake-up, and the loop
    then waits on for up to an hour, with stop() waiting for it.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await wake.wait()
