"""Every option shared by several commands, defined once: one canonical name per option, with the other
spellings it answers to (kubeseal's and kubectl's), so a kubeseal user's flags work on every command.

The one module for shared click options. `SPECS` holds each option's spellings, help and type; `option()`
turns one into a click option for a command (optionally read from kubeseal's `SEALED_SECRETS_<FLAG>`
variable), `cluster_options` adds kubectl's client flags and kubeseal's controller flags and hands the
command one `ClusterOptions`. Options naming files complete file names in the shell (`completers`), `--context`/
`--cluster`/`--user` the kubeconfig's names, `--env` the spec's environments, choices their values.
`vault_options` (Key Vault) and `hashicorp_vault_options` (HashiCorp Vault) collect what the vault
clients take. Importing it stays cheap: no Kubernetes, Azure or hvac package.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast, overload

import click

from sealkit.bitnami import DEFAULT_CONTROLLER_NAME, DEFAULT_CONTROLLER_NAMESPACE
from sealkit.scope import Scope
from sealkit_cli import completers

if TYPE_CHECKING:
    from sealkit.clients.keyvault.credentials import AuthOptions
    from sealkit.clients.kube.config import ClusterOptions
    from sealkit.clients.vault.auth import VaultAuth

F = TypeVar("F", bound=Callable[..., Any])

ENV_PREFIX = "SEALED_SECRETS_"
FORMATS = click.Choice(["yaml", "json"], case_sensitive=False)
SCOPES = click.Choice([s.value for s in Scope])


def kubeseal_env(flag: str) -> str:
    """kubeseal's variable for a flag: --controller-namespace -> SEALED_SECRETS_CONTROLLER_NAMESPACE."""
    return ENV_PREFIX + flag.lstrip("-").upper().replace("-", "_")


class CommaList(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.5
    """pflag's string slice: a value may hold several, comma-separated (CSV quoting keeps a comma)."""

    name = "LIST"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple | list):
            return tuple(value)
        import csv  # here: only a value given with this type needs it

        try:
            row = next(csv.reader([str(value)]), [])
        except csv.Error:
            self.fail(f"{value!r} is not a comma-separated list", param, ctx)
        return tuple(item for item in row if item)

    def split_envvar_value(self, rv: str) -> list[str]:
        return [rv]  # commas split it, not whitespace (paths may hold spaces)


def flatten(values: Iterable[Any]) -> tuple[str, ...]:
    """The items of a repeatable CommaList option: (("a", "b"), ("c",)) -> ("a", "b", "c")."""
    out: list[str] = []
    for value in values or ():
        out.extend(value if isinstance(value, tuple | list) else [value])
    return tuple(out)


def go_bool(**kwargs: Any) -> dict[str, Any]:
    """A boolean flag as Go's pflag takes it: `--flag` (true), `--flag=true`, `--flag=false`."""
    return {"type": click.BOOL, "is_flag": False, "flag_value": True, "default": False, "metavar": "[=BOOL]", **kwargs}


class Spec(NamedTuple):
    """One option: its spellings (canonical long name first among the long ones), and click's settings.

    `kubeseal` is the long name kubeseal (or kubectl's client flags in kubeseal) uses, which names its
    SEALED_SECRETS_ variable; None when kubeseal has no such flag. (A named tuple, not a dataclass: every
    command's start defines it, and a dataclass costs more to define.)
    """

    dest: str
    names: tuple[str, ...]
    help: str
    kubeseal: str | None
    settings: dict[str, Any]


def _spec(dest: str, names: tuple[str, ...], help_text: str, kubeseal: str | None = None, **settings: Any) -> Spec:
    return Spec(dest, names, help_text, kubeseal, settings)


