"""The controller's two HTTP listeners, started and stopped with the operator.

:8080 serves `httpapi.make_app` (healthz, readyz, cert, verify, rotate) from the live key store; :8081 serves
Prometheus metrics. Both run on Kopf's event loop (RSA work of verify/rotate goes to a thread pool).

A connection must send a whole request's line and headers within --read-timeout of opening (or of its last
answer), as Go's ReadTimeout bounds Bitnami's: a client trickling headers (slowloris) is closed then, not after
aiohttp's hour. A request aiohttp's parser refuses (an unknown method, a line or header over 8 KiB, too many
headers, a chunk size that is not hex) is answered in one short line; aiohttp's own answer quotes the request's
bytes as a Python repr, and its log line is an error with a traceback holding them. A request body left
unread (over the cap, unreadable, or not needed for the answer) ends the connection after the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from sealkit.keys import KeyRing
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.serving.httpapi import make_app, parse_trusted_proxies
from sealkit_controller.serving.metrics import Metrics
from sealkit_controller.settings import Settings, parse_listen_address

logger = logging.getLogger(__name__)


class StoreKeys:
    """The HTTP API's KeySource over the controller's KeyStore: every request sees the current ring."""

    def __init__(self, store: KeyStore) -> None:
        self._store = store

    def keyring(self) -> KeyRing:
        return self._store.ring

    def newest_certificate_pem(self) -> bytes | None:
        newest = self._store.newest()
        return newest.certificate_pem if newest is not None else None


def metrics_app(metrics: Metrics) -> web.Application:
    async def serve(_: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.content_type})

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/metrics", serve)
    app.router.add_get("/healthz", healthz)
    return app


def _reason(status: int) -> str:
    if status == 400:
        return "malformed HTTP request"
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return f"HTTP {status}"


class _Connection(RequestHandler):
    """aiohttp's connection handler with refusals in words: no request bytes, repr or traceback."""

    __slots__ = ()

    def handle_error(
        self, request: BaseRequest, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        del exc, message  # both quote the request (a Python bytes repr of its line or header)
        if status >= 500:
            logger.warning("answering a request from %s failed: an unexpected error (a bug)", request.remote)
        else:
            logger.debug("refused a malformed request from %s (HTTP %d)", request.remote, status)
        if request.writer.output_size > 0:
            raise ConnectionError("the answer was already started")  # as aiohttp: the connection is dropped
        response = web.Response(status=status, text=f"{_reason(status)}\n")
        response.force_close()
        return response


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _Connection(self, loop=self._loop, **self._kwargs)


class _Runner(web.AppRunner):
    """An AppRunner whose connections are `_Connection`s."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _Server  # aiohttp has no setting for the handler class; _Server adds only __call__
        return server


class Servers:
    """Listeners by name; `urls` holds where each one is reachable (the bound port, when 0 was asked)."""

    def __init__(self) -> None:
        self._runners: list[web.AppRunner] = []
        self.urls: dict[str, str] = {}

    async def start(
        self, settings: Settings, keys: KeyStore, metrics: Metrics, *, not_ready: Callable[[], str | None] | None = None
    ) -> None:
        api = make_app(
            StoreKeys(keys),
            rate=settings.rate_limit,
            burst=settings.rate_limit_burst,
            metrics=metrics,
            read_timeout=settings.read_timeout.total_seconds(),
            write_timeout=settings.write_timeout.total_seconds(),
            not_ready=not_ready,
            trusted_proxies=parse_trusted_proxies(settings.trusted_proxies),
        )
        idle = settings.read_timeout.total_seconds()
        await self._serve("api", api, settings.listen_addr, "listen address", idle)
        await self._serve("metrics", metrics_app(metrics), settings.listen_metrics_addr, "metrics listen address", idle)

    async def _serve(self, name: str, app: web.Application, address: str, what: str, idle: float) -> None:
        """Listen on `address`; `idle`: seconds a connection may take to send a request's line and headers."""
        parsed = parse_listen_address(address, what)
        if parsed is None:
            return
        host, port = parsed
        # lingering_time 0: a body left unread (over the cap, unreadable, refused before reading) is not drained
        # for 10 s (decoding gzip all the while) but ends the connection once answered, as Go's server does.
        runner = _Runner(app, access_log=None, handle_signals=False, keepalive_timeout=idle, lingering_time=0)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            raise OSError(f"cannot listen on {address} ({what}): {exc.strerror or exc}") from None
        self._runners.append(runner)
        bound = runner.addresses[0]
        shown = "127.0.0.1" if host in (None, "0.0.0.0") else host  # noqa: S104 - naming, not binding
        shown = f"[{shown}]" if ":" in shown else shown
        self.urls[name] = f"http://{shown}:{bound[1]}"
        logger.info("serving %s on %s", name, address if port else self.urls[name])

    async def stop(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        self.urls.clear()
