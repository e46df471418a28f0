"""The TCP ports the emulator serves on: the main one plus named ones (one per client, to partition it).

Why not kmock's server: a listener here can refuse connections for a while the way a dead API server
does (the listening socket closes, so connecting fails with ECONNREFUSED, and open connections are
aborted), then listen again on the same port; and the port a request came in on names its client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl

import aiohttp.web

logger = logging.getLogger(__name__)


class Listener:
    """One port serving `handler` (over TLS with `ssl_context`); `refuse()` closes it (and its connections),
    `resume()` reopens it."""

    def __init__(
        self,
        name: str,
        handler: aiohttp.web.Server,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.handler = handler
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self._server: asyncio.Server | None = None
        self._resume: asyncio.TimerHandle | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}"

    @property
    def refusing(self) -> bool:
        return self._server is None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.listen(512)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._server = await asyncio.get_running_loop().create_server(self.handler, sock=sock, ssl=self.ssl_context)

    def refuse(self, seconds: float | None, *, spare: asyncio.BaseTransport | None = None) -> None:
        """Stop listening and abort open connections (all but `spare`); listen again after `seconds`."""
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        if self._server is not None:
            self._server.close()
            self._server = None
        self.abort_connections(spare=spare)
        if seconds is not None:
            loop = asyncio.get_running_loop()
            self._resume = loop.call_later(seconds, lambda: loop.create_task(self.resume()))

    async def resume(self) -> None:
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        if self._server is None:
            try:
                await self.start()
            except OSError:
                logger.exception("kube emulator: cannot listen on %s:%s again", self.host, self.port)

    def abort_connections(self, *, spare: asyncio.BaseTransport | None = None) -> int:
        count = 0
        for connection in list(self.handler.connections):
            transport = connection.transport
            if transport is not None and transport is not spare:
                transport.abort()
                count += 1
        return count

    async def stop(self) -> None:
        if self._resume is not None:
            self._resume.cancel()
            self._resume = None
        if self._server is not None:
            self._server.close()
            self._server = None
        with contextlib.suppress(Exception):
            await self.handler.shutdown(0.05)
        self.abort_connections()
