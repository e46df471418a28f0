"""Key Vault error bodies and the request-body pieces every route parses (attributes, tags).

Shared by the secret/certificate routes (`api.py`) and the key routes (`keys_api.py`).
"""

from __future__ import annotations

from typing import Any

from . import render
from .https import Response
from .model import Attributes, Kind

TITLE = {"secret": "Secret", "key": "Key", "certificate": "Certificate"}


class ApiError(Exception):
    """Raised inside a route to answer with a Key Vault error body."""

    def __init__(self, status: int, code: str, message: str, inner: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.response = Response.json(status, render.error(code, message, inner))


def not_found(kind: Kind, name: str, version: str = "") -> ApiError:
    ident = f"{name}/{version}" if version else name
    message = (
        f"A {kind} with (name/id) {ident} was not found in this key vault. If you recently deleted this "
        f"{kind} you may be able to recover it using the correct recovery command. For help resolving "
        "this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
    )
    return ApiError(404, f"{TITLE[kind]}NotFound", message)


def bad(message: str) -> ApiError:
    return ApiError(400, "BadParameter", message)


def attributes_from(body: Any, into: Attributes) -> None:
    if body is None:
        return
    if not isinstance(body, dict):
        raise bad("attributes must be an object")
    if "enabled" in body and body["enabled"] is not None:
        if not isinstance(body["enabled"], bool):
            raise bad("attributes.enabled must be a boolean")
        into.enabled = body["enabled"]
    for field in ("nbf", "exp"):
        if field in body:
            value = body[field]
            if value is not None and not isinstance(value, int):
                raise bad(f"attributes.{field} must be unix seconds")
            setattr(into, field, value)


def tags_from(body: Any) -> dict[str, str] | None:
    if body is None:
        return None
    if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
        raise bad("tags must be an object of strings")
    if len(body) > 15:
        raise bad("A maximum of 15 tags is allowed")
    return {str(k): v for k, v in body.items()}
