"""The controller's log output: text or one JSON object a line, info to stdout and warnings/errors to
stderr (Bitnami's --log-info-stdout), quiet client libraries.

Tracebacks are kept: in text logs as usual, in JSON logs in an `exc_info` field of the same line.
`log_loop_errors` is the event loop's last-resort handler: what nothing else caught becomes one line
(the traceback only at debug level), and Kopf's watch streams closed late at shutdown are not errors.

The libraries the controller runs on write their own lines: Kopf's request retries end with the Python
repr of the error (`-> ClientConnectorError(ConnectionKey(...), ConnectionRefusedError(111, ...))`), and
urllib3's retries name theirs (`NewConnectionError(...)`). `PlainLibraryLines` puts a cause in words in
place of such a repr and keeps library tracebacks for debug logging; urllib3's retry lines are not shown
(the controller's own line says what the request came to).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import warnings
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


# A Python exception's repr (`ClientConnectorError(...)`, `aiohttp.ServerDisconnectedError('...')`) to the line's end.
_ERROR_REPR = re.compile(r"'?\b(?:[a-z_]\w*\.)*([A-Z]\w*(?:Error|Exception|Disconnected|Timeout))\(.*", re.DOTALL)
# What an error's repr says, in words (first match wins).
_CAUSES = (
    (re.compile(r"ConnectionRefused|[Cc]onnection refused"), "connection refused"),
    (re.compile(r"ConnectionReset|[Cc]onnection reset"), "connection reset"),
    (re.compile(r"ServerDisconnected|Server disconnected"), "the server closed the connection"),
    (re.compile(r"DNSError|Name or service not known|getaddrinfo"), "the host name does not resolve"),
    (re.compile(r"Certificate|SSL|TLS"), "TLS error"),
    (re.compile(r"Timeout|timed out"), "the request timed out"),
)
_HTTP_STATUS = re.compile(r"status=(\d{3})\b")


def plain_cause(text: str) -> str:
    """A library line with the repr of an error replaced by its cause in words (the line itself if it has none)."""
    found = _ERROR_REPR.search(text)
    if found is None:
        return text
    tail = found.group(0)
    status = _HTTP_STATUS.search(tail)
    cause = next((words for pattern, words in _CAUSES if pattern.search(tail)), None)
    if cause is None:
        cause = f"HTTP {status.group(1)}" if status else re.sub(r"(?<!^)(?=[A-Z])", " ", found.group(1)).lower()
    return text[: found.start()] + cause


class PlainLibraryLines(logging.Filter):
    """Lines of libraries (Kopf, aiohttp, urllib3, asyncio) without Python error reprs or, unless `tracebacks`
    (debug logging), tracebacks: a cause in words instead (`plain_cause`). The controller's own lines are
    left alone: they are written that way."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("sealkit"):
            return True
        if record.exc_info and not self.tracebacks:
            record.exc_info, record.exc_text = None, None
        message = record.getMessage()
        plain = plain_cause(message)
        if plain != message:
            record.msg, record.args = plain, ()
        return True


class _KopfStartUpRetries(logging.Filter):
    """Kopf's own line for a start-up try that failed (`Activity 'startup' failed temporarily: ...`, an error):
    the controller's warning has said it already, with the wait before the next try."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Activity 'startup' failed temporarily")


_KOPF_START_UP_RETRIES = _KopfStartUpRetries()


def quiet_libraries() -> None:
    """The client libraries held at WARNING (`quiet_client_loggers`), and urllib3 at ERROR: its retry lines name
    Python errors (`NewConnectionError(...)`), and the controller's own line says what the request came to.
    Kopf's line for each failed start-up try is not shown: the controller's warning says it, with the delay."""
    quiet_client_loggers()
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    logging.getLogger("kopf.activities.startup").addFilter(_KOPF_START_UP_RETRIES)


def warnings_to_log() -> None:
    """Python's warnings become log lines (logger `py.warnings`, in the log's format) instead of raw lines on
    stderr, under Python's default filters (the CLI that starts the controller silences warnings); `-W` and
    PYTHONWARNINGS are kept as given."""
    if not sys.warnoptions:
        warnings.resetwarnings()
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
    warnings.formatwarning = _one_line_warning
    logging.captureWarnings(True)


def _one_line_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None
) -> str:
    """A warning as one log line: its category, its text and where it was raised (no quoted source line)."""
    return f"{category.__name__}: {message} ({filename}:{lineno})"


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
    plain = PlainLibraryLines(tracebacks=level.upper() == "DEBUG")
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(plain)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    quiet_libraries()
    warnings_to_log()
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
    detail = f": {_error_words(error)}" if isinstance(error, BaseException) else ""
    if context.get("asyncgen") is not None:
        logger.debug("a stream closed late at shutdown: %s%s", message, detail)
        return
    logger.error("%s%s", message, detail)
    if error is not None and logger.isEnabledFor(logging.DEBUG):
        logger.debug("where: %s", message, exc_info=error)


def _error_words(error: BaseException) -> str:
    """An error in words: the system's for an OSError, else where it was raised (its message may quote a value)."""
    if isinstance(error, OSError):
        return (error.strerror or str(error) or "input/output error").lower()
    from sealkit_controller.plumbing.workqueue import raised_at

    return f"an unexpected error (a bug){raised_at(error)}"
