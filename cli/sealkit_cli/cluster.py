"""Reaching the cluster as kubectl does, and the controller through the API server's service proxy.

The `kubernetes` package is imported only here, inside functions: commands that work offline
never pay for it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from sealkit.bitnami import DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE
from sealkit.errors import InputError, SealkitError

F = TypeVar("F", bound=Callable[..., Any])

# Labels that mark a sealing controller's Service: this project's chart, and Bitnami's.
CONTROLLER_APP_NAMES = ("sealkit", "sealed-secrets")


class ClusterError(SealkitError):
    """The cluster or the controller could not be reached or answered with an error."""


@dataclass(frozen=True)
class ClusterOptions:
    kubeconfig: str | None
    context: str | None
    controller_name: str
    controller_namespace: str


def cluster_options(func: F) -> F:
    """kubectl's --kubeconfig/--context and kubeseal's --controller-name/--controller-namespace."""
    options = [
        click.option("--kubeconfig", envvar="KUBECONFIG", default=None, help="Path to the kubeconfig file."),
        click.option("--context", default=None, help="The kubeconfig context to use."),
        click.option(
            "--controller-name",
            envvar="SEALED_SECRETS_CONTROLLER_NAME",
            default=DEFAULT_CONTROLLER_NAME,
            show_default=True,
            help="Name of the controller's Service.",
        ),
        click.option(
            "--controller-namespace",
            envvar="SEALED_SECRETS_CONTROLLER_NAMESPACE",
            default=DEFAULT_CONTROLLER_NAMESPACE,
            show_default=True,
            help="Namespace of the controller's Service.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _kubeconfig_paths(kubeconfig: str | None) -> list[Path]:
    value = kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    return [Path(p) for p in value.split(os.pathsep) if p]


def context_namespace(kubeconfig: str | None, context: str | None) -> str | None:
    """The namespace of the (current) kubeconfig context, read without the kubernetes package."""
    merged_contexts: dict[str, Any] = {}
    current = context
    for path in _kubeconfig_paths(kubeconfig):
        try:
            config = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(config, dict):
            continue
        current = current or config.get("current-context")
        for entry in config.get("contexts") or []:
            if isinstance(entry, dict) and entry.get("name") not in merged_contexts:
                merged_contexts[str(entry.get("name"))] = entry.get("context") or {}
    found = merged_contexts.get(current or "")
    namespace = found.get("namespace") if isinstance(found, dict) else None
    return str(namespace) if namespace else None


def api_client(options: ClusterOptions) -> Any:
    """A kubernetes ApiClient: in-cluster config inside a pod, else the kubeconfig (as kubectl)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    if not options.kubeconfig and not options.context and os.environ.get("KUBERNETES_SERVICE_HOST"):
        try:
            config.load_incluster_config()  # type: ignore[no-untyped-call]
            return client.ApiClient()
        except ConfigException:
            pass
    paths = [p for p in _kubeconfig_paths(options.kubeconfig) if p.exists()]
    if not paths:
        raise ClusterError("no kubeconfig found: give --kubeconfig, set KUBECONFIG, or use --cert FILE|URL offline")
    try:
        return config.new_client_from_config(config_file=str(paths[0]), context=options.context)  # type: ignore[no-untyped-call]
    except ConfigException as exc:
        raise ClusterError(f"kubeconfig {paths[0]}: {str(exc).splitlines()[0]}") from None


@dataclass(frozen=True)
class ProxyResponse:
    status: int
    body: bytes
    retry_after: float | None


class ControllerProxy:
    """The controller's HTTP API reached through `/api/v1/namespaces/<ns>/services/http:<name>:<port>/proxy/`."""

    def __init__(self, options: ClusterOptions, *, timeout: float = 30.0, client: Any = None) -> None:
        self.options = options
        self.timeout = timeout
        self._client = client
        self._port: str | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = api_client(self.options)
        return self._client

    def _raw(self, method: str, path: str, body: Any = None, content_type: str | None = None) -> ProxyResponse:
        import urllib3

        headers = {"Accept": "*/*"}
        if content_type:
            headers["Content-Type"] = content_type
        serialized = self.client.param_serialize(
            method, path, header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        try:
            response = self.client.call_api(*serialized, _request_timeout=self.timeout)
            data = response.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ClusterError(
                f"cannot reach the API server at {self.client.configuration.host}: {type(exc).__name__}"
            ) from None
        retry = response.getheader("Retry-After")
        try:
            retry_after = float(retry) if retry else None
        except ValueError:
            retry_after = None
        return ProxyResponse(int(response.status), bytes(data or b""), retry_after)

    def _service_port(self) -> str:
        if self._port is not None:
            return self._port
        name, namespace = self.options.controller_name, self.options.controller_namespace
        found = self._raw("GET", f"/api/v1/namespaces/{namespace}/services/{name}")
        if found.status == 404:
            raise ClusterError(self._missing_service_message())
        if found.status in (401, 403):
            raise ClusterError(f"not allowed to read Service {namespace}/{name} (HTTP {found.status})")
        if found.status >= 300:
            raise ClusterError(f"reading Service {namespace}/{name} failed: HTTP {found.status}")
        ports = (json.loads(found.body).get("spec") or {}).get("ports") or []
        if not ports:
            raise ClusterError(f"Service {namespace}/{name} has no ports")
        self._port = str(ports[0].get("name") or ports[0].get("port"))
        return self._port

    def _missing_service_message(self) -> str:
        name, namespace = self.options.controller_name, self.options.controller_namespace
        selector = f"app.kubernetes.io/name in ({','.join(CONTROLLER_APP_NAMES)})"
        listed = self._raw("GET", f"/api/v1/services?labelSelector={_quote(selector)}")
        candidates: list[str] = []
        if listed.status == 200:
            for item in json.loads(listed.body).get("items") or []:
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
        return self._raw(method, proxied, body, content_type)

    def cert_pem(self) -> bytes:
        response = self.request("GET", "v1/cert.pem")
        if response.status != 200:
            raise ClusterError(f"fetching the certificate from the controller failed: HTTP {response.status}")
        return response.body


class RateLimitedCaller:
    """Calls that honour 429 + Retry-After with backoff, paced below the controller's limit."""

    def __init__(self, rate: float, *, max_retries: int = 8, sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.max_retries = max_retries
        self.sleep = sleep
        self._last = 0.0
        self.throttled = 0

    def call(self, send: Callable[[], ProxyResponse]) -> ProxyResponse:
        delay = 0.5
        for _ in range(self.max_retries + 1):
            wait = self._last + self.interval - time.monotonic()
            if wait > 0:
                self.sleep(wait)
            self._last = time.monotonic()
            response = send()
            if response.status != 429:
                return response
            self.throttled += 1
            self.sleep(response.retry_after if response.retry_after is not None else delay)
            delay = min(delay * 2, 30.0)
        raise ClusterError(f"the controller kept answering 429 (rate limited) after {self.max_retries} retries")


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def fetch_url(url: str, *, timeout: float = 15.0) -> bytes:
    """GET an http(s) URL (for --cert URL)."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise InputError(f"{url}: not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        raise ClusterError(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ClusterError(f"{url}: cannot fetch ({reason})") from None
