"""The controller's HTTP API on :8080, as Bitnami's controller serves it through the service proxy.

GET /healthz (alive), GET /readyz (a usable sealing key is held; 503 with the reason when not), GET /v1/cert.pem,
POST /v1/verify (200 unseals, 409 does not, 400 unreadable),
POST /v1/rotate (re-sealed with the newest key, scope kept). Verify and rotate are rate-limited per
client, and the client is the connection's peer address: X-Forwarded-For is read only when the peer is
one of the trusted proxies (--trusted-proxies, default none), and then the client is the right-most
address in it that is not itself a trusted proxy (entries left of that are whatever the caller sent,
so keying on them would let a caller pick a fresh bucket per request). Requests through the API
server's service proxy arrive from the API server's address: list it to rate-limit per user rather
than for all proxied callers together (docs/controller.md).

Request bodies are capped (2 MiB, answered 413 beyond; after decoding a gzip/deflate Content-Encoding)
and read through the core's bounded reader (aliases, depth, duplicate keys); a body that cannot be read
(broken gzip, chunked framing, a connection that ends early) is a 400. Anything unexpected is a 500
`internal error` and one warning saying where it was raised, never the error's message or class. Every
request is counted for Prometheus when `metrics` is given (route and method: bounded label values);
reading a request body and answering are bounded by Bitnami's --read-timeout/--write-timeout.

The RSA work of verify and rotate (a 2 MiB SealedSecret holds about 3,000 values: seconds of CPU) runs on
its own few threads (`RsaWork`), with at most so many requests running or waiting: more are answered 429
at once rather than queued without bound, and the work of an answer that timed out stops at its next value
(a thread cannot be cancelled: it ran on to the end, unseen, while new requests queued behind it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from sealkit.errors import InputError, SealkitError, TemplateError, UnsealError
from sealkit.keys import KeyRing, PrivateKey, load_certificate
from sealkit.reading import Limits, load_documents
from sealkit.reseal import reseal_values, verify_sealed_secret
from sealkit.unsealing import InvalidTemplate
from sealkit_controller.plumbing.workqueue import raised_at

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PEM_CONTENT_TYPE = "application/x-pem-file"
MAX_BODY = 2 * 1024 * 1024
VERIFY_WHERE = "request body"

logger = logging.getLogger(__name__)


class HttpMetrics(Protocol):
    """Where request counts and latencies go (sealkit_controller.metrics.Metrics)."""

    def observe_http(self, path: str, method: str, code: int, seconds: float) -> None: ...


class KeySource(Protocol):
    """What the HTTP API needs from the controller's key manager."""

    def keyring(self) -> KeyRing: ...

    def newest_certificate_pem(self) -> bytes | None: ...


@dataclass
class TokenBucket:
    """Per-client token buckets: `rate` tokens a second, up to `burst`."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    max_clients: int = 10_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def _prune(self, now: float) -> None:
        """Forget clients whose bucket has refilled (same as new): memory stays bounded."""
        full_after = self.burst / self.rate
        for client, (_, last) in list(self._buckets.items()):
            if now - last >= full_after:
                del self._buckets[client]
        while len(self._buckets) >= self.max_clients:
            del self._buckets[next(iter(self._buckets))]

    def take(self, client: str) -> float:
        """0 when allowed, else the seconds until a token is due."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        if client not in self._buckets and len(self._buckets) >= self.max_clients:
            self._prune(now)
        tokens, last = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[client] = (tokens - 1, now)
            return 0.0
        self._buckets[client] = (tokens, now)
        return (1 - tokens) / self.rate


def parse_trusted_proxies(values: Iterable[str], where: str = "--trusted-proxies") -> tuple[Network, ...]:
    """Addresses or CIDR ranges (IPv4 or IPv6) whose X-Forwarded-For is believed."""
    out: list[Network] = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            out.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise InputError("not an IP address or CIDR range", where=where) from None
    return tuple(out)


