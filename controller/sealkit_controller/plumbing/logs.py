"""The controller's log output: text or one JSON object a line, info to stdout and warnings/errors to
stderr (Bitnami's --log-info-stdout), quiet client libraries.

Tracebacks are kept: in text logs as usual, in JSON logs in an `exc_info` field of the same line.
`log_loop_errors` is the event loop's last-resort handler: what nothing else caught becomes one line
(the traceback only at debug level), and Kopf's watch streams closed late at shutdown are not errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

from sealkit.clients.kube.config import quiet_client_loggers

logger = logging.getLogger(__name__)


class JsonFormatter(logging.Formatter):
    """One JSON object a line (--log-format json); a traceback, if any, in the `exc_info` field."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line)


class _AtMost(logging.Filter):
    """Records up to a level (info and debug, for stdout)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno <= self.level


class _Above(_AtMost):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > self.level


def configure_logging(level: str, log_format: str, info_stdout: bool = True) -> None:
    """Root logging for the controller process: `level`, text or JSON lines.

    As Bitnami's --log-info-stdout: info and debug to stdout, warnings and errors to stderr; with
    `info_stdout` False, everything to stderr.
    """
    formatter = (
        JsonFormatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handlers: list[logging.Handler] = []
    if info_stdout:
        low: logging.Handler = logging.StreamHandler(sys.stdout)
        low.addFilter(_AtMost(logging.INFO))
        high: logging.Handler = logging.StreamHandler(sys.stderr)
        high.addFilter(_Above(logging.INFO))
        handlers = [low, high]
    else:
        handlers = [logging.StreamHandler(sys.stderr)]
    for handler in handlers:
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    quiet_client_loggers()
    if root.level > logging.DEBUG:
        # Kopf logs a line per handled watch event; with every Secret of the cluster watched that is noise.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)


def log_loop_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler: one line per error; tracebacks only when debugging.

    At shutdown asyncio closes async generators left open; Kopf's watch streams, cancelled while
    starting, can fail to close then (a Kopf quirk, nothing lost: the process is exiting). That is
    a debug line, not an error with a traceback in every log collector.
    """
    del loop
    message = str(context.get("message") or "unhandled error in the event loop")
    error = context.get("exception")
    detail = f": {error}" if error is not None and str(error) else ""
    if context.get("asyncgen") is not None:
        logger.debug("a stream closed late at shutdown: %s%s", message, detail)
        return
    logger.error("%s%s", message, detail)
    if error is not None and logger.isEnabledFor(logging.DEBUG):
        logger.debug("where: %s", message, exc_info=error)
