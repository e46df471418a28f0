"""The controller's own Kubernetes requests: plain JSON over the `kubernetes` client's connection handling.

Why not the generated models: the controller needs dicts (the core works on dicts), exact control of the
patch content type, a timeout on every call (a hanging API server must not stall a worker forever), and
errors that carry the status and Retry-After but never a request or response body (a Secret's data).
Calls are synchronous and run in the controller's thread pool.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sealkit.errors import InputError

logger = logging.getLogger("sealkit.controller")

_MESSAGE_LIMIT = 300


def quiet_client_loggers() -> None:
    """The HTTP client libraries may log bodies at DEBUG: Secrets pass through them, so they stay quiet."""
    for name in ("kubernetes", "kubernetes.client", "kubernetes.client.rest", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and os.path.exists(  # noqa: PTH110
        "/var/run/secrets/kubernetes.io/serviceaccount/token"
    )


def load_configuration(kubeconfig: str | None = None, context: str | None = None) -> Any:
    """A `kubernetes.client.Configuration` found as kubectl finds one.

    An explicit --kubeconfig/--context wins; else the in-cluster service account; else $KUBECONFIG or
    ~/.kube/config. One line on failure, never a traceback.
    """
    import kubernetes

    configuration = kubernetes.client.Configuration()
    try:
        if kubeconfig or context or not in_cluster():
            kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=kubeconfig, context=context, client_configuration=configuration, persist_config=False
            )
        else:
            kubernetes.config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except (kubernetes.config.ConfigException, OSError, ValueError, TypeError) as exc:
        where = f" from {kubeconfig}" if kubeconfig else ""
        raise InputError(f"cannot configure the Kubernetes client{where}: {exc}") from None
    return configuration


def connection_info(configuration: Any) -> Any:
    """Kopf's credentials from the same configuration (token read fresh: it can be refreshed)."""
    import kopf

    header = configuration.get_api_key_with_prefix("BearerToken") or configuration.get_api_key_with_prefix(
        "authorization"
    )
    parts = header.split(" ", 1) if header else []
    scheme, token = (None, None) if not parts else (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme,
        token=token,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
    )


@dataclass
class ApiError(Exception):
    """A failed request: status (0 when there was no answer), reason and a short, body-free message."""

    status: int
    reason: str
    message: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.status or 'no answer'} {self.reason}: {self.message}".strip()

    @property
    def transient(self) -> bool:
        """Worth retrying as is: conflicts, throttling, server errors, timeouts and lost connections."""
        return self.status in (0, 409, 429) or self.status >= 500

    @property
    def immutable(self) -> bool:
        return self.status == 422 and "immutable" in self.message


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _error_from(status: int, reason: str, data: bytes, headers: Mapping[str, str]) -> ApiError:
    message = reason
    try:
        body = json.loads(data)
        if isinstance(body, dict):
            message = str(body.get("message") or reason)
            reason = str(body.get("reason") or reason)
    except ValueError:
        pass
    retry_after: float | None = None
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if raw:
        try:
            retry_after = float(raw)
        except ValueError:
            retry_after = None
    return ApiError(status, reason, _short(message), retry_after)


class Throttle:
    """client-go's client-side limit (--kubeclient-qps/--kubeclient-burst): blocks the calling thread.

    `qps` 0 turns it off. Thread-safe: calls come from the controller's thread pool.
    """

    def __init__(self, qps: float, burst: int, clock: Any = time.monotonic, sleep: Any = time.sleep) -> None:
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


class KubeClient:
    """JSON requests with a timeout each; raises ApiError. Thread-safe (urllib3 pools)."""

    def __init__(self, configuration: Any, timeout: float, *, qps: float = 0.0, burst: int = 10) -> None:
        import kubernetes

        self._api: Any = kubernetes.client.ApiClient(configuration)
        self._timeout = timeout
        self.throttle = Throttle(qps, burst)

    def close(self) -> None:
        self._api.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        import urllib3

        self.throttle.acquire()
        headers = {"Accept": "application/json", "Content-Type": content_type}
        _, url, headers, body, _ = self._api.param_serialize(
            method=method,
            resource_path=path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response: Any = self._api.call_api(
                method, url, header_params=headers, body=body, _request_timeout=(self._timeout, self._timeout)
            )
            data = response.read()
        except urllib3.exceptions.HTTPError as exc:
            raise ApiError(
                0, type(exc).__name__, "the API server did not answer in time or dropped the connection"
            ) from None
        except Exception as exc:  # the client wraps some failures in its own exception types
            status = int(getattr(exc, "status", 0) or 0)
            raise ApiError(status, type(exc).__name__, "request failed") from None
        if not 200 <= response.status < 300:
            raise _error_from(response.status, str(response.reason or ""), data or b"", response.headers or {})
        if not data:
            return {}
        result = json.loads(data)
        return result if isinstance(result, dict) else {}

    # --- the handful of calls the controller makes ------------------------------------------------------

    @staticmethod
    def secret_path(namespace: str, name: str | None = None) -> str:
        base = f"/api/v1/namespaces/{quote(namespace, safe='')}/secrets"
        return f"{base}/{quote(name, safe='')}" if name else base

    @staticmethod
    def sealed_secret_path(namespace: str, name: str, subresource: str | None = None) -> str:
        path = f"/apis/bitnami.com/v1alpha1/namespaces/{quote(namespace, safe='')}/sealedsecrets/{quote(name, safe='')}"
        return f"{path}/{subresource}" if subresource else path

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", self.secret_path(namespace, name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

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

    def get_sealed_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", self.sealed_secret_path(namespace, name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def patch_sealed_secret_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> dict[str, Any]:
        return self.request(
            "PATCH",
            self.sealed_secret_path(namespace, name, "status"),
            body={"status": dict(status)},
            content_type="application/merge-patch+json",
        )

    def create_event(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/api/v1/namespaces/{quote(namespace, safe='')}/events", body=dict(body))
