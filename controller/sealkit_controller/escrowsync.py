"""Key Secrets and escrowed keys side by side: what is held where, backing up, and restoring.

Shared by the controller (restore before generating; escrow of keys found unescrowed) and by
`sealkit keys`. Calls are synchronous (the controller runs them in its thread pool). Key material
stays in memory: results name keys by fingerprint and Secret or vault secret name only.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sealkit.bitnami import SEALING_KEY_LABEL, SEALING_KEY_LABEL_ACTIVE
from sealkit.errors import SealkitError
from sealkit.escrow import EscrowEntry, key_id, private_pem
from sealkit.keys import PrivateKey
from sealkit_controller.keystore import keys_from_secret
from sealkit_controller.kubeapi import ApiError, KubeClient

logger = logging.getLogger("sealkit.escrow")

RESTORED_ANNOTATION = "sealkit.dev/restored-from"
ANY_KEY_SELECTOR = SEALING_KEY_LABEL  # every key Secret, whatever its label's value


class Vault(Protocol):
    """What the operations need of an escrow vault (`sealkit_controller.escrow_vault.EscrowVault`)."""

    url: str

    def entries(self, cluster: str) -> list[EscrowEntry]: ...

    def store(self, key: PrivateKey, cluster: str) -> EscrowEntry: ...

    def fetch(self, entry: EscrowEntry) -> PrivateKey: ...


@dataclass(frozen=True)
class HeldKey:
    """A key found in a key Secret of the cluster."""

    key: PrivateKey = field(repr=False)
    secret: str
    active: bool

    @property
    def fingerprint(self) -> str:
        return self.key.fingerprint

    @property
    def created(self) -> dt.datetime | None:
        return self.key.not_before


def held_keys(client: KubeClient, namespace: str) -> list[HeldKey]:
    """Keys of every key Secret in `namespace` (labelled active or not); unreadable Secrets are skipped."""
    found: list[HeldKey] = []
    for secret in client.list_secrets(namespace, ANY_KEY_SELECTOR):
        meta = secret.get("metadata") or {}
        name = str(meta.get("name") or "")
        active = (meta.get("labels") or {}).get(SEALING_KEY_LABEL) == SEALING_KEY_LABEL_ACTIVE
        try:
            keys = keys_from_secret(secret, f"key Secret {namespace}/{name}")
        except SealkitError as exc:
            logger.warning("ignoring key Secret %s/%s: %s", namespace, name, exc)
            continue
        found.extend(HeldKey(key, name, active) for key in keys)
    return found


def restored_secret_name(prefix: str, fingerprint: str) -> str:
    """`<prefix>-<16 hex of the key id>`: fixed by the key, so a second restore meets a 409, not a twin."""
    return f"{prefix.rstrip('-')}-{key_id(fingerprint)[:16]}"


def restored_key_manifest(
    key: PrivateKey,
    *,
    namespace: str,
    prefix: str,
    source: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Bitnami-format key Secret for a restored key, marked with where it came from."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {
            "name": restored_secret_name(prefix, key.fingerprint),
            "namespace": namespace,
            "labels": {**(labels or {}), SEALING_KEY_LABEL: SEALING_KEY_LABEL_ACTIVE},
            "annotations": {**(annotations or {}), RESTORED_ANNOTATION: source},
        },
        "data": {
            "tls.crt": base64.b64encode(key.certificate_pem or b"").decode(),
            "tls.key": base64.b64encode(private_pem(key)).decode(),
        },
    }


@dataclass(frozen=True)
class Restored:
    fingerprint: str
    secret: str
    created: bool  # False: a Secret of that name already held it


def restore_keys(
    client: KubeClient,
    namespace: str,
    keys: Iterable[tuple[PrivateKey, str]],
    *,
    prefix: str,
    present: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> list[Restored]:
    """Write a key Secret for each (key, source) whose fingerprint is not `present`; idempotent."""
    done: list[Restored] = []
    skip = set(present)
    for key, source in keys:
        if key.fingerprint in skip:
            continue
        manifest = restored_key_manifest(
            key, namespace=namespace, prefix=prefix, source=source, labels=labels, annotations=annotations
        )
        name = manifest["metadata"]["name"]
        try:
            client.create_secret(namespace, manifest)
            created = True
        except ApiError as exc:
            if exc.status != 409:
                raise
            existing = client.get_secret(namespace, name) or {}
            where = f"key Secret {namespace}/{name}"
            fps = {k.fingerprint for k in keys_from_secret(existing, where)} if existing else set()
            if key.fingerprint not in fps:
                raise SealkitError(
                    f"Secret {namespace}/{name} exists and holds another key; restore key {key.fingerprint} by hand"
                ) from None
            created = False
        skip.add(key.fingerprint)
        done.append(Restored(key.fingerprint, name, created))
        logger.info("restored sealing key %s into key Secret %s/%s from %s", key.fingerprint, namespace, name, source)
    return done


def restore_from_vault(
    client: KubeClient,
    vault: Vault,
    cluster: str,
    namespace: str,
    *,
    prefix: str,
    present: Iterable[str] = (),
    only: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> list[Restored]:
    """Every enabled escrowed key of `cluster` (or those in `only`) not `present`, as key Secrets."""
    wanted = set(only)
    skip = set(present)
    entries = [
        entry
        for entry in vault.entries(cluster)
        if entry.enabled and entry.fingerprint not in skip and (not wanted or entry.fingerprint in wanted)
    ]
    # Oldest first: with --key-order-priority=SecretCreationTimestamp the newest restored Secret seals.
    entries.sort(key=lambda entry: (entry.created or dt.datetime.min.replace(tzinfo=dt.UTC), entry.name))
    keys = [(vault.fetch(entry), f"{vault.url}/secrets/{entry.name}") for entry in entries]
    return restore_keys(client, namespace, keys, prefix=prefix, present=skip, labels=labels, annotations=annotations)


@dataclass(frozen=True)
class Escrowed:
    fingerprint: str
    name: str
    stored: bool  # False: it was escrowed already


def backup_to_vault(vault: Vault, cluster: str, keys: Iterable[PrivateKey]) -> list[Escrowed]:
    """Escrow every key that has no enabled escrow entry yet (each written, read back and compared)."""
    existing = {e.fingerprint: e for e in vault.entries(cluster) if e.enabled}
    done: list[Escrowed] = []
    seen: set[str] = set()
    for key in keys:
        if key.fingerprint in seen:
            continue
        seen.add(key.fingerprint)
        if key.fingerprint in existing:
            done.append(Escrowed(key.fingerprint, existing[key.fingerprint].name, False))
            continue
        entry = vault.store(key, cluster)
        done.append(Escrowed(key.fingerprint, entry.name, True))
    return done


def backup_document(held: Iterable[HeldKey], namespace: str) -> dict[str, Any]:
    """A v1 List of the active key Secrets (the backup form kubeseal's and sealkit's recovery read).

    Keys no longer labelled active are left out: a restore must not bring a retired key back into use.
    """
    items = []
    seen: set[str] = set()
    for item in held:
        if not item.active or item.fingerprint in seen:
            continue
        seen.add(item.fingerprint)
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {
                    "name": item.secret,
                    "namespace": namespace,
                    "labels": {SEALING_KEY_LABEL: SEALING_KEY_LABEL_ACTIVE},
                },
                "data": {
                    "tls.crt": base64.b64encode(item.key.certificate_pem or b"").decode(),
                    "tls.key": base64.b64encode(private_pem(item.key)).decode(),
                },
            }
        )
    return {"apiVersion": "v1", "kind": "List", "items": items}
