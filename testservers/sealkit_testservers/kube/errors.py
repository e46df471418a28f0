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
    413: "RequestEntityTooLarge",
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


_CAUSE_TYPES = {
    "Invalid value": "FieldValueInvalid",
    "Required value": "FieldValueRequired",
    "Unsupported value": "FieldValueNotSupported",
    "Forbidden": "FieldValueForbidden",
    "Too long": "FieldValueTooLong",
    "Too many": "FieldValueTooMany",
    "Duplicate value": "FieldValueDuplicate",
    "Not found": "FieldValueNotFound",
}


def cause(problem: str) -> dict[str, str]:
    """A `details.causes` entry from one `<field>: <Type>[: ...]` problem line (field.Error's layout)."""
    field, _, body = problem.partition(": ")
    kind = body.split(":", 1)[0]
    reason = _CAUSE_TYPES.get(kind)
    if reason is None:  # not a field error line: the whole text is the message
        return {"reason": "FieldValueInvalid", "message": problem, "field": ""}
    return {"reason": reason, "message": body, "field": field}


def invalid(kind: str, name: str, problems: list[str], group: str = "") -> ApiError:
    """422 Invalid as `apierrors.NewInvalid(GroupKind, name, errs)` renders it.

    `kind` is the GroupKind's Kind (for update preconditions the server passes the resource plural);
    the message aggregates the problems (one bare, several in brackets, duplicates dropped).
    """
    unique = list(dict.fromkeys(problems))
    text = unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
    qualified = f"{kind}.{group}" if group else kind
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": [cause(p) for p in problems]}
    if group:
        details["group"] = group
    return ApiError(
        status=422,
        reason="Invalid",
        message=f'{qualified} "{name}" is invalid: {text}' if unique else f'{qualified} "{name}" is invalid',
        details=details,
    )


def request_entity_too_large(limit: int) -> ApiError:
    return ApiError(status=413, reason="RequestEntityTooLarge", message=f"Request entity too large: limit is {limit}")


def forbidden(message: str) -> ApiError:
    return ApiError(status=403, reason="Forbidden", message=message)


def gone(message: str) -> ApiError:
    return ApiError(status=410, reason="Expired", message=message)
