"""Kubernetes requests: plain JSON over the `kubernetes` client's connection handling.

Why not the generated models: callers want dicts (the core works on dicts), exact control of the patch
content type, a timeout on every call (a hanging API server must not stall a worker forever), and errors
that carry the status and Retry-After but never a request or response body (a Secret's data). Calls are
synchronous and thread-safe (urllib3 pools); the controller runs them in its thread pool.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sealkit.clients.kube.overrides import Impersonation
from sealkit.clients.transport import transport_cause
from sealkit.errors import ConnectionFailure, ServiceError, shown_url
from sealkit.retry import parse_retry_after

_MESSAGE_LIMIT = 300


class ApiError(ServiceError):
    """A failed request: status (0 when there was no answer), reason and a short, body-free message."""

    def __init__(self, status: int, reason: str, message: str, retry_after: float | None = None) -> None:
        text = f"cannot reach the API server ({reason})" if not status else f"{status} {reason}: {message}"
        super().__init__(text.strip(), status=status, retry_after=retry_after)
        self.reason = reason
        self.message = message

    @property
    def transient(self) -> bool:
        """Worth retrying as is: conflicts, throttling, server errors, timeouts and lost connections."""
        return self.status in (0, 409, 429) or self.status >= 500

    @property
    def immutable(self) -> bool:
        return self.status == 422 and "immutable" in self.message


class WriteRefused(ApiError):
    """A write this client's write guard did not let out (e.g. a controller that is not surely the leader)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "WriteRefused", message)

    @property
    def transient(self) -> bool:
        return False


# Decides whether a write (any method but GET/HEAD) may be sent now: returns the longest time the request may
# take (seconds; its timeout is cut to that), or raises WriteRefused.
WriteGuard = Callable[[str, str], float]
_READS = frozenset({"GET", "HEAD"})


class ClusterError(ServiceError):
    """The cluster or the controller answered with an error (one line)."""


class Unreachable(ConnectionFailure, ClusterError):
    """A connection-level failure (refused, DNS, TLS, timeout, 401/403, no such Service, no controller
    behind it): every further request would fail the same way, so bulk commands stop at the first."""


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def error_from(status: int, reason: str, data: bytes, headers: Mapping[str, str]) -> ApiError:
    """The ApiError of a non-2xx answer: the Status object's reason and message, never the body itself."""
    message = reason
    try:
        body = json.loads(data)
        if isinstance(body, dict):
            message = str(body.get("message") or reason)
            reason = str(body.get("reason") or reason)
    except ValueError:
        pass
    retry_after = parse_retry_after(headers.get("Retry-After") or headers.get("retry-after"))
    return ApiError(status, reason, _short(message), retry_after)


