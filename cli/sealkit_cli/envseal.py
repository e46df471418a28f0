"""`sealkit seal --env`: one read of the plaintext, each Secret sealed for each chosen environment.

Where it sits: the CLI, between `sealkit seal`'s options and the core's planning (`sealkit.envs`). Every
check runs before anything is written: the environments and their directories, every certificate (file,
URL or cluster; expired ones refused), the input, every existing file; then all files are written at once
(`sealkit.filewrites`), or none. Each (environment, Secret) pair is one piece of work; a large run is
split over worker processes (`workers`), each planning its pieces and staging their new files, in
environment order so that two processes rarely make files in one directory at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from sealkit.documents import load_documents
from sealkit.envs.certs import sealing_certificate
from sealkit.envs.layout import choose, sealed_dir
from sealkit.envs.sealplan import EnvFiles, FilePlan, PreparedSecret, env_files, finish_plan, plan_file, prepare
from sealkit.filewrites import Staging
from sealkit.provenance import short
from sealkit.scope import Scope
from sealkit_cli import environments, io, workers

Piece = tuple[int, int]  # (environment, Secret) by position


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
    files = [env_files(spec, env, certs[env.name]) for env in chosen]
    plans, staging = _plan_all(files, secrets)
    try:
        env_plans = [finish_plan(f, [p for p in plans if p.written.env == f.env]) for f in files]
    except BaseException:
        staging.discard()
        raise
    environments.write((change for plan in env_plans for change in plan.changes), staging)
    lines = []
    for env, plan in zip(chosen, env_plans, strict=True):
        lines.append(f"{env.name}: sealed with {short(certs[env.name].sha256)}")
        lines.extend(f"  {line.action:<9} {environments.show(line.path)}" for line in plan.report)
    click.echo("\n".join(lines))


def _plan_all(files: list[EnvFiles], secrets: list[PreparedSecret]) -> tuple[list[FilePlan], Staging]:
    """Every (environment, Secret) file planned and every new file staged, over worker processes when the
    run is large; the plans in environment order, then input order."""

    def plan_chunk(chunk: Sequence[Piece]) -> tuple[list[FilePlan], Staging]:
        staging = Staging()
        plans = []
        try:
            for env, secret in chunk:
                plan = plan_file(files[env], secrets[secret])
                if plan.new:
                    staging.stage_new(plan.change.path, plan.change.text)
                plans.append(plan)
        except BaseException:
            staging.discard()
            raise
        return plans, staging

    pieces = [(env, secret) for env in range(len(files)) for secret in range(len(secrets))]
    shares = workers.chunks(pieces, workers.worker_count(len(pieces)))
    staging = Staging()
    try:
        for env in files:  # made here, before the shares: one process makes and, on failure, removes them
            staging.make_parents(env.directory / "kustomization.yaml")
        results = workers.map_shares(plan_chunk, shares, discard=lambda result: result[1].discard())
    except BaseException:
        staging.discard()
        raise
    for _, chunk_staging in results:
        staging.absorb(chunk_staging)
    return [plan for chunk_plans, _ in results for plan in chunk_plans], staging
