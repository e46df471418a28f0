"""Reading Azure SDK HTTP errors without importing the SDK: codes, message, Retry-After.

Used by the Key Vault client (`sealkit.clients.keyvault.errors`), which turns every
`azure.core.exceptions.HttpResponseError` into one line; the exception is read duck-typed, so this
stays in the core and is tested without Azure.
"""

from __future__ import annotations

from typing import Any

from sealkit.retry import parse_retry_after


def one_line(text: str, limit: int = 240) -> str:
    """The first line of `text`, whitespace folded, cut at `limit` characters."""
    line = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def retry_after(exc: Any) -> float | None:
    """Seconds the service asked to wait (Retry-After as seconds or an HTTP date), or None."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    return parse_retry_after(headers.get("Retry-After"))


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
