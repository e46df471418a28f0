"""Small checks shared by everything that reads Kubernetes objects; messages name fields, never values."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from sealkit.errors import InputError
from sealkit.validation import DATA_KEY_RULE, is_data_key, is_qualified_name, type_name


def metadata_of(obj: Mapping[str, Any], where: str) -> dict[str, Any]:
    meta = obj.get("metadata")
    if meta is None:
        return {}
    if not isinstance(meta, Mapping):
        raise InputError(f"metadata is a {type_name(meta)}, not a mapping", where=where)
    return dict(meta)


def string_map(value: Any, where: str, field: str) -> dict[str, str]:
    """A map of strings (labels, annotations, template data), refusing anything else by its field."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{field} is a {type_name(value)}, not a mapping", where=where)
    out: dict[str, str] = {}
    for position, (key, item) in enumerate(value.items(), start=1):
        if not isinstance(key, str):
            raise InputError(f"{field}: key {position} is a {type_name(key)}, not a string", where=where)
        if not isinstance(item, str):
            label = key if is_qualified_name(key) else f"key {position}"
            raise InputError(f"{field}[{label}] is a {type_name(item)}, not a string (quote it)", where=where)
        out[key] = item
    return out


def check_data_key(key: str, where: str) -> None:
    """A Secret data key given on the command line, as the API server takes it (IsConfigMapKey)."""
    if not is_data_key(key):
        raise InputError(f"{key!r} is not a valid Secret key ({DATA_KEY_RULE})", where=where)


def decode_base64(value: Any, field: str, *, where: str | None = None) -> bytes:
    """Standard padded base64, as Secret `data` and `encryptedData` use; no value in the message.

    Line breaks may split it (Go's decoder skips CR and LF); any other space is refused, as the API server
    and Bitnami's controller refuse it: a YAML plain or folded scalar turns line breaks into spaces."""
    if not isinstance(value, str):
        raise InputError(f"{field}: is a {type_name(value)}, not a base64 string", where=where)
    joined = value.replace("\r", "").replace("\n", "")
    if any(char.isspace() for char in joined):
        raise InputError(
            f"{field}: invalid base64 (a space inside it; only line breaks may split it, in a | block)", where=where
        )
    try:
        return base64.b64decode(joined, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{field}: invalid base64", where=where) from None


def encode_base64(value: bytes) -> str:
    return base64.b64encode(value).decode()
