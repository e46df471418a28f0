"""`sealkit csi`: SecretProviderClasses and workload wiring generated from one spec per config repo."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from sealkit.errors import EXIT_CHECK_FAILED, EXIT_USAGE, InputError, SealkitError
from sealkit_cli import completers
from sealkit_cli.options import (
    auth_from_options,
    hashicorp_vault_options,
    vault_auth_from_options,
    vault_options,
)

if TYPE_CHECKING:
    import datetime as dt

    from sealkit.clients.keyvault.reader import VaultReader
    from sealkit.csi import vaultcheck, vaultrun
    from sealkit.csi.hashicorp import check as hv_check
    from sealkit.csi.model import Spec

SPEC_HELP = "The spec file (default: $SEALKIT_CSI_SPEC, else sealkit-csi.yaml in the current directory)."
CLIENT_ID_VARS = ("SEALKIT_CSI_CLIENT_ID", "AZURE_CLIENT_ID")
CLIENT_SECRET_VARS = ("SEALKIT_CSI_CLIENT_SECRET", "AZURE_CLIENT_SECRET")


def _fail(lines: list[str], status: int = EXIT_CHECK_FAILED) -> NoReturn:
    """Each problem as an `error: ...` line; exit 1 for a failed check, 2 for bad input."""
    for line in lines:
        click.echo(f"error: {line}", err=True)
    sys.exit(status)


class _CsiGroup(click.Group):
    """Turns sealkit errors into `error: ...` lines and exit 2 (one line per spec problem)."""

    def invoke(self, ctx: click.Context) -> Any:
        from sealkit.csi.spec import SpecError

        try:
            return super().invoke(ctx)
        except SpecError as exc:
            _fail(exc.lines, EXIT_USAGE)
        except SealkitError as exc:
            _fail([str(exc)], EXIT_USAGE)


def _spec_path(spec: str | None) -> Path:
    return Path(spec or os.environ.get("SEALKIT_CSI_SPEC") or "sealkit-csi.yaml")


@click.group("csi", cls=_CsiGroup)
def csi() -> None:
    """Secrets Store CSI (Azure Key Vault, HashiCorp Vault): SecretProviderClasses and wiring from one spec.

    \b
    sealkit csi generate                 # write clusters/<env>/... overlays
    sealkit csi generate --check         # CI: fail with a diff when they are stale
    sealkit csi seal-creds --env prod    # seal service-principal credentials
    sealkit csi verify [--pin]           # check every object in the vaults (and pin Key Vault versions)
    sealkit csi discover --vault NAME    # list a vault, print a spec fragment
    """


@csi.command("generate")
@click.option("--spec", "spec_file", default=None, help=SPEC_HELP, shell_complete=completers.files)
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="NAME",
    help="Only this environment (repeatable; default: all).",
    shell_complete=completers.environments,
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 with a diff when committed output is stale.")
def generate(spec_file: str | None, envs: tuple[str, ...], check: bool) -> None:
    """Write one kustomize overlay per environment: classes, patches, service accounts."""
    from sealkit.csi import generate as gen
    from sealkit.csi.spec import load_spec

    path = _spec_path(spec_file)
    plan = gen.plan(load_spec(path), envs or None)
    if check:
        result = gen.check(plan)
        for diff in result.diffs:
            click.echo(diff, nl=False)
        lines = [f"{rel} is generated but the spec no longer produces it" for rel in result.stale]
        lines += result.credential_problems
        lines += [f"{why}: {rel}" for rel, why in result.foreign]
        if result.diffs:
            lines.append(f"{len(result.diffs)} generated file(s) are stale: run `sealkit csi generate --spec {path}`")
        if lines:
            _fail(lines)
        click.echo(f"up to date: {len(plan.files)} generated files, {len(plan.credentials)} sealed credentials")
        return
    written = gen.write(plan)
    click.echo(
        f"wrote {len(written.written)} file(s), {len(written.unchanged)} unchanged, "
        f"{len(written.deleted)} stale deleted"
    )
    for rel in written.written + written.deleted:
        click.echo(f"  {'deleted' if rel in written.deleted else 'wrote'} {rel}")
    for problem in written.credential_problems:
        click.echo(f"warning: {problem}", err=True)


def _from_env(names: tuple[str, ...]) -> tuple[str | None, str]:
    """The first of the variables `names` that is set, and its name."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value, name
    return None, names[0]


