"""The controller's HTTP API on :8080, as Bitnami's controller serves it through the service proxy.

GET /healthz, GET /v1/cert.pem, POST /v1/verify (200 opens, 409 does not, 400 unreadable),
POST /v1/rotate (re-sealed with the newest key, scope kept). Verify and rotate are rate-limited per
client; behind the API server's proxy the client is the first X-Forwarded-For address.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from sealkit.documents import load_documents
from sealkit.errors import InputError, SealkitError, UnsealError
from sealkit.keys import KeyRing, load_certificate
from sealkit.reseal import reseal_values, verify_sealed_secret

PEM_CONTENT_TYPE = "application/x-pem-file"
MAX_BODY = 2 * 1024 * 1024


class KeySource(Protocol):
    """What the HTTP API needs from the controller's key manager."""

    def keyring(self) -> KeyRing: ...

    def newest_certificate_pem(self) -> bytes | None: ...


@dataclass
class StaticKeys:
    """A fixed key ring: for tests and for the offline demo."""

    ring: KeyRing

    def keyring(self) -> KeyRing:
        return self.ring

    def newest_certificate_pem(self) -> bytes | None:
        newest = self.ring.newest()
        return newest.certificate_pem if newest else None


@dataclass
class TokenBucket:
    """Per-client token buckets: `rate` tokens a second, up to `burst`."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, client: str) -> float:
        """0 when allowed, else the seconds until a token is due."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, last = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[client] = (tokens - 1, now)
            return 0.0
        self._buckets[client] = (tokens, now)
        return (1 - tokens) / self.rate


def client_of(request: web.Request) -> str:
    forwarded = request.headers.get("X-Forwarded-For", "")
    return forwarded.split(",")[0].strip() or (request.remote or "unknown")


async def _read_sealed_secret(request: web.Request) -> Any:
    body = await request.content.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise InputError("request body larger than 2 MiB")
    documents = load_documents(body, "request body")
    if len(documents) != 1:
        raise InputError(f"request body: expected one SealedSecret, found {len(documents)} documents")
    return documents[0].obj


def make_app(keys: KeySource, *, rate: float = 2.0, burst: int = 2) -> web.Application:
    """The aiohttp application; CPU-heavy RSA work runs in the default thread pool."""
    limiter = TokenBucket(rate, burst)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def cert_pem(_: web.Request) -> web.Response:
        pem = keys.newest_certificate_pem()
        if pem is None:
            return web.Response(status=503, text="no sealing key yet\n")
        return web.Response(body=pem, content_type=PEM_CONTENT_TYPE)

    def limited(handler: Callable[[Any, KeyRing], Any]) -> Callable[[web.Request], Any]:
        async def wrapped(request: web.Request) -> web.Response:
            wait = limiter.take(client_of(request))
            if wait > 0:
                return web.Response(
                    status=429, text="rate limited\n", headers={"Retry-After": str(max(1, round(wait)))}
                )
            try:
                obj = await _read_sealed_secret(request)
            except SealkitError as exc:
                return web.Response(status=400, text=f"{exc}\n")
            try:
                result = await asyncio.get_running_loop().run_in_executor(None, handler, obj, keys.keyring())
            except UnsealError as exc:
                return web.Response(status=409, text=f"{exc}\n")
            except SealkitError as exc:
                return web.Response(status=400, text=f"{exc}\n")
            if isinstance(result, web.Response):
                return result
            return web.Response(status=200, text=json.dumps(result), content_type="application/json")

        return wrapped

    def verify(obj: Any, ring: KeyRing) -> web.Response:
        verify_sealed_secret(obj, ring, where="request body")
        return web.Response(status=200, text="ok\n")

    def rotate(obj: Any, ring: KeyRing) -> Any:
        newest = ring.newest()
        if newest is None or newest.certificate_pem is None:
            raise UnsealError("no sealing certificate to rotate to")
        cert = load_certificate(newest.certificate_pem, "newest key")
        values = reseal_values(obj, ring, cert, where="request body")
        rotated = json.loads(json.dumps(obj))
        rotated["spec"]["encryptedData"] = values
        return rotated

    app = web.Application(client_max_size=MAX_BODY + 1024)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/v1/cert.pem", cert_pem)
    app.router.add_post("/v1/verify", limited(verify))
    app.router.add_post("/v1/rotate", limited(rotate))
    return app