SPECS: dict[str, Spec] = {
    spec.dest: spec
    for spec in (
        # Files and formats.
        _spec(
            "input_path",
            ("-f", "--file", "--secret-file"),
            "Input file; - for stdin.",
            "--secret-file",
            default="-",
            shell_complete=completers.files,
        ),
        _spec(
            "output_path",
            ("-w", "--output-file", "--sealed-secret-file"),
            "Write here (atomically, only on success) instead of stdout.",
            "--sealed-secret-file",
            shell_complete=completers.files,
        ),
        _spec("fmt", ("-o", "--format"), "Output format: yaml or json.", "--format", type=FORMATS),
        # Sealing.
        _spec(
            "cert",
            ("--cert",),
            "The sealing certificate: a PEM file or http(s) URL (default: fetched from the controller).",
            "--cert",
            shell_complete=completers.files,
        ),
        _spec(
            "scope",
            ("--scope",),
            "strict (name and namespace), namespace-wide or cluster-wide (default: the Secret's annotations).",
            "--scope",
            type=SCOPES,
        ),
        _spec("name", ("--name",), "Name of the SealedSecret.", "--name"),
        _spec("namespace", ("-n", "--namespace"), "Namespace.", "--namespace"),
        _spec(
            "allow_empty_data",
            ("--allow-empty-data",),
            "Seal a Secret with no data.",
            "--allow-empty-data",
            **go_bool(),
        ),
        _spec(
            "raw",
            ("--raw",),
            "Seal one value (from --from-file or stdin) and print bare base64.",
            "--raw",
            **go_bool(),
        ),
        _spec(
            "from_file",
            ("--from-file",),
            "With --raw: the file holding the value, kubectl's [key=]path (only the path is used; one file).",
            "--from-file",
            type=CommaList(),
            multiple=True,
            metavar="[KEY=]PATH",
            shell_complete=completers.files,
        ),
        # Environments of the spec (`seal --env`, `set`, `reencrypt --env`, `certs pull`, `csi ...`).
        _spec(
            "spec_file",
            ("--spec",),
            "The environments' spec (default: $SEALKIT_CSI_SPEC, else sealkit-csi.yaml in the current directory).",
            metavar="PATH",
            shell_complete=completers.files,
        ),
        _spec(
            "envs",
            ("--env",),
            "An environment of the spec (repeatable).",
            multiple=True,
            metavar="NAME",
            shell_complete=completers.environments,
        ),
        _spec("all_envs", ("--all-envs",), "Every environment of the spec.", is_flag=True),
        _spec(
            "merge_into",
            ("--merge-into",),
            "Add/replace the Secret's items in this SealedSecret file in place, keeping its name, namespace, "
            "scope and layout.",
            "--merge-into",
            shell_complete=completers.files,
        ),
        # Keys.
        _spec(
            "private_keys",
            ("--private-key", "--recovery-private-key"),
            "Private key file: PEM (PKCS#1/PKCS#8), a key Secret backup, or a v1 List of them. Repeatable or "
            "comma-separated.",
            "--recovery-private-key",
            type=CommaList(),
            multiple=True,
            shell_complete=completers.files,
        ),
        # kubeseal's modes (`sealkit kubeseal`; sealkit's own commands are `cert`, `verify`, `reencrypt`, `unseal`).
        _spec("fetch_cert", ("--fetch-cert",), "Write the certificate to stdout (or -w).", "--fetch-cert", **go_bool()),
        _spec(
            "validate",
            ("--validate",),
            "Ask the controller whether the sealed secret(s) can be decrypted.",
            "--validate",
            **go_bool(),
        ),
        _spec(
            "re_encrypt",
            ("--re-encrypt",),
            "Re-encrypt the sealed secret(s) with the cluster's newest key (via the controller); with only -f, "
            "the file is rewritten in place.",
            "--re-encrypt",
            **go_bool(),
        ),
        _spec("rotate", ("--rotate",), "Deprecated: --re-encrypt.", "--rotate", **go_bool()),
        _spec(
            "recovery_unseal",
            ("--recovery-unseal",),
            "Decrypt sealed secret(s) from -f or stdin with --recovery-private-key (disaster recovery; prints "
            "the plaintext Secret).",
            "--recovery-unseal",
            **go_bool(),
        ),
    )
}


def option(
    dest: str,
    *,
    env: bool = False,
    help: str | None = None,
    exclude: tuple[str, ...] = (),
    **settings: Any,
) -> Callable[[F], F]:
    """The click option `SPECS[dest]` describes; `env` also reads kubeseal's SEALED_SECRETS_<FLAG>.

    `exclude` drops spellings a command cannot take (`sealkit unseal` keeps its old --sealed-secret-file).
    """
    spec = SPECS[dest]
    merged = {**spec.settings, **settings}
    if env and spec.kubeseal:
        merged.setdefault("envvar", kubeseal_env(spec.kubeseal))
        merged.setdefault("show_envvar", True)
    names = [name for name in spec.names if name not in exclude]
    return click.option(*names, dest, help=help or spec.help, **merged)