class Throttle:
    """client-go's client-side limit (--kubeclient-qps/--kubeclient-burst): blocks the calling thread.

    `qps` 0 turns it off. Thread-safe: calls come from the controller's thread pool.
    """

    def __init__(
        self,
        qps: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.qps = qps
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._last = clock()
        self.waited = 0.0

    def acquire(self) -> None:
        if self.qps <= 0:
            return
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
            self._last = now
            self._tokens -= 1  # reserve now; a negative balance is the wait of those queued ahead
            wait = -self._tokens / self.qps if self._tokens < 0 else 0.0
            self.waited += wait
        if wait > 0:
            self._sleep(wait)


def _read_bounded(response: Any, limit: int) -> bytes:
    """Up to limit + 1 bytes of a streamed answer; its connection goes back to the pool only when read to the end."""
    data = bytes(response.read(limit + 1))
    if len(data) > limit:
        response.close()  # the rest is never read: this connection cannot be reused
    else:
        response.release_conn()
    return data


@dataclass(frozen=True)
class RawResponse:
    """An answer as it came: status, body bytes and headers (for non-JSON endpoints such as the proxy's)."""

    status: int
    body: bytes
    headers: Mapping[str, str]
    reason: str = ""

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After") or self.headers.get("retry-after"))


def _encode(method: str, body: Any, content_type: str | None) -> str | bytes | None:
    """A request's body as the SDK sends it: none on GET/HEAD, JSON for JSON content types, else as given."""
    if body is None or method in _READS:
        return None
    if isinstance(body, str | bytes) and content_type and "json" not in content_type:
        return body
    return json.dumps(body)


class KubeClient:
    """JSON requests with a timeout each (None: wait as long as it takes, kubectl's --request-timeout 0);
    raises ApiError. Impersonation headers (kubectl's --as, --as-group, --as-uid) go on every request.
    Thread-safe (urllib3 pools)."""

    def __init__(
        self,
        configuration: Any,
        timeout: float | None = 30.0,
        *,
        qps: float = 0.0,
        burst: int = 10,
        write_guard: WriteGuard | None = None,
        impersonation: Impersonation | None = None,
        connect_timeout: float | None = None,
        retries: int | None = None,
    ) -> None:
        """`connect_timeout` bounds connecting (default: as `timeout`); `retries` (urllib3's, None for its
        default) 0 makes a refused or unresolvable host fail at once."""
        import kubernetes
        import urllib3

        if retries is not None:  # on a copy: the caller's configuration may be shared by other clients
            import copy

            configuration = copy.copy(configuration)
            configuration.retries = retries
        if not configuration.verify_ssl:
            # insecure-skip-tls-verify is the kubeconfig's explicit choice: kubectl does not warn per request.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self.configuration = configuration
        self._api: Any = kubernetes.client.ApiClient(configuration)
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._impersonation = (impersonation or Impersonation()).headers()
        self.throttle = Throttle(qps, burst)
        self.write_guard = write_guard

    def _timeouts(self, read: float | None) -> tuple[float | None, float | None] | None:
        """(connect, read) for one request; None waits forever (kubectl's --request-timeout 0)."""
        if read is None:
            return None if self._connect_timeout is None else (self._connect_timeout, None)
        return (read if self._connect_timeout is None else min(self._connect_timeout, read), read)

    def _urllib3_timeout(self, read: float | None) -> Any:
        """The urllib3 Timeout of one request, as the SDK builds it from `_timeouts` (None: no limit)."""
        import urllib3

        pair = self._timeouts(read)
        return None if pair is None else urllib3.Timeout(connect=pair[0], read=pair[1])

    @property
    def host(self) -> str:
        """The API server's URL as messages show it (a user and password, or a query, as `***`)."""
        return shown_url(str(self.configuration.host))

    def close(self) -> None:
        self._api.close()

    def raw(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str | None = "application/json",
        accept: str = "application/json",
        limit: int | None = None,
    ) -> RawResponse:
        """One request as is; ApiError only when there was no answer (status 0). With `limit`, at most
        limit + 1 bytes of the body are read (a longer one is cut there, its connection closed): the caller
        tells an answer over its cap by the length."""
        import urllib3

        self.throttle.acquire()
        timeout = self._timeout
        if self.write_guard is not None and method not in _READS:  # asked after the throttle's wait
            guard = self.write_guard(method, path)
            timeout = guard if timeout is None else min(timeout, guard)
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        headers.update(self._api.default_headers)  # as the SDK: its defaults (User-Agent) over the caller's
        if self._api.cookie:
            headers["Cookie"] = self._api.cookie
        params = list((query or {}).items())
        self._api.update_params_for_auth(headers, params, ["BearerToken"], path, method, body)
        url = self.configuration.host + path
        if params:
            url += "?" + "&".join(f"{name}={quote(str(value))}" for name, value in params)
        header_lines: Any = headers
        if self._impersonation:
            header_lines = urllib3.HTTPHeaderDict(headers)
            for name, value in self._impersonation:
                header_lines.add(name, value)  # one line per group, as the API server reads them
        try:
            # Straight to the client's urllib3 pool (its TLS, proxy and retry settings): the SDK's request
            # layers (walking every body to "sanitize" it, re-checking headers) cost a sixth of a request.
            response: Any = self._api.rest_client.pool_manager.request(
                method,
                url,
                body=_encode(method, body, content_type),
                headers=header_lines,
                timeout=self._urllib3_timeout(timeout),
                preload_content=limit is None,
            )
            data = response.data if limit is None else _read_bounded(response, limit)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ApiError(0, transport_cause(exc), "the API server did not answer") from None
        return RawResponse(int(response.status), bytes(data or b""), response.headers or {}, str(response.reason or ""))

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """A JSON request; the decoded object (a dict), or ApiError for anything but 2xx."""
        response = self.raw(method, path, query=query, body=body, content_type=content_type)
        if not 200 <= response.status < 300:
            raise error_from(response.status, response.reason, response.body, response.headers)
        if not response.body:
            return {}
        result = json.loads(response.body)
        return result if isinstance(result, dict) else {}

    def _get_or_none(self, path: str) -> dict[str, Any] | None:
        """A GET of one object; None when it is not there (404), ApiError for any other failure."""
        try:
            return self.request("GET", path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    # --- the handful of calls sealkit makes ------------------------------------------------------------

    @staticmethod
    def secret_path(namespace: str, name: str | None = None) -> str:
        base = f"/api/v1/namespaces/{quote(namespace, safe='')}/secrets"
        return f"{base}/{quote(name, safe='')}" if name else base

    @staticmethod
    def sealed_secret_path(namespace: str, name: str, subresource: str | None = None) -> str:
        path = f"/apis/bitnami.com/v1alpha1/namespaces/{quote(namespace, safe='')}/sealedsecrets/{quote(name, safe='')}"
        return f"{path}/{subresource}" if subresource else path

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._get_or_none(self.secret_path(namespace, name))

    def list_secrets(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        result = self.request("GET", self.secret_path(namespace), query={"labelSelector": label_selector})
        items = result.get("items") or []
        return [item for item in items if isinstance(item, dict)]

    def create_secret(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", self.secret_path(namespace), body=dict(body))

    def replace_secret(self, namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PUT", self.secret_path(namespace, name), body=dict(body))

    def delete_secret(self, namespace: str, name: str, uid: str | None = None) -> bool:
        """Delete a Secret (only that incarnation when `uid` is given); False if it was already gone."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid}} if uid else None
        try:
            self.request("DELETE", self.secret_path(namespace, name), body=body)
        except ApiError as exc:
            if exc.status in (404, 409):
                return False
            raise
        return True

    def patch_sealed_secret_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> dict[str, Any]:
        return self.request(
            "PATCH",
            self.sealed_secret_path(namespace, name, "status"),
            body={"status": dict(status)},
            content_type="application/merge-patch+json",
        )

    def create_event(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/api/v1/namespaces/{quote(namespace, safe='')}/events", body=dict(body))

    def list_sealed_secrets(self, namespace: str | None = None, label_selector: str = "") -> list[dict[str, Any]]:
        """Every SealedSecret (in one namespace, or all), page by page."""
        base = "/apis/bitnami.com/v1alpha1"
        path = f"{base}/namespaces/{quote(namespace, safe='')}/sealedsecrets" if namespace else f"{base}/sealedsecrets"
        items: list[dict[str, Any]] = []
        query: dict[str, str] = {"limit": "500"}
        if label_selector:
            query["labelSelector"] = label_selector
        while True:
            result = self.request("GET", path, query=query)
            items.extend(item for item in result.get("items") or [] if isinstance(item, dict))
            token = (result.get("metadata") or {}).get("continue")
            if not token:
                return items
            query["continue"] = str(token)

    # --- Leases (leader election) ----------------------------------------------------------------------

    @staticmethod
    def lease_path(namespace: str, name: str | None = None) -> str:
        base = f"/apis/coordination.k8s.io/v1/namespaces/{quote(namespace, safe='')}/leases"
        return f"{base}/{quote(name, safe='')}" if name else base

    def get_lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._get_or_none(self.lease_path(namespace, name))

    def create_lease(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", self.lease_path(namespace), body=dict(body))

    def replace_lease(self, namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT: the body carries the resourceVersion last read, so a concurrent change is a 409."""
        return self.request("PUT", self.lease_path(namespace, name), body=dict(body))
