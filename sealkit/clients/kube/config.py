"""Finding the cluster as kubectl does: explicit kubeconfig/context, else in-cluster, else $KUBECONFIG,
with kubectl's client flags (`--server`, `--token`, `--as`, ..., see `overrides`) applied on top.

Where it sits: the first step of every Kubernetes call, for the CLI (`sealkit seal`, `cert`, `kubeseal`,
`keys`, ...) and the controller alike. `context_namespace` and `client_namespace` read a kubeconfig without
the `kubernetes` package (for the default namespace of a Secret, which must stay cheap); the rest imports
it inside functions.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sealkit.bitnami import DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE
from sealkit.clients.kube.overrides import (
    ClientOverrides,
    Impersonation,
    apply_cluster,
    apply_context,
    apply_user,
)
from sealkit.errors import InputError, SealkitError, os_reason
from sealkit.reading import load_documents, read_file

if TYPE_CHECKING:
    from sealkit.clients.kube.api import KubeClient

SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 - a path
SERVICE_ACCOUNT_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
NO_KUBECONFIG = "no kubeconfig found: give --kubeconfig or set KUBECONFIG"
DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True)
class ClusterOptions:
    """Which cluster (kubectl's --kubeconfig/--context and client flags) and which controller Service
    (kubeseal's --controller-name/--controller-namespace)."""

    kubeconfig: str | None = None
    context: str | None = None
    controller_name: str = DEFAULT_CONTROLLER_NAME
    controller_namespace: str = DEFAULT_CONTROLLER_NAMESPACE
    overrides: ClientOverrides = field(default_factory=ClientOverrides)


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
    import logging  # here: `sealkit seal --cert` reads ClusterOptions and nothing of logging

    for name in ("kubernetes", "kubernetes.client", "kubernetes.client.rest", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


def in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and Path(SERVICE_ACCOUNT_TOKEN).exists()


def kubeconfig_paths(kubeconfig: str | None) -> list[Path]:
    """The kubeconfig files kubectl would merge: --kubeconfig, else $KUBECONFIG, else ~/.kube/config."""
    value = kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    return [Path(p) for p in value.split(os.pathsep) if p]


def read_kubeconfig(path: Path) -> dict[str, Any]:
    """One kubeconfig file through the bounded reader: a mapping, or one line saying why not."""
    where = f"kubeconfig {path}"
    documents = load_documents(read_file(path, where=where), where)
    if len(documents) != 1 or not isinstance(documents[0].obj, dict):
        raise InputError("not a kubeconfig (one YAML mapping with clusters, contexts and users)", where=where)
    config: dict[str, Any] = documents[0].obj
    for field_name in ("clusters", "contexts", "users"):
        if config.get(field_name) is not None and not isinstance(config.get(field_name), list):
            raise InputError(f"not a kubeconfig: {field_name} is not a list", where=where)
    return config


def _kubeconfig_files(kubeconfig: str | None) -> list[dict[str, Any]]:
    """The readable kubeconfig files kubectl would merge, parsed through the bounded reader (unreadable,
    malformed or oversized ones skipped: completion never fails)."""
    found = []
    for path in kubeconfig_paths(kubeconfig):
        try:
            found.append(read_kubeconfig(path))
        except SealkitError:
            continue
    return found


def _named(config: dict[str, Any], section: str) -> list[tuple[str, Any]]:
    entries = config.get(section)
    named = entries if isinstance(entries, list) else []
    return [(str(e.get("name")), e) for e in named if isinstance(e, dict) and e.get("name") is not None]


def kubeconfig_names(kubeconfig: str | None, section: str) -> list[str]:
    """The names of a kubeconfig section ("contexts", "clusters", "users"), merged as kubectl merges the
    files, read without the kubernetes package (for shell completion: never fails, [] when unreadable)."""
    names: dict[str, None] = {}
    for config in _kubeconfig_files(kubeconfig):
        names.update((name, None) for name, _ in _named(config, section))
    return sorted(names)


def context_namespace(kubeconfig: str | None, context: str | None) -> str | None:
    """The namespace of the (current) kubeconfig context, read without the kubernetes package."""
    merged_contexts: dict[str, Any] = {}
    current = context
    for path in kubeconfig_paths(kubeconfig):
        if not path.exists():
            continue  # as kubectl merges: a file that is not there adds nothing; one that is must be readable
        config = read_kubeconfig(path)
        found_current = config.get("current-context")
        current = current or (found_current if isinstance(found_current, str) else None)
        for entry in config.get("contexts") or []:
            if isinstance(entry, dict) and entry.get("name") not in merged_contexts:
                merged_contexts[str(entry.get("name"))] = entry.get("context") or {}
    found = merged_contexts.get(current or "")
    namespace = found.get("namespace") if isinstance(found, dict) else None
    return namespace if isinstance(namespace, str) and namespace else None


def client_namespace(options: ClusterOptions) -> tuple[str, bool]:
    """kubectl's namespace and whether it was given: -n, else the context's, else the pod's, else "default".

    As clientcmd's DeferredLoadingClientConfig.Namespace: the (overridden) kubeconfig context's namespace;
    without one, in a pod, the service account's namespace; else "default".
    """
    if options.overrides.namespace:
        return options.overrides.namespace, True
    found = context_namespace(options.kubeconfig, options.context)
    if found:
        return found, False
    if in_cluster():
        if os.environ.get("POD_NAMESPACE"):
            return os.environ["POD_NAMESPACE"], False
        try:
            text = Path(SERVICE_ACCOUNT_NAMESPACE).read_text().strip()
        except OSError:
            text = ""
        if text:
            return text, False
    return DEFAULT_NAMESPACE, False


def load_configuration(
    kubeconfig: str | None = None,
    context: str | None = None,
    *,
    missing: str = NO_KUBECONFIG,
    overrides: ClientOverrides | None = None,
) -> Any:
    """A `kubernetes.client.Configuration` found as kubectl finds one.

    An explicit --kubeconfig/--context wins; else the in-cluster service account; else $KUBECONFIG or
    ~/.kube/config (merged, as kubectl merges them). `overrides` (kubectl's client flags) are applied as
    clientcmd applies them. `missing` is the message when there is no kubeconfig at all. One line on
    failure, never a traceback.
    """
    return _load(kubeconfig, context, missing, overrides or ClientOverrides())[0]


def connect(
    options: ClusterOptions,
    *,
    timeout: float = 30.0,
    missing: str = NO_KUBECONFIG,
    connect_timeout: float | None = None,
    retries: int | None = None,
) -> KubeClient:
    """A client for the cluster `options` name, with its client flags (impersonation, request timeout).

    `connect_timeout` and `retries` (urllib3's; 0: none) make a cluster that cannot be reached fail fast
    (the CLI's cluster-facing commands); an explicit --request-timeout still sets the read timeout.
    """
    from sealkit.clients.kube.api import KubeClient

    configuration, impersonation = _load(options.kubeconfig, options.context, missing, options.overrides)
    wait = options.overrides.request_timeout
    chosen = timeout if wait is None else (wait or None)
    return KubeClient(
        configuration, chosen, impersonation=impersonation, connect_timeout=connect_timeout, retries=retries
    )


def _load(
    kubeconfig: str | None, context: str | None, missing: str, overrides: ClientOverrides
) -> tuple[Any, Impersonation]:
    import kubernetes

    overrides.check()
    configuration = kubernetes.client.Configuration()
    try:
        if not kubeconfig and not context and not overrides.needs_kubeconfig_entries and in_cluster():
            kubernetes.config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return _in_cluster_overrides(configuration, overrides), apply_user({}, overrides)[1]
        paths = kubeconfig_paths(kubeconfig) if kubeconfig else [p for p in kubeconfig_paths(None) if p.exists()]
        for path in paths:
            read_kubeconfig(path)  # missing, size, text, aliases, shape: one clear line before the library reads it
        files = os.pathsep.join(str(p) for p in paths)
        if not files and not overrides.server:
            raise InputError(missing)
        config_dict, impersonation = _overridden_kubeconfig(files, context, overrides)
        with _credential_plugin_checked(config_dict, kubeconfig):
            kubernetes.config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
                config_dict, client_configuration=configuration, persist_config=False
            )
    except kubernetes.config.ConfigException as exc:
        raise InputError(_config_problem(exc), where=_kubeconfig_name(kubeconfig)) from None
    except OSError as exc:
        what = f"cannot use the kubeconfig: a file it names cannot be read ({os_reason(exc)})"
        raise InputError(what, where=_kubeconfig_name(kubeconfig)) from None
    except (ValueError, TypeError, AttributeError, KeyError):
        raise InputError("cannot use the kubeconfig: it is not valid", where=_kubeconfig_name(kubeconfig)) from None
    return configuration, impersonation


def _config_problem(exc: Exception) -> str:
    """The Kubernetes library's refusal of a kubeconfig in our words: a file it names that is missing (a CA, a
    client certificate or key) is 'does not exist (PATH)', anything else its first line."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else "it is not valid"
    missing = first.removeprefix("File does not exist: ")
    if missing != first:
        return f"cannot use the kubeconfig: a file it names does not exist ({missing})"
    return f"cannot use the kubeconfig: {first[:1].lower() + first[1:]}"


@contextlib.contextmanager
def _credential_plugin_checked(config_dict: dict[str, Any], kubeconfig: str | None) -> Iterator[None]:
    """Loading the kubeconfig runs its user's credential plugin (`exec`, e.g. kubelogin); the library logs a
    plugin that fails or answers without a credential on the root logger (which then prints
    `ERROR:root:...` on stderr) and goes on without one, so every request would be refused later. Here such
    a failure is the one line it is, naming the plugin (never its output: it may hold a token)."""
    import logging

    failures: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "kubernetes" in record.pathname and record.levelno >= logging.WARNING:
                failures.append(record)

    root = logging.getLogger()
    capture = Capture()
    root.addHandler(capture)  # also keeps logging.error() from configuring a stderr handler on the root logger
    try:
        yield
    finally:
        root.removeHandler(capture)
    if failures:
        users = config_dict.get("users") or [{}]
        user = getattr(users[0], "value", users[0]).get("user") or {}
        command = str((user.get("exec") or {}).get("command") or "?")
        missing = any("No such file or directory" in record.getMessage() for record in failures)
        why = "not found" if missing else "it gave no usable credential"
        raise InputError(
            f"cannot use the kubeconfig: its credential plugin {command} failed ({why})",
            where=_kubeconfig_name(kubeconfig),
        )


def _kubeconfig_name(kubeconfig: str | None) -> str:
    return f"kubeconfig {kubeconfig}" if kubeconfig else "kubeconfig ($KUBECONFIG or ~/.kube/config)"


OVERRIDDEN = "sealkit-overridden"


def _overridden_kubeconfig(files: str, context: str | None, overrides: ClientOverrides) -> tuple[Any, Impersonation]:
    """The merged kubeconfig reduced to one context, cluster and user with the flags applied.

    Entries keep the file they came from (kubernetes' ConfigNode), so their relative paths still resolve
    against it; paths given as flags are made absolute first.
    """
    from kubernetes.config.kube_config import KubeConfigMerger

    merged = KubeConfigMerger(files).config if files else None  # type: ignore[no-untyped-call]
    value: dict[str, Any] = merged.value if merged is not None else {}
    name = context or value.get("current-context") or ""
    entries = {kind: {_name(e): e for e in value.get(kind) or []} for kind in ("contexts", "clusters", "users")}
    found = entries["contexts"].get(name)
    if context and found is None:
        raise InputError(f"context {context!r} does not exist", where=_kubeconfig_name(files))
    if name and found is None:  # as clientcmd: "context was not found for specified context"
        raise InputError(f"current-context {name!r} is not one of its contexts", where=_kubeconfig_name(files))
    ctx = apply_context(_body(found, "context"), overrides)
    picked: dict[str, tuple[dict[str, Any], str | None]] = {}
    for kind, key, required in (("clusters", "cluster", overrides.cluster), ("users", "user", overrides.user)):
        entry = entries[kind].get(str(ctx.get(key) or ""))
        if required and entry is None:
            raise InputError(f"{key} {required!r} does not exist", where=_kubeconfig_name(files))
        picked[key] = (_body(entry, key), getattr(entry, "path", None))
    cluster = apply_cluster(picked["cluster"][0], overrides)
    user, impersonation = apply_user(picked["user"][0], overrides)
    if not cluster.get("server"):
        raise InputError(
            "no server: the kubeconfig context names no cluster with a server (give --server)",
            where=_kubeconfig_name(files),
        )
    ctx.update(cluster=OVERRIDDEN, user=OVERRIDDEN)
    config = {
        "current-context": OVERRIDDEN,
        "contexts": [{"name": OVERRIDDEN, "context": ctx}],
        "clusters": [_node("cluster", cluster, picked["cluster"][1])],
        "users": [_node("user", user, picked["user"][1])],
    }
    return config, impersonation


def _node(kind: str, body: dict[str, Any], path: str | None) -> Any:
    """A kubeconfig entry that resolves its relative paths against the file it came from."""
    from kubernetes.config.kube_config import ConfigNode

    return ConfigNode(kind, {"name": OVERRIDDEN, kind: body}, path)  # type: ignore[no-untyped-call]


def _name(entry: Any) -> str:
    value = entry.value if hasattr(entry, "value") else entry
    return str(value.get("name")) if isinstance(value, dict) else ""


def _body(entry: Any, key: str) -> dict[str, Any]:
    value = entry.value if hasattr(entry, "value") else entry
    body = value.get(key) if isinstance(value, dict) else None
    return dict(body) if isinstance(body, dict) else {}


def _in_cluster_overrides(configuration: Any, overrides: ClientOverrides) -> Any:
    """In a pod, clientcmd lets --server, --token and --certificate-authority replace the service account's."""
    if overrides.server:
        configuration.host = overrides.server
    if overrides.token:
        configuration.api_key = {"authorization": f"Bearer {overrides.token}"}
        configuration.refresh_api_key_hook = None
    if overrides.certificate_authority:
        configuration.ssl_ca_cert = str(Path(overrides.certificate_authority).absolute())
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
