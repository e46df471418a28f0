"""One open watch request: its filters and the queue of events the store pushes into it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]


class Watcher:
    """Receives every change of one resource; keeps those its namespace/name/selectors let through.

    A change that moves an object into (out of) the selection is delivered as ADDED (DELETED),
    the way the real watch cache does it.
    """

    def __init__(
        self, *, namespace: str | None, name: str | None, label_match: Predicate | None, field_match: Predicate | None
    ) -> None:
        self.namespace = namespace
        self.name = name
        self.label_match = label_match
        self.field_match = field_match
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.closed = False

    def selects(self, obj: Mapping[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        if self.name is not None and meta.get("name") != self.name:
            return False
        if self.label_match is not None and not self.label_match(meta.get("labels") or {}):
            return False
        return self.field_match is None or self.field_match(obj)

    def translate(self, etype: str, obj: Mapping[str, Any], old: Mapping[str, Any] | None) -> str | None:
        """The event type this watcher sees for a change, or None when it is filtered out."""
        now = self.selects(obj)
        if etype == "MODIFIED" and old is not None:
            before = self.selects(old)
            if now and before:
                return "MODIFIED"
            if now:
                return "ADDED"
            return "DELETED" if before else None
        return etype if now else None

    def offer(self, etype: str, obj: Mapping[str, Any], old: Mapping[str, Any] | None) -> None:
        if self.closed:
            return
        seen = self.translate(etype, obj, old)
        if seen is not None:
            self.queue.put_nowait({"type": seen, "object": obj})

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)