TWO_LINES = "must hold two lines: the client id, then the client secret"


def _stdin_lines() -> list[str]:
    """The lines piped to --from-stdin (within the input cap; never typed: a terminal would show the secret)."""
    from sealkit.reading import read_stdin

    if sys.stdin.isatty():
        raise InputError(f"no input: pipe the id and secret to --from-stdin ({TWO_LINES})", where="stdin")
    try:
        text = read_stdin().decode()
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where="stdin") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():  # trailing blank lines (an echo's newline) are not a third value
        lines.pop()
    if len(lines) != 2:
        raise InputError(f"{TWO_LINES} (it holds {len(lines)})", where="stdin")
    return lines


def _read_principal(from_stdin: bool) -> Any:
    from sealkit.csi.credentials import ServicePrincipal, check_principal

    if from_stdin:
        piped_id, piped_secret = _stdin_lines()
        check_principal(piped_id, piped_secret, ("stdin line 1", "stdin line 2"))
        return ServicePrincipal(piped_id, piped_secret)
    (client_id, id_var), (client_secret, secret_var) = _from_env(CLIENT_ID_VARS), _from_env(CLIENT_SECRET_VARS)
    if client_id is None or client_secret is None:
        given = (("id", CLIENT_ID_VARS, client_id), ("secret", CLIENT_SECRET_VARS, client_secret))
        unset = [(what, names) for what, names, value in given if value is None]
        raise InputError(
            f"no client {' or '.join(what for what, _ in unset)} set (or pipe the id and secret to --from-stdin, "
            "one a line)",
            where=", ".join(" or ".join(names) for _, names in unset),
        )
    check_principal(client_id, client_secret, (id_var, secret_var))
    return ServicePrincipal(client_id, client_secret)


@csi.command("seal-creds")
@click.option("--spec", "spec_file", default=None, help=SPEC_HELP, shell_complete=completers.files)
@click.option(
    "--env",
    "envs",
    multiple=True,
    required=True,
    shell_complete=completers.environments,
    metavar="NAME",
    help="The environment whose cluster certificate seals them (repeatable: each one in turn).",
)
@click.option("--from-stdin", is_flag=True, help="Read the client id and secret from stdin (two lines).")
def seal_creds(spec_file: str | None, envs: tuple[str, ...], from_stdin: bool) -> None:
    """Seal a service principal's client id/secret for the provider's nodePublishSecretRef.

    The values come from $SEALKIT_CSI_CLIENT_ID/$SEALKIT_CSI_CLIENT_SECRET (or AZURE_CLIENT_ID/
    AZURE_CLIENT_SECRET), or from stdin; they never touch the spec or the terminal.

    \b
    printf '%s\\n%s\\n' "$ID" "$SECRET" | sealkit csi seal-creds --env prod --from-stdin
    """
    from sealkit.csi.credentials import plan_credentials, unknown_environment
    from sealkit.csi.spec import load_spec
    from sealkit.envs.certs import sealing_certificate
    from sealkit.filewrites import write_all
    from sealkit_cli.environments import fetcher

    principal = _read_principal(from_stdin)
    spec = load_spec(_spec_path(spec_file), check_bases=False)
    for env in dict.fromkeys(envs):
        if error := unknown_environment(spec, env):
            raise error
    # Every environment's files are sealed first and then written all or none: a later --env that fails
    # leaves the earlier ones as they were.
    planned = []
    for env in dict.fromkeys(envs):
        cert = sealing_certificate(spec, spec.environments[env], fetcher(None))
        planned += plan_credentials(spec, env, principal, cert)
    write_all([change for _, change in planned])
    for target, _ in planned:
        click.echo(f"sealed {target.namespace}/{target.secret_name} -> {target.path}")


