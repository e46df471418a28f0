"""The controller's JSON log lines keep a traceback, in an `exc_info` field of the same line."""

from __future__ import annotations

import json
import logging
import sys

from sealkit_controller.plumbing.logs import JsonFormatter


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
