"""`sealkit reencrypt --env NAME`: an environment's SealedSecrets re-sealed through its own cluster's controller.

Where it sits: the CLI, beside `sealkit reencrypt` (commands/verify.py), whose per-document work it reuses.
The files are those under the environment's sealedSecrets directory and overlay; the cluster is the one
the spec names (`sealingCert.context` and controller), else the kubeconfig's. Before any request the
controller's certificate is compared with the one committed for the environment: a different one means
the wrong cluster, or a committed certificate that is stale (`sealkit certs pull`). Offline
(`--private-key`) the values are re-sealed for the environment's current certificate. Every rewritten
document gets the provenance of what it was sealed with, and the environment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click

from sealkit import provenance
from sealkit.clients.kube.config import ClusterOptions
from sealkit.clients.kube.proxy import ControllerProxy, RateLimitedCaller
from sealkit.csi.model import Environment, Spec
from sealkit.documents import Document
from sealkit.envs.certs import committed, sealing_certificate
from sealkit.envs.layout import choose, existing_dirs, inside_repo
from sealkit.errors import InputError
from sealkit.files import refuse_link_out_of_repo
from sealkit.keys import KeyRing, load_certificate
from sealkit.reseal import reseal_values
from sealkit_cli import bulk, environments
from sealkit_cli.commands.unseal import load_keyring

Rotate = Callable[[ControllerProxy, RateLimitedCaller], bulk.Check]


def _cluster(env: Environment, options: dict[str, Any]) -> ClusterOptions:
    """The spec's context and controller for `env`, else the command line's cluster."""
    cluster: ClusterOptions = options["cluster"]
    source = env.cert_source
    if source.context:
        return dataclasses.replace(
            cluster,
            context=source.context,
            controller_name=source.controller_name,
            controller_namespace=source.controller_namespace,
        )
    return cluster


def _check_cluster(spec: Spec, env: Environment, served: str, kubeconfig: str | None) -> None:
    """The controller must serve the certificate the repo holds for `env` (else: wrong cluster, or stale file)."""
    source = env.cert_source
    known = committed(spec, env)
    if known.newest is not None:
        expected, where = known.newest.sha256, source.file or ""
    elif source.url:
        data, where = environments.fetcher(kubeconfig)(source, env.name)
        expected = load_certificate(data, where).sha256
    else:
        return  # the cluster itself is the environment's only source
    if served != expected:
        renew = (
            f"run `sealkit certs pull --env {env.name}`"
            if source.file and (source.url or source.context)
            else f"commit the cluster's certificate to {source.file}"  # nothing to pull from: the file is the source
            if source.file
            else "check the URL"
        )
        raise InputError(
            f"environment {env.name}: the cluster's certificate {provenance.short(served)} is not the environment's "
            f"{provenance.short(expected)} (a cluster of another environment, or a stale certificate: {renew})",
            where=where,
        )


def _one(spec: Spec, env: Environment, options: dict[str, Any], rotate: Rotate) -> bool:
    paths = existing_dirs(spec, env)
    for path in paths:
        inside_repo(spec, str(path.relative_to(spec.root)), f"environment {env.name}'s directory")
    if not paths:
        click.echo(f"{env.name}: no SealedSecrets directory yet: nothing to re-encrypt", err=True)
        return True
    root = spec.root.resolve()
    work = bulk.plan(
        tuple(str(p) for p in paths), inside=lambda path: refuse_link_out_of_repo(path, root), in_place=True
    )
    check: bulk.Check
    if options["private_keys"]:
        ring: KeyRing = load_keyring(options["private_keys"])
        cert = sealing_certificate(spec, env, environments.fetcher(options["cluster"].kubeconfig))

        def offline(doc: Document) -> dict[str, str]:
            return reseal_values(doc.obj, ring, cert, where=doc.where)

        check = offline
        sealed_with = cert.sha256
        proxy = None
    else:
        proxy = ControllerProxy(_cluster(env, options))
        sealed_with = load_certificate(proxy.cert_pem(), f"environment {env.name}'s controller").sha256
        _check_cluster(spec, env, sealed_with, options["cluster"].kubeconfig)
        bulk.announce_controller_run(work.total, options["rate"])
        check = rotate(proxy, RateLimitedCaller(options["rate"]))
    annotations = provenance.Provenance((sealed_with,), env.name).annotations()
    click.echo(f"{env.name}: re-sealing with {provenance.short(sealed_with)}", err=True)
    report = bulk.Report(options["fmt"], "re-encrypted")
    ok = report.finish(bulk.run(work, check, rewrite=True, report=report, annotations=annotations))
    if proxy is not None:
        after = load_certificate(proxy.cert_pem(), f"environment {env.name}'s controller").sha256
        if after != sealed_with:
            click.echo(
                f"error: environment {env.name}: the controller's key changed during the run: run again", err=True
            )
            ok = False
    return ok


def reencrypt_environments(options: dict[str, Any], rotate: Rotate) -> None:
    spec = environments.load(options["spec_file"])
    chosen = choose(spec, options["envs"], False)
    ok = True
    for env in chosen:
        ok = _one(spec, env, options, rotate) and ok
    bulk.exit_with(ok)
