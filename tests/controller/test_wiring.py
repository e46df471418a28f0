"""Kopf as `wiring` builds it: no memory kept per watched object."""

from __future__ import annotations

import asyncio

from sealkit_controller.wiring import kopf_memories


def test_kopf_remembers_no_object() -> None:
    memories = kopf_memories()

    async def recall_twice() -> tuple[object, object]:
        body = {"metadata": {"uid": "u-1", "name": "a", "namespace": "default"}}
        return await memories.recall(body, noticed_by_listing=True), await memories.recall(body)

    first, second = asyncio.run(recall_twice())
    assert first is not second  # a fresh memory per event
    assert first.noticed_by_listing is True  # type: ignore[attr-defined]
    assert list(memories.iter_all_memories()) == []
