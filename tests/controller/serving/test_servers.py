"""The two listeners as a broken or hostile client meets them: slow headers, requests aiohttp's parser refuses."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.serving.metrics import Metrics
from sealkit_controller.serving.servers import Servers
from sealkit_controller.settings import Settings

PLANTED = "Pl4nted-T0ken"


@pytest.fixture()
async def servers() -> AsyncIterator[Servers]:
    started = Servers()
    settings = Settings(
        listen_addr="127.0.0.1:0", listen_metrics_addr="127.0.0.1:0", read_timeout=dt.timedelta(seconds=0.3)
    )
    await started.start(settings, KeyStore(), Metrics())
    try:
        yield started
    finally:
        await started.stop()


async def exchange(url: str, data: bytes) -> bytes:
    """Send `data` on a fresh connection and read until the server closes it (5 s at most: then a failure).
    A server that closes with part of `data` unread may reset the connection: what arrived before counts."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
    reply = b""
    try:
        writer.write(data)
        async with asyncio.timeout(5):
            with contextlib.suppress(ConnectionResetError):
                await writer.drain()
            with contextlib.suppress(ConnectionResetError):
                while chunk := await reader.read(65536):
                    reply += chunk
        return reply
    finally:
        writer.close()


@pytest.mark.parametrize("name", ["api", "metrics"])
async def test_a_connection_trickling_its_headers_is_closed_after_the_read_timeout(servers: Servers, name: str) -> None:
    # A slowloris client: a request line and part of the headers, then nothing. aiohttp alone kept such a
    # connection for an hour (its keep-alive timeout); Bitnami's Go server closes it after --read-timeout.
    reply = await exchange(servers.urls[name], b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
    assert reply == b""


MALFORMED = {
    "unknown method": f"{PLANTED} /v1/verify HTTP/1.1\r\nHost: x\r\n\r\n",
    "request line over 8 KiB": f"GET /{PLANTED}{'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n",
    "header over 8 KiB": f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: {PLANTED}{'b' * 9000}\r\n\r\n",
    "header name with a space": f"GET /healthz HTTP/1.1\r\nHost: x\r\nBad {PLANTED}: 1\r\n\r\n",
    "chunk size not hex": f"POST /v1/verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{PLANTED}\r\n",
    "too many headers": "GET /healthz HTTP/1.1\r\nHost: x\r\n"
    + "".join(f"X-{i}: {PLANTED}\r\n" for i in range(200))
    + "\r\n",
}


@pytest.mark.parametrize("name", ["api", "metrics"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_requests_are_refused_in_one_line_without_their_bytes(
    servers: Servers, caplog: pytest.LogCaptureFixture, name: str, case: str
) -> None:
    caplog.set_level(logging.DEBUG)
    reply = await exchange(servers.urls[name], MALFORMED[case].encode())
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].split(b" ")[1] == b"400"
    assert body == b"malformed HTTP request\n", "aiohttp's answer quoted the request as a bytes repr"
    for record in caplog.records:
        assert PLANTED not in record.getMessage() and record.exc_info is None
        assert record.levelno <= logging.DEBUG, "a client's malformed request is not the controller's error"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=st.binary(min_size=1, max_size=300).filter(lambda b: b"\r\n\r\n" not in b and PLANTED.encode() not in b))
async def test_any_garbage_gets_a_short_answer(servers: Servers, line: bytes) -> None:
    reply = await exchange(servers.urls["api"], line + b"\r\n\r\n")
    if reply:  # a prefix of a valid request may simply be answered, or the connection closed
        body = reply.partition(b"\r\n\r\n")[2]
        assert b"b'" not in body and b"bytearray(" not in body and b"Traceback" not in body


async def test_a_body_that_cannot_be_read_is_no_error_in_the_log(
    servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    # aiohttp drained the rest of the body after the answer, met the broken gzip again and logged
    # "Unhandled exception" as an error, with a traceback quoting zlib.
    caplog.set_level(logging.DEBUG)
    body = PLANTED.encode()
    request = b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
    reply = await exchange(servers.urls["api"], request + body)
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert not [r for r in caplog.records if r.levelno > logging.DEBUG or r.exc_info]


async def test_a_body_over_the_cap_ends_the_connection_once_answered(servers: Servers) -> None:
    # 3 MiB of chunks and the connection left open: answered 413 and closed at once. aiohttp alone read on
    # (decoding a gzip body all the while) for 10 s before closing; the 5 s of `exchange` run out first.
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
    request = b"POST /v1/verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 48
    reply = await exchange(servers.urls["api"], request)
    assert reply.startswith(b"HTTP/1.1 413 ")
