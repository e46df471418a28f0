"""Small checks shared by everything that reads Kubernetes objects."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from sealkit.errors import InputError

# Secret data keys: what the API server accepts (IsConfigMapKey).
_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def metadata_of(obj: Mapping[str, Any], where: str) -> dict[str, Any]:
    meta = obj.get("metadata")
    if meta is None:
        return {}
    if not isinstance(meta, Mapping):
        raise InputError(f"{where}: metadata is not a mapping")
    return dict(meta)


def string_map(value: Any, where: str, field: str) -> dict[str, str]:
    """A map of strings (labels, annotations, stringData), refusing anything else by its key."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: {field} is not a mapping")
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            kind = "null" if item is None else type(item).__name__
            raise InputError(f"{where}: {field}.{key} is a {kind}, not a string (quote it)")
        out[str(key)] = item
    return out


def check_data_key(key: str, where: str) -> None:
    if not _DATA_KEY.match(key) or key in (".", ".."):
        raise InputError(f"{where}: {key!r} is not a valid Secret key (letters, digits, '-', '_', '.')")


def decode_base64(value: Any, where: str) -> bytes:
    """Standard padded base64, as Secret `data` and `encryptedData` use; no value in the message."""
    if not isinstance(value, str):
        raise InputError(f"{where}: not a base64 string")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{where}: invalid base64") from None


def encode_base64(value: bytes) -> str:
    return base64.b64encode(value).decode()
