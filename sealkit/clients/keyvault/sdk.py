"""Key Vault SDK clients, built one way: no SDK retries, short timeouts, the challenge check as asked, every
answer read bounded.

The secrets, keys and certificates clients for a vault URL and a credential (`credentials.py`). A later
wrap/unwrap client (azure-keyvault-keys `CryptographyClient`) belongs here too.
"""

from __future__ import annotations

import functools
import json
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

from sealkit.clients.transport import read_bounded

MAX_ANSWER_BYTES = 4 * 1024 * 1024  # a secret value is at most 25 KB, a listing page 25 items

SECRET = "secret"  # noqa: S105 - an object kind
KEY = "key"
CERTIFICATE = "cert"


def client_options(timeout: float, *, verify_challenge_resource: bool = True) -> dict[str, Any]:
    """The keyword arguments every client gets (the SDK's own retries would stall CI and the controller)."""
    options: dict[str, Any] = {"retry_total": 0, "connection_timeout": timeout, "read_timeout": timeout}
    if not verify_challenge_resource:
        options["verify_challenge_resource"] = False  # GuardedCredential checks the resource instead
    return options


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port or (443 if parts.scheme == "https" else None)


@functools.cache
def answer_refused() -> type[Exception]:
    """`AnswerRefused`: sealkit will not follow the vault's answer (a `nextLink` or redirect to another
    origin, refused before anything is sent to it; a listing that loops). An AzureError, so the SDK passes
    it on; its message is sealkit's own, whole."""
    from azure.core.exceptions import AzureError

    class AnswerRefused(AzureError):
        """The vault's answer leads elsewhere or nowhere."""

    return AnswerRefused


@functools.cache
def _transport_class(what: str, limit: int) -> type[Any]:
    """azure-core's requests transport, reading every answer bounded: at most `limit` bytes after decompression
    (the SDKs read whole bodies, a gzip bomb included; beyond, "`what`'s answer is larger than ..."), and within
    the read timeout as a whole, status line and headers included (a server trickling bytes held a call open
    for ever: the timeout is per socket read)."""
    import requests
    from azure.core.pipeline.transport import RequestsTransport

    from sealkit.clients.transport import bound_answers

    class BoundedSession(requests.Session):
        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            kwargs["stream"] = True
            try:
                response = super().send(request, **kwargs)
                timeout = kwargs.get("timeout")
                budget = timeout[-1] if isinstance(timeout, tuple) else timeout
                read_bounded(
                    response,
                    timeout=budget if isinstance(budget, int | float) else 30.0,
                    limit=limit,
                    too_large=lambda: answer_refused()(f"{what}'s answer is larger than {_size(limit)}"),
                )
            except Exception as exc:
                _failures.last = exc  # DefaultAzureCredential keeps only its members' messages: see last_failure
                raise
            return response

    class BoundedTransport(RequestsTransport):  # type: ignore[misc]
        session: Any

        def open(self) -> None:
            if not self.session and self._session_owner:
                self.session = BoundedSession()
                self._init_session(self.session)
            super().open()

        def _init_session(self, session: requests.Session) -> None:
            super()._init_session(session)
            bound_answers(session)  # after azure-core mounted its adapters (no retries), over them

    return BoundedTransport


_failures = threading.local()


def forget_failures() -> None:
    """Start a call whose transport failure `last_failure` then tells (this thread's requests only)."""
    _failures.last = None


def last_failure() -> BaseException | None:
    """The last request of this thread, through a bounded transport, that got no whole answer since
    `forget_failures`, or None."""
    failure: BaseException | None = getattr(_failures, "last", None)
    return failure


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"


_CONNECTION = ("connection_timeout", "read_timeout", "connection_verify", "connection_cert", "use_env_settings")


def bounded_transport(options: dict[str, Any], *, what: str = "the vault", limit: int = MAX_ANSWER_BYTES) -> Any:
    """A transport for one client or credential, with the connection settings of `options` (timeouts, CA, client
    certificate: a client given a transport ignores its own), reading answers bounded (`_transport_class`)."""
    return _transport_class(what, limit)(**{name: options[name] for name in _CONNECTION if name in options})


def pinned(url: str, options: dict[str, Any]) -> dict[str, Any]:
    """`options` plus a policy that refuses any request not to `url`'s scheme, host and port, and a transport
    that reads answers bounded (`bounded_transport`; unless `options` brings its own).

    The policy runs after the SDK's retry and redirect policies and before its authentication policy, so a
    `nextLink` or a redirect to another host is refused before a bearer token is attached (the SDK would
    follow it, answer that host's challenge and send it a token).
    """
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    expected = _origin(url)

    class SameVault(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_request(self, request: Any) -> None:
            target = request.http_request.url
            if _origin(target) != expected:
                parts = urllib.parse.urlsplit(target)
                shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
                raise answer_refused()(f"the vault's answer leads to another host ({shown}); not followed")

        def on_response(self, request: Any, response: Any) -> None:
            check_shape(request.http_request, response.http_response)

    return {"transport": bounded_transport(options), **options, "per_retry_policies": [SameVault()]}


def check_shape(request: Any, response: Any) -> None:
    """A 2xx JSON answer the SDK would crash on or misread is refused (`answers.problem`); one that is not JSON
    is left to the SDK (its error is read as 'not JSON')."""
    from sealkit.clients.keyvault import answers

    if not 200 <= response.status_code < 300:
        return
    body = response.body()
    if not body:
        return
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return
    found = answers.problem(request.method, request.url, parsed)
    if found:
        raise answer_refused()(f"the vault's answer is not what Key Vault sends ({found})")


def bounded_pages(pages: Iterable[Any], *, max_pages: int = 10_000) -> Iterator[Any]:
    """The items of an SDK listing (`ItemPaged`), refusing a `nextLink` seen before (a loop) and more than
    `max_pages` pages (25 items each), where the SDK would follow either for ever."""
    by_page = pages.by_page()  # type: ignore[attr-defined]
    seen: set[str] = set()
    for count, page in enumerate(by_page, start=1):
        yield from page
        link = getattr(by_page, "continuation_token", None)
        if not link:
            continue
        if link in seen:
            raise answer_refused()("the vault's listing loops (a nextLink it gave before)")
        if count >= max_pages:
            raise answer_refused()(f"the vault's listing goes on past {max_pages} pages")
        seen.add(link)


def make_client(kind: str, url: str, credential: Any, options: dict[str, Any]) -> Any:
    """A SecretClient, KeyClient or CertificateClient (`kind`: SECRET, KEY or CERTIFICATE), pinned to `url`'s
    host (see `pinned`)."""
    options = pinned(url, options)
    if kind == SECRET:
        from azure.keyvault.secrets import SecretClient

        return SecretClient(url, credential, **options)
    if kind == KEY:
        from azure.keyvault.keys import KeyClient

        return KeyClient(url, credential, **options)
    from azure.keyvault.certificates import CertificateClient

    return CertificateClient(url, credential, **options)
