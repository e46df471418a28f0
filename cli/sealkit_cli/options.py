"""Options shared by several commands, spelled as kubeseal and kubectl spell them: files and formats,
the cluster (`--kubeconfig`, `--context`, `--controller-name/-namespace`) and Key Vault access.

The one module for shared click options; the values they collect go to the clients
(`sealkit.clients.kube`, `sealkit.clients.keyvault`) as plain data. Importing it stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from sealkit.bitnami import DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE
from sealkit.clients.keyvault.credentials import AUTH_MODES, AuthOptions
from sealkit.clients.kube.config import ClusterOptions

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = click.Choice(["yaml", "json"])


def input_file(help_text: str, *aliases: str) -> Callable[[F], F]:
    return click.option("-f", "--file", *aliases, "input_path", default="-", show_default=True, help=help_text)


def output_file(help_text: str, *aliases: str) -> Callable[[F], F]:
    return click.option("-w", "--output-file", *aliases, "output_path", default=None, help=help_text)


def output_format(func: F) -> F:
    return click.option(
        "-o",
        "--format",
        "fmt",
        type=FORMATS,
        default=None,
        help="Output format (default: from the -w file's extension, else yaml).",
    )(func)


def namespace(help_text: str) -> Callable[[F], F]:
    return click.option("-n", "--namespace", default=None, help=help_text)


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


def cluster_from(kwargs: dict[str, Any]) -> ClusterOptions:
    """The `cluster_options` values as the Kubernetes client takes them."""
    return ClusterOptions(
        kwargs["kubeconfig"], kwargs["context"], kwargs["controller_name"], kwargs["controller_namespace"]
    )


def vault_options(command: Any) -> Any:
    """Key Vault options (`csi verify`/`discover`, `keys`): where the vaults are and how to authenticate."""
    options = [
        click.option(
            "--vault-url",
            "vault_urls",
            multiple=True,
            metavar="VAULT=URL",
            help="Reach this vault at URL (private endpoint, other cloud, local test vault); repeatable. "
            "Also $SEALKIT_VAULT_URL_<VAULT> (upper case, dashes as underscores).",
        ),
        click.option(
            "--accept-challenge-resource",
            "accepted",
            multiple=True,
            envvar="SEALKIT_VAULT_CHALLENGE_RESOURCE",
            metavar="URL",
            help="Accept this token resource in the vault's challenge although it does not match the URL's host "
            "(e.g. https://vault.azure.net behind a private DNS name); tokens go to no other resource.",
        ),
        click.option(
            "--auth",
            type=click.Choice(AUTH_MODES),
            default="default",
            envvar="SEALKIT_AZURE_AUTH",
            show_default=True,
            help="Credential: DefaultAzureCredential, or one of its parts explicitly.",
        ),
        click.option("--tenant-id", default=None, help="Tenant (default: $AZURE_TENANT_ID, else the spec's)."),
        click.option("--client-id", default=None, help="App/identity client id (default: $AZURE_CLIENT_ID)."),
        click.option(
            "--federated-token-file",
            default=None,
            help="Workload identity token file (default: $AZURE_FEDERATED_TOKEN_FILE).",
        ),
        click.option(
            "--disable-instance-discovery",
            is_flag=True,
            envvar="SEALKIT_AZURE_DISABLE_INSTANCE_DISCOVERY",
            help="MSAL credentials (client secret): trust the authority host without asking "
            "login.microsoftonline.com (Azure Stack, private or test authorities).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(0.1, 300),
            default=10.0,
            show_default=True,
            help="Seconds to wait for a connection or a response.",
        ),
        click.option(
            "--max-retry-wait",
            type=click.FloatRange(0, 300),
            default=10.0,
            show_default=True,
            help="Honour a throttled vault's Retry-After up to this many seconds (3 retries at most).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def auth_from_options(kwargs: dict[str, Any]) -> AuthOptions:
    """The Key Vault credential options `vault_options` collected."""
    from sealkit.vault.urls import check_resource

    return AuthOptions(
        mode=kwargs["auth"],
        tenant_id=kwargs["tenant_id"],
        client_id=kwargs["client_id"],
        federated_token_file=kwargs["federated_token_file"],
        disable_instance_discovery=kwargs["disable_instance_discovery"],
        timeout=kwargs["timeout"],
        accepted_resources=tuple(check_resource(r) for r in kwargs["accepted"]),
    )
