"""The controller's log output: text or one JSON object a line, quiet client libraries.

Tracebacks are kept: in text logs as usual, in JSON logs in an `exc_info` field of the same line.
"""

from __future__ import annotations

import json
import logging
import sys

from sealkit.clients.kube.config import quiet_client_loggers


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


def configure_logging(level: str, log_format: str) -> None:
    """Root logging for the controller process: `level`, text or JSON to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_client_loggers()
    if root.level > logging.DEBUG:
        # Kopf logs a line per handled watch event; with every Secret of the cluster watched that is noise.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
