"""API errors rendered as Kubernetes `Status` objects, so clients raise their usual exceptions."""

from __future__ import annotations

from typing import Any

import attrs
import kmock

REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@attrs.frozen
class ApiError(kmock.KubernetesError):
    """One failed API call; `status`, `reason`, `message` and `details` go into the Status body."""

    def body(self) -> dict[str, Any]:
        return status_body(self.status, self.message or "", reason=self.reason, details=self.details)


def status_body(code: int, message: str, *, reason: str | None = None, details: Any = None) -> dict[str, Any]:
    """A `v1/Status` failure object as the real API server sends it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def _details(plural: str, name: str | None, group: str = "") -> dict[str, Any]:
    details: dict[str, Any] = {"kind": plural}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return details


def _qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def bad_request(message: str) -> ApiError:
    return ApiError(status=400, reason="BadRequest", message=message)


def not_found(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        status=404,
        reason="NotFound",
        message=f'{_qualified(plural, group)} "{name}" not found',
        details=_details(plural, name, group),
    )


def already_exists(plural: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        status=409,
        reason="AlreadyExists",
        message=f'{_qualified(plural, group)} "{name}" already exists',
        details=_details(plural, name, group),
    )


def conflict(plural: str, name: str, group: str = "", why: str = "") -> ApiError:
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    return ApiError(
        status=409,
        reason="Conflict",
        message=f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": {why}',
        details=_details(plural, name, group),
    )


def invalid(kind: str, name: str, problems: list[str], group: str = "") -> ApiError:
    text = ", ".join(problems)
    return ApiError(
        status=422,
        reason="Invalid",
        message=f'{kind}.{group or "core"} "{name}" is invalid: {text}',
        details={
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [{"reason": "FieldValueInvalid", "message": p} for p in problems],
        },
    )


def forbidden(message: str) -> ApiError:
    return ApiError(status=403, reason="Forbidden", message=message)


def gone(message: str) -> ApiError:
    return ApiError(status=410, reason="Expired", message=message)
