"""JSON out of the emulator: compact, and built from bytes already encoded where possible.

Why: encoding dominates a read-heavy emulator's cost. A stored object is encoded once per version and
its bytes reused by every GET, every LIST that includes it and every watch that receives it (see
`Store.encoded`); lists and watch events are spliced from those bytes instead of re-encoding the
objects inside them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import aiohttp.web

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def dumps(data: Any) -> bytes:
    return _ENCODER.encode(data).encode()


def response(data: Any | bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> aiohttp.web.Response:
    """An `application/json` response of `data` (already-encoded bytes are sent as they are)."""
    body = data if isinstance(data, bytes) else dumps(data)
    return aiohttp.web.Response(body=body, status=status, content_type="application/json", headers=headers)


def list_bytes(kind: str, api_version: str, metadata: Mapping[str, Any], items: Iterable[bytes]) -> bytes:
    head = dumps({"kind": kind, "apiVersion": api_version, "metadata": metadata})
    return head[:-1] + b',"items":[' + b",".join(items) + b"]}"


def event_line(event_type: str, obj: bytes) -> bytes:
    return b'{"type":"' + event_type.encode() + b'","object":' + obj + b"}\n"