# --- verify / discover: the vault itself (the Azure SDK is imported only inside these) -----------


def _reader(vault_tenants: dict[str, str | None], urls: dict[str, str], kwargs: dict[str, Any]) -> VaultReader:
    """A VaultReader with one credential per tenant (a vault's challenge names its tenant)."""
    from sealkit.clients.keyvault.credentials import make_credential, quiet_azure_logging
    from sealkit.clients.keyvault.reader import VaultReader

    quiet_azure_logging()
    options = auth_from_options(kwargs)
    by_tenant: dict[str | None, Any] = {}
    credentials = {}
    for vault, tenant in vault_tenants.items():
        if tenant not in by_tenant:
            by_tenant[tenant] = make_credential(options, tenant)
        credentials[vault] = by_tenant[tenant]
    return VaultReader(urls, credentials, options)


def _retry(kwargs: dict[str, Any]) -> Any:
    from sealkit.retry import RetryPolicy

    return RetryPolicy(max_wait=kwargs["max_retry_wait"])


def _verify_key_vault(
    spec: Spec, refs: list[vaultcheck.Reference], kwargs: dict[str, Any], concurrency: int, warn_within: dt.timedelta
) -> vaultrun.Report:
    """The Key Vault half of `csi verify`: each reference read through one reader per vault."""
    import datetime as dt

    from sealkit.csi import vaultrun
    from sealkit.vault import urls as vaults

    overrides = vaults.parse_overrides(kwargs["vault_urls"])
    urls: dict[str, str] = {}
    tenants: dict[str, str | None] = {}
    for ref in refs:
        env = spec.environments[ref.environment]
        if ref.vault not in urls:
            urls[ref.vault] = vaults.resolve_url(ref.vault, env.cloud, overrides, os.environ)
            tenants[ref.vault] = env.tenant
    reader = _reader(tenants, urls, kwargs)
    try:
        return vaultrun.run(
            refs,
            reader.fetch,
            urls=urls,
            concurrency=concurrency,
            now=dt.datetime.now(dt.UTC),
            warn_within=warn_within,
            retry=_retry(kwargs),
        )
    finally:
        reader.close()


def _print_reports(
    fmt: str,
    report: vaultrun.Report,
    hv_report: hv_check.Report | None,
    ok: bool,
    *,
    show_key_vault: bool,
    problems_only: bool,
) -> None:
    """`csi verify`'s output: one JSON document, or each store's table (unless its credential failed) and summary."""
    import json

    from sealkit.csi import vaultreport
    from sealkit.csi.hashicorp import check as hv_check

    if fmt == "json":
        data = vaultreport.to_json(report)
        if hv_report is not None:
            data["hashicorpVault"] = hv_check.to_json(hv_report)
            data["ok"] = ok
        click.echo(json.dumps(data, indent=2))
        return
    if show_key_vault or hv_report is None:
        if report.results and report.credential_error is None:
            click.echo(vaultreport.table(report, only_problems=problems_only), nl=False)
        click.echo(vaultreport.summary(report))
    if hv_report is not None:
        if hv_report.results and hv_report.credential_error is None:
            click.echo(hv_check.table(hv_report, only_problems=problems_only), nl=False)
        click.echo(hv_check.summary(hv_report))


def _verify_hashicorp(
    spec: Spec, refs: list[hv_check.Reference], kwargs: dict[str, Any], concurrency: int
) -> hv_check.Report:
    """Read every Vault path the spec mounts (hvac is imported only here, through the Vault client)."""
    from sealkit.clients.vault.reader import VaultReader
    from sealkit.csi.hashicorp import check
    from sealkit.csi.model import Store

    insecure = frozenset(
        check.Target(vault.address, vault.namespace or "")
        for env in spec.environments.values()
        for app in spec.applications.values()
        if app.store_for(env) is Store.HASHICORP_VAULT
        and (vault := app.hashicorp_vault_for(env)).tls.insecure_skip_verify
    )
    reader = VaultReader(vault_auth_from_options(kwargs), insecure)
    try:
        return check.run(refs, reader.fetch, concurrency=concurrency)
    finally:
        reader.close()


