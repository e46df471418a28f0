"""`sealkit verify` and `sealkit reencrypt`: every SealedSecret under the given paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from sealkit.clients.kube.api import ClusterError
from sealkit.clients.kube.config import ClusterOptions
from sealkit.clients.kube.proxy import ControllerProxy, RateLimitedCaller
from sealkit.documents import Document
from sealkit.errors import InputError, UnsealError
from sealkit.keys import KeyRing, SealingCertificate
from sealkit.reseal import reseal_values, verify_sealed_secret
from sealkit.sealedsecret import parse_sealed_secret
from sealkit_cli import bulk
from sealkit_cli.certsource import resolve_certificate
from sealkit_cli.commands.unseal import load_keyring
from sealkit_cli.options import cluster_options, option

RATE_HELP = "Requests per second to the controller (its default limit is 2/s, burst 2)."


def _common(func: Any) -> Any:
    func = click.option("--rate", type=float, default=2.0, show_default=True, help=RATE_HELP)(func)
    func = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)(func)
    func = cluster_options(func)
    func = option(
        "private_keys",
        help="Work offline with these private keys instead of the controller. Repeatable or comma-separated.",
    )(func)
    return click.argument("paths", nargs=-1, required=True, type=click.Path())(func)


def controller_verify(proxy: ControllerProxy, caller: RateLimitedCaller) -> bulk.Check:
    def check(doc: Document) -> None:
        parse_sealed_secret(doc.obj, doc.where)
        response = caller.call(lambda: proxy.request("POST", "v1/verify", doc.obj, "application/json"))
        if response.status == 409:
            reason = response.body.decode(errors="replace").strip().splitlines()
            raise UnsealError(f"{doc.where}: does not open in the cluster" + (f": {reason[0]}" if reason else ""))
        if response.status != 200:
            raise ClusterError(f"{doc.where}: the controller answered HTTP {response.status} to verify")

    return check


def controller_rotate(proxy: ControllerProxy, caller: RateLimitedCaller) -> bulk.Check:
    def check(doc: Document) -> dict[str, str]:
        view = parse_sealed_secret(doc.obj, doc.where)
        response = caller.call(lambda: proxy.request("POST", "v1/rotate", doc.obj, "application/json"))
        if response.status == 409:
            raise UnsealError(f"{doc.where}: the controller cannot open it to re-encrypt")
        if response.status != 200:
            raise ClusterError(f"{doc.where}: the controller answered HTTP {response.status} to rotate")
        try:
            import json

            rotated = json.loads(response.body)["spec"]["encryptedData"]
        except (ValueError, KeyError, TypeError):
            raise ClusterError(f"{doc.where}: the controller's rotate answer is not a SealedSecret") from None
        if set(rotated) != set(view.encrypted_data):
            raise ClusterError(f"{doc.where}: the controller's rotate answer has other items")
        return {str(k): str(v) for k, v in rotated.items()}

    return check


def _run(
    options: dict[str, Any],
    offline: Callable[[KeyRing, ClusterOptions], bulk.Check],
    online: Callable[[ControllerProxy, RateLimitedCaller], bulk.Check],
    *,
    rewrite: bool,
    verb: str,
) -> None:
    """Plan the files, check each SealedSecret offline (with --private-key) or via the controller, report."""
    cluster: ClusterOptions = options["cluster"]
    work = bulk.plan(options["paths"])
    if options["private_keys"]:
        check = offline(load_keyring(options["private_keys"]), cluster)
    else:
        bulk.announce_controller_run(work.total, options["rate"])
        check = online(ControllerProxy(cluster), RateLimitedCaller(options["rate"]))
    bulk.exit_with(bulk.report(bulk.run(work, check, rewrite=rewrite), options["fmt"], verb))


@click.command("verify")
@_common
def verify(**options: Any) -> None:
    """Check that every SealedSecret under PATHS opens for its name, namespace and scope (read-only).

    \b
    sealkit verify clusters/prod/                             # through the controller
    sealkit verify --private-key keys.yaml apps/ --format json  # offline
    """

    def offline(ring: KeyRing, _: ClusterOptions) -> bulk.Check:
        def check(doc: Document) -> None:
            verify_sealed_secret(doc.obj, ring, where=doc.where)

        return check

    _run(options, offline, controller_verify, rewrite=False, verb="open")


@click.command("reencrypt")
@_common
@option("cert", help="Offline: the certificate to re-seal for, a PEM file or http(s) URL (default: the controller's).")
def reencrypt(**options: Any) -> None:
    """Re-seal every SealedSecret under PATHS with the newest key, rewriting the files in place.

    Only `spec.encryptedData` values change; comments, key order, quoting and other documents stay
    byte-identical. Scope, name and namespace are kept.

    \b
    sealkit reencrypt clusters/prod/
    sealkit reencrypt --private-key old-keys.yaml --cert new-cert.pem apps/
    """

    def offline(ring: KeyRing, cluster: ClusterOptions) -> bulk.Check:
        cert = options["cert"]
        if cert is None and not cluster.kubeconfig and not cluster.context:
            raise InputError("offline re-encryption needs --cert FILE|URL for the key to seal for")
        target: SealingCertificate = resolve_certificate(cert, cluster)

        def check(doc: Document) -> dict[str, str]:
            return reseal_values(doc.obj, ring, target, where=doc.where)

        return check

    _run(options, offline, controller_rotate, rewrite=True, verb="re-encrypted")