# kubectl's client flags (clientcmd.RecommendedConfigOverrideFlags, as kubeseal binds them), then
# kubeseal's controller flags. Every cluster-facing command takes all of them.
CLUSTER_SPECS: tuple[Spec, ...] = (
    _spec(
        "kubeconfig", ("--kubeconfig",), "Path to the kubeconfig file.", "--kubeconfig", shell_complete=completers.files
    ),
    _spec(
        "context",
        ("--context",),
        "The name of the kubeconfig context to use.",
        "--context",
        shell_complete=completers.contexts,
    ),
    _spec(
        "cluster",
        ("--cluster",),
        "The name of the kubeconfig cluster to use.",
        "--cluster",
        shell_complete=completers.clusters,
    ),
    _spec("user", ("--user",), "The name of the kubeconfig user to use.", "--user", shell_complete=completers.users),
    _spec("server", ("-s", "--server"), "The address and port of the Kubernetes API server.", "--server"),
    _spec("token", ("--token",), "Bearer token for authentication to the API server.", "--token"),
    _spec("as_user", ("--as",), "Username to impersonate for the operation.", "--as"),
    _spec(
        "as_groups",
        ("--as-group",),
        "Group to impersonate for the operation; repeatable.",
        "--as-group",
        multiple=True,
    ),
    _spec("as_uid", ("--as-uid",), "UID to impersonate for the operation.", "--as-uid"),
    _spec("username", ("--username",), "Username for basic authentication to the API server.", "--username"),
    _spec("password", ("--password",), "Password for basic authentication to the API server.", "--password"),
    _spec(
        "certificate_authority",
        ("--certificate-authority",),
        "Path to a cert file for the certificate authority.",
        "--certificate-authority",
        shell_complete=completers.files,
    ),
    _spec(
        "client_certificate",
        ("--client-certificate",),
        "Path to a client certificate file for TLS.",
        "--client-certificate",
        shell_complete=completers.files,
    ),
    _spec(
        "client_key",
        ("--client-key",),
        "Path to a client key file for TLS.",
        "--client-key",
        shell_complete=completers.files,
    ),
    _spec(
        "insecure_skip_tls_verify",
        ("--insecure-skip-tls-verify",),
        "Do not check the server's certificate (insecure).",
        "--insecure-skip-tls-verify",
        **go_bool(),
    ),
    _spec(
        "tls_server_name",
        ("--tls-server-name",),
        "Server name to validate the server's certificate against (default: the server's host name).",
        "--tls-server-name",
    ),
    _spec("proxy_url", ("--proxy-url",), "Reach the API server through this proxy URL.", "--proxy-url"),
    _spec(
        "disable_compression",
        ("--disable-compression",),
        "Accepted for kubectl compatibility: sealkit never asks for compressed responses.",
        "--disable-compression",
        **go_bool(),
    ),
    _spec(
        "request_timeout",
        ("--request-timeout",),
        "Give up on a single API request after this long (1s, 2m, 3h; 0 = never). Default: 30s (kubeseal "
        "waits forever).",
        "--request-timeout",
    ),
    _spec(
        "controller_name",
        ("--controller-name",),
        "Name of the controller's Service.",
        "--controller-name",
        default=DEFAULT_CONTROLLER_NAME,
        show_default=True,
    ),
    _spec(
        "controller_namespace",
        ("--controller-namespace",),
        "Namespace of the controller's Service.",
        "--controller-namespace",
        default=DEFAULT_CONTROLLER_NAMESPACE,
        show_default=True,
    ),
)
CLUSTER_DESTS = tuple(spec.dest for spec in CLUSTER_SPECS)
# sealkit's own commands read only these of kubeseal's variables (plus KUBECONFIG, as kubectl does).
_ALWAYS_FROM_ENV = {"controller_name", "controller_namespace"}
# The cluster flags `cluster_from` takes as they are (the rest it checks).
_NEVER_REFUSED = {"kubeconfig", "context", "controller_name", "controller_namespace"}


def _cluster_option(spec: Spec, env: bool) -> Callable[[F], F]:
    settings = dict(spec.settings)
    if spec.dest == "kubeconfig":
        settings["envvar"] = [kubeseal_env("kubeconfig"), "KUBECONFIG"] if env else "KUBECONFIG"
    elif spec.kubeseal and (env or spec.dest in _ALWAYS_FROM_ENV):
        settings["envvar"] = kubeseal_env(spec.kubeseal)
    if env and "envvar" in settings:
        settings["show_envvar"] = True
    return click.option(*spec.names, spec.dest, help=spec.help, **settings)


@overload
def cluster_options(func: F) -> F: ...


@overload
def cluster_options(func: None = None, *, env: bool = False, lazy: bool = False) -> Callable[[F], F]: ...


