"""A work queue of object keys, as client-go's: each key once in the queue, never in two workers at once.

Why not Kopf's own handler retries: Kopf re-runs handlers only when the object changes, and the controller
must also act when something else happens (its Secret is deleted, a key appears) and retry with its own
backoff; a key queue gives all triggers one path. A key added while it is being worked on is run again
right after, with the newest body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    """Deduplicating queue with delayed adds; `workers` tasks call `handler(key)`."""

    def __init__(self, handler: Callable[[K], Awaitable[None]], workers: int) -> None:
        self._handler = handler
        self._workers = workers
        self._queue: asyncio.Queue[K] = asyncio.Queue()
        self._queued: set[K] = set()
        self._active: set[K] = set()
        self._dirty: set[K] = set()
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the workers (again after `stop`: keys still queued are then worked on); idempotent."""
        if self._tasks:
            return
        self._tasks = [asyncio.create_task(self._work(), name=f"sealkit-worker-{i}") for i in range(self._workers)]

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def add(self, key: K) -> None:
        """Queue `key` now (cancels a pending delayed add)."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if key in self._active:
            self._dirty.add(key)
            return
        if key in self._queued:
            return
        self._queued.add(key)
        self._queue.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        """Queue `key` after `delay` seconds unless it is queued sooner."""
        if key in self._queued:
            return
        existing = self._timers.get(key)
        loop = asyncio.get_running_loop()
        if existing is not None:
            if existing.when() <= loop.time() + delay:
                return
            existing.cancel()
        self._timers[key] = loop.call_later(delay, self._fire, key)

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def discard(self, key: K) -> None:
        """Forget pending delayed work for `key` (the object is gone)."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._dirty.discard(key)

    def pending(self) -> int:
        return len(self._queued) + len(self._active) + len(self._timers)

    async def _work(self) -> None:
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            self._active.add(key)
            try:
                await self._handler(key)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The object and the cause (the error's type and where it was raised) at warning, the stack at
                # debug. Never the error's message: an unexpected error's message could quote a secret value.
                stack = traceback.extract_tb(exc.__traceback__)
                where = (
                    f" at {stack[-1].filename.rsplit('/', 1)[-1]}:{stack[-1].lineno} in {stack[-1].name}"
                    if stack
                    else ""
                )
                logger.warning("reconciling %s failed: unexpected %s%s", key, type(exc).__name__, where)
                logger.debug("reconciling %s failed: stack (message withheld):\n%s", key, "".join(stack.format()))
            finally:
                self._active.discard(key)
                if key in self._dirty:
                    self._dirty.discard(key)
                    self.add(key)
