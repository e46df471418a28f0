"""`sealkit seal --env`: one read of the plaintext, each Secret sealed for each chosen environment.

Where it sits: the CLI, between `sealkit seal`'s options and the core's planning (`sealkit.envs`). Every
check runs before anything is written: the environments and their directories, every certificate (file,
URL or cluster; expired ones refused), the input, every existing file; then all files are written at once
(`sealkit.filewrites`), or none.
"""

from __future__ import annotations

import click

from sealkit.documents import load_documents
from sealkit.envs.certs import sealing_certificate
from sealkit.envs.layout import choose, sealed_dir
from sealkit.envs.sealplan import plan_seal, prepare
from sealkit.provenance import short
from sealkit.scope import Scope
from sealkit_cli import environments, io


def seal_environments(
    spec_file: str | None,
    envs: tuple[str, ...],
    all_envs: bool,
    input_path: str,
    *,
    scope: Scope | None,
    name: str | None,
    namespace: str | None,
    allow_empty_data: bool,
    kubeconfig: str | None,
) -> None:
    spec = environments.load(spec_file)
    chosen = choose(spec, envs, all_envs)
    for env in chosen:
        sealed_dir(spec, env)
    fetch = environments.fetcher(kubeconfig)
    certs = {env.name: sealing_certificate(spec, env, fetch) for env in chosen}
    data, source = io.read_input(input_path)
    secrets = prepare(
        load_documents(data, source), scope=scope, name=name, namespace=namespace, allow_empty_data=allow_empty_data
    )
    plans = [plan_seal(spec, env, certs[env.name], secrets, allow_empty_data=allow_empty_data) for env in chosen]
    environments.write(change for plan in plans for change in plan.changes)
    lines = []
    for env, plan in zip(chosen, plans, strict=True):
        lines.append(f"{env.name}: sealed with {short(certs[env.name].sha256)}")
        lines.extend(f"  {line.action:<9} {environments.show(line.path)}" for line in plan.report)
    click.echo("\n".join(lines))