@csi.command("verify")
@click.argument("spec_arg", metavar="[SPEC]", required=False, shell_complete=completers.files)
@click.option("--spec", "spec_file", default=None, help=SPEC_HELP, shell_complete=completers.files)
@click.option(
    "--env",
    "envs",
    multiple=True,
    metavar="NAME",
    help="Only this environment (repeatable; default: all).",
    shell_complete=completers.environments,
)
@click.option("--app", "apps", multiple=True, help="Only this application (repeatable; default: all).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--problems-only", is_flag=True, help="Table: list only references that are not ok.")
@click.option("--pin", is_flag=True, help="Write the current version of every unpinned Key Vault object into the spec.")
@click.option("--repin", is_flag=True, help="Like --pin, and move existing pins to the current version too.")
@click.option("--unpin", is_flag=True, help="Remove the Key Vault versions from the spec (no vault access).")
@click.option(
    "--warn-expiring",
    type=click.IntRange(0, 3650),
    default=30,
    show_default=True,
    metavar="DAYS",
    help="Warn about objects expiring within this many days.",
)
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help="Parallel requests.")
@vault_options
@hashicorp_vault_options
def verify(
    spec_arg: str | None,
    spec_file: str | None,
    envs: tuple[str, ...],
    apps: tuple[str, ...],
    fmt: str,
    problems_only: bool,
    pin: bool,
    repin: bool,
    unpin: bool,
    warn_expiring: int,
    concurrency: int,
    **kwargs: Any,
) -> None:
    """Check every object the spec mounts, in Azure Key Vault and in HashiCorp Vault.

    Key Vault: each object's current (or pinned) version exists, is enabled, is valid now and
    has the content type the spec needs, read with your Azure identity. HashiCorp Vault: each
    KV path can be read with the token (or the Kubernetes login) and holds the key the file
    needs; missing paths, missing keys, permission denied and a sealed or unreachable Vault
    are one line each. Exit 1 on any failed reference, 2 when a vault cannot be read at all
    (no credential or token, unreachable, sealed, refused); warnings (expiring soon, format
    mismatches the Azure provider tolerates) do not fail. No secret value is ever printed.

    \b
    sealkit csi verify                          # table; exit 1 on failures
    sealkit csi verify --format json --env prod
    sealkit csi verify --pin                    # write current Key Vault versions into the spec
    sealkit csi verify --unpin                  # remove them again
    sealkit csi verify --vault-url kv-dev=https://127.0.0.1:8443
    VAULT_TOKEN=... sealkit csi verify --vault-cacert ca.pem
    sealkit csi verify --vault-auth kubernetes --vault-jwt-file sa.jwt
    """
    import dataclasses
    import datetime as dt

    from sealkit.csi import pinning, vaultcheck, vaultreport, vaultrun
    from sealkit.csi.hashicorp import check as hv_check
    from sealkit.csi.spec import load_spec

    if sum((pin, repin, unpin)) > 1:
        raise InputError("give only one of these", where="--pin, --repin, --unpin")
    spec = load_spec(_spec_path(spec_arg or spec_file), check_bases=False)
    if unpin:
        for name in envs:
            if name not in spec.environments:
                have = ", ".join(spec.environments)
                raise InputError(f"unknown environment {name!r} (the spec has: {have})", where=f"--env {name}")
        changed = pinning.apply(spec, pinning.unpins_for(spec, envs or None))
        click.echo(f"{'unpinned versions in' if changed else 'no pinned versions in'} {spec.path}")
        return
    refs = vaultcheck.references(spec, envs or None, apps or None)
    hv_refs = hv_check.references(spec, envs or None, apps or None)
    if (pin or repin) and not refs:
        raise InputError(
            "nothing to pin: the chosen applications read no Key Vault objects", where="--pin" if pin else "--repin"
        )
    if repin:
        refs = [dataclasses.replace(ref, version="") for ref in refs]
    report = vaultrun.Report(())
    if refs or not hv_refs:
        report = _verify_key_vault(spec, refs, kwargs, concurrency, dt.timedelta(days=warn_expiring))
    hv_report = _verify_hashicorp(spec, hv_refs, kwargs, concurrency) if hv_refs else None
    ok = report.ok and (hv_report is None or hv_report.ok)
    _print_reports(fmt, report, hv_report, ok, show_key_vault=bool(refs), problems_only=problems_only)
    errors = vaultreport.error_lines(report) if refs else []
    if hv_report is not None:
        errors += hv_check.error_lines(hv_report)
    if not ok:
        failed = report.count(vaultcheck.Status.FAILED)
        failed += hv_report.count(hv_check.Status.FAILED) if hv_report is not None else 0
        if failed:
            errors.append(f"{failed} reference(s) failed verification")
        if pin or repin:
            errors.append(f"not pinned: fix the failures first: {spec.path}")
        # A store that cannot be read at all (no credential or token, unreachable, sealed, refused) is a
        # connection error (exit 2), for Key Vault and HashiCorp Vault alike; failed references alone exit 1.
        unreachable = any(
            r.credential_error is not None or bool(r.failures) for r in (report, hv_report) if r is not None
        )
        _fail(errors, EXIT_USAGE if unreachable else EXIT_CHECK_FAILED)
    if pin or repin:
        changed = pinning.apply(spec, pinning.pins_from(report.results))
        click.echo(f"{'pinned current versions in' if changed else 'nothing new to pin in'} {spec.path}")


