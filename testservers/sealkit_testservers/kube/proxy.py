"""The service proxy: `/api/v1/namespaces/<ns>/services/[<scheme>:]<name>[:<port>]/proxy/<path>`.

A cluster forwards such requests to the Service's endpoints; here each Service port can be backed by a
local HTTP server the test registers (e.g. a stand-in controller answering `/v1/cert.pem`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import aiohttp
import aiohttp.web
import yarl

from . import errors

# Hop-by-hop headers and the caller's credentials never travel to the backend.
_DROP_REQUEST = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "authorization",
        "content-length",
    }
)
_DROP_RESPONSE = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "date", "server"}
)


@dataclasses.dataclass(frozen=True)
class ServiceRef:
    scheme: str | None
    name: str
    port: str | None

    @classmethod
    def parse(cls, text: str) -> ServiceRef:
        parts = text.split(":")
        if len(parts) == 1:
            return cls(None, parts[0], None)
        if len(parts) == 2:
            return cls(None, parts[0], parts[1] or None)
        if len(parts) == 3 and parts[0] in {"http", "https", ""}:
            return cls(parts[0] or None, parts[1], parts[2] or None)
        raise errors.bad_request(f"invalid service request {text!r}")


def resolve_port(service: Mapping[str, Any], wanted: str | None) -> int:
    """The Service port number a proxy request means (by name or number; the only port when unset)."""
    ports = (service.get("spec") or {}).get("ports") or []
    name = (service.get("metadata") or {}).get("name", "")
    for port in ports:
        if wanted is None and len(ports) == 1:
            return int(port["port"])
        if wanted is not None and (port.get("name") == wanted or str(port.get("port")) == wanted):
            return int(port["port"])
    raise errors.ApiError(
        status=503, reason="ServiceUnavailable", message=f'no endpoints available for service "{name}"'
    )


async def forward(
    raw: aiohttp.web.BaseRequest, body: bytes, backend: str, path: str, session: aiohttp.ClientSession
) -> aiohttp.web.Response:
    """Send the request on to `backend` + `path` and relay the answer, as the API server's proxy does."""
    target = yarl.URL(backend.rstrip("/") + "/" + path.lstrip("/")).with_query(raw.query)
    headers = {k: v for k, v in raw.headers.items() if k.lower() not in _DROP_REQUEST}
    peer = raw.remote or "127.0.0.1"
    prior = raw.headers.get("X-Forwarded-For")
    headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
    headers.setdefault("X-Forwarded-Proto", raw.scheme)
    headers.setdefault("X-Forwarded-Host", raw.host)
    try:
        async with session.request(
            raw.method, target, headers=headers, data=body or None, allow_redirects=False, ssl=False
        ) as reply:
            content = await reply.read()
            out_headers = {k: v for k, v in reply.headers.items() if k.lower() not in _DROP_RESPONSE}
            return aiohttp.web.Response(status=reply.status, body=content, headers=out_headers)
    except aiohttp.ClientError as exc:
        raise errors.ApiError(
            status=503, reason="ServiceUnavailable", message=f"error trying to reach service: {type(exc).__name__}"
        ) from None
