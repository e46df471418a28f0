"""`sealkit verify` and `sealkit reencrypt`: every SealedSecret under the given paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from sealkit import provenance
from sealkit.clients.kube.api import ClusterError, Unreachable
from sealkit.clients.kube.config import ClusterOptions
from sealkit.clients.kube.proxy import ControllerProxy, RateLimitedCaller
from sealkit.documents import Document
from sealkit.errors import InputError, UnsealError
from sealkit.keys import KeyRing, SealingCertificate, load_certificate
from sealkit.reseal import reseal_values, verify_sealed_secret
from sealkit.sealedsecret import parse_sealed_secret
from sealkit_cli import bulk
from sealkit_cli.certsource import resolve_certificate
from sealkit_cli.commands.unseal import load_keyring
from sealkit_cli.options import cluster_options, option

RATE_HELP = "Requests per second to the controller (its default limit is 2/s, burst 2)."


def _common(func: Any, *, paths_required: bool = True) -> Any:
    func = click.option(
        "--allow-empty", is_flag=True, help="Succeed when PATHS hold no SealedSecret (default: an error)."
    )(func)
    func = click.option("--rate", type=click.FloatRange(min=0), default=2.0, show_default=True, help=RATE_HELP)(func)
    func = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)(func)
    func = cluster_options(func)
    func = option(
        "private_keys",
        help="Work offline with these private keys instead of the controller. Repeatable or comma-separated.",
    )(func)
    return click.argument("paths", nargs=-1, required=paths_required, type=click.Path())(func)


def _common_optional_paths(func: Any) -> Any:
    return _common(func, paths_required=False)


def _not_served(proxy: ControllerProxy, status: int, path: str) -> None:
    """404 from the controller's path: a Service that is not a sealing controller (every call would fail)."""
    if status == 404:
        raise Unreachable(f"{proxy.service} does not serve /{path} (HTTP 404)", where=proxy.endpoint)


def _first_line(body: bytes) -> str:
    lines = body.decode(errors="replace").strip().splitlines()
    return " ".join(lines[0].split())[:300] if lines else ""


def controller_verify(proxy: ControllerProxy, caller: RateLimitedCaller) -> bulk.Check:
    def check(doc: Document) -> None:
        parse_sealed_secret(doc.obj, doc.where)
        response = caller.call(lambda: proxy.request("POST", "v1/verify", doc.obj, "application/json"))
        _not_served(proxy, response.status, "v1/verify")
        if response.status == 409:
            reason = _first_line(response.body)
            raise UnsealError("does not open in the cluster" + (f" ({reason})" if reason else ""), where=doc.where)
        if response.status != 200:
            raise ClusterError(f"the controller answered HTTP {response.status} to verify", where=doc.where)

    return check


def controller_rotate(proxy: ControllerProxy, caller: RateLimitedCaller) -> bulk.Check:
    def check(doc: Document) -> dict[str, str]:
        view = parse_sealed_secret(doc.obj, doc.where)
        response = caller.call(lambda: proxy.request("POST", "v1/rotate", doc.obj, "application/json"))
        _not_served(proxy, response.status, "v1/rotate")
        if response.status == 409:
            raise UnsealError("the controller cannot open it to re-encrypt", where=doc.where)
        if response.status != 200:
            raise ClusterError(f"the controller answered HTTP {response.status} to rotate", where=doc.where)
        try:
            import json

            rotated = json.loads(response.body)["spec"]["encryptedData"]
        except (ValueError, KeyError, TypeError):
            rotated = None
        if not isinstance(rotated, dict):
            raise ClusterError("the controller's rotate answer is not a SealedSecret", where=doc.where)
        if set(rotated) != set(view.encrypted_data):
            raise ClusterError("the controller's rotate answer has other items", where=doc.where)
        return {str(k): str(v) for k, v in rotated.items()}

    return check


