"""`sealkit keys check-recovery PATHS`: would the config repo's SealedSecrets unseal after losing the cluster?

Offline (no cluster): every escrowed key of --cluster-name not disabled is read from --vault (wrapped ones are
unwrapped through their KEK, with the same credential; a disabled copy is named in the report, not used), and
every SealedSecret under PATHS is tried against them (the whole unseal, as the controller does it). Exit 0: all
unseal. Exit 1: some would be lost (each named: file, namespace/name, why), or an escrowed key is not
recoverable (the vault says it is gone or disabled, or what was read is not the key: `_not_recoverable`). Exit 2:
the check could not be done, at any point of the run (the vault or the KEK refused the identity, could not be
reached, failed or throttled past the retries): one line naming the key being read, why and the vault, never a
finding about the escrow. The nightly CI job of docs/disaster-recovery.md.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from sealkit.errors import InputError, KeyMaterialError, SealkitError, ServiceError
from sealkit_cli.options import kek_client, vault_options, warn

if TYPE_CHECKING:
    from sealkit.escrow.scheme import EscrowEntry
    from sealkit.wrapping.recovery import RecoveryReport, UnusableEscrow


@click.command("check-recovery")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--vault",
    envvar="SEALKIT_ESCROW_VAULT",
    default=None,
    metavar="NAME|URL",
    help="The Key Vault holding the escrowed keys (name or https URL). [env: SEALKIT_ESCROW_VAULT]",
)
@click.option(
    "--cluster-name",
    envvar="SEALKIT_ESCROW_CLUSTER_NAME",
    default=None,
    help="The cluster whose escrowed keys to check with. [env: SEALKIT_ESCROW_CLUSTER_NAME]",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@vault_options
def check_recovery(paths: tuple[str, ...], fmt: str, **kwargs: Any) -> None:
    """Report the SealedSecrets under PATHS that the escrowed keys of --cluster-name would NOT unseal.

    Exit status: 0 every SealedSecret unseals; 1 some would be lost, or an escrowed key listed as usable turns
    out unusable (gone or disabled since the listing, not the key); a copy disabled in the listing is reported,
    not used, and counts only through what it alone would open; 2 bad usage, or the vault or KEK could not be
    read (refused, unreachable, failing).
    Needs: get/list on the escrow vault's secrets (Key Vault Secrets User), and unwrap on the KEK for wrapped
    keys (Key Vault Crypto User). No cluster access.
    """
    from sealkit.escrow.sync import dated_warning, restore_order
    from sealkit.keys import KeyRing
    from sealkit.wrapping.envelope import WrappedKey, unwrap_private_key
    from sealkit.wrapping.recovery import RecoveryReport, check_documents
    from sealkit_cli import bulk
    from sealkit_cli.commands.keys import _escrow

    if not kwargs["vault"] or not kwargs["cluster_name"]:
        raise click.UsageError("check-recovery needs --vault and --cluster-name: where the escrowed keys are")
    planned = bulk.plan(paths, allow_empty=True)  # an unreadable file ends the command before any request (exit 2, #16)
    if not planned.files:
        raise InputError("no SealedSecrets found under PATHS", where=", ".join(paths))
    escrow = _escrow(kwargs, required=True)
    assert escrow is not None
    listed = escrow.vault.entries(escrow.cluster)
    entries = restore_order(listed)
    disabled = [entry for entry in listed if not entry.restorable]  # never used (as a restore would not use them)
    ring = KeyRing()
    report = RecoveryReport(escrow.cluster, 0)
    kek = None
    try:
        for entry in entries:
            try:
                material = escrow.vault.fetch(entry, dated=True)  # restore uses a dated copy: so does this check
            except SealkitError as exc:
                report.unusable.append(_unusable(entry, exc))
                continue
            if not entry.enabled:
                warn(dated_warning(entry))
            if isinstance(material, WrappedKey):
                kek = kek or kek_client(kwargs, None)  # settings it refuses end the command as they are (exit 2)
                try:
                    material = unwrap_private_key(material, kek, f"escrowed key {entry.name}")
                except SealkitError as exc:
                    report.unusable.append(_unusable(entry, exc))
                    continue
            ring.add(material)
    finally:
        if kek is not None:
            kek.close()
    report.keys = len(ring)
    check_documents(report, ring, [(str(path), docs) for path, _, docs in planned.files])
    _print(report, disabled, escrow.vault.url, fmt)
    if not report.ready:
        sys.exit(1)


def _unusable(entry: EscrowEntry, exc: SealkitError) -> UnusableEscrow:
    """The report's row for an escrowed key that would not come back; a vault that could not be read is no such
    finding: the check ends there (exit 2), one line naming the key being read, why and the vault."""
    from sealkit.wrapping.envelope import KekError
    from sealkit.wrapping.recovery import UnusableEscrow

    if not _not_recoverable(exc):
        done = "unwrapped" if isinstance(exc, KekError) else "read"
        what = f"could not check recovery: escrowed key {entry.name} could not be {done}: {exc.what}"
        raise ServiceError(what, where=exc.where) from None
    cause = exc.what if exc.where == f"escrowed key {entry.name}" else str(exc)  # the row names it
    return UnusableEscrow(entry.name, entry.fingerprint, cause)


def _not_recoverable(exc: SealkitError) -> bool:
    """Whether `exc` says the escrowed key itself would not come back (exit 1): the vault answered that its copy is
    gone or disabled, what was read is not the key (tags, payload, fingerprint), its KEK is gone, disabled or does
    not permit unwrapKey, or the key does not decrypt. Anything else (403 for the identity, 401, no token,
    unreachable, 5xx, throttled past the retries, an answer that is not Key Vault's) means the vault could not be
    read: nothing is known about the key, and the check could not be done (exit 2). Unknown failures count as
    that too, so exit 1 only ever names keys the vault answered for."""
    from sealkit.clients.keyvault.kek import VaultKekError
    from sealkit.escrow.sync import EscrowVaultError, Refusal, about_the_copy
    from sealkit.wrapping.envelope import KekError

    if isinstance(exc, EscrowVaultError):
        # A disabled copy and a missing role are both 403 (reason forbidden, the metric label): `refusal` says which.
        return about_the_copy(exc)
    if isinstance(exc, KekError):
        # A 403 KeyOperationForbidden (unwrapKey not among the key's key_ops) is the key's; ForbiddenByRbac is not.
        return exc.reason in ("not_found", "disabled", "invalid") or (
            isinstance(exc, VaultKekError) and exc.refusal is Refusal.OBJECT
        )
    # The envelope's KEK id is not a key URL (InputError), or the unwrapped data key does not open the key.
    return isinstance(exc, KeyMaterialError | InputError)


def _print(report: RecoveryReport, disabled: list[EscrowEntry], vault: str, fmt: str) -> None:
    """The report; `disabled`: copies the listing shows disabled, not used (not a finding by themselves: a key
    retired on purpose; a SealedSecret that needs one is reported as would be lost)."""
    if fmt == "json":
        unused = [{"name": entry.name, "fingerprint": entry.fingerprint} for entry in disabled]
        click.echo(json.dumps({**asdict(report), "disabled": unused, "vault": vault, "ready": report.ready}, indent=2))
        return
    for entry in disabled:
        why = "the copy is disabled in the vault, so it is not used"
        click.echo(f"disabled escrowed key {entry.name} ({entry.fingerprint}): {why}")
    for item in report.unusable:
        click.echo(f"unusable escrowed key {item.name} ({item.fingerprint}): {item.cause}")
    for lost in report.lost:
        click.echo(f"would be lost: {lost.path}: {lost.namespace}/{lost.name}: {lost.cause}")
    summary = (
        f"{report.checked} SealedSecret(s) in {report.files} file(s) checked against {report.keys} escrowed key(s) "
        f"of cluster {report.cluster} in {vault}"
    )
    if report.ready:
        click.echo(f"{summary}: all open")
    else:
        click.echo(f"{summary}: {len(report.lost)} would NOT open after losing the cluster")
