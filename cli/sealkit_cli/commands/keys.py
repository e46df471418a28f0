"""`sealkit keys`: the controller's key Secrets and their escrowed copies, side by side; backup and restore.

Key material is never printed: output names keys by fingerprint, Secret and vault secret name. It is
written only to a file the user names (mode 0600), to the vault, or into key Secrets. The Kubernetes
client, azure-identity and the Key Vault SDK are imported inside the commands that use them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import yaml

from sealkit.bitnami import SEALING_KEY_PREFIX
from sealkit.clients.kube.api import ClusterError
from sealkit.errors import InputError, KeyMaterialError, os_reason
from sealkit.escrow.scheme import EscrowError, check_cluster_name, rfc3339
from sealkit.filewrites import Staging
from sealkit_cli import io
from sealkit_cli.options import auth_from_options, cluster_options, vault_options, warn

if TYPE_CHECKING:
    from sealkit.clients.kube.api import KubeClient
    from sealkit.escrow.scheme import EscrowEntry
    from sealkit.escrow.sync import EscrowStore
    from sealkit.keys import PrivateKey
    from sealkit.keysecrets import HeldKey
    from sealkit.wrapping.keysecret import HeldWrapped

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
API_TIMEOUT = 30.0
CONNECT_TIMEOUT = 4.0  # an unreachable cluster ends the command within seconds


@click.group("keys")
def keys() -> None:
    """Key Secrets and escrowed keys: list, back up, restore; wrap with a KEK; check recovery.

    The controller's key Secrets live in --controller-namespace. Escrowed copies live in an Azure Key
    Vault (--vault NAME or URL) under the names `sealkit-<cluster name>-<key id>` (see
    docs/disaster-recovery.md).
    """


def _escrow_options(func: F) -> F:
    options = [
        click.option(
            "--vault",
            envvar="SEALKIT_ESCROW_VAULT",
            default=None,
            metavar="NAME|URL",
            help="The Key Vault holding escrowed keys: its name (kv-prod; public cloud, or --vault-url / "
            "$SEALKIT_VAULT_URL_<NAME>) or its https:// URL. [env: SEALKIT_ESCROW_VAULT]",
        ),
        click.option(
            "--cluster-name",
            envvar="SEALKIT_ESCROW_CLUSTER_NAME",
            default=None,
            help="This cluster's name in escrow secret names and tags (the controller's --escrow-cluster-name). "
            "[env: SEALKIT_ESCROW_CLUSTER_NAME]",
        ),
    ]
    func = vault_options(func)
    for option in reversed(options):
        func = option(func)
    return cluster_options(func)


# --- the cluster side -----------------------------------------------------------------------------


def _kube(kwargs: dict[str, Any]) -> KubeClient:
    from sealkit.clients.kube.config import connect, quiet_client_loggers

    quiet_client_loggers()
    return connect(kwargs["cluster"], timeout=API_TIMEOUT, connect_timeout=CONNECT_TIMEOUT, retries=0)


@contextmanager
def _cluster_errors(what: str) -> Iterator[None]:
    from sealkit.clients.kube.api import ApiError

    try:
        yield
    except ApiError as exc:
        hint = " (not allowed: this needs get/list/create on Secrets there)" if exc.status in (401, 403) else ""
        raise ClusterError(f"{exc}{hint}", where=what) from None


def _held(client: KubeClient, namespace: str) -> list[HeldKey]:
    from sealkit.keysecrets import held_keys

    with _cluster_errors(f"listing key Secrets in {namespace} at {client.host}"):
        return held_keys(client, namespace, strict=True)  # a key Secret it cannot read: one line naming it


def _held_wrapped(client: KubeClient, namespace: str) -> list[HeldWrapped]:
    from sealkit.wrapping.keysecret import held_wrapped

    with _cluster_errors(f"listing wrapped key Secrets in {namespace}"):
        return held_wrapped(client, namespace, strict=True)


# --- the vault side -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Escrow:
    vault: EscrowStore
    cluster: str


def _vault_url(vault: str, kwargs: dict[str, Any]) -> str:
    from sealkit.vault.urls import parse_overrides, vault_url

    return vault_url(vault, "--vault", parse_overrides(kwargs["vault_urls"]), os.environ)


def _escrow(kwargs: dict[str, Any], *, required: bool) -> Escrow | None:
    vault, cluster = kwargs["vault"], kwargs["cluster_name"]
    if not vault and not cluster and not required:
        return None
    if not vault or not cluster:
        missing = "--vault" if not vault else "--cluster-name"
        raise InputError("escrow needs both --vault and --cluster-name; this one is missing", where=missing)
    cluster = check_cluster_name(cluster, where="--cluster-name")
    url = _vault_url(vault, kwargs)
    from sealkit.clients.keyvault.credentials import make_credential, quiet_azure_logging
    from sealkit.clients.keyvault.escrow import EscrowVault
    from sealkit.retry import RetryPolicy

    quiet_azure_logging()
    options = auth_from_options(kwargs)
    credential = make_credential(options)

    store = EscrowVault(
        url,
        credential,
        timeout=options.timeout,
        verify_challenge_resource=not options.accepted_resources,
        retry=RetryPolicy(attempts=4, max_wait=kwargs["max_retry_wait"]),
    )
    return Escrow(store, cluster)


# --- list -----------------------------------------------------------------------------------------


@keys.command("list")
@_escrow_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_keys(fmt: str, **kwargs: Any) -> None:
    """Key Secrets and escrowed keys side by side: fingerprint, created, active, escrowed.

    ACTIVE: `sealing` (the newest active key: it seals), `yes` (opens), `no` (a key Secret no longer
    labelled active), `-` (not in the cluster). WRAPPED: `yes` (a wrapped key Secret: the key rests
    encrypted by a KEK), `no` (plaintext), `-`. ESCROWED: `yes`, `wrapped` (the copy is wrapped),
    `disabled`, `expired`, `not-yet-valid` (the vault's exp/nbf: not used), `no`, or `-` without --vault.
    """
    escrow = _escrow(kwargs, required=False)
    namespace = kwargs["cluster"].controller_namespace
    client = _kube(kwargs)
    held: list[Any] = [*_held(client, namespace), *_held_wrapped(client, namespace)]
    entries = escrow.vault.entries(escrow.cluster) if escrow else []
    rows = _rows(held, entries, escrow is not None)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no key Secrets in {namespace}" + (f" and no escrowed keys for {escrow.cluster}" if escrow else ""))
        return
    headers = ("FINGERPRINT", "CREATED", "KEY SECRET", "ACTIVE", "WRAPPED", "ESCROWED", "VAULT SECRET")
    table = [headers] + [
        (
            r["fingerprint"],
            r["created"] or "-",
            r["secret"] or "-",
            r["active"],
            "yes" if r["wrappedBy"] else ("no" if r["secret"] else "-"),
            r["escrowed"],
            r["vaultSecret"] or "-",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    for row in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _rows(held: list[Any], entries: list[Any], with_vault: bool) -> list[dict[str, Any]]:
    by_fp: dict[str, dict[str, Any]] = {}
    active = [h for h in held if h.active]
    newest = max(active, key=lambda h: h.created.timestamp() if h.created else 0.0).fingerprint if active else None
    for h in held:
        row = by_fp.setdefault(h.fingerprint, _row(h.fingerprint, h.created))
        row["secret"] = row["secret"] or h.secret
        state = "sealing" if h.fingerprint == newest else "yes" if h.active else "no"
        if row["active"] in ("-", "no"):
            row["active"] = state
        wrapped = getattr(h, "wrapped", None)
        if wrapped is not None:
            row["wrappedBy"] = wrapped.kek_id
    for e in entries:
        row = by_fp.setdefault(e.fingerprint, _row(e.fingerprint, e.created))
        if row["escrowed"] not in ("yes", "wrapped"):
            unused = (e.state or "disabled").replace(" ", "-")
            row["escrowed"] = ("wrapped" if e.wrapped else "yes") if e.enabled else unused
            row["vaultSecret"] = e.name
    for row in by_fp.values():
        if row["escrowed"] == "-" and with_vault:
            row["escrowed"] = "no"
    return sorted(by_fp.values(), key=lambda r: (r["created"] or "", r["fingerprint"]), reverse=True)


def _row(fingerprint: str, created: Any) -> dict[str, Any]:
    return {
        "fingerprint": fingerprint,
        "created": rfc3339(created) if created else None,
        "secret": None,
        "active": "-",
        "wrappedBy": None,
        "escrowed": "-",
        "vaultSecret": None,
    }


# --- backup ---------------------------------------------------------------------------------------


def write_private_file(path: Path, text: str, *, force: bool) -> None:
    """Write `text` to `path`, mode 0600 from the first byte, all or nothing: a temporary file beside it
    (0600 from creation), flushed to disk, then linked into place, or with `force` renamed over an existing
    file (atomically: the old file or the new one, never a part). On any failure (a full disk) the temporary
    and the directories made for it are removed, and the line names `path`, never the temporary."""
    if str(path) == "-":
        raise InputError("key material is not written to standard output; name a file", where="--to-file -")
    if not force and os.path.lexists(path):  # before any key material is written
        raise InputError("exists; pass --force to overwrite it", where=path)
    target = io.output_target(str(path), stream_refused="key material is not written to a pipe or device; name a file")
    assert target is not None  # a stream is refused
    path = target
    staging = Staging()
    try:
        staging.stage_new(path, text, mode=0o600, sync=True)  # 'cannot write (why): path'
        Path(staging.temps[path]).chmod(0o600)  # exactly 0600, whatever the umask
        staging.place(path, replace=force)  # without --force, never over a file that appeared meanwhile
    except OSError as exc:  # the chmod
        staging.discard()
        raise InputError(f"cannot write ({os_reason(exc)})", where=path) from None
    except BaseException:
        staging.discard()
        raise
    staging.made_dirs.clear()  # they hold the file now


@keys.command("backup")
@_escrow_options
@click.option(
    "--to-file",
    "-o",
    "to_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the active keys as a v1 List of key Secrets (mode 0600). Keep it as safe as the cluster.",
)
@click.option("--force", is_flag=True, help="Overwrite --to-file if it exists.")
def backup(to_file: Path | None, force: bool, **kwargs: Any) -> None:
    """Back up the active sealing keys: escrow them to --vault, and/or write them to --to-file.

    Escrow writes each key not yet escrowed as a new secret, reads it back and compares the
    fingerprint before reporting it escrowed.
    """
    if to_file is None and not kwargs["vault"] and not kwargs["cluster_name"]:
        raise InputError(
            "backup needs a file or an escrow vault (or both)", where="--to-file, or --vault and --cluster-name"
        )
    escrow = _escrow(kwargs, required=to_file is None)
    namespace = kwargs["cluster"].controller_namespace
    client = _kube(kwargs)
    held = [h for h in _held(client, namespace) if h.active]
    wrapped = [h for h in _held_wrapped(client, namespace) if h.active]
    if not held and not wrapped:
        raise InputError("no active key Secrets to back up", where=f"namespace {namespace} at {client.host}")
    if to_file is not None:
        from sealkit.keysecrets import backup_document
        from sealkit.wrapping.keysecret import backup_items

        document = backup_document(held, namespace)
        document["items"] += backup_items(wrapped, namespace)
        write_private_file(to_file, yaml.safe_dump(document, sort_keys=False), force=force)
        click.echo(f"wrote {len(document['items'])} key(s) to {to_file} (mode 0600; wrapped keys stay wrapped)")
    if escrow is not None:
        from sealkit.escrow.sync import backup_to_vault

        material: list[Any] = [h.key for h in held] + [h.wrapped for h in wrapped]
        for done in backup_to_vault(escrow.vault, escrow.cluster, material):
            verb = "escrowed" if done.stored else "already escrowed"
            why = f" ({done.replaced}; a new version was written)" if done.replaced else ""
            click.echo(f"{verb} {done.fingerprint} as {done.name} in {escrow.vault.url}{why}")


def _refuse_another_keys_certificate(key: PrivateKey, *, pem_file: bool) -> None:
    """A restored key Secret's tls.crt must be its key's certificate, as the controller requires (it ignores a
    key Secret whose tls.crt is another key's, or does not parse), and what `sealkit cert` and `sealkit dev`
    would hand out for sealing. Refused before anything is written, naming the document. The file is read
    unchecked (`load_key_material`) so that this refusal can say nothing was restored."""
    from sealkit.certificates import PEM_BLOCKS, SECRET_FIELDS, refuse_another_keys_certificate

    names = PEM_BLOCKS if pem_file else SECRET_FIELDS
    try:
        refuse_another_keys_certificate(key.certificate_pem, key.public_key, key.source, names=names)
    except KeyMaterialError as exc:
        raise InputError(f"{exc.what}; nothing restored", where=exc.where) from None


def _given(key: Any, source: str) -> Callable[[], tuple[Any, str]]:
    return lambda: (key, source)


def _fetcher(vault: EscrowStore, entry: EscrowEntry) -> Callable[[], tuple[Any, str]]:
    """A restore's read of `entry` (a dated copy too: `EscrowEntry.restorable`), saying so when it is dated."""
    from sealkit.escrow.sync import dated_warning, vault_source

    def fetch() -> tuple[Any, str]:
        if not entry.enabled:
            warn(dated_warning(entry))
        return vault.fetch(entry, dated=True), vault_source(vault, entry)

    return fetch


def _not_restored(entry: EscrowEntry, exc: EscrowError, *, others: bool) -> EscrowError:
    """A restore reads every key before it writes any: a copy that fails ends it with nothing written, in one line
    naming the escrowed key (name and fingerprint). A copy that is not its key (or is gone or disabled since the
    listing) says how to restore the `others`; a read the vault refused the caller (or could not answer) names the
    key being read, why, then the vault."""
    from sealkit.escrow.sync import about_the_copy, reading_failed

    if not about_the_copy(exc):
        return reading_failed(entry, exc, suffix="; nothing restored")
    hint = " (restore the other keys with --fingerprint)" if others else ""
    named, plain = f"escrowed key {entry.name} ({entry.fingerprint})", f"escrowed key {entry.name}"
    if exc.where == plain or exc.where.startswith(plain + " "):
        where = named + exc.where[len(plain) :]
    else:  # the vault's answer (not found, disabled): the vault is where
        where = f"{named} in {exc.where}" if exc.where else named
    return EscrowError(f"{exc.what}; nothing restored{hint}", where=where)


# --- restore --------------------------------------------------------------------------------------


@keys.command("restore")
@_escrow_options
@click.option(
    "--from-file",
    "-f",
    "from_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Restore from a backup file (v1 List or key Secrets, or PEM) instead of --vault.",
)
@click.option("--fingerprint", "fingerprints", multiple=True, help="Only this key (repeatable; default: all).")
@click.option(
    "--key-prefix",
    envvar="SEALED_SECRETS_KEY_PREFIX",
    default=SEALING_KEY_PREFIX,
    show_default=True,
    help="Restored key Secrets are named <prefix>-<16 hex of the key id>.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be restored; write nothing.")
def restore(
    from_file: Path | None, fingerprints: tuple[str, ...], key_prefix: str, dry_run: bool, **kwargs: Any
) -> None:
    """Restore sealing keys into the cluster as active key Secrets (keys already held are skipped).

    sealkit's controller uses restored keys at once; a Bitnami controller needs a restart.
    """
    from sealkit.escrow.sync import restore_keys, restore_order

    namespace = kwargs["cluster"].controller_namespace
    # fingerprint -> how to get (key, source); vault values are fetched only for keys to restore
    sources: dict[str, Callable[[], tuple[Any, str]]] = {}
    listed: dict[str, EscrowEntry] = {}  # fingerprint -> the escrowed copy a vault restore reads
    if from_file is not None:  # the file first: bad input ends the command before any request
        from sealkit.reading import read_file
        from sealkit.wrapping.material import load_key_material

        source = f"file {from_file.name}"
        material = load_key_material(read_file(from_file), str(from_file))
        for key in material.keys:
            _refuse_another_keys_certificate(key, pem_file=key.source == str(from_file))
        found: list[Any] = [*material.keys, *material.wrapped]
        for key in found:
            sources.setdefault(key.fingerprint, _given(key, source))
    client = _kube(kwargs)
    present = {h.fingerprint for h in _held(client, namespace)} | {
        h.fingerprint for h in _held_wrapped(client, namespace)
    }
    if from_file is None:
        escrow = _escrow(kwargs, required=True)
        assert escrow is not None
        vault = escrow.vault
        entries = vault.entries(escrow.cluster)
        for entry in restore_order(entries):
            sources[entry.fingerprint] = _fetcher(vault, entry)
            listed[entry.fingerprint] = entry
        if not sources:
            unusable = sorted({e.state or "disabled" for e in entries if not e.restorable})
            why = f" (only {', '.join(unusable)} copies, which are not used)" if unusable else ""
            raise InputError(f"no escrowed keys for cluster {escrow.cluster}{why}", where=vault.url)
    unknown = set(fingerprints) - set(sources) - present
    if unknown:
        raise InputError("no such key to restore", where=f"--fingerprint {', '.join(sorted(unknown))}")
    selected = [fp for fp in sources if not fingerprints or fp in fingerprints]
    for fp in selected:
        if fp in present:
            click.echo(f"already in the cluster: {fp}")
    wanted = [fp for fp in selected if fp not in present]
    todo = []
    for fp in wanted:  # every key read before any is written: all or none
        try:
            todo.append(sources[fp]())
        except EscrowError as exc:
            if fp not in listed:
                raise
            raise _not_restored(listed[fp], exc, others=len(wanted) > 1) from None
    if dry_run:
        for key, source in todo:
            click.echo(f"would restore {key.fingerprint} from {source}")
        return
    with _cluster_errors(f"writing key Secrets in {namespace} at {client.host}"):
        done = restore_keys(client, namespace, todo, prefix=key_prefix, present=present)
    for item in done:
        verb = "restored" if item.created else "already restored"
        click.echo(f"{verb} {item.fingerprint} into key Secret {namespace}/{item.secret}")
    if not done:
        click.echo("nothing to restore: every key is already in the cluster")


def _register() -> None:
    """The subcommands kept in their own modules (cheap to import: SDKs load inside the commands)."""
    from sealkit_cli.commands.keywrap import rewrap, wrap
    from sealkit_cli.commands.recovery import check_recovery

    for command in (wrap, rewrap, check_recovery):
        keys.add_command(command)


_register()