def _run(
    options: dict[str, Any],
    offline: Callable[[KeyRing, ClusterOptions], bulk.Check],
    online: Callable[[ControllerProxy, RateLimitedCaller], bulk.Check],
    *,
    rewrite: bool,
    verb: str,
    target: Callable[[ControllerProxy | None], str] | None = None,
) -> None:
    """Plan the files, check each SealedSecret offline (with --private-key) or via the controller, report.

    `target` names the certificate re-sealed values are sealed with (its SHA-256, for the provenance
    annotation): the --cert given offline, else the controller's, read before the run and checked after.
    """
    cluster: ClusterOptions = options["cluster"]
    work = bulk.plan(options["paths"], allow_empty=options["allow_empty"], in_place=rewrite)
    proxy: ControllerProxy | None = None
    if options["private_keys"]:  # read with nothing to check too: a key file or --cert given is never passed over
        check = offline(load_keyring(options["private_keys"]), cluster)
    if not work.total:
        bulk.exit_with(bulk.Report(options["fmt"], verb).finish([]))
    if not options["private_keys"]:
        bulk.announce_controller_run(work.total, options["rate"])
        proxy = ControllerProxy(cluster).configure().require_controller()
        check = online(proxy, RateLimitedCaller(options["rate"]))
    sealed_with = target(proxy) if target is not None and work.total else None
    annotations = {provenance.CERTIFICATE_ANNOTATION: sealed_with} if sealed_with is not None else None
    report = bulk.Report(options["fmt"], verb)
    ok = report.finish(bulk.run(work, check, rewrite=rewrite, report=report, annotations=annotations))
    if sealed_with is not None and proxy is not None and controller_sha256(proxy) != sealed_with:
        click.echo("error: the controller's sealing key changed during the run: run reencrypt again", err=True)
        ok = False
    bulk.exit_with(ok)


def controller_sha256(proxy: ControllerProxy) -> str:
    """The provenance fingerprint of the certificate the controller seals with now."""
    return load_certificate(proxy.cert_pem(), "the controller's certificate").sha256


@click.command("verify")
@_common
def verify(**options: Any) -> None:
    """Check that every SealedSecret under PATHS unseals: its values open for its name, namespace and scope,
    and its template is one the controller and the API server accept (read-only).

    \b
    sealkit verify clusters/prod/                             # through the controller
    sealkit verify --private-key keys.yaml apps/ --format json  # offline
    """

    def offline(ring: KeyRing, _: ClusterOptions) -> bulk.Check:
        def check(doc: Document) -> None:
            verify_sealed_secret(doc.obj, ring, where=doc.where, read_values=True)

        return check

    _run(options, offline, controller_verify, rewrite=False, verb="open")


@click.command("reencrypt")
@_common_optional_paths
@option("cert", help="Offline: the certificate to re-seal for, a PEM file or http(s) URL (default: the controller's).")
@option("spec_file")
@option(
    "envs",
    help="Re-seal this environment's files (sealedSecrets and overlay) through its cluster's controller (repeatable).",
)
def reencrypt(**options: Any) -> None:
    """Re-seal every SealedSecret under PATHS with the newest key, rewriting the files in place.

    Only `spec.encryptedData` values and the provenance annotation change; comments, key order,
    quoting and other documents stay byte-identical. Scope, name and namespace are kept.

    With --env, the environment's files (its sealedSecrets directory and overlay) are re-sealed through
    the controller of its cluster (the spec's context; else --context/--kubeconfig), after checking that
    the cluster's certificate is the one committed for that environment.

    \b
    sealkit reencrypt clusters/prod/
    sealkit reencrypt --private-key old-keys.yaml --cert new-cert.pem apps/
    sealkit reencrypt --env prod
    """
    if options["envs"]:
        if options["paths"] or options["cert"]:
            raise InputError("--env re-seals the environment's own files for its own certificate", where="PATHS/--cert")
        from sealkit_cli.envreencrypt import reencrypt_environments

        reencrypt_environments(options, controller_rotate)
        return
    if not options["paths"]:
        raise click.UsageError("Missing argument 'PATHS...' (or --env NAME).")
    chosen: list[SealingCertificate] = []

    def offline(ring: KeyRing, cluster: ClusterOptions) -> bulk.Check:
        cert = options["cert"]
        if cert is None and not cluster.kubeconfig and not cluster.context:
            raise InputError("offline re-encryption needs --cert FILE|URL for the key to seal for", where="--cert")
        sealed_for: SealingCertificate = resolve_certificate(cert, cluster)
        chosen.append(sealed_for)

        def check(doc: Document) -> dict[str, str]:
            return reseal_values(doc.obj, ring, sealed_for, where=doc.where)

        return check

    def target(proxy: ControllerProxy | None) -> str:
        return chosen[0].sha256 if proxy is None else controller_sha256(proxy)

    _run(options, offline, controller_rotate, rewrite=True, verb="re-encrypted", target=target)