MAX_HOPS = 32  # X-Forwarded-For entries looked at, right to left: a chain of proxies is never this long

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> Address | None:
    """An address as one client: an IPv4-mapped IPv6 address is its IPv4 address, a zone (%eth0) is dropped."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(int(address))
    return address


def _last_hops(headers: Sequence[str]) -> list[str]:
    """The right-most MAX_HOPS entries of X-Forwarded-For headers, right-most first (the rest is not split)."""
    out: list[str] = []
    for header in reversed(headers):
        parts = header.rsplit(",", MAX_HOPS - len(out))
        out.extend(reversed(parts[1:] if len(parts) > MAX_HOPS - len(out) else parts))
        if len(out) >= MAX_HOPS:
            return out[:MAX_HOPS]
    return out


def _trusted(address: Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)


def client_of(request: web.Request, trusted: Sequence[Network] = ()) -> str:
    """Who a request counts against: the peer, or (from a trusted proxy) the right-most untrusted hop among
    the last MAX_HOPS (more trusted hops than that: the peer)."""
    remote = request.remote or "unknown"
    address = _address(remote)
    peer = str(address) if address is not None else remote
    if not _trusted(address, trusted):
        return peer
    for hop in _last_hops(request.headers.getall("X-Forwarded-For", [])):
        address = _address(hop)
        if address is None:
            return peer  # a trusted proxy would not write garbage: believe only the connection
        if not _trusted(address, trusted):
            return str(address)
    return peer


class _Timeout(Exception):
    """A request cut short by a timeout: answered with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _TooLarge(InputError):
    """A request body over MAX_BODY: answered 413."""