def cluster_options(func: F | None = None, *, env: bool = False, lazy: bool = False) -> F | Callable[[F], F]:
    """Add kubectl's client flags and --controller-name/--controller-namespace; the command gets `cluster`.

    With `env`, every flag is also read from kubeseal's SEALED_SECRETS_<FLAG> (the flag wins). With `lazy`,
    `cluster` is a function returning the `ClusterOptions`, built when first asked for (a command that may
    not reach the cluster, such as `seal --cert`, then starts without the Kubernetes client's modules); it
    is built at once when a client flag that can be refused is given, so a bad flag fails as early.
    """

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not lazy:
                return command(*args, cluster=cluster_from(kwargs), **kwargs)
            values = {dest: kwargs.pop(dest, None) for dest in CLUSTER_DESTS}
            build = functools.cache(lambda: cluster_from(dict(values)))
            if any(values[dest] for dest in CLUSTER_DESTS if dest not in _NEVER_REFUSED):
                build()
            return command(*args, cluster=build, **kwargs)

        for spec in reversed(CLUSTER_SPECS):
            wrapper = _cluster_option(spec, env)(wrapper)
        return cast(F, wrapper)

    return decorate(func) if func is not None else decorate


def cluster_from(kwargs: dict[str, Any], namespace: str | None = None) -> ClusterOptions:
    """Take the `cluster_options` values out of `kwargs`, as the Kubernetes client takes them."""
    from sealkit.clients.kube.config import ClusterOptions
    from sealkit.clients.kube.overrides import ClientOverrides

    values = {dest: kwargs.pop(dest, None) for dest in CLUSTER_DESTS}
    timeout = values["request_timeout"]
    overrides = ClientOverrides(
        namespace=strip_namespace_prefix(namespace),
        cluster=values["cluster"],
        user=values["user"],
        server=values["server"],
        token=values["token"],
        impersonate=values["as_user"],
        impersonate_groups=tuple(values["as_groups"] or ()),
        impersonate_uid=values["as_uid"],
        username=values["username"],
        password=values["password"],
        certificate_authority=values["certificate_authority"],
        client_certificate=values["client_certificate"],
        client_key=values["client_key"],
        insecure_skip_tls_verify=bool(values["insecure_skip_tls_verify"]),
        tls_server_name=values["tls_server_name"],
        proxy_url=values["proxy_url"],
        request_timeout=_timeout(timeout) if timeout else None,
    ).check()
    return ClusterOptions(
        values["kubeconfig"] or None,
        values["context"] or None,
        values["controller_name"] or DEFAULT_CONTROLLER_NAME,
        values["controller_namespace"] or DEFAULT_CONTROLLER_NAMESPACE,
        overrides,
    )


def _timeout(text: str) -> float:
    from sealkit.durations import parse_timeout  # here: its pattern costs start-up time when unused

    return parse_timeout(text)


def with_namespace(cluster: ClusterOptions, namespace: str | None) -> ClusterOptions:
    """`cluster` with -n as kubectl's namespace override (clientcmd strips a "namespaces/" prefix)."""
    if not namespace:
        return cluster
    import dataclasses  # here: `sealkit seal --cert` starts without the module

    overrides = dataclasses.replace(cluster.overrides, namespace=strip_namespace_prefix(namespace))
    return dataclasses.replace(cluster, overrides=overrides)


def strip_namespace_prefix(namespace: str | None) -> str | None:
    """clientcmd's RemoveNamespacesPrefix: "namespaces/x", "namespace/x" and "ns/x" all mean x."""
    if not namespace:
        return None
    for prefix in ("namespaces/", "namespace/", "ns/"):
        if namespace.startswith(prefix):
            return namespace[len(prefix) :]
    return namespace


def warn(message: str) -> None:
    """One warning line on stderr (`warning: ...`), as kubeseal prints its own."""
    click.echo(f"warning: {message}", err=True)


