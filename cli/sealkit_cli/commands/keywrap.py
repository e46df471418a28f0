"""`sealkit keys wrap` and `sealkit keys rewrap`: key Secrets that never rest in plaintext (docs/wrapped-keys.md).

`wrap` turns the plaintext key Secrets of the controller's namespace into wrapped key Secrets, each checked by
unwrapping it before the plaintext one is deleted; `rewrap` moves wrapped key Secrets to the KEK's current
version (after a KEK rotation). Both are idempotent; `--dry-run` says what would change. Output names keys by
fingerprint and Secret only. The core does the work (`sealkit.wrapping.convert`).
"""

from __future__ import annotations

from typing import Any

import click

from sealkit.bitnami import SEALING_KEY_PREFIX
from sealkit.errors import InputError
from sealkit_cli.options import cluster_options, kek_client, vault_options

KEK_HELP = (
    "The key-encryption key: a Key Vault or Managed HSM key URL, with or without version (without: its "
    "newest version), e.g. https://kv-prod.vault.azure.net/keys/sealing-kek. The controller's --kek-url. "
    "[env: SEALKIT_KEK_URL]"
)


def _common(func: Any) -> Any:
    func = click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")(func)
    func = click.option("--kek", "kek_url", envvar="SEALKIT_KEK_URL", default=None, metavar="URL", help=KEK_HELP)(func)
    return cluster_options(vault_options(func))


def _kube(kwargs: dict[str, Any]) -> Any:
    from sealkit_cli.commands.keys import _kube as kube

    return kube(kwargs)


@click.command("wrap")
@_common
@click.option(
    "--key-prefix",
    envvar="SEALED_SECRETS_KEY_PREFIX",
    default=SEALING_KEY_PREFIX,
    show_default=True,
    help="Wrapped key Secrets are named <prefix>-wrapped-<16 hex of the key id>.",
)
def wrap(kek_url: str | None, dry_run: bool, key_prefix: str, **kwargs: Any) -> None:
    """Wrap every plaintext key Secret of --controller-namespace with the KEK, in place.

    Each key is written as a wrapped key Secret (type sealkit.io/wrapped-sealing-key), read back and unwrapped
    to check it; only then is its plaintext Secret deleted. Needs get/list/create/delete on Secrets there,
    and wrap/unwrap on the KEK (Key Vault Crypto User). Run again after an interruption: it finishes the job.
    """
    from sealkit.wrapping.convert import wrap_key_secrets
    from sealkit_cli.commands.keys import _cluster_errors

    if not kek_url:
        raise InputError("keys wrap needs the key-encryption key to wrap with", where="--kek URL (or SEALKIT_KEK_URL)")
    namespace = kwargs["cluster"].controller_namespace
    client = _kube(kwargs)
    kek = kek_client(kwargs, kek_url)
    try:
        with _cluster_errors(f"wrapping the key Secrets of {namespace}"):
            done = wrap_key_secrets(client, namespace, kek, prefix=key_prefix, dry_run=dry_run)
    finally:
        kek.close()
    for item in done:
        if dry_run:
            click.echo(f"would wrap {item.fingerprint}: {namespace}/{item.source} -> {namespace}/{item.target}")
        else:
            verb = "wrapped" if item.action == "wrapped" else "already wrapped; removed the plaintext copy of"
            click.echo(
                f"{verb} {item.fingerprint}: {namespace}/{item.source} -> {namespace}/{item.target} ({item.kek_id})"
            )
    if not done:
        click.echo(f"no plaintext key Secrets in {namespace}: nothing to wrap")


@click.command("rewrap")
@_common
@click.option(
    "--vault",
    envvar="SEALKIT_ESCROW_VAULT",
    default=None,
    metavar="NAME|URL",
    help="Also re-escrow the rewrapped keys to this escrow vault (with --cluster-name). [env: SEALKIT_ESCROW_VAULT]",
)
@click.option("--cluster-name", envvar="SEALKIT_ESCROW_CLUSTER_NAME", default=None, help="This cluster's escrow name.")
def rewrap(kek_url: str | None, dry_run: bool, **kwargs: Any) -> None:
    """Re-wrap every wrapped key Secret with the KEK's current version (after rotating the KEK).

    Each key is unwrapped with the version that wrapped it, wrapped with the current one, checked by
    unwrapping, and its Secret's data replaced. Keys already on the current version are left alone. Keep the
    old KEK version enabled until this (and, with escrow, the re-escrow) has run. With --vault and
    --cluster-name the escrowed copies are rewritten with the new envelopes too.
    """
    from sealkit.wrapping.convert import REWRAPPED, rewrap_key_secrets
    from sealkit_cli.commands.keys import _cluster_errors, _escrow

    if not kek_url:
        raise InputError(
            "keys rewrap needs the key-encryption key to wrap with", where="--kek URL (or SEALKIT_KEK_URL)"
        )
    escrow = _escrow(kwargs, required=False)
    namespace = kwargs["cluster"].controller_namespace
    client = _kube(kwargs)
    kek = kek_client(kwargs, kek_url)
    try:
        with _cluster_errors(f"rewrapping the key Secrets of {namespace}"):
            done = rewrap_key_secrets(client, namespace, kek, dry_run=dry_run)
    finally:
        kek.close()
    for item in done:
        if item.action == REWRAPPED:
            click.echo(f"rewrapped {item.fingerprint} in {namespace}/{item.target} with {item.kek_id}")
        elif dry_run and item.action != "current":
            click.echo(f"would rewrap {item.fingerprint} in {namespace}/{item.target} (now {item.kek_id})")
        else:
            click.echo(f"current: {item.fingerprint} in {namespace}/{item.target}")
    if not done:
        click.echo(f"no wrapped key Secrets in {namespace}: nothing to rewrap")
    if escrow is not None and not dry_run:
        from sealkit.wrapping.keysecret import held_wrapped

        with _cluster_errors(f"listing the wrapped key Secrets of {namespace}"):
            held = held_wrapped(client, namespace)
        for wrapped in (h.wrapped for h in held if h.active):
            entry = escrow.vault.store(wrapped, escrow.cluster)
            click.echo(f"escrowed {wrapped.fingerprint} as {entry.name} in {escrow.vault.url} ({wrapped.kek_id})")
