"""The controller's HTTP API reached as kubeseal reaches it: through the API server's service proxy.

`/api/v1/namespaces/<ns>/services/http:<name>:<port>/proxy/<path>`, with the caller's own credentials, so
no port-forward or ingress is needed. Used by `sealkit cert`/`seal` (the certificate), `verify`,
`reencrypt` and `lint` (opening checks); `RateLimitedCaller` paces bulk calls below the controller's
limit and honours its 429 + Retry-After answers.

Fail fast: requests have short, bounded timeouts and no transport retries, and every connection-level
failure (refused, DNS, TLS, timeout, 401/403, no such Service, no controller behind it) is raised as
`Unreachable` naming the endpoint and the cause, which bulk commands do not catch per object.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sealkit.clients.kube.api import ApiError, ClusterError, KubeClient, Unreachable
from sealkit.clients.kube.config import ClusterOptions, connect
from sealkit.reading import max_input_bytes, too_large
from sealkit.retry import Backoff

# Labels that mark a sealing controller's Service: this project's chart, and Bitnami's.
CONTROLLER_APP_NAMES = ("sealkit", "sealed-secrets")
PROXY_BACKOFF = Backoff(base=0.5, cap=30.0)
OFFLINE_HINT = "no kubeconfig found: give --kubeconfig, set KUBECONFIG, or use --cert FILE|URL offline"
# Bounded so that an unreachable cluster ends a command within 10 s: connect, then each answer.
CONNECT_TIMEOUT = 4.0
READ_TIMEOUT = 8.0
# Answers of the API server's service proxy that mean "the controller cannot be reached at all".
_PROXY_UNREACHABLE = {502: "bad gateway", 503: "service unavailable", 504: "gateway timeout"}


@dataclass(frozen=True)
class ProxyResponse:
    status: int
    body: bytes
    retry_after: float | None


class ControllerProxy:
    """The controller's HTTP API through the service proxy of the cluster `options` name."""

    def __init__(
        self,
        options: ClusterOptions,
        *,
        timeout: float = READ_TIMEOUT,
        client: KubeClient | None = None,
        missing: str = OFFLINE_HINT,
    ) -> None:
        """`missing`: the message when there is no kubeconfig at all (default: also offers --cert)."""
        self.options = options
        self.timeout = timeout
        self.missing = missing
        self._client = client
        self._port: str | None = None

    @property
    def client(self) -> KubeClient:
        if self._client is None:
            self._client = connect(
                self.options,
                timeout=self.timeout,
                missing=self.missing,
                connect_timeout=min(CONNECT_TIMEOUT, self.timeout),
                retries=0,
            )
        return self._client

    def configure(self) -> ControllerProxy:
        """Read the kubeconfig now (a bad one is an input error before any work starts); no request yet."""
        _ = self.client
        return self

    @property
    def endpoint(self) -> str:
        return self.client.host

    @property
    def service(self) -> str:
        return f"Service {self.options.controller_namespace}/{self.options.controller_name}"

    def _raw(self, method: str, path: str, body: Any = None, content_type: str | None = None) -> ProxyResponse:
        limit = max_input_bytes()  # the controller's answers are documents like the inputs: as bounded
        try:
            response = self.client.raw(method, path, body=body, content_type=content_type, accept="*/*", limit=limit)
        except ApiError as exc:
            raise Unreachable(f"cannot reach the API server ({exc.reason})", where=self.endpoint) from None
        if len(response.body) > limit:
            raise too_large(limit, f"the answer to {method} {path.split('?')[0]}")
        if response.status == 401:
            raise Unreachable("the API server refused the credentials (HTTP 401)", where=self.endpoint)
        return ProxyResponse(response.status, response.body, response.retry_after)

    def _service_port(self) -> str:
        if self._port is not None:
            return self._port
        name, namespace = self.options.controller_name, self.options.controller_namespace
        found = self._raw("GET", f"/api/v1/namespaces/{namespace}/services/{name}")
        if found.status == 404:
            raise Unreachable(self._missing_service_message(), where=self.endpoint)
        if found.status == 403:
            raise Unreachable(f"not allowed to read {self.service} (HTTP 403)", where=self.endpoint)
        if found.status >= 300:
            raise Unreachable(f"reading {self.service} failed (HTTP {found.status})", where=self.endpoint)
        try:
            spec = json.loads(found.body).get("spec") or {}
            ports = spec.get("ports") or []
            port = ports[0].get("name") or ports[0].get("port")
        except (ValueError, AttributeError, IndexError, TypeError):
            port = None
        if not port:
            raise Unreachable(f"{self.service} has no ports", where=self.endpoint)
        self._port = str(port)
        return self._port

    def _missing_service_message(self) -> str:
        name, namespace = self.options.controller_name, self.options.controller_namespace
        selector = f"app.kubernetes.io/name in ({','.join(CONTROLLER_APP_NAMES)})"
        listed = self._raw("GET", f"/api/v1/services?labelSelector={quote(selector, safe='')}")
        candidates: list[str] = []
        if listed.status == 200:
            try:
                items = json.loads(listed.body).get("items") or []
            except (ValueError, AttributeError):
                items = []
            for item in items:
                meta = item.get("metadata") or {}
                ports = (item.get("spec") or {}).get("ports") or []
                if any(p.get("port") == 8080 or p.get("name") == "http" for p in ports):
                    candidates.append(
                        f"--controller-name {meta.get('name')} --controller-namespace {meta.get('namespace')}"
                    )
        hint = (
            f"; found a controller Service: use {' or '.join(candidates)}"
            if candidates
            else ("; no Service labelled app.kubernetes.io/name=sealkit or sealed-secrets was found either")
        )
        return f"no controller Service {namespace}/{name}{hint}"

    def request(self, method: str, path: str, body: Any = None, content_type: str | None = None) -> ProxyResponse:
        namespace, name = self.options.controller_namespace, self.options.controller_name
        port = self._service_port()
        proxied = f"/api/v1/namespaces/{namespace}/services/http:{name}:{port}/proxy/{path.lstrip('/')}"
        response = self._raw(method, proxied, body, content_type)
        if response.status == 403:
            raise Unreachable(f"not allowed to use the service proxy of {self.service} (HTTP 403)", where=self.endpoint)
        if response.status in _PROXY_UNREACHABLE:
            raise Unreachable(
                f"the controller behind {self.service} does not answer "
                f"(HTTP {response.status} {_PROXY_UNREACHABLE[response.status]} from the service proxy)",
                where=self.endpoint,
            )
        return response

    def cert_pem(self) -> bytes:
        response = self.request("GET", "v1/cert.pem")
        if response.status == 404:
            raise Unreachable(f"{self.service} does not serve /v1/cert.pem (HTTP 404)", where=self.endpoint)
        if response.status != 200:
            raise ClusterError(
                f"fetching the certificate from the controller failed (HTTP {response.status})", where=self.endpoint
            )
        return response.body

    def require_controller(self) -> ControllerProxy:
        """The Service must serve a certificate at /v1/cert.pem before its answers are trusted: a web app behind
        a mistyped --controller-name that answers 200 to every request made every SealedSecret "open" (200 is
        /v1/verify's yes). Its dates are not judged here (a CI clock behind a key renewed just now is fine)."""
        from sealkit.certificates import certificate_not_before

        if certificate_not_before(self.cert_pem()) is None:
            raise Unreachable(
                f"{self.service} does not serve a certificate at /v1/cert.pem: not a sealing controller",
                where=self.endpoint,
            )
        return self


class RateLimitedCaller:
    """Calls that honour 429 + Retry-After with backoff, paced below the controller's limit."""

    def __init__(
        self,
        rate: float,
        *,
        max_retries: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff = PROXY_BACKOFF,
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.max_retries = max_retries
        self.sleep = sleep
        self.backoff = backoff
        self._last: float | None = None  # the first call never waits
        self.throttled = 0

    def call(self, send: Callable[[], ProxyResponse]) -> ProxyResponse:
        for attempt in range(1, self.max_retries + 2):
            wait = 0.0 if self._last is None else self._last + self.interval - time.monotonic()
            if wait > 0:
                self.sleep(wait)
            self._last = time.monotonic()
            response = send()
            if response.status != 429:
                return response
            self.throttled += 1
            # The controller's own hint wins (even when shorter); else capped doubling.
            self.sleep(response.retry_after if response.retry_after is not None else self.backoff.delay(attempt))
        raise ClusterError(f"the controller kept answering 429 (rate limited) after {self.max_retries} retries")
