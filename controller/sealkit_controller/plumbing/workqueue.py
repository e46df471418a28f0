"""A work queue of object keys, as client-go's: each key once in the queue, never in two workers at once.

Why not Kopf's own handler retries: Kopf re-runs handlers only when the object changes, and the controller
must also act when something else happens (its Secret is deleted, a key appears) and retry with its own
backoff; a key queue gives all triggers one path. A key added while it is being worked on is run again
right after, with the newest body.

While more keys wait than there are workers (a backlog: a start, a resume, a burst of changes), a worker
takes up to `batch` keys at once and hands them to the handler together, so the handler can run them as one
thread-pool job: the event loop's work per job (the hand-off to a thread and back) is then paid once per
batch, not once per key. With no backlog every key goes alone, and all workers stay busy.
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
    """Deduplicating queue with delayed adds; `workers` tasks call `handler(keys)` with one key, or up to
    `batch` keys taken together from a backlog. Each key of a batch counts as being worked on until the
    handler returns; an error escaping the handler is logged for every key of its batch."""

    def __init__(self, handler: Callable[[list[K]], Awaitable[None]], workers: int, *, batch: int = 1) -> None:
        self._handler = handler
        self._workers = workers
        self._batch = max(1, batch)
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
            keys = [await self._queue.get()]
            while len(keys) < self._batch and self._queue.qsize() > self._workers:
                keys.append(self._queue.get_nowait())
            self._queued.difference_update(keys)
            self._active.update(keys)
            try:
                await self._handler(keys)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                for key in keys:
                    log_failure(key, exc)
            finally:
                for key in keys:
                    self._active.discard(key)
                    if key in self._dirty:
                        self._dirty.discard(key)
                        self.add(key)


def log_failure(key: Hashable, exc: BaseException) -> None:
    """An unexpected error working on `key` (`log_unexpected`); a (namespace, name) key reads namespace/name."""
    shown = "/".join(str(part) for part in key) if isinstance(key, tuple) else str(key)
    log_unexpected(f"reconciling {shown}", exc)


def log_unexpected(doing: str, exc: BaseException, *, retrying_in: float | None = None) -> None:
    """An unexpected error while `doing` something: what and where the error was raised at warning, the stack
    at debug (for a bug report, as SEALKIT_DEBUG is for the CLI). Never the error's message (it could quote
    a secret value), nor at warning its Python class. `retrying_in`: the seconds until it is tried again."""
    stack = traceback.extract_tb(exc.__traceback__)
    retrying = f" (retrying in {retrying_in:.1f}s)" if retrying_in is not None else ""
    logger.warning("%s failed%s: an unexpected error (a bug)%s", doing, retrying, raised_at(exc))
    logger.debug("%s failed: stack (message withheld):\n%s", doing, "".join(stack.format()))


def raised_at(exc: BaseException) -> str:
    """Where `exc` was raised, as " at file.py:line in function" ("" when unknown): never its message or class."""
    stack = traceback.extract_tb(exc.__traceback__)
    return f" at {stack[-1].filename.rsplit('/', 1)[-1]}:{stack[-1].lineno} in {stack[-1].name}" if stack else ""
