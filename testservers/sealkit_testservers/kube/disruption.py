"""Disruptions beyond one request's answer: open watches dropped, connections refused, clients partitioned.

Holds the fault rules, the open watch streams (with who opened them) and the listeners, and carries out
what a rule or an admin call asks: a status, a delay, a hang, a reset connection; dropping watches
(cleanly, as a server's watch timeout does, or by resetting the connection); refusing connections on
one listener or all for a while; and doing either periodically from the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import aiohttp.web

from . import errors
from .faults import Fault, FaultTable, RequestFacts
from .listeners import Listener
from .watching import Watcher

logger = logging.getLogger(__name__)

DROP_MODES = ("close", "reset")


@dataclasses.dataclass(eq=False)
class WatchStream:
    """One open watch response: its request's facts, its watcher and its connection."""

    facts: RequestFacts
    watcher: Watcher
    transport: asyncio.Transport | None

    def drop(self, mode: str) -> None:
        if mode == "reset" and self.transport is not None:
            self.transport.abort()
        self.watcher.close()


class Disruptions:
    """The emulator's fault rules, open watch streams and listeners (use from the emulator's loop)."""

    def __init__(self, seed: int | None = None) -> None:
        self.faults = FaultTable(seed)
        self.streams: set[WatchStream] = set()
        self.listeners: dict[str, Listener] = {}
        self.dropped = 0
        self.refusals = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = asyncio.Event()

    # --- rules --------------------------------------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        self.faults.add(fault)
        if fault.partitions and fault.reset:
            self.drop_watches(lambda s: fault.matches(s.facts), "reset")
        return fault

    async def answer(self, fault: Fault, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse | None:
        """Carry out a rule that fired; None means: serve the request normally now."""
        if fault.delay > 0:
            await self._sleep(fault.delay)
        if fault.reset:
            if raw.transport is not None:
                raw.transport.abort()
            return aiohttp.web.Response(status=502)  # never sent: the connection is gone
        if fault.hang:
            while self.faults.holds(fault) and not self._closing.is_set():
                await self._first(self.faults.changed(), self._closing.wait())
            if not self._closing.is_set():
                return None  # the rule was removed: the request goes through after all
        if fault.status is None and not fault.hang:
            return None
        return self._status(fault)

    @staticmethod
    def _status(fault: Fault) -> aiohttp.web.Response:
        status = fault.status or 503
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        details = {"retryAfterSeconds": fault.retry_after} if fault.retry_after is not None else None
        message = fault.message or f"injected fault: {fault.reason}"
        body = errors.status_body(status, message, reason=fault.reason, details=details)
        return aiohttp.web.json_response(body, status=status, headers=headers)

    # --- watches ------------------------------------------------------------------------------------------

    def watch_opened(self, stream: WatchStream) -> None:
        self.streams.add(stream)

    def watch_closed(self, stream: WatchStream) -> None:
        self.streams.discard(stream)

    async def gate(self, stream: WatchStream) -> bool:
        """Before an event goes out: False when the stream must end (reset); waits while it is partitioned."""
        while True:
            rule = self.faults.partition_for(stream.facts)
            if rule is None:
                return True
            if rule.reset:
                stream.drop("reset")
                return False
            await self._first(self.faults.changed(), self._closing.wait())
            if self._closing.is_set():
                return False

    def drop_watches(self, select: Callable[[WatchStream], bool] | None = None, mode: str = "close") -> int:
        """End the open watches `select(stream)` picks (all when None); `reset` aborts their connections."""
        if mode not in DROP_MODES:
            raise ValueError(f"mode must be one of {DROP_MODES}, got {mode!r}")
        chosen = [s for s in list(self.streams) if select is None or select(s)]
        for stream in chosen:
            stream.drop(mode)
            self.streams.discard(stream)
        self.dropped += len(chosen)
        return len(chosen)

    # --- connections ----------------------------------------------------------------------------------------

    def refuse(
        self, seconds: float | None, names: Iterable[str] | None = None, *, spare: asyncio.BaseTransport | None = None
    ) -> list[str]:
        chosen = list(names) if names is not None else list(self.listeners)
        missing = [name for name in chosen if name not in self.listeners]
        if missing:
            raise LookupError(f"no listener named {missing[0]!r}")
        for name in chosen:
            self.listeners[name].refuse(seconds, spare=spare)
        self.refusals += 1
        return chosen

    async def resume(self, names: Iterable[str] | None = None) -> list[str]:
        chosen = list(names) if names is not None else list(self.listeners)
        for name in chosen:
            if name not in self.listeners:
                raise LookupError(f"no listener named {name!r}")
            await self.listeners[name].resume()
        return chosen

    # --- periodic disruptions (command line) ---------------------------------------------------------------

    def every(self, seconds: float, action: str, *, duration: float = 1.0, mode: str = "close") -> None:
        """Drop all watches (`action="drop-watches"`) or refuse connections for `duration` periodically."""
        if seconds <= 0:
            raise ValueError("a period must be positive")

        async def loop() -> None:
            while not self._closing.is_set():
                await self._sleep(seconds)
                if self._closing.is_set():
                    return
                if action == "drop-watches":
                    count = self.drop_watches(None, mode)
                    logger.info("kube emulator: dropped %d watch(es) (%s)", count, mode)
                else:
                    self.refuse(duration)
                    logger.info("kube emulator: refusing connections for %.1f s", duration)

        task = asyncio.get_running_loop().create_task(loop())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- lifecycle --------------------------------------------------------------------------------------------

    async def close(self) -> None:
        self._closing.set()
        for task in list(self._tasks):
            task.cancel()
        for listener in list(self.listeners.values()):
            await listener.stop()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    @staticmethod
    async def _first(*waits: Coroutine[Any, Any, Any]) -> None:
        tasks = [asyncio.ensure_future(w) for w in waits]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