async def _read_sealed_secret(request: web.Request, timeout: float | None) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _TooLarge("request body larger than 2 MiB", where="request body")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while size <= MAX_BODY:  # read() returns what has arrived so far: loop until the end
                chunk = await request.content.read(MAX_BODY + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except TimeoutError:
        raise _Timeout(408, "reading the request body took too long") from None
    except (RequestPayloadError, HttpProcessingError, ConnectionError):
        # aiohttp's message quotes the parser's (a zlib error, the bytes of a chunk size line)
        raise InputError(
            "cannot be read (a broken gzip/deflate encoding or chunked framing, or the connection ended)",
            where="request body",
        ) from None
    body = b"".join(chunks)
    if len(body) > MAX_BODY:
        raise _TooLarge("request body larger than 2 MiB", where="request body")
    limits = Limits.from_env()
    documents = load_documents(body, "request body", limits=Limits(min(MAX_BODY, limits.max_bytes), limits.max_depth))
    if len(documents) != 1:
        raise InputError(f"expected one SealedSecret, found {len(documents)} documents", where="request body")
    return documents[0].obj


def _route_path(request: web.Request) -> str:
    """The route's own path (bounded label values), "other" for anything unrouted."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "other"


# Methods named as themselves in metrics and logs; any other (aiohttp's parser accepts every method llhttp
# knows, its pure-Python parser any token) is "other": label values stay bounded.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method(request: web.Request) -> str:
    return request.method if request.method in _METHODS else "other"


def _instrumented(metrics: HttpMetrics | None, write_timeout: float | None) -> Any:
    """The middleware that bounds each answer by `write_timeout` and counts it (route, method, code, seconds)."""

    @web.middleware
    async def instrument(request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.perf_counter()
        code = 500
        try:
            async with asyncio.timeout(write_timeout):
                response: web.StreamResponse = await handler(request)
            code = response.status
            return response
        except _Timeout as exc:
            code = exc.status
            return web.Response(status=exc.status, text=f"{exc}\n")
        except TimeoutError:
            code = 503
            return web.Response(status=503, text="answering took longer than the write timeout\n")
        except web.HTTPException as exc:
            code = exc.status
            raise
        except Exception as exc:  # aiohttp would log its message and traceback, and answer with its own words
            logger.warning(
                "answering %s %s failed: an unexpected error (a bug)%s",
                _method(request),
                _route_path(request),
                raised_at(exc),
            )
            code = 500
            return web.Response(status=500, text="internal error\n")
        finally:
            if metrics is not None:
                metrics.observe_http(_route_path(request), _method(request), code, time.perf_counter() - started)

    return instrument


class _Stopped(Exception):
    """The answer this work was for has timed out."""


class _Busy(Exception):
    """As many verify/rotate requests as `RsaWork` admits are running or waiting."""


class _StoppableRing(KeyRing):
    """A request's copy of the key ring that raises `_Stopped` once `stop` is set: every value opened asks the
    ring for its keys in order first, so the work ends before the next value's RSA."""

    def __init__(self, ring: KeyRing, stop: threading.Event) -> None:
        super().__init__(ring.newest_first())
        self._stop = stop

    def newest_first(self) -> list[PrivateKey]:
        if self._stop.is_set():
            raise _Stopped
        return super().newest_first()


class RsaWork:
    """Verify/rotate's RSA work: `workers` threads, at most `admitted` requests running or waiting for one."""

    def __init__(self, workers: int = 2, admitted: int = 8) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="sealkit-http")
        self._admitted = admitted
        self._busy = 0
        self._lock = threading.Lock()

    def _release(self, _: Future[Any] | None = None) -> None:
        with self._lock:
            self._busy -= 1

    async def run(self, handler: Callable[[Any, KeyRing], Any], obj: Any, ring: KeyRing) -> Any:
        """`handler(obj, ring)` on a worker; `_Busy` when full. A slot is free again when the work has ended,
        not when its answer gave up waiting: the bound is on the CPU's work, not only on answers."""
        with self._lock:
            if self._busy >= self._admitted:
                raise _Busy
            self._busy += 1
        stop = threading.Event()
        try:
            future = self._executor.submit(handler, obj, _StoppableRing(ring, stop))
        except RuntimeError:  # shut down: the server is stopping
            self._release()
            raise _Busy from None
        future.add_done_callback(self._release)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:  # the write timeout (or shutdown): the thread stops at its next value
            stop.set()
            raise

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _verify(obj: Any, ring: KeyRing) -> web.Response:
    """/v1/verify: 200 when it would unseal; 409 with the reason when it would not, as Bitnami's answers any
    unseal failure: a value no key opens, or a template the controller would refuse (its values open).

    The core's "opens only" verification (`verify_sealed_secret` without `read_values`): a
    `spec.template.data` is parsed but never executed over the opened values (the caller wrote it, and its
    outcome is an answer about them: `{{ if hasPrefix "a" .password }}{{ else }}{{ fail "" }}{{ end }}`
    answered 200 or not, a character at a time, for any SealedSecret copied from a config repo), and nothing
    is concluded from what a value holds."""
    try:
        verify_sealed_secret(obj, ring, where=VERIFY_WHERE)
    except (InvalidTemplate, TemplateError) as exc:
        raise UnsealError(exc.what) from None
    return web.Response(status=200, text="ok\n")


def _rotate(obj: Any, ring: KeyRing) -> Any:
    """/v1/rotate: the SealedSecret with every value sealed again for the newest key."""
    newest = ring.newest()
    if newest is None or newest.certificate_pem is None:
        raise UnsealError("no sealing certificate to rotate to")
    cert = load_certificate(newest.certificate_pem, "newest key")
    rotated = _json_copy(obj, "")
    values = reseal_values(obj, ring, cert, where="request body")
    rotated["spec"]["encryptedData"] = values
    return rotated


_FIELD = re.compile(r"[A-Za-z0-9._/-]{1,63}")
_NOT_JSON = {
    bytes: "a !!binary value is not a JSON value",
    set: "a !!set is not a JSON value",
    dt.datetime: "a YAML timestamp is not a JSON value (quote it)",
    dt.date: "a YAML date is not a JSON value (quote it)",
}


