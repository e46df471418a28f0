"""The environments' spec for the CLI: where it is, loading it for sealing, and reaching each cluster.

Where it sits: the CLI, shared by `seal --env`, `set`, `reencrypt --env`, `certs pull` and `lint`. The
spec is found as `sealkit csi` finds it (`--spec`, else `$SEALKIT_CSI_SPEC`, else `sealkit-csi.yaml` in the
current directory). `fetcher` is the one place an environment's certificate is fetched: from its URL, or
from its cluster's controller through the API server's service proxy (kubeconfig context and controller
Service from the spec, `--kubeconfig` or `$KUBECONFIG` for the file).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import click

from sealkit.csi.model import CertSource, Spec
from sealkit.envs.certs import Fetch
from sealkit.errors import InputError, SealkitError, shown_url
from sealkit.filewrites import FileChange, Staging, write_all

SPEC_ENV = "SEALKIT_CSI_SPEC"
DEFAULT_SPEC = "sealkit-csi.yaml"


def spec_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get(SPEC_ENV) or DEFAULT_SPEC)


def load(explicit: str | None) -> Spec:
    """The spec for sealing (bases are not read: sealing does not need them)."""
    from sealkit.csi.spec import load_spec

    return load_spec(spec_path(explicit), check_bases=False)


def find_for_lint(explicit: str | None) -> Spec | None:
    """The spec lint checks environments against: an explicit one must load; the default one only if present
    (one there that is not a regular file, such as a directory, is an error naming it, not a spec left out)."""
    from sealkit.reading import file_found

    path = spec_path(explicit)
    if not explicit and not os.environ.get(SPEC_ENV) and not file_found(path):
        return None
    return load(explicit)


def fetcher(kubeconfig: str | None, *, timeout: float = 30.0) -> Fetch:
    """A `sealkit.envs.certs.Fetch`: the certificate from an environment's URL or its cluster."""

    def fetch(source: CertSource, env: str) -> tuple[bytes, str]:
        try:
            if source.url:
                from sealkit_cli.certsource import fetch_url

                return fetch_url(source.url), shown_url(source.url)
            from sealkit.clients.kube.config import NO_KUBECONFIG, ClusterOptions
            from sealkit.clients.kube.proxy import ControllerProxy

            options = ClusterOptions(kubeconfig, source.context, source.controller_name, source.controller_namespace)
            # Not the offline hint: --cert is refused with --env (the spec says where each certificate comes from).
            proxy = ControllerProxy(options, timeout=timeout, missing=NO_KUBECONFIG)
            return proxy.cert_pem(), source.describe()
        except SealkitError as exc:
            # The same error (class, where, status kept; some classes take other arguments), named for env.
            SealkitError.__init__(exc, f"environment {env}: {exc.what}", where=exc.where)
            raise exc.with_traceback(None) from None

    return fetch


def write(changes: Iterable[FileChange], staging: Staging | None = None) -> list[FileChange]:
    return write_all(list(changes), staging)


def show(path: Path) -> str:
    """A path for output, as the spec's directory was given (relative when the spec was)."""
    return str(path)


def refuse_with_env(ctx: click.Context, flags: dict[str, str]) -> None:
    """Options that name one output or one cluster make no sense with --env: refuse them when given."""
    for param, flag in flags.items():
        source = ctx.get_parameter_source(param)
        if source is click.core.ParameterSource.COMMANDLINE:
            raise InputError("--env writes each environment's own files and uses its own certificate", where=flag)
