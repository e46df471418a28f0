"""Bitnami's key Secrets: how a sealing key is held in the cluster, read back, made, restored and backed up.

Where it sits: the core. The controller (loading, generating, watching keys), key escrow (restoring into
key Secrets) and `sealkit keys` (listing, backup files) all read and write this one format: a
`kubernetes.io/tls` Secret in the controller's namespace with `tls.key`/`tls.crt`, labelled
`sealedsecrets.bitnami.com/sealed-secrets-key: active` while it is in use. The cluster is reached through
a client given as `SecretsApi` (`sealkit.clients.kube.KubeClient` satisfies it).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sealkit.bitnami import GROUP, KIND, SEALING_KEY_LABEL, SEALING_KEY_LABEL_ACTIVE
from sealkit.errors import SealkitError
from sealkit.escrow.scheme import key_id, parse_rfc3339, private_pem
from sealkit.keygen import GeneratedKey
from sealkit.keys import PrivateKey, load_private_keys

logger = logging.getLogger(__name__)

ACTIVE_SELECTOR = f"{SEALING_KEY_LABEL}={SEALING_KEY_LABEL_ACTIVE}"
ANY_KEY_SELECTOR = SEALING_KEY_LABEL  # every key Secret, whatever its label's value
RESTORED_ANNOTATION = "sealkit.io/restored-from"
TLS = "kubernetes.io/tls"


class SecretsApi(Protocol):
    """The Secret calls the key-Secret code needs of a Kubernetes client (raising `ServiceError`s)."""

    def list_secrets(self, namespace: str, label_selector: str) -> list[dict[str, Any]]: ...

    def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    def create_secret(self, namespace: str, body: Mapping[str, Any]) -> dict[str, Any]: ...


def is_active_key_secret(secret: Mapping[str, Any]) -> bool:
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return labels.get(SEALING_KEY_LABEL) == SEALING_KEY_LABEL_ACTIVE


def looks_like_key_secret(secret: Mapping[str, Any]) -> bool:
    """Carries the key label at all (active or not): relabelling must be seen to drop the key."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return SEALING_KEY_LABEL in labels


# What a controller writes on the Secrets it makes by unsealing (sealkit.io/, and an older sealkit.dev/ spelling).
UNSEALED_FROM_ANNOTATIONS = ("sealkit.io/unsealed-from", "sealkit.dev/unsealed-from")


def made_by_unsealing(secret: Mapping[str, Any]) -> bool:
    """Whether a Secret was written by unsealing a SealedSecret (owned by one, or carrying the record the
    controller writes on such Secrets), so never a key Secret the controller may take as its own: whoever can
    commit a SealedSecret to its namespace could otherwise plant the key everything is then sealed with."""
    meta = secret.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    annotations = meta.get("annotations")
    if isinstance(annotations, Mapping) and any(name in annotations for name in UNSEALED_FROM_ANNOTATIONS):
        return True
    owners = meta.get("ownerReferences")
    return isinstance(owners, list) and any(
        isinstance(owner, Mapping)
        and owner.get("kind") == KIND
        and str(owner.get("apiVersion") or "").startswith(f"{GROUP}/")
        for owner in owners
    )


def keys_from_secret(secret: Mapping[str, Any], where: str) -> list[PrivateKey]:
    """The keys in one key Secret (PKCS#1 or PKCS#8, with or without tls.crt), as the core parses backups."""
    document = {"apiVersion": "v1", "kind": "Secret", **{k: v for k, v in secret.items() if k != "kind"}}
    return load_private_keys(json.dumps(document).encode(), where)


def creation_time(secret: Mapping[str, Any]) -> dt.datetime | None:
    """A Secret's metadata.creationTimestamp, if readable."""
    raw = (secret.get("metadata") or {}).get("creationTimestamp")
    if not isinstance(raw, str) or not raw:
        return None
    return parse_rfc3339(raw)


def _tls_data(certificate_pem: bytes | None, key_pem: bytes) -> dict[str, str]:
    return {
        "tls.crt": base64.b64encode(certificate_pem or b"").decode(),
        "tls.key": base64.b64encode(key_pem).decode(),
    }


