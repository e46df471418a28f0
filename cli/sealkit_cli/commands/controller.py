"""`sealkit controller`: the in-cluster controller (Kopf), a drop-in for Bitnami's.

Flags keep Bitnami's names, values and defaults, each also read from `SEALED_SECRETS_<FLAG>`; boolean flags
take Go's forms (`--update-status=false`, or the bare flag for true). Kopf and the Kubernetes client are
imported only when the command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _env(flag: str) -> str:
    return "SEALED_SECRETS_" + flag.upper().replace("-", "_")


def bitnami_option(flag: str, *aliases: str, **kwargs: Any) -> Callable[[F], F]:
    """A Bitnami flag: `--flag`, env SEALED_SECRETS_FLAG, default shown."""
    return click.option(f"--{flag}", *aliases, envvar=_env(flag), show_default=True, show_envvar=True, **kwargs)


def bitnami_bool(flag: str, default: bool, help_text: str) -> Callable[[F], F]:
    return bitnami_option(flag, type=click.BOOL, is_flag=False, flag_value=True, default=default, help=help_text)


@click.command("controller")
@click.option("--kubeconfig", default=None, envvar="KUBECONFIG",
              help="Kubeconfig file (default: in-cluster service account, else $KUBECONFIG or ~/.kube/config).")
@click.option("--context", default=None, help="Kubeconfig context to use.")
@click.option("-n", "--namespace", default=None,
              help="The controller's own namespace, where key Secrets live (default: $POD_NAMESPACE, else the "
                   "service account's, else kube-system).")
@bitnami_option("key-prefix", default="sealed-secrets-key", help="generateName of new key Secrets.")
@bitnami_option("key-size", type=int, default=4096, help="Size of new keys, in bits.")
@bitnami_option("key-ttl", default="87600h", help="Validity of new keys' certificates (Go duration).")
@bitnami_option("my-cn", default="", help="Common name of new keys' certificates.")
@bitnami_option("key-renew-period", "--rotate-period", default="720h",
                help="Make a new key when the newest is this old (Go duration; 0 disables).")
@bitnami_option("key-cutoff-time", default="",
                help="Make a new key if the newest predates this time (RFC 1123Z, e.g. 'Mon, 02 Jan 2006 "
                     "15:04:05 -0700').")
@bitnami_option("privatekey-labels", default="", help="Extra labels on new key Secrets (k=v,k2=v2).")
@bitnami_option("privatekey-annotations", default="", help="Annotations on new key Secrets (k=v,k2=v2).")
@bitnami_bool("update-status", True, "Write SealedSecret status (conditions Synced and Ready).")
@bitnami_bool("skip-recreate", False, "Do not re-create a deleted Secret.")
@bitnami_option("max-unseal-retries", type=int, default=5, help="Retries of a failing SealedSecret before giving "
                "up until it, its Secret or the keys change.")
@bitnami_bool("all-namespaces", True, "Watch all namespaces (false: own namespace plus --additional-namespaces).")
@bitnami_option("additional-namespaces", default="", help="Namespaces to watch besides the own one (a,b,c).")
@bitnami_option("log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "WARN", "ERROR"], case_sensitive=False),
                default="INFO", help="Log level.")
@bitnami_option("log-format", type=click.Choice(["text", "json"]), default="text", help="Log format.")
def controller(
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    key_prefix: str,
    key_size: int,
    key_ttl: str,
    my_cn: str,
    key_renew_period: str,
    key_cutoff_time: str,
    privatekey_labels: str,
    privatekey_annotations: str,
    update_status: bool,
    skip_recreate: bool,
    max_unseal_retries: int,
    all_namespaces: bool,
    additional_namespaces: str,
    log_level: str,
    log_format: str,
) -> None:
    """Run the in-cluster controller: SealedSecrets in, Secrets out (single replica).

    \b
    It serves Bitnami's CRD, key Secrets and flags unchanged: switch controllers without re-sealing.
    On a laptop: sealkit controller --kubeconfig ~/.kube/config --context dev -n sealed-secrets
    """
    from sealkit_controller import settings as cfg

    settings = cfg.Settings(
        kubeconfig=kubeconfig,
        context=context,
        namespace=namespace or cfg.default_namespace(),
        key_prefix=key_prefix,
        key_size=key_size,
        key_ttl=cfg.parse_duration(key_ttl, "--key-ttl"),
        my_cn=my_cn,
        key_renew_period=cfg.parse_duration(key_renew_period, "--key-renew-period"),
        key_cutoff_time=cfg.parse_cutoff(key_cutoff_time),
        private_key_labels=cfg.parse_map(privatekey_labels, "--privatekey-labels"),
        private_key_annotations=cfg.parse_map(privatekey_annotations, "--privatekey-annotations"),
        update_status=update_status,
        skip_recreate=skip_recreate,
        max_unseal_retries=max_unseal_retries,
        all_namespaces=all_namespaces,
        additional_namespaces=cfg.parse_list(additional_namespaces),
        log_level="WARNING" if log_level.upper() == "WARN" else log_level.upper(),
        log_format=log_format,
    ).validate()

    from sealkit_controller import runner

    runner.configure_logging(settings)
    runner.run(settings)