def _json_copy(value: Any, path: str) -> Any:
    """The posted object as JSON values, to answer it back: what YAML reads into something else (a timestamp,
    !!binary, !!set, .nan, a key that is not a string) is refused naming where (a field name only when it is
    one, never a value); written back with str() it was a Python repr, invalid JSON (NaN) or a 500."""
    where = f"request body at {path or '.'}"
    if isinstance(value, dict):
        out = {}
        for position, (key, item) in enumerate(value.items(), start=1):
            if not isinstance(key, str):
                raise InputError(f"mapping key {position} is not a string (quote it)", where=where)
            out[key] = _json_copy(item, f"{path}.{key}" if _FIELD.fullmatch(key) else f"{path}.[key {position}]")
        return out
    if isinstance(value, list):
        return [_json_copy(item, f"{path}[{n}]") for n, item in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError("not a finite number (JSON has no NaN or infinity)", where=where)
    if value is None or isinstance(value, str | bool | int | float):
        return value
    what = next((text for kind, text in _NOT_JSON.items() if isinstance(value, kind)), "not a JSON value")
    raise InputError(what, where=where)


def make_app(
    keys: KeySource,
    *,
    rate: float = 2.0,
    burst: int = 2,
    metrics: HttpMetrics | None = None,
    read_timeout: float | None = None,
    write_timeout: float | None = None,
    not_ready: Callable[[], str | None] | None = None,
    trusted_proxies: Sequence[Network] = (),
    rsa_work: RsaWork | None = None,
) -> web.Application:
    """The aiohttp application; CPU-heavy RSA work runs on `rsa_work` (default: 2 threads, 8 requests admitted).

    `not_ready()` says why the controller is not ready (None: ready); by default, ready once a key is held.
    """
    limiter = TokenBucket(rate, burst)
    work = rsa_work if rsa_work is not None else RsaWork()
    trusted = tuple(trusted_proxies)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    def why_not_ready() -> str | None:
        if not_ready is not None:
            return not_ready()
        return None if len(keys.keyring()) else "no usable sealing key"

    async def readyz(_: web.Request) -> web.Response:
        reason = why_not_ready()
        if reason is not None:
            return web.Response(status=503, text=f"not ready: {reason}\n")
        return web.Response(text="ok")

    async def cert_pem(_: web.Request) -> web.Response:
        pem = keys.newest_certificate_pem()
        if pem is None:
            return web.Response(status=503, text="no sealing key yet\n")
        return web.Response(body=pem, content_type=PEM_CONTENT_TYPE)

    def limited(handler: Callable[[Any, KeyRing], Any]) -> Callable[[web.Request], Any]:
        async def wrapped(request: web.Request) -> web.Response:
            wait = limiter.take(client_of(request, trusted))
            if wait > 0:
                return web.Response(
                    status=429, text="rate limited\n", headers={"Retry-After": str(max(1, round(wait)))}
                )
            try:
                obj = await _read_sealed_secret(request, read_timeout)
            except _TooLarge as exc:
                return web.Response(status=413, text=f"{exc}\n")
            except SealkitError as exc:
                return web.Response(status=400, text=f"{exc}\n")
            try:
                result = await work.run(handler, obj, keys.keyring())
            except _Busy:
                return web.Response(
                    status=429, text="busy: too many verify/rotate requests at once\n", headers={"Retry-After": "1"}
                )
            except UnsealError as exc:
                return web.Response(status=409, text=f"{exc.what}\n")
            except SealkitError as exc:
                return web.Response(status=400, text=f"{exc}\n")
            if isinstance(result, web.Response):
                return result
            return web.Response(status=200, text=json.dumps(result, allow_nan=False), content_type="application/json")

        return wrapped

    instrument = _instrumented(metrics, write_timeout)
    app = web.Application(client_max_size=MAX_BODY + 1024, middlewares=[instrument])
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/v1/cert.pem", cert_pem)
    app.router.add_post("/v1/verify", limited(_verify))
    app.router.add_post("/v1/rotate", limited(_rotate))

    async def stop_work(_: web.Application) -> None:
        work.shutdown()

    app.on_cleanup.append(stop_work)
    return app
