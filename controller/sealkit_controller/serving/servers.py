"""The controller's two HTTP listeners, started and stopped with the operator.

:8080 serves `httpapi.make_app` (healthz, readyz, cert, verify, rotate) from the live key store; :8081 serves
Prometheus metrics. Both run on Kopf's event loop (RSA work of verify/rotate goes to a thread pool).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

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
        await self._serve("api", api, settings.listen_addr, "listen address")
        await self._serve("metrics", metrics_app(metrics), settings.listen_metrics_addr, "metrics listen address")

    async def _serve(self, name: str, app: web.Application, address: str, what: str) -> None:
        parsed = parse_listen_address(address, what)
        if parsed is None:
            return
        host, port = parsed
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
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