def vault_options(command: Any) -> Any:
    """Key Vault options (`csi verify`/`discover`, `keys`): where the vaults are and how to authenticate."""
    from sealkit.clients.keyvault.credentials import AUTH_MODES

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
        click.option(
            "--tenant-id", default=None, help="Tenant (default: $AZURE_TENANT_ID; csi verify: else the spec's)."
        ),
        click.option("--client-id", default=None, help="App/identity client id (default: $AZURE_CLIENT_ID)."),
        click.option(
            "--federated-token-file",
            default=None,
            help="Workload identity token file (default: $AZURE_FEDERATED_TOKEN_FILE).",
            shell_complete=completers.files,
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
    for option_ in reversed(options):
        command = option_(command)
    return command


def auth_from_options(kwargs: dict[str, Any]) -> AuthOptions:
    """The Key Vault credential options `vault_options` collected."""
    from sealkit.clients.keyvault.credentials import AuthOptions
    from sealkit.vault.urls import check_resource

    return AuthOptions(
        mode=kwargs["auth"],
        tenant_id=kwargs["tenant_id"],
        client_id=kwargs["client_id"],
        federated_token_file=kwargs["federated_token_file"],
        disable_instance_discovery=kwargs["disable_instance_discovery"],
        timeout=kwargs["timeout"],
        accepted_resources=tuple(check_resource(r) for r in kwargs["accepted"]),
        mode_flag="--auth",
        identity_flags=("--tenant-id", "--client-id", "--federated-token-file"),
    )


def hashicorp_vault_options(command: Any) -> Any:
    """HashiCorp Vault options (`csi verify`): how to log in and how to reach the Vaults the spec names."""
    from sealkit.clients.vault.auth import AUTH_MODES as VAULT_AUTH_MODES
    from sealkit.clients.vault.auth import DEFAULT_JWT_FILE

    options = [
        click.option(
            "--vault-auth",
            "vault_auth",
            type=click.Choice(VAULT_AUTH_MODES),
            default="token",
            envvar="SEALKIT_VAULT_AUTH",
            show_default=True,
            help="HashiCorp Vault login: a token (--vault-token-file, else $VAULT_TOKEN, else ~/.vault-token), or "
            "Kubernetes auth with a service-account token (--vault-jwt-file) and the spec's role.",
        ),
        click.option(
            "--vault-token-file",
            envvar="SEALKIT_VAULT_TOKEN_FILE",
            default=None,
            metavar="PATH",
            help="Read the Vault token from this file (never give a token as a flag).",
        ),
        click.option(
            "--vault-jwt-file",
            envvar="SEALKIT_VAULT_JWT_FILE",
            default=DEFAULT_JWT_FILE,
            show_default=True,
            metavar="PATH",
            help="--vault-auth kubernetes: the service-account token to log in with.",
        ),
        click.option(
            "--vault-role",
            envvar="SEALKIT_VAULT_ROLE",
            default=None,
            help="--vault-auth kubernetes: log in with this role instead of each application's role in the spec.",
        ),
        click.option(
            "--vault-cacert",
            envvar="VAULT_CACERT",
            default=None,
            metavar="PATH",
            help="PEM bundle to verify Vault's TLS certificate (default: the system's; also $VAULT_CACERT).",
        ),
        click.option(
            "--vault-address",
            "vault_addresses",
            multiple=True,
            metavar="ADDRESS=URL",
            help="Reach the Vault the spec calls ADDRESS at URL instead (port-forward, other DNS name); repeatable.",
        ),
    ]
    for option_ in reversed(options):
        command = option_(command)
    return command


def vault_auth_from_options(kwargs: dict[str, Any]) -> VaultAuth:
    """The HashiCorp Vault options `hashicorp_vault_options` collected (and the shared --timeout)."""
    from sealkit.clients.vault.auth import VaultAuth
    from sealkit.errors import InputError, shown_url

    addresses = []
    for item in kwargs["vault_addresses"]:
        spec_address, sep, url = item.partition("=")
        if not sep or not spec_address or not url.startswith(("https://", "http://")):
            parts = (spec_address, url) if sep else (item,)
            shown = "=".join(shown_url(part) if "://" in part else part for part in parts)  # no user:password
            raise InputError(
                "give ADDRESS=URL, e.g. https://vault.prod:8200=https://127.0.0.1:8200",
                where=f"--vault-address {shown!r}",
            )
        addresses.append((spec_address.rstrip("/"), url.rstrip("/")))
    return VaultAuth(
        mode=kwargs["vault_auth"],
        token_file=kwargs["vault_token_file"],
        jwt_file=kwargs["vault_jwt_file"],
        role=kwargs["vault_role"],
        ca_cert=kwargs["vault_cacert"],
        timeout=kwargs["timeout"],
        addresses=tuple(addresses),
    )


def kek_client(kwargs: dict[str, Any], kek_url: str | None) -> Any:
    """A `VaultKek` for `kek_url` (None: unwrap only, with the versions wrapped keys record), authenticated
    as the `vault_options` say. azure-identity and the Key Vault SDK load here, on first use only."""
    from sealkit.clients.keyvault.credentials import make_credential, quiet_azure_logging
    from sealkit.clients.keyvault.kek import VaultKek
    from sealkit.retry import RetryPolicy

    quiet_azure_logging()
    auth = auth_from_options(kwargs)
    return VaultKek(
        kek_url,
        make_credential(auth),
        timeout=auth.timeout,
        verify_challenge_resource=not auth.accepted_resources,
        retry=RetryPolicy(attempts=4, max_wait=kwargs["max_retry_wait"]),
    )