@csi.command("discover")
@click.option("--vault", "vault", required=True, help="The Key Vault's name (keyvaultName).")
@click.option(
    "--cloud",
    default="",
    help="Cloud of the vault (AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud, ...).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "spec"]), default="table", show_default=True)
@vault_options
def discover(vault: str, cloud: str, fmt: str, **kwargs: Any) -> None:
    """List a vault's objects (type, content type, state, expiry, tags) and a spec fragment for them.

    \b
    sealkit csi discover --vault contoso-dev-kv               # table + fragment
    sealkit csi discover --vault contoso-dev-kv --format spec # only the fragment
    """
    import datetime as dt
    import json

    from sealkit.csi import discover as disc
    from sealkit.csi import rules
    from sealkit.retry import call_with_retries
    from sealkit.vault import urls as vaults
    from sealkit.vault.errors import CredentialError, VaultAccessError

    if problem := rules.vault_name_problem(vault):
        raise InputError(problem, where="--vault")
    if cloud and (problem := rules.cloud_problem(cloud)):
        raise InputError(problem, where="--cloud")
    overrides = vaults.parse_overrides(kwargs["vault_urls"])
    for name in overrides:  # a typo'd name would send the credential to the public cloud's vault instead
        if name != vault.lower():
            raise InputError(f"names vault {name}, not the one listed (--vault {vault})", where=f"--vault-url {name}")
    url = vaults.resolve_url(vault, cloud, overrides, os.environ)
    auth_where = f"--auth {kwargs['auth']}"
    try:  # a credential that cannot be built (e.g. service-principal without its variables) names --auth too
        reader = _reader({vault: None}, {vault: url}, kwargs)
    except CredentialError as exc:
        raise InputError(exc.what, where=exc.where or auth_where) from None
    try:
        items = call_with_retries(lambda: reader.list_vault(vault), _retry(kwargs), give_up=VaultAccessError)
    except VaultAccessError as exc:
        if isinstance(exc, CredentialError):
            raise InputError(exc.what, where=exc.where or auth_where) from None
        raise InputError(str(exc), where=f"vault {vault} ({url})") from None
    finally:
        reader.close()
    now = dt.datetime.now(dt.UTC)
    if fmt == "json":
        click.echo(json.dumps(disc.to_json(vault, url, items, now) | {"fragment": disc.fragment(vault, items, now)}))
    elif fmt == "spec":
        click.echo(disc.fragment(vault, items, now), nl=False)
    else:
        click.echo(disc.table(items, now))
        click.echo(disc.fragment(vault, items, now), nl=False)
