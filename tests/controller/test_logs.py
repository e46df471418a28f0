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
from sealkit_controller.plumbing.logs import JsonFormatter, configure_logging, log_loop_errors


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


def test_a_loop_error_that_is_a_bug_says_where_not_what(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    try:
        raise KeyError("hunter2")
    except KeyError as exc:
        error = exc
    try:
        with caplog.at_level(logging.INFO, logger="sealkit_controller"):
            log_loop_errors(loop, {"message": "Task exception was never retrieved", "exception": error})
            refused = ConnectionRefusedError(111, "Connection refused")
            log_loop_errors(loop, {"message": "Unclosed connection", "exception": refused})
    finally:
        loop.close()
    bug, refusal = (r.getMessage() for r in caplog.records)
    assert bug.startswith("Task exception was never retrieved: an unexpected error (a bug) at test_logs.py:")
    assert "hunter2" not in caplog.text and "KeyError" not in caplog.text
    assert refusal == "Unclosed connection: connection refused"


KOPF_RETRY = (
    "Request attempt #1/5 failed; will retry: GET https://10.0.0.1/api/v1/secrets?watch=true -> "
    "ClientConnectorError(ConnectionKey(host='10.0.0.1', port=443, is_ssl=True, ssl=True, proxy=None), "
    "ConnectionRefusedError(111, \"Connect call failed ('10.0.0.1', 443)\"))"
)
URLLIB3_RETRY = (
    "Retrying (Retry(total=2, connect=None, read=None, redirect=None, status=None)) after connection broken by "
    "'NewConnectionError(\"HTTPSConnection(host='10.0.0.1', port=443): Failed to establish a new connection: "
    "[Errno 111] Connection refused\")': /api/v1/namespaces/default/secrets/db"
)


@pytest.fixture()
def restored_logging() -> Any:
    """configure_logging changes the root logger and library levels: put back afterwards."""
    root = logging.getLogger()
    names = ("urllib3", "kopf.objects", "kubernetes")
    before = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in names})
    yield
    root.handlers[:], root.level = before[0], before[1]
    for name, level in before[2].items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.usefixtures("restored_logging")
def test_library_lines_carry_no_python_error_reprs_or_tracebacks(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", log_format)
    logging.getLogger("kopf._cogs.clients.watching").error(KOPF_RETRY)
    logging.getLogger("urllib3.connectionpool").warning(URLLIB3_RETRY)
    try:
        raise RuntimeError("hunter2")
    except RuntimeError:
        logging.getLogger("kopf.objects").exception("Handler 'x' failed with an exception and will ignore it")
    logging.getLogger("sealkit_controller.x").warning("own line: ValueError(1) stays as written")
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 3, err
    assert lines[0].endswith(
        "GET https://10.0.0.1/api/v1/secrets?watch=true -> connection refused" + ('"}' if log_format == "json" else "")
    )
    assert "Handler 'x' failed with an exception and will ignore it" in lines[1]
    for shown in ("Error(", "Traceback", "hunter2", "Retrying"):
        assert shown not in "\n".join(lines[:2])
    assert "own line: ValueError(1) stays as written" in lines[2]


@pytest.mark.usefixtures("restored_logging")
def test_library_tracebacks_stay_when_debugging(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", "text")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("kopf.objects").exception("failed")
    assert "Traceback" in capsys.readouterr().err


def test_the_operator_installs_the_handler() -> None:
    source = inspect.getsource(wiring.run_operator)
    assert "set_exception_handler(log_loop_errors)" in source


def test_python_warnings_are_log_lines() -> None:
    """A Python warning in the controller (cryptography's notice about a certificate it parsed) was two raw lines
    on stderr beside the JSON log, or nothing once the CLI that starts the controller silenced warnings: it is
    one line of the log now, in its format."""
    import subprocess

    script = (
        "import warnings; warnings.simplefilter('ignore')\n"  # as the CLI leaves it
        "from sealkit_controller.plumbing.logs import configure_logging\n"
        "configure_logging('INFO', 'json')\n"
        "warnings.warn('a certificate notice', UserWarning)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    line = json.loads(lines[0])
    assert line["level"] == "WARNING" and line["logger"] == "py.warnings"
    assert line["msg"].startswith("UserWarning: a certificate notice (") and "\n" not in line["msg"]
