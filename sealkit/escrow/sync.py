"""Key Secrets and escrowed keys side by side: what is backed up, and what is restored (and how).

Where it sits: the core, shared by the controller (restore before generating; escrow the keys found
unescrowed) and by `sealkit keys`. The cluster is a `SecretsApi` and the vault an `EscrowStore`
(`sealkit.clients.kube.KubeClient` and `sealkit.clients.keyvault.escrow.EscrowVault` in production).
Calls are synchronous (the controller runs them in its thread pool). Key material stays in memory:
results name keys by fingerprint and Secret or vault secret name only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sealkit.errors import Refusal as Refusal
from sealkit.errors import SealkitError, ServiceError
from sealkit.escrow.scheme import Escrowable, EscrowEntry, EscrowError
from sealkit.keysecrets import RESTORED_ANNOTATION, SecretsApi, keys_from_secret, restored_key_manifest
from sealkit.wrapping.envelope import WrappedKey
from sealkit.wrapping.keysecret import looks_like_wrapped_key_secret, wrapped_from_secret, wrapped_key_manifest

logger = logging.getLogger(__name__)

# Why an escrow call failed: the `reason` label of the escrow failure metric.
FORBIDDEN = "forbidden"
UNREACHABLE = "unreachable"
CREDENTIAL = "credential"
THROTTLED = "throttled"
CONFLICT = "conflict"
NOT_FOUND = "not_found"
INVALID = "invalid"
OTHER = "error"
REASONS = (FORBIDDEN, UNREACHABLE, CREDENTIAL, THROTTLED, CONFLICT, NOT_FOUND, INVALID, OTHER)


class EscrowVaultError(EscrowError):
    """The vault did not store, list or return an escrowed key; `reason` is one of `REASONS` (a metric label),
    `refusal` who refused when the vault refused (else None)."""

    def __init__(
        self,
        message: str,
        reason: str = OTHER,
        retry_after: float | None = None,
        *,
        where: str | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        super().__init__(message, where=where)
        self.reason = reason
        self.retry_after = retry_after
        self.refusal = refusal


def about_the_copy(exc: EscrowError) -> bool:
    """Whether `exc` is the vault's answer about the escrowed copy itself: gone, disabled, or not the key its name
    and tags say (the copy would not come back, whoever asked). Otherwise (a missing role, no token, unreachable,
    5xx, throttled past the retries, an answer that is not Key Vault's) the vault could not be read, and nothing is
    known about the copy."""
    if isinstance(exc, EscrowVaultError):
        return exc.reason in (NOT_FOUND, INVALID) or exc.refusal is Refusal.OBJECT
    return True  # the value read does not parse or check (sealkit.escrow.scheme)


def failure_reason(exc: Exception) -> str:
    """The metric reason of any escrow failure."""
    if isinstance(exc, EscrowVaultError):
        return exc.reason
    return INVALID if isinstance(exc, EscrowError) else OTHER


class EscrowStore(Protocol):
    """What the operations need of an escrow vault."""

    @property
    def url(self) -> str: ...

    def entries(self, cluster: str) -> list[EscrowEntry]: ...

    def store(self, key: Escrowable, cluster: str) -> EscrowEntry: ...

    def fetch(self, entry: EscrowEntry, *, dated: bool = False) -> Escrowable:
        """The key `entry` names, checked; `dated`: a copy that is only expired or not yet valid is read too."""
        ...


@dataclass(frozen=True)
class Restored:
    fingerprint: str
    secret: str
    created: bool  # False: a Secret of that name already held it


def restore_manifest(
    key: Escrowable,
    *,
    namespace: str,
    prefix: str,
    source: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The key Secret a restored key becomes: Bitnami's format for a plaintext key, a wrapped key Secret
    for a wrapped one (marked with where it came from either way)."""
    if isinstance(key, WrappedKey):
        marked = {**(annotations or {}), RESTORED_ANNOTATION: source}
        return wrapped_key_manifest(key, namespace=namespace, prefix=prefix, labels=labels, annotations=marked)
    return restored_key_manifest(
        key, namespace=namespace, prefix=prefix, source=source, labels=labels, annotations=annotations
    )


def _fingerprints_of(secret: Mapping[str, Any], where: str) -> set[str]:
    if looks_like_wrapped_key_secret(secret):
        return {wrapped_from_secret(secret, where).fingerprint}
    return {k.fingerprint for k in keys_from_secret(secret, where)}


def restore_keys(
    client: SecretsApi,
    namespace: str,
    keys: Iterable[tuple[Escrowable, str]],
    *,
    prefix: str,
    present: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    prepare: Callable[[Escrowable], Escrowable] | None = None,
) -> list[Restored]:
    """Write a key Secret for each (key, source) whose fingerprint is not `present`; idempotent.

    `prepare` may turn a key into what is written (the controller with a KEK wraps plaintext keys, so it
    never writes one).
    """
    done: list[Restored] = []
    skip = set(present)
    for key, source in keys:
        if key.fingerprint in skip:
            continue
        material = prepare(key) if prepare is not None else key
        manifest = restore_manifest(
            material, namespace=namespace, prefix=prefix, source=source, labels=labels, annotations=annotations
        )
        name = manifest["metadata"]["name"]
        try:
            client.create_secret(namespace, manifest)
            created = True
        except ServiceError as exc:
            if exc.status != 409:
                raise
            existing = client.get_secret(namespace, name) or {}
            where = f"key Secret {namespace}/{name}"
            fps = _fingerprints_of(existing, where) if existing else set()
            if key.fingerprint not in fps:
                raise SealkitError(
                    f"it exists and holds another key; restore key {key.fingerprint} by hand", where=where
                ) from None
            created = False
        skip.add(key.fingerprint)
        done.append(Restored(key.fingerprint, name, created))
        kind = "wrapped sealing key" if isinstance(material, WrappedKey) else "sealing key"
        logger.info("restored %s %s into key Secret %s/%s from %s", kind, key.fingerprint, namespace, name, source)
    return done


def restore_order(entries: Iterable[EscrowEntry]) -> list[EscrowEntry]:
    """Restorable entries (`EscrowEntry.restorable`), oldest first: with --key-order-priority=SecretCreationTimestamp
    the newest restored Secret seals, so creation order must be age order."""
    usable = [entry for entry in entries if entry.restorable]
    return sorted(usable, key=lambda entry: (entry.created or dt.datetime.min.replace(tzinfo=dt.UTC), entry.name))


def dated_warning(entry: EscrowEntry) -> str:
    """What a restore from a dated copy says (the key is used; the copy wants a fresh version)."""
    return (
        f"escrowed key {entry.name} ({entry.fingerprint}) is {entry.state} in the vault: its key is used; "
        "`sealkit keys backup --vault` (or the controller's escrow) writes a fresh version"
    )


def vault_source(vault: EscrowStore, entry: EscrowEntry) -> str:
    """Where a restored key came from, as its key Secret's restored-from annotation says."""
    return f"{vault.url}/secrets/{entry.name}"


def restore_from_vault(
    client: SecretsApi,
    vault: EscrowStore,
    cluster: str,
    namespace: str,
    *,
    prefix: str,
    present: Iterable[str] = (),
    only: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    prepare: Callable[[Escrowable], Escrowable] | None = None,
) -> list[Restored]:
    """Every restorable escrowed key of `cluster` (or those in `only`) not `present`, as key Secrets (a dated
    copy with a warning: `EscrowEntry.restorable`)."""
    wanted = set(only)
    skip = set(present)
    entries = [
        entry
        for entry in restore_order(vault.entries(cluster))
        if entry.fingerprint not in skip and (not wanted or entry.fingerprint in wanted)
    ]
    for entry in entries:
        if not entry.enabled:
            logger.warning("%s", dated_warning(entry))
    keys = [(vault.fetch(entry, dated=True), vault_source(vault, entry)) for entry in entries]
    return restore_keys(
        client, namespace, keys, prefix=prefix, present=skip, labels=labels, annotations=annotations, prepare=prepare
    )


def _unusable_copy(exc: EscrowError) -> str:
    """Why a backup writes a fresh version over a listed copy it read (`about_the_copy`)."""
    if isinstance(exc, EscrowVaultError) and exc.reason == NOT_FOUND:
        return "the copy there was deleted since the listing"
    if isinstance(exc, EscrowVaultError) and exc.refusal is Refusal.OBJECT:
        return "the copy there was disabled since the listing"
    return f"the copy there cannot be used ({exc.what})"


def reading_failed(entry: EscrowEntry, exc: EscrowError, *, suffix: str = "") -> EscrowError:
    """`exc` (a read of `entry` the vault could not answer) naming the escrowed key being read, its reason, wait
    and refusal kept: `escrowed key <name> (<fingerprint>) could not be read: <why><suffix>: <the vault>`."""
    what = f"escrowed key {entry.name} ({entry.fingerprint}) could not be read: {exc.what}{suffix}"
    if isinstance(exc, EscrowVaultError):
        return EscrowVaultError(what, exc.reason, exc.retry_after, where=exc.where or None, refusal=exc.refusal)
    return EscrowError(what, where=exc.where or None)


@dataclass(frozen=True)
class Escrowed:
    fingerprint: str
    name: str
    stored: bool  # False: it was escrowed already (its copy read and checked)
    replaced: str = ""  # stored over a copy that could not be used: why not


def backup_to_vault(vault: EscrowStore, cluster: str, keys: Iterable[Escrowable]) -> list[Escrowed]:
    """Escrow every key without a usable escrowed copy (each written, read back and compared).

    A listed copy counts only once it has been read and checked (it holds the key its name and tags say):
    a copy that is disabled, expired, not yet valid or does not hold its key gets a new version, and so does one
    deleted or disabled since the listing (`about_the_copy`). A read the vault refuses the caller (or cannot
    answer) ends the backup, naming the escrowed key being read.
    """
    entries = {e.fingerprint: e for e in vault.entries(cluster)}
    done: list[Escrowed] = []
    seen: set[str] = set()
    for key in keys:
        if key.fingerprint in seen:
            continue
        seen.add(key.fingerprint)
        entry = entries.get(key.fingerprint)
        why = ""
        if entry is not None and not entry.enabled:
            why = f"the copy there is {entry.state or 'disabled'}"
        elif entry is not None:
            try:
                vault.fetch(entry)
            except EscrowError as exc:
                if not about_the_copy(exc):  # the vault could not be asked: nothing is known
                    raise reading_failed(entry, exc) from None
                why = _unusable_copy(exc)
            else:
                done.append(Escrowed(key.fingerprint, entry.name, False))
                continue
        stored = vault.store(key, cluster)
        done.append(Escrowed(key.fingerprint, stored.name, True, why))
    return done
