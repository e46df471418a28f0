"""Kopf as `wiring` builds it: no memory kept per watched object."""

from __future__ import annotations

import asyncio
import logging

import pytest

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


def test_an_unexpected_start_up_error_is_retried_without_its_message_or_a_traceback(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in start-up: Kopf logged the exception with its traceback (which may quote a value); now one
    warning says where it was raised, and Kopf retries it as a temporary error (no traceback)."""
    import kopf

    from sealkit_controller.settings import Settings
    from sealkit_controller.wiring import Runtime, build_registry

    runtime = Runtime(Settings(), configuration=None)
    stopped: list[bool] = []

    async def start() -> None:
        raise RuntimeError("the value 'hunter2' leaked")

    async def stop() -> None:
        stopped.append(True)

    monkeypatch.setattr(runtime, "start", start)
    monkeypatch.setattr(runtime, "stop", stop)
    registry = build_registry(runtime)
    (handler,) = [h for h in registry._activities.get_all_handlers() if h.fn.__name__ == "startup"]
    caplog.set_level(logging.INFO)
    with pytest.raises(kopf.TemporaryError) as retried:
        asyncio.run(handler.fn())
    assert str(retried.value) == "start-up failed unexpectedly" and stopped == [True]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.startswith("start-up failed: an unexpected error (a bug) at test_wiring.py:")
    assert "hunter2" not in caplog.text and "RuntimeError" not in caplog.text
