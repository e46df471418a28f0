"""Reading Azure SDK HTTP errors without importing the SDK: codes, message, Retry-After.

Shared by the CLI's Key Vault checks and the controller's key escrow, which both turn an
`azure.core.exceptions.HttpResponseError` into one line; the exception is handled duck-typed.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any


def one_line(text: str, limit: int = 240) -> str:
    """The first line of `text`, whitespace folded, cut at `limit` characters."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def retry_after(exc: Any) -> float | None:
    """Seconds the service asked to wait (Retry-After as seconds or an HTTP date), or None."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(when.timestamp() - time.time(), 0.0)


def error_codes(exc: Any) -> tuple[str, str]:
    """(code, inner code) of a Key Vault error body, e.g. ("Forbidden", "SecretDisabled")."""
    error = getattr(exc, "error", None)
    code = str(getattr(error, "code", "") or "")
    inner = getattr(error, "innererror", None) or {}
    return code, str(inner.get("code", "")) if isinstance(inner, dict) else ""


def service_message(exc: Any) -> str:
    """The service's message, one line, without the "Caller:" details that name principals."""
    error = getattr(exc, "error", None)
    text = str(getattr(error, "message", "") or getattr(exc, "message", "") or getattr(exc, "reason", "") or "")
    return one_line(text.split(" Caller:")[0])
