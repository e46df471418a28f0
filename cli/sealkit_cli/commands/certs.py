"""`sealkit certs pull`: each environment's current certificate from its cluster (or URL) into the repo.

Every environment whose spec names both a committed file and where to fetch from (a URL, or a kubeconfig
context and the controller Service) is fetched; changed files are written all or nothing, the replaced
certificate kept in the environment's `previous` file. `--check` writes nothing and exits 1 when a
committed certificate is stale or expired (a CI job); an environment that cannot be reached is an error.
"""

from __future__ import annotations

import sys

import click

from sealkit.envs.certs import EnvironmentCerts, KnownCert, committed, served_certificate
from sealkit.envs.layout import choose
from sealkit.envs.pull import PullResult, compare, offline_status, refuse_another_environments
from sealkit_cli import completers, environments
from sealkit_cli.options import option

EXIT_STALE = 1


@click.group("certs")
def certs() -> None:
    """Environments' sealing certificates, kept in the repo beside the spec.

    \b
    sealkit certs pull                 # every environment: fetch, write what changed
    sealkit certs pull --env prod
    sealkit certs pull --check         # CI: exit 1 when a committed certificate is stale or expired
    """


@certs.command("pull")
@option("envs", help="Only this environment (repeatable; default: all).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a committed certificate is stale or expired.")
@option("spec_file")
@click.option(
    "--kubeconfig",
    envvar="KUBECONFIG",
    default=None,
    help="Kubeconfig holding the environments' contexts.",
    shell_complete=completers.files,
)
def pull(envs: tuple[str, ...], check: bool, spec_file: str | None, kubeconfig: str | None) -> None:
    """Fetch each environment's current certificate into the file the spec names; print what changed."""
    spec = environments.load(spec_file)
    chosen = choose(spec, envs, not envs)
    fetch = environments.fetcher(kubeconfig)
    results: list[PullResult] = []
    known: dict[str, EnvironmentCerts] = {}
    served: dict[str, KnownCert] = {}
    for env in chosen:
        known[env.name] = committed(spec, env, refuse_private_keys=True)
        source = env.cert_source
        if not source.file or not (source.url or source.context):
            results.append(offline_status(env, known[env.name]))
            continue
        data, where = fetch(source, env.name)
        served[env.name] = served_certificate(data, f"{where} (environment {env.name})")
        results.append(compare(spec, env, known[env.name], served[env.name]))
    others = {env.name: committed(spec, env) for env in spec.environments.values() if env.name not in known}
    refuse_another_environments(served, {**known, **others})
    if check:
        for result in results:
            prefix = "stale: " if result.status in ("changed", "new") else ""
            click.echo(prefix + result.message)
        stale = [r.env for r in results if r.stale]
        if stale:
            click.echo(
                f"error: committed certificates stale or expired: {', '.join(stale)} "
                "(run `sealkit certs pull`, review, commit)",
                err=True,
            )
            sys.exit(EXIT_STALE)
        return
    environments.write(change for result in results for change in result.changes)
    for result in results:
        click.echo(result.message)
    if any(r.status == "expired" for r in results):
        sys.exit(EXIT_STALE)
