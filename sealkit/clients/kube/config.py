"""Finding the cluster as kubectl does: explicit kubeconfig/context, else in-cluster, else $KUBECONFIG.

Where it sits: the first step of every Kubernetes call, for the CLI (`sealkit seal`, `cert`, `keys`, ...)
and the controller alike. `context_namespace` reads a kubeconfig without the `kubernetes` package (for
`sealkit seal`'s default namespace, which must stay cheap); the rest imports it inside functions.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sealkit.bitnami import DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE
from sealkit.errors import InputError

SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 - a path
NO_KUBECONFIG = "no kubeconfig found: give --kubeconfig or set KUBECONFIG"


@dataclass(frozen=True)
class ClusterOptions:
    """Which cluster (kubectl's --kubeconfig/--context) and which controller Service (kubeseal's flags)."""

    kubeconfig: str | None = None
    context: str | None = None
    controller_name: str = DEFAULT_CONTROLLER_NAME
    controller_namespace: str = DEFAULT_CONTROLLER_NAMESPACE


@dataclass(frozen=True)
class Connection:
    """How to reach and log in to the API server, as plain data (the controller hands it to Kopf)."""

    server: str
    ca_path: str | None
    insecure: bool
    username: str | None
    password: str | None = None
    scheme: str | None = None
    token: str | None = None
    certificate_path: str | None = None
    private_key_path: str | None = None

    def __repr__(self) -> str:  # token and password never in a log line or traceback
        return f"Connection(server={self.server!r})"


def quiet_client_loggers() -> None:
    """The HTTP client libraries may log bodies at DEBUG: Secrets pass through them, so they stay quiet."""
    for name in ("kubernetes", "kubernetes.client", "kubernetes.client.rest", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and Path(SERVICE_ACCOUNT_TOKEN).exists()


def kubeconfig_paths(kubeconfig: str | None) -> list[Path]:
    """The kubeconfig files kubectl would merge: --kubeconfig, else $KUBECONFIG, else ~/.kube/config."""
    value = kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    return [Path(p) for p in value.split(os.pathsep) if p]


def context_namespace(kubeconfig: str | None, context: str | None) -> str | None:
    """The namespace of the (current) kubeconfig context, read without the kubernetes package."""
    merged_contexts: dict[str, Any] = {}
    current = context
    for path in kubeconfig_paths(kubeconfig):
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


def load_configuration(
    kubeconfig: str | None = None, context: str | None = None, *, missing: str = NO_KUBECONFIG
) -> Any:
    """A `kubernetes.client.Configuration` found as kubectl finds one.

    An explicit --kubeconfig/--context wins; else the in-cluster service account; else $KUBECONFIG or
    ~/.kube/config (merged, as kubectl merges them). `missing` is the message when there is no
    kubeconfig at all. One line on failure, never a traceback.
    """
    import kubernetes

    configuration = kubernetes.client.Configuration()
    try:
        if not kubeconfig and not context and in_cluster():
            kubernetes.config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return configuration
        if not kubeconfig and not any(p.exists() for p in kubeconfig_paths(None)):
            raise InputError(missing)
        files = kubeconfig or os.pathsep.join(str(p) for p in kubeconfig_paths(None) if p.exists())
        kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=files, context=context, client_configuration=configuration, persist_config=False
        )
    except (kubernetes.config.ConfigException, OSError, ValueError, TypeError) as exc:
        where = f" from {kubeconfig}" if kubeconfig else ""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot configure the Kubernetes client{where}: {first}") from None
    return configuration


def connection_of(configuration: Any) -> Connection:
    """The API server and credentials of a configuration (the token read fresh: it can be refreshed)."""
    header = configuration.get_api_key_with_prefix("BearerToken") or configuration.get_api_key_with_prefix(
        "authorization"
    )
    parts = header.split(" ", 1) if header else []
    scheme, token = (None, None) if not parts else (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    return Connection(
        server=str(configuration.host),
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme,
        token=token,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
    )