def key_secret_manifest(
    generated: GeneratedKey,
    *,
    namespace: str,
    prefix: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A key Secret exactly as Bitnami writes one: kubernetes.io/tls, generateName, the active label."""
    metadata: dict[str, Any] = {
        "generateName": prefix,
        "namespace": namespace,
        "labels": {**(labels or {}), SEALING_KEY_LABEL: SEALING_KEY_LABEL_ACTIVE},
    }
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": TLS,
        "metadata": metadata,
        "data": _tls_data(generated.certificate_pem, generated.private_pem),
    }


def successor_secret_name(prefix: str, predecessor: str | None, attempt: int = 0) -> str:
    """The key Secret name of the key that follows the key `predecessor` (its fingerprint; None: the first key).

    Fixed by the predecessor, so two controllers that both decide a renewal period's key is due (a new
    leader whose view lags, a leader that died after writing) name the same Secret: the second create is a
    409, never a second key for the period. `attempt` moves on past a Secret of that name holding no usable
    key (e.g. relabelled by hand). Like Bitnami's generateName: the prefix, then lower-case letters and digits.
    """
    digest = hashlib.sha256(f"successor-of:{predecessor or ''}:{attempt}".encode()).digest()
    suffix = base64.b32encode(digest).decode().lower()[:10]
    return f"{prefix}{suffix}"


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
        "type": TLS,
        "metadata": {
            "name": restored_secret_name(prefix, key.fingerprint),
            "namespace": namespace,
            "labels": {**(labels or {}), SEALING_KEY_LABEL: SEALING_KEY_LABEL_ACTIVE},
            "annotations": {**(annotations or {}), RESTORED_ANNOTATION: source},
        },
        "data": _tls_data(key.certificate_pem, private_pem(key)),
    }


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


def held_keys(client: SecretsApi, namespace: str, *, strict: bool = False) -> list[HeldKey]:
    """Keys of every key Secret in `namespace` (labelled active or not). An unreadable Secret is logged and
    skipped (the controller goes on with the keys it can read), or with `strict` raised: a backup, a list or a
    restore must not go on as if its key were not there (the CLI's `keys`)."""
    found: list[HeldKey] = []
    for secret in client.list_secrets(namespace, ANY_KEY_SELECTOR):
        meta = secret.get("metadata") or {}
        name = str(meta.get("name") or "")
        try:
            keys = keys_from_secret(secret, f"key Secret {namespace}/{name}")
        except SealkitError as exc:
            if strict:
                raise
            logger.warning("ignoring key Secret %s/%s: %s", namespace, name, exc)
            continue
        found.extend(HeldKey(key, name, is_active_key_secret(secret)) for key in keys)
    return found


class Held(Protocol):
    """A key found in a key Secret, in either format (`HeldKey`, `sealkit.wrapping.keysecret.HeldWrapped`)."""

    @property
    def fingerprint(self) -> str: ...

    @property
    def secret(self) -> str: ...

    @property
    def active(self) -> bool: ...


H = TypeVar("H", bound=Held)


def backup_secrets(
    held: Iterable[H],
    namespace: str,
    *,
    secret_type: str,
    labels: Mapping[str, str],
    data: Callable[[H], dict[str, str]],
) -> list[dict[str, Any]]:
    """Key Secrets of `secret_type` for a backup, each key once, with `labels`; `data` is one key's Secret data.

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
                "type": secret_type,
                "metadata": {"name": item.secret, "namespace": namespace, "labels": dict(labels)},
                "data": data(item),
            }
        )
    return items


def backup_document(held: Iterable[HeldKey], namespace: str) -> dict[str, Any]:
    """A v1 List of the active key Secrets (the backup form kubeseal's and sealkit's recovery read)."""
    items = backup_secrets(
        held,
        namespace,
        secret_type=TLS,
        labels={SEALING_KEY_LABEL: SEALING_KEY_LABEL_ACTIVE},
        data=lambda item: _tls_data(item.key.certificate_pem, private_pem(item.key)),
    )
    return {"apiVersion": "v1", "kind": "List", "items": items}
