"""The seam between the event loop and blocking work: `Run` puts a call in the controller's thread pool.

Every room that calls the Kubernetes client, the vault or RSA code takes a `Run` rather than an executor,
so it can be given the controller's pool (or, in a test, anything awaitable with that signature).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Run(Protocol):
    """`await run(fn, *args)`: `fn(*args)` in a worker thread, its result back on the event loop."""

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T: ...


class InPool:
    """A `Run` over one executor (the controller's thread pool)."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))
