"""`sealkit controller`: the in-cluster controller (Kopf), a drop-in for Bitnami's.

Flags keep Bitnami's names, values and defaults, each also read from `SEALED_SECRETS_<FLAG>`; boolean flags
take Go's forms (`--update-status=false`, or the bare flag for true). Kopf and the Kubernetes client are
imported only when the command runs (`--version` prints Bitnami's `controller version: <v>` without them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import click

from sealkit import __version__
from sealkit.clients.keyvault.credentials import AUTH_MODES
from sealkit_cli import completers

F = TypeVar("F", bound=Callable[..., Any])

logger = logging.getLogger(__name__)

# Bitnami flags sealkit accepts but has no use for: flag -> why (one warning when one is given).
NO_USE = {
    "watch-for-secrets": "sealkit always watches key Secrets: new, restored and relabelled keys take effect at once",
}
DEPRECATED = {"rotate-period": "key-renew-period"}


def _env(flag: str) -> str:
    return "SEALED_SECRETS_" + flag.upper().replace("-", "_")


def bitnami_option(flag: str, *aliases: str, **kwargs: Any) -> Callable[[F], F]:
    """A Bitnami flag: `--flag`, env SEALED_SECRETS_FLAG, default shown."""
    return click.option(f"--{flag}", *aliases, envvar=_env(flag), show_default=True, show_envvar=True, **kwargs)


def bitnami_bool(flag: str, default: bool, help_text: str) -> Callable[[F], F]:
    return bitnami_option(flag, type=click.BOOL, is_flag=False, flag_value=True, default=default, help=help_text)


def _seconds(value: str, flag: str) -> float:
    from sealkit_controller import parse_duration

    return parse_duration(value, flag).total_seconds()


def _level(value: str) -> str:
    return "WARNING" if value.upper() == "WARN" else value.upper()


@click.command("controller")
@click.option(
    "--kubeconfig",
    default=None,
    envvar="KUBECONFIG",
    shell_complete=completers.files,
    help="Kubeconfig file (default: in-cluster service account, else $KUBECONFIG or ~/.kube/config).",
)
@click.option("--context", default=None, help="Kubeconfig context to use.", shell_complete=completers.contexts)
@click.option(
    "-n",
    "--namespace",
    default=None,
    help="The controller's own namespace, where key Secrets live (default: $POD_NAMESPACE, else the "
    "service account's, else kube-system).",
)
@bitnami_option("key-prefix", default="sealed-secrets-key", help="generateName of new key Secrets.")
@bitnami_option("key-size", type=int, default=4096, help="Size of new keys, in bits.")
@bitnami_option("key-ttl", default="87600h", help="Validity of new keys' certificates (Go duration).")
@bitnami_option("my-cn", default="", help="Common name of new keys' certificates.")
@bitnami_option(
    "key-renew-period",
    default="720h",
    help="Make a new key when the newest is this old (Go duration; 0 disables).",
)
@bitnami_option("rotate-period", default=None, help="Deprecated spelling of --key-renew-period (warns).")
@bitnami_option(
    "key-cutoff-time",
    default="",
    help="Make a new key if the newest predates this time (RFC 1123Z, e.g. 'Mon, 02 Jan 2006 15:04:05 -0700', "
    "or ISO 8601).",
)
@bitnami_option(
    "key-order-priority",
    type=click.Choice(["CertNotBefore", "SecretCreationTimestamp"]),
    default="CertNotBefore",
    help="What dates a key (which is newest; when renewal is due).",
)
@bitnami_option("privatekey-labels", default="", help="Extra labels on new key Secrets (k=v,k2=v2).")
@bitnami_option("privatekey-annotations", default="", help="Annotations on new key Secrets (k=v,k2=v2).")
@bitnami_bool(
    "watch-for-secrets", False, "Accepted with a warning: sealkit always watches key Secrets (new keys apply at once)."
)
@bitnami_bool("update-status", True, "Write SealedSecret status (conditions Synced and Ready).")
@bitnami_bool("skip-recreate", False, "Do not re-create a deleted Secret.")
@bitnami_option(
    "max-unseal-retries",
    type=int,
    default=5,
    help="Retries of a failing SealedSecret before giving up until it, its Secret or the keys change.",
)
@bitnami_bool("accept-deprecated-v1-data", True, "Unseal SealedSecrets in the deprecated spec.data format.")
@bitnami_bool(
    "old-gc-behavior", False, "Delete a SealedSecret's Secret when it is deleted (besides the ownerReference)."
)
@bitnami_bool("all-namespaces", True, "Watch all namespaces (false: own namespace plus --additional-namespaces).")
@bitnami_option("additional-namespaces", default="", help="Namespaces to watch besides the own one (a,b,c).")
@bitnami_option("label-selector", default="", help="Only SealedSecrets with these labels (a label selector).")
@bitnami_option(
    "namespace-selector",
    default="",
    help="Only namespaces with these labels (a label selector; sealkit's, needs list/watch namespaces).",
)
@bitnami_option("listen-addr", default=":8080", help="HTTP API address (healthz, cert, verify, rotate); '' = off.")
@bitnami_option("listen-metrics-addr", default=":8081", help="Prometheus metrics address (/metrics); '' = off.")
@bitnami_option("rate-limit", type=float, default=2.0, help="verify/rotate requests a second per client.")
@bitnami_option("rate-limit-burst", type=int, default=2, help="verify/rotate burst per client.")
@bitnami_option(
    "trusted-proxies",
    default="",
    help="Addresses or CIDRs (a,b) whose X-Forwarded-For names the client for the rate limit, e.g. the API "
    "server's address for requests through its service proxy; '' = none: the peer address counts (sealkit's).",
)
@bitnami_option("read-timeout", default="2m", help="Longest time to read an HTTP request body (Go duration).")
@bitnami_option("write-timeout", default="2m", help="Longest time to answer an HTTP request (Go duration).")
@bitnami_option(
    "kubeclient-qps",
    type=float,
    default=5.0,
    help="Client-side limit on the controller's API requests a second (not watches); negative: no limit.",
)
@bitnami_option("kubeclient-burst", type=int, default=10, help="Burst of --kubeclient-qps.")
@bitnami_bool(
    "metrics-omit-secret-labels",
    False,
    "Leave out condition_info, the one metric naming each SealedSecret (namespace and name labels).",
)
@bitnami_option(
    "escrow-vault",
    default="",
    help="Escrow sealing keys to this Azure Key Vault (its name, or an "
    "https:// URL) and restore them into an empty namespace; '' = off. See docs/disaster-recovery.md.",
)
@bitnami_option("escrow-cluster-name", default="", help="This cluster's name in escrowed keys' names and tags.")
@bitnami_option(
    "escrow-auth",
    type=click.Choice(AUTH_MODES),
    default="default",
    help="azure-identity credential for escrow (default: DefaultAzureCredential: workload identity in a pod).",
)
@bitnami_option(
    "escrow-accept-challenge-resource",
    default="",
    help="Token resources to accept from the vault although they do not match its host (a,b; "
    "private endpoints, custom domains).",
)
@bitnami_option("escrow-timeout", default="10s", help="Connect/read timeout of escrow requests (Go duration).")
@bitnami_bool(
    "leader-elect",
    False,
    "Leader election on a Lease in the controller's namespace: for more than one replica (all serve, the "
    "leader writes). See docs/high-availability.md.",
)
@bitnami_option("leader-elect-lease-name", default="sealed-secrets-controller", help="Name of the leader Lease.")
@bitnami_option(
    "leader-elect-lease-duration",
    default="15s",
    help="How long followers wait, after the leader's last renewal, before taking over (Go duration, whole seconds).",
)
@bitnami_option(
    "leader-elect-renew-deadline",
    default="10s",
    help="The leader stops writing when it has not renewed for this long (Go duration; below the lease duration).",
)
@bitnami_option(
    "leader-elect-retry-period", default="2s", help="Interval of renewals and of followers' attempts (Go duration)."
)
@bitnami_option(
    "kek-url",
    default="",
    help="Store every new sealing key wrapped by this Key Vault / Managed HSM key (its URL, with or without "
    "version), never in plaintext; '' = off. See docs/wrapped-keys.md.",
)
@bitnami_option(
    "kek-auth",
    type=click.Choice(AUTH_MODES),
    default="default",
    help="azure-identity credential for the KEK (default: DefaultAzureCredential: workload identity in a pod).",
)
@bitnami_option(
    "kek-accept-challenge-resource",
    default="",
    help="Token resources to accept from the KEK's vault although they do not match its host (a,b).",
)
@bitnami_option("kek-timeout", default="10s", help="Connect/read timeout of KEK requests (Go duration).")
@bitnami_option(
    "workers",
    type=int,
    default=None,
    help="SealedSecrets reconciled at once [default: 2 per CPU the container may use (affinity, cgroup cpu.max)].",
)
@bitnami_option(
    "threads",
    type=int,
    default=None,
    help="Threads for RSA work and API calls (cryptography releases the GIL: more cores, more unseals) "
    "[default: --workers + 4].",
)
@bitnami_option(
    "log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "WARN", "ERROR"], case_sensitive=False),
    default="INFO",
    help="Log level.",
)
@bitnami_option("log-format", type=click.Choice(["text", "json"]), default="text", help="Log format.")
@bitnami_bool("log-info-stdout", True, "Info lines to stdout, warnings and errors to stderr (false: all to stderr).")
@click.version_option(__version__, "--version", message="controller version: %(version)s", help="Print the version.")
@click.pass_context
def controller(
    ctx: click.Context, /, kubeconfig: str | None, context: str | None, namespace: str | None, **flags: Any
) -> None:
    """Run the in-cluster controller: SealedSecrets in, Secrets out (one replica, or several with --leader-elect).

    \b
    It serves Bitnami's CRD, key Secrets and flags unchanged: switch controllers without re-sealing.
    On a laptop: sealkit controller --kubeconfig ~/.kube/config --context dev -n sealed-secrets
    """
    import sealkit_controller as cfg

    f = flags
    warnings = _flag_warnings(ctx, f)
    workers = f["workers"] if f["workers"] is not None else cfg.default_workers()
    settings = cfg.Settings(
        kubeconfig=kubeconfig,
        context=context,
        namespace=namespace or cfg.default_namespace(),
        key_prefix=f["key_prefix"],
        key_size=f["key_size"],
        key_ttl=cfg.parse_duration(f["key_ttl"], "--key-ttl"),
        my_cn=f["my_cn"],
        key_renew_period=cfg.parse_duration(f["key_renew_period"], "--key-renew-period"),
        key_cutoff_time=cfg.parse_cutoff(f["key_cutoff_time"]),
        key_order_priority=f["key_order_priority"],
        private_key_labels=cfg.parse_map(f["privatekey_labels"], "--privatekey-labels"),
        private_key_annotations=cfg.parse_map(f["privatekey_annotations"], "--privatekey-annotations"),
        watch_for_secrets=f["watch_for_secrets"],
        update_status=f["update_status"],
        skip_recreate=f["skip_recreate"],
        max_unseal_retries=f["max_unseal_retries"],
        accept_deprecated_v1_data=f["accept_deprecated_v1_data"],
        old_gc_behavior=f["old_gc_behavior"],
        all_namespaces=f["all_namespaces"],
        additional_namespaces=cfg.parse_list(f["additional_namespaces"]),
        label_selector=f["label_selector"],
        namespace_selector=f["namespace_selector"],
        listen_addr=f["listen_addr"],
        listen_metrics_addr=f["listen_metrics_addr"],
        rate_limit=f["rate_limit"],
        rate_limit_burst=f["rate_limit_burst"],
        trusted_proxies=cfg.parse_list(f["trusted_proxies"]),
        read_timeout=cfg.parse_duration(f["read_timeout"], "--read-timeout"),
        write_timeout=cfg.parse_duration(f["write_timeout"], "--write-timeout"),
        kubeclient_qps=f["kubeclient_qps"],
        kubeclient_burst=f["kubeclient_burst"],
        metrics_omit_secret_labels=f["metrics_omit_secret_labels"],
        escrow_vault=f["escrow_vault"],
        escrow_cluster_name=f["escrow_cluster_name"],
        escrow_auth=f["escrow_auth"],
        escrow_accept_challenge_resources=cfg.parse_list(f["escrow_accept_challenge_resource"]),
        escrow_timeout=cfg.parse_duration(f["escrow_timeout"], "--escrow-timeout").total_seconds(),
        leader_elect=f["leader_elect"],
        leader_elect_lease_name=f["leader_elect_lease_name"],
        leader_elect_lease_duration=_seconds(f["leader_elect_lease_duration"], "--leader-elect-lease-duration"),
        leader_elect_renew_deadline=_seconds(f["leader_elect_renew_deadline"], "--leader-elect-renew-deadline"),
        leader_elect_retry_period=_seconds(f["leader_elect_retry_period"], "--leader-elect-retry-period"),
        kek_url=f["kek_url"],
        kek_auth=f["kek_auth"],
        kek_accept_challenge_resources=cfg.parse_list(f["kek_accept_challenge_resource"]),
        kek_timeout=cfg.parse_duration(f["kek_timeout"], "--kek-timeout").total_seconds(),
        workers=workers,
        threads=f["threads"] if f["threads"] is not None else workers + 4,
        log_level=_level(f["log_level"]),
        log_format=f["log_format"],
        log_info_stdout=f["log_info_stdout"],
    ).validate()
    cfg.configure_logging(settings)
    for warning in warnings:
        logger.warning("%s", warning)
    cfg.run(settings)


def _given(ctx: click.Context, param: str) -> bool:
    """Set on the command line or from its SEALED_SECRETS_ variable (not left at its default)."""
    source = ctx.get_parameter_source(param)
    return source in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)


def _flag_warnings(ctx: click.Context, flags: dict[str, Any]) -> list[str]:
    """One line per deprecated or unused Bitnami flag given; a deprecated spelling's value is taken."""
    warnings = []
    for old, new in DEPRECATED.items():
        old_param, new_param = old.replace("-", "_"), new.replace("-", "_")
        if flags[old_param] is not None:
            warnings.append(f"flag --{old} has been deprecated, please use --{new} instead")
            if not _given(ctx, new_param):
                flags[new_param] = flags[old_param]
    for flag, why in NO_USE.items():
        if _given(ctx, flag.replace("-", "_")):
            warnings.append(f"--{flag} has no effect: {why}")
    return warnings
