"""Kopf as `wiring` builds it: no memory kept per watched object."""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealkit.errors import SealkitError
from sealkit_controller.settings import Settings
from sealkit_controller.wiring import Runtime, build_registry, kopf_memories, start_up_delay
from tests.support.cluster import CONTROLLER_NS, Cluster, LogLines


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
    assert warning.startswith("start-up failed (retrying in 1.0s): an unexpected error (a bug) at test_wiring.py:")
    assert "hunter2" not in caplog.text and "RuntimeError" not in caplog.text


def failing_start_up(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> object:
    """The startup handler of a runtime whose start always fails as a refused API request does."""
    runtime = Runtime(settings, configuration=None)

    async def start() -> None:
        raise SealkitError("403 Forbidden: forbidden by policy", where="key Secrets in kube-system")

    async def stop() -> None:
        return None

    monkeypatch.setattr(runtime, "start", start)
    monkeypatch.setattr(runtime, "stop", stop)
    registry = build_registry(runtime)
    (handler,) = [h for h in registry._activities.get_all_handlers() if h.fn.__name__ == "startup"]
    return handler.fn


def test_a_failing_start_up_backs_off_up_to_the_cap_with_one_warning_a_try(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up that fails (the API server refusing, no key that can be made) was tried again every
    `retry_base_delay` (1 s) for as long as it failed, each try possibly making a new RSA key: now the wait
    doubles up to `retry_max_delay`, and each try is one warning saying how long until the next."""
    import kopf

    startup = failing_start_up(monkeypatch, Settings(retry_base_delay=1.0, retry_max_delay=300.0))
    caplog.set_level(logging.INFO)
    delays = []
    for retry in range(12):  # Kopf's count of earlier tries: 0 on the first
        with pytest.raises(kopf.TemporaryError) as retried:
            asyncio.run(startup(retry=retry))  # type: ignore[operator]
        delays.append(retried.value.delay)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0, 300.0]
    lines = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert lines == [
        (
            logging.WARNING,
            f"start-up failed (retrying in {d:.1f}s): 403 Forbidden: forbidden by policy: key Secrets in kube-system",
        )
        for d in delays
    ]


@given(
    base=st.floats(min_value=0.001, max_value=60.0),
    cap=st.floats(min_value=0.001, max_value=3600.0),
    retry=st.integers(min_value=0, max_value=10**6),
)
def test_the_start_up_delay_doubles_from_the_base_and_never_passes_the_cap(base: float, cap: float, retry: int) -> None:
    settings = Settings(retry_base_delay=base, retry_max_delay=cap)
    delay = start_up_delay(settings, retry)
    assert 0 < delay <= cap
    assert delay == min(cap, base * 2.0 ** min(retry, 64))  # any count of tries (past 1024 Backoff overflowed)
    assert start_up_delay(settings, retry + 1) >= delay


def test_the_real_controller_retries_its_start_up_with_backoff_and_one_line_a_try(
    cluster: Cluster, logs: LogLines
) -> None:
    """Through Kopf: the key Secrets cannot be listed four times, then start-up goes through. Each failed try is
    one warning with its wait, growing (0.05 s doubling, capped at 0.5 s in the tests' settings), and Kopf's
    own error line for it ("Activity 'startup' failed temporarily: ...") is not repeated."""
    cluster.add_key(0)
    cluster.kube.fail("GET", rf"/api/v1/namespaces/{CONTROLLER_NS}/secrets$", 403, times=4, message="no list")
    with cluster.start():
        pass
    tries = [line for line in logs.lines if "start-up failed" in line]
    assert [line.split("retrying in ", 1)[1].split("s)", 1)[0] for line in tries] == ["0.1", "0.1", "0.2", "0.4"]
    assert all(line.startswith("WARNING sealkit_controller.wiring: start-up failed (retrying in ") for line in tries)
    assert not any("failed temporarily" in line for line in logs.lines)
