"""`sealkit csi`: SecretProviderClasses and workload wiring generated from one spec per config repo."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from sealkit.errors import InputError, SealkitError

SPEC_HELP = "The spec file (default: $SEALKIT_CSI_SPEC, else sealkit-csi.yaml in the current directory)."
CLIENT_ID_VARS = ("SEALKIT_CSI_CLIENT_ID", "AZURE_CLIENT_ID")
CLIENT_SECRET_VARS = ("SEALKIT_CSI_CLIENT_SECRET", "AZURE_CLIENT_SECRET")


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        click.echo(f"error: {line}", err=True)
    sys.exit(1)


class _CsiGroup(click.Group):
    """Turns sealkit errors into `error: ...` lines and exit 1 (one line per spec problem)."""

    def invoke(self, ctx: click.Context) -> Any:
        from sealkit.csi.spec import SpecError

        try:
            return super().invoke(ctx)
        except SpecError as exc:
            _fail(exc.problems)
        except SealkitError as exc:
            _fail([str(exc)])


def _spec_path(spec: str | None) -> Path:
    return Path(spec or os.environ.get("SEALKIT_CSI_SPEC") or "sealkit-csi.yaml")


@click.group("csi", cls=_CsiGroup)
def csi() -> None:
    """Key Vault CSI: generate SecretProviderClasses and workload wiring from one spec.

    \b
    sealkit csi generate                 # write clusters/<env>/... overlays
    sealkit csi generate --check         # CI: fail with a diff when they are stale
    sealkit csi seal-creds --env prod    # seal service-principal credentials
    """


@csi.command("generate")
@click.option("--spec", "spec_file", default=None, help=SPEC_HELP)
@click.option("--env", "envs", multiple=True, help="Only this environment (repeatable; default: all).")
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


def _from_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _read_principal(from_stdin: bool) -> Any:
    from sealkit.csi.credentials import ServicePrincipal

    if from_stdin:
        lines = sys.stdin.read().splitlines()
        if len(lines) < 2:
            raise InputError("stdin must hold two lines: the client id, then the client secret")
        return ServicePrincipal(lines[0], lines[1])
    client_id, client_secret = _from_env(CLIENT_ID_VARS), _from_env(CLIENT_SECRET_VARS)
    if client_id is None or client_secret is None:
        raise InputError(
            f"set {' or '.join(CLIENT_ID_VARS)} and {' or '.join(CLIENT_SECRET_VARS)}, "
            "or pass --from-stdin with the id and secret on two lines"
        )
    return ServicePrincipal(client_id, client_secret)


@csi.command("seal-creds")
@click.option("--spec", "spec_file", default=None, help=SPEC_HELP)
@click.option("--env", "env", required=True, help="The environment whose cluster certificate seals them.")
@click.option("--from-stdin", is_flag=True, help="Read the client id and secret from stdin (two lines).")
def seal_creds(spec_file: str | None, env: str, from_stdin: bool) -> None:
    """Seal a service principal's client id/secret for the provider's nodePublishSecretRef.

    The values come from $SEALKIT_CSI_CLIENT_ID/$SEALKIT_CSI_CLIENT_SECRET (or AZURE_CLIENT_ID/
    AZURE_CLIENT_SECRET), or from stdin; they never touch the spec or the terminal.

    \b
    printf '%s\\n%s\\n' "$ID" "$SECRET" | sealkit csi seal-creds --env prod --from-stdin
    """
    from sealkit.csi.credentials import seal_credentials
    from sealkit.csi.spec import load_spec

    principal = _read_principal(from_stdin)
    spec = load_spec(_spec_path(spec_file), check_bases=False)
    for target in seal_credentials(spec, env, principal):
        click.echo(f"sealed {target.namespace}/{target.secret_name} -> {target.path}")
