"""Why a request to an outside service got no answer, in words: one reading for every client here.

Where it sits: the clients layer. The Kubernetes client (urllib3), the certificate fetch, the Azure SDKs
(requests, wrapped in azure-core's ServiceRequestError) and hvac (requests) all fail at the connection
level with an exception chain whose text names library internals (`HTTPSConnection(host=..., port=...)`,
object addresses, exception class names). `transport_cause` follows the chain and says what happened
("connection refused", "the host name does not resolve", a TLS cause...), never an exception's name or
repr; urllib3 is imported only when there is a failure to read. `read_bounded` reads a streamed requests
answer (the Azure SDKs' and hvac's) within a size and a whole-answer time limit; `bound_answers` makes a requests
session's connections hold the whole answer, status line and headers included, to the read timeout (requests'
timeout is per socket read: a server sending its headers a byte at a time held a request open for ever).
"""

from __future__ import annotations

import functools
import io
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

_CHUNK = 64 * 1024


def transport_cause(exc: BaseException) -> str:
    """Why a request got no answer, in words (never an exception's name, repr or a body)."""
    import urllib3

    chain = list(exception_chain(exc))
    text = " ".join(str(link) for link in chain)

    def found(*types: type[BaseException]) -> bool:
        return any(isinstance(link, types) for link in chain)

    if found(urllib3.exceptions.NameResolutionError) or "Name or service not known" in text:
        return "the host name does not resolve"
    if "Temporary failure in name resolution" in text or "nodename nor servname" in text:
        return "the host name does not resolve"
    if found(urllib3.exceptions.SSLError) or any("SSL" in str(link).split("\n", 1)[0] for link in chain):
        return tls_cause(text)
    if "Connection refused" in text or found(ConnectionRefusedError):
        return "connection refused"
    if "No route to host" in text:
        return "no route to host"
    if found(urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError
        return "cannot connect"
    if found(urllib3.exceptions.ConnectTimeoutError) or ("Connection to" in text and "timed out" in text):
        return "the connection timed out"
    if found(urllib3.exceptions.ReadTimeoutError, TimeoutError) or "timed out" in text:
        return "no answer in time"
    if found(urllib3.exceptions.ProtocolError, ConnectionError) or "Connection aborted" in text:
        return "the connection was dropped"
    for link in chain:
        if isinstance(link, OSError) and link.strerror:
            return str(link.strerror).lower()
    return "no answer"


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps: azure-core's `inner_exception`, urllib3's `reason`, requests' first argument,
    and Python's cause and context (each link once, at most 16)."""
    seen: set[int] = set()
    pending = [exc]
    while pending and len(seen) < 16:
        link = pending.pop(0)
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        wrapped = [getattr(link, "inner_exception", None), getattr(link, "reason", None), link.__cause__]
        wrapped += [link.__context__, *(link.args[:1] if link.args else ())]
        pending.extend(w for w in wrapped if isinstance(w, BaseException))


def failed_in_transport(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is a request that got no whole answer: a connection, TLS or read failure
    (requests', or azure-core's wrapper of one), not an answer the other side gave."""
    import requests

    transport = (requests.exceptions.RequestException, TimeoutError, ConnectionError)
    names = ("ServiceRequestError", "ServiceResponseError")  # azure-core's, not imported here
    return any(
        isinstance(link, transport) or any(cls.__name__ in names for cls in type(link).__mro__)
        for link in exception_chain(exc)
    )


def tls_cause(text: str) -> str:
    """A TLS failure by its well-known causes (the library's message is not shown: it names internals)."""
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        if "expired" in text:
            return "TLS: the server's certificate has expired"
        return "TLS: the server's certificate is not trusted (certificate verify failed)"
    if "WRONG_VERSION_NUMBER" in text or "record layer failure" in text:
        return "TLS: the server does not speak TLS on this port"
    if "hostname" in text.lower() and "match" in text.lower():
        return "TLS: the server's certificate is for another host name"
    if "EXPIRED" in text.upper():
        return "TLS: a certificate has expired"
    return "TLS handshake failed"


def read_bounded(response: Any, *, timeout: float, limit: int, too_large: Callable[[], BaseException]) -> None:
    """Read a streamed `requests` answer's body into it (as `response.content`), at most `limit` bytes after
    decompression (`too_large()` is raised beyond: a gzip bomb stops there) and within `timeout` seconds as a
    whole (a server trickling bytes cannot hold a read open: requests' timeout is per socket read)."""
    import requests

    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := _read1(response):
            size += len(chunk)
            if size > limit:
                raise too_large()
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise requests.exceptions.ReadTimeout("timed out reading the answer")
    finally:
        response.close()
    response._content = b"".join(chunks)  # requests' own slot for a body read
    response._content_consumed = True


def _read1(response: Any) -> bytes:
    try:
        chunk: bytes = response.raw.read1(_CHUNK, decode_content=True)
    except Exception as exc:
        mapped = read_failure(exc)
        if mapped is None:
            raise
        raise mapped from exc
    return chunk


def read_failure(exc: BaseException) -> BaseException | None:
    """The requests exception for a urllib3 failure while a body is read (as requests' own `iter_content` maps
    them), so that callers (azure-core, hvac) read it as a transport failure; None for anything else."""
    import requests
    import urllib3

    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return requests.exceptions.ReadTimeout("timed out reading the answer")
    if isinstance(exc, urllib3.exceptions.SSLError):
        return requests.exceptions.SSLError(exc)
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return requests.exceptions.ConnectionError(exc)
    if isinstance(exc, urllib3.exceptions.DecodeError):
        return requests.exceptions.ContentDecodingError("the answer's content encoding does not decode")
    if isinstance(exc, TimeoutError):
        return requests.exceptions.ReadTimeout("timed out reading the answer")
    return None


class _DeadlineIO(socket.SocketIO):
    """A socket's reading side whose reads all end by `deadline` (time.monotonic()): each waits at most what is
    left of it (and at most the socket's own timeout), and none starts after it."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__(sock, "rb")
        sock._io_refs += 1  # type: ignore[attr-defined]  # as socket.makefile counts it (SocketIO.close uncounts)
        self._deadline = deadline

    def readinto(self, b: Any) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        sock: socket.socket = self._sock  # type: ignore[attr-defined]
        before = sock.gettimeout()
        sock.settimeout(left if before is None else min(before, left))
        try:
            return super().readinto(b)
        finally:
            sock.settimeout(before)


class _DeadlineSocket:
    """What http.client's response reads from: the connection's socket, read through `_DeadlineIO`."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineIO(self._sock, self._deadline))


@functools.cache
def _deadline_connection(base: type[Any]) -> type[Any]:
    """A subclass of urllib3 connection class `base` whose answers are read, status line and headers included,
    within the read timeout as a whole (from the moment the request is sent)."""
    import http.client

    class DeadlineConnection(base):  # type: ignore[misc]
        _sealkit_deadline: float | None = None

        def getresponse(self) -> Any:
            timeout = self.timeout  # urllib3 sets it to the read timeout before it asks for the answer
            usable = isinstance(timeout, int | float) and timeout > 0 and isinstance(self.sock, socket.socket)
            self._sealkit_deadline = time.monotonic() + timeout if usable else None
            return super().getresponse()

        def response_class(self, sock: Any, *args: Any, **kwargs: Any) -> http.client.HTTPResponse:
            deadline = self._sealkit_deadline
            if deadline is not None and isinstance(sock, socket.socket):
                sock = _DeadlineSocket(sock, deadline)
            return http.client.HTTPResponse(sock, *args, **kwargs)

    DeadlineConnection.__name__ = DeadlineConnection.__qualname__ = f"Deadline{base.__name__}"
    return DeadlineConnection


@functools.cache
def _deadline_pool(base: type[Any]) -> type[Any]:
    class DeadlinePool(base):  # type: ignore[misc]
        ConnectionCls = _deadline_connection(base.ConnectionCls)

    return DeadlinePool


def _bound_manager(manager: Any) -> Any:
    """A urllib3 pool manager (a proxy's too, SOCKS included) whose pools make `_deadline_connection`s."""
    manager.pool_classes_by_scheme = {
        scheme: _deadline_pool(pool) for scheme, pool in manager.pool_classes_by_scheme.items()
    }
    return manager


@functools.cache
def _deadline_adapter(base: type[Any]) -> type[Any]:
    class DeadlineAdapter(base):  # type: ignore[misc]
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            _bound_manager(self.poolmanager)

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            known = proxy in self.proxy_manager
            manager = super().proxy_manager_for(proxy, **kwargs)
            return manager if known else _bound_manager(manager)

    return DeadlineAdapter


def bound_answers(session: Any) -> None:
    """Re-mount every adapter of requests `session` (its retries kept) so that each answer, status line and
    headers included, is read within the request's read timeout as a whole; the body is then read by
    `read_bounded` within the same deadline."""
    for prefix, adapter in list(session.adapters.items()):
        if getattr(adapter, "_sealkit_bounded", False):
            continue
        kind: Any = type(adapter)
        bounded = _deadline_adapter(kind)(max_retries=adapter.max_retries)
        bounded._sealkit_bounded = True
        session.mount(prefix, bounded)
