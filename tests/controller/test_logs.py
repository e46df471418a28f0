"""The controller's log lines: JSON keeps a traceback in a field; the loop's last-resort handler writes one line."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sealkit_controller import wiring
from sealkit_controller.plumbing.logs import JsonFormatter, log_loop_errors


def test_json_lines_keep_the_traceback_in_a_field() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("sealkit_controller.x", logging.ERROR, "", 1, "failed %s", ("here",), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["msg"] == "failed here" and parsed["logger"] == "sealkit_controller.x"
    assert parsed["exc_info"].startswith("Traceback") and "ValueError: boom" in parsed["exc_info"]
    plain = JsonFormatter().format(logging.LogRecord("x", logging.INFO, "", 1, "ok", (), None))
    assert "exc_info" not in json.loads(plain)


def _leaky_stream() -> Any:
    async def stream() -> AsyncIterator[int]:
        try:
            yield 1
        finally:
            raise RuntimeError("generator didn't stop after athrow()")

    return stream()


def test_a_stream_closed_late_at_shutdown_is_one_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    """Kopf's watch streams cancelled while starting can fail to close when asyncio shuts down: no traceback."""
    left_open: list[Any] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(log_loop_errors)
        left_open.append(_leaky_stream())
        await left_open[0].__anext__()  # open, never closed: asyncio.run closes it at shutdown

    with caplog.at_level(logging.DEBUG, logger="sealkit_controller"):
        asyncio.run(main())
    records = [r for r in caplog.records if r.name == "sealkit_controller.plumbing.logs"]
    assert [r.levelno for r in records] == [logging.DEBUG]
    assert records[0].exc_info is None and "closed late at shutdown" in records[0].getMessage()


def test_other_loop_errors_are_one_error_line_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.INFO, logger="sealkit_controller"):
            log_loop_errors(loop, {"message": "Task exception was never retrieved", "exception": OSError("gone")})
    finally:
        loop.close()
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is None
    assert record.getMessage() == "Task exception was never retrieved: gone"


def test_the_operator_installs_the_handler() -> None:
    source = inspect.getsource(wiring.run_operator)
    assert "set_exception_handler(log_loop_errors)" in source
