"""`sealkit verify` and `sealkit reencrypt`: every SealedSecret under the given paths."""

from __future__ import annotations

from typing import Any

import click

from sealkit.documents import Document
from sealkit.errors import InputError, UnsealError
from sealkit.keys import KeyRing, SealingCertificate
from sealkit.reseal import reseal_values, verify_sealed_secret
from sealkit.sealedsecret import parse_sealed_secret
from sealkit_cli import bulk
from sealkit_cli.certsource import resolve_certificate
from sealkit_cli.cluster import ClusterError, ClusterOptions, ControllerProxy, RateLimitedCaller, cluster_options
from sealkit_cli.commands.unseal import load_keyring

RATE_HELP = "Requests per second to the controller (its default limit is 2/s, burst 2)."


def _common(func: Any) -> Any:
    func = click.option("--rate", type=float, default=2.0, show_default=True, help=RATE_HELP)(func)
    func = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)(func)
    func = cluster_options(func)
    func = click.option(
        "--private-key",
        "private_keys",
        multiple=True,
        help="Work offline with these private keys instead of the controller. Repeatable.",
    )(func)
    return click.argument("paths", nargs=-1, required=True, type=click.Path())(func)


def _controller_verify(proxy: ControllerProxy, caller: RateLimitedCaller) -> bulk.Check:
    def check(doc: Document) -> None:
        parse_sealed_secret(doc.obj, doc.where)
        response = caller.call(lambda: proxy.request("POST", "v1/verify", doc.obj, "application/json"))
        if response.status == 409:
            reason = response.body.decode(errors="replace").strip().splitlines()
            raise UnsealError(f"{doc.where}: does not open in the cluster" + (f": {reason[0]}" if reason else ""))
        if response.status != 200:
            raise ClusterError(f"{doc.where}: the controller answered HTTP {response.status} to verify")

    return check


def _controller_rotate(proxy: ControllerProxy, caller: RateLimitedCaller) -> bulk.Check:
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


@click.command("verify")
@_common
def verify(
    paths: tuple[str, ...],
    private_keys: tuple[str, ...],
    kubeconfig: str | None,
    context: str | None,
    controller_name: str,
    controller_namespace: str,
    fmt: str,
    rate: float,
) -> None:
    """Check that every SealedSecret under PATHS opens for its name, namespace and scope (read-only).

    \b
    sealkit verify clusters/prod/                       # through the controller
    sealkit verify --private-key keys.yaml apps/ -o json  # offline
    """
    work = bulk.plan(paths)
    if private_keys:
        ring: KeyRing = load_keyring(private_keys)

        def check(doc: Document) -> None:
            verify_sealed_secret(doc.obj, ring, where=doc.where)

        results = bulk.run(work, check, rewrite=False)
    else:
        proxy = ControllerProxy(ClusterOptions(kubeconfig, context, controller_name, controller_namespace))
        bulk.announce_controller_run(work.total, rate)
        results = bulk.run(work, _controller_verify(proxy, RateLimitedCaller(rate)), rewrite=False)
    bulk.exit_with(bulk.report(results, fmt, "open"))


@click.command("reencrypt")
@_common
@click.option("--cert", default=None, help="Offline: the certificate to re-seal for (default: the controller's).")
def reencrypt(
    paths: tuple[str, ...],
    private_keys: tuple[str, ...],
    kubeconfig: str | None,
    context: str | None,
    controller_name: str,
    controller_namespace: str,
    fmt: str,
    rate: float,
    cert: str | None,
) -> None:
    """Re-seal every SealedSecret under PATHS with the newest key, rewriting the files in place.

    Only `spec.encryptedData` values change; comments, key order, quoting and other documents stay
    byte-identical. Scope, name and namespace are kept.

    \b
    sealkit reencrypt clusters/prod/
    sealkit reencrypt --private-key old-keys.yaml --cert new-cert.pem apps/
    """
    cluster = ClusterOptions(kubeconfig, context, controller_name, controller_namespace)
    work = bulk.plan(paths)
    if private_keys:
        ring = load_keyring(private_keys)
        if cert is None and not kubeconfig and not context:
            raise InputError("offline re-encryption needs --cert FILE|URL for the key to seal for")
        target: SealingCertificate = resolve_certificate(cert, cluster)

        def check(doc: Document) -> dict[str, str]:
            return reseal_values(doc.obj, ring, target, where=doc.where)

        results = bulk.run(work, check, rewrite=True)
    else:
        proxy = ControllerProxy(cluster)
        bulk.announce_controller_run(work.total, rate)
        results = bulk.run(work, _controller_rotate(proxy, RateLimitedCaller(rate)), rewrite=True)
    bulk.exit_with(bulk.report(results, fmt, "re-encrypted"))
