"""`sealkit set NAMESPACE/NAME KEY`: one item added to or replaced in each chosen environment's sealed file.

The value comes from --from-file, --from-literal, stdin (piped), or a hidden prompt on a terminal; it is
read once, sealed for each environment's certificate and the file's own name, namespace and scope, and
only that item's line (and the provenance annotation) changes. The other items are never decrypted.
Every environment's file must exist; nothing is written unless every one can be.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sealkit.envs.certs import sealing_certificate
from sealkit.envs.layout import choose
from sealkit.envs.sealplan import plan_set
from sealkit.errors import InputError
from sealkit.manifest import check_data_key
from sealkit.provenance import short
from sealkit.reading import read_stdin
from sealkit.validation import name_problems, namespace_problems
from sealkit_cli import completers, environments, io
from sealkit_cli.options import option


def _target(value: str) -> tuple[str, str]:
    namespace, sep, name = value.partition("/")
    if not sep or not namespace or not name or "/" in name:
        raise InputError("give the SealedSecret as NAMESPACE/NAME", where=value or "''")
    problems = namespace_problems(namespace, "NAMESPACE") + name_problems(name, "NAME")
    if problems:  # the file name is made of them: `shop/ORD` is no SealedSecret any cluster holds
        raise InputError(f"{problems[0].field} {problems[0].message}", where=value)
    return namespace, name


def _value(from_file: str | None, from_literal: str | None, key: str) -> bytes:
    if from_file is not None and from_literal is not None:
        raise InputError("give the value once", where="--from-file or --from-literal")
    if from_literal is not None:
        return from_literal.encode()
    if from_file is not None:
        if from_file == "-":
            raise InputError("--from-file names a file; pipe the value on stdin without it", where="--from-file -")
        data, _ = io.read_input(from_file)
        return data
    if not sys.stdin.isatty():
        piped = read_stdin()  # within the input size cap
        if not piped:  # a command before the pipe that failed, not a value: an empty one is said explicitly
            raise InputError("nothing on stdin (an empty value: --from-literal '')", where="stdin")
        return piped
    typed = click.prompt(f"Value for {key}", hide_input=True, confirmation_prompt=True, err=True)
    return str(typed).encode()


@click.command("set")
@click.argument("target", metavar="NAMESPACE/NAME")
@click.argument("key")
@option("envs", help="Change this environment's file (repeatable).")
@option("all_envs", help="Change the file of every environment of the spec.")
@click.option(
    "--from-file",
    default=None,
    metavar="PATH",
    help="Read the value from this file (bytes as they are).",
    shell_complete=completers.files,
)
@click.option("--from-literal", default=None, metavar="VALUE", help="The value itself (visible in shell history).")
@option("spec_file")
@click.option(
    "--kubeconfig",
    envvar="KUBECONFIG",
    default=None,
    help="Kubeconfig for environments fetched from a cluster.",
    shell_complete=completers.files,
)
def set_item(
    target: str,
    key: str,
    envs: tuple[str, ...],
    all_envs: bool,
    from_file: str | None,
    from_literal: str | None,
    spec_file: str | None,
    kubeconfig: str | None,
) -> None:
    """Add or replace item KEY of SealedSecret NAMESPACE/NAME in each chosen environment's file.

    \b
    sealkit set shop/db password --env dev --env prod          # hidden prompt on a terminal
    printf '%s' "$TOKEN" | sealkit set shop/api token --all-envs
    sealkit set shop/tls tls.crt --env prod --from-file tls.crt
    """
    namespace, name = _target(target)
    check_data_key(key, "KEY")
    spec = environments.load(spec_file)
    chosen = choose(spec, envs, all_envs)
    fetch = environments.fetcher(kubeconfig)
    certs = {env.name: sealing_certificate(spec, env, fetch) for env in chosen}
    for env in chosen:  # every file must exist before the value is asked for
        plan_set(spec, env, certs[env.name], namespace, name, key, b"")
    value = _value(from_file, from_literal, key)
    plans = [plan_set(spec, env, certs[env.name], namespace, name, key, value) for env in chosen]
    environments.write(change for plan in plans for change in plan.changes)
    for env, plan in zip(chosen, plans, strict=True):
        for line in plan.report:
            shown = environments.show(Path(line.path))
            click.echo(f"{env.name}: set {key} in {shown} (sealed with {short(certs[env.name].sha256)})")
