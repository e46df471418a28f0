"""Why a request to an outside service got no answer, in words: one reading for every client here.

Where it sits: the clients layer. The Kubernetes client (urllib3), the certificate fetch, the Azure SDKs
(requests, wrapped in azure-core's ServiceRequestError) and hvac (requests) all fail at the connection
level with an exception chain whose text names library internals (`HTTPSConnection(host=..., port=...)`,
object addresses, exception class names). `transport_cause` follows the chain and says what happened
("connection refused", "the host name does not resolve", a TLS cause...), never an exception's name or
repr; urllib3 is imported only when there is a failure to read. `read_bounded` reads a streamed requests
answer (the Azure SDKs' and hvac's) within a size and a whole-answer time limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

_CHUNK = 64 * 1024


def transport_cause(exc: BaseException) -> str:
    """Why a request got no answer, in words (never an exception's name, repr or a body)."""
    import urllib3

    chain = list(_chain(exc))
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


def _chain(exc: BaseException) -> Iterator[BaseException]:
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
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
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
