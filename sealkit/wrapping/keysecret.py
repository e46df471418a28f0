"""Wrapped key Secrets: how a wrapped sealing key is held in the cluster, written, read back and listed.

Where it sits: the core, beside `sealkit.keysecrets` (Bitnami's plaintext format). A wrapped key Secret is
type `sealkit.io/wrapped-sealing-key`, labelled `sealkit.io/wrapped-sealing-key: active` while in use,
in the controller's namespace, named `<key prefix>-wrapped-<16 hex of the key id>` (fixed by the key, so
writing the same key twice meets a 409, never a twin). Its data: `tls.crt` in clear, the encrypted key,
the wrapped data key, the KEK's versioned id and the algorithm (`sealkit.wrapping.names`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sealkit.errors import KeyMaterialError, SealkitError
from sealkit.escrow.scheme import key_id
from sealkit.keysecrets import SecretsApi, backup_secrets, creation_time
from sealkit.validation import type_name
from sealkit.wrapping import names as n
from sealkit.wrapping.envelope import WrappedKey, assemble

logger = logging.getLogger(__name__)


def is_wrapped_key_secret(secret: Mapping[str, Any]) -> bool:
    """Labelled active: the controller uses its key."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return labels.get(n.WRAPPED_KEY_LABEL) == n.WRAPPED_KEY_ACTIVE


def looks_like_wrapped_key_secret(secret: Mapping[str, Any]) -> bool:
    """Carries the label at all, or the type: relabelling must be seen to drop the key."""
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return n.WRAPPED_KEY_LABEL in labels or secret.get("type") == n.WRAPPED_KEY_TYPE


def wrapped_secret_name(prefix: str, fingerprint: str) -> str:
    """`<prefix>-wrapped-<16 hex of the key id>` (never the bare prefix, which Bitnami reads as a legacy key)."""
    return f"{prefix.rstrip('-')}-wrapped-{key_id(fingerprint)[:16]}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def wrapped_key_manifest(
    wrapped: WrappedKey,
    *,
    namespace: str,
    prefix: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    label_value: str = n.WRAPPED_KEY_ACTIVE,
) -> dict[str, Any]:
    """The wrapped key Secret for `wrapped` (labels and annotations besides sealkit's own are kept)."""
    metadata: dict[str, Any] = {
        "name": wrapped_secret_name(prefix, wrapped.fingerprint),
        "namespace": namespace,
        "labels": {**(labels or {}), n.WRAPPED_KEY_LABEL: label_value},
    }
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": n.WRAPPED_KEY_TYPE,
        "metadata": metadata,
        "data": wrapped_data(wrapped),
    }


def wrapped_data(wrapped: WrappedKey) -> dict[str, str]:
    """The Secret data fields of `wrapped` (base64, as Secret data is)."""
    return {
        n.CERTIFICATE: _b64(wrapped.certificate_pem),
        n.CIPHERTEXT: _b64(wrapped.ciphertext),
        n.WRAPPED_DATA_KEY: _b64(wrapped.wrapped_data_key),
        n.KEK_ID: _b64(wrapped.kek_id.encode()),
        n.KEK_ALGORITHM: _b64(wrapped.algorithm.encode()),
        n.SCHEME: _b64(n.SCHEME_VERSION.encode()),
    }


def wrapped_from_secret(secret: Mapping[str, Any], where: str | None = None) -> WrappedKey:
    """The `WrappedKey` a wrapped key Secret holds, every field checked (one line, no values, on failure)."""
    meta = secret.get("metadata") or {}
    where = where or f"wrapped key Secret {meta.get('namespace', '')}/{meta.get('name', '')}"
    data = secret.get("data") or {}
    string_data = secret.get("stringData") or {}
    if not isinstance(data, Mapping) or not isinstance(string_data, Mapping):
        raise KeyMaterialError("data is not a map", where=where)

    def raw(name: str) -> bytes:
        given = string_data.get(name)
        if given is not None:  # as `sealkit.keys` reads a key Secret's fields: never one dropped unseen
            if not isinstance(given, str):
                raise KeyMaterialError(f"stringData.{name} is a {type_name(given)}, not a string", where=where)
            if data.get(name) is not None:
                raise KeyMaterialError(f"{name} is in both data and stringData (give it once)", where=where)
            return given.encode()
        value = data.get(name)
        if value is None or value == "":
            raise KeyMaterialError(f"data.{name} is missing", where=where)
        try:
            return base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            raise KeyMaterialError(f"data.{name} is not valid base64", where=where) from None

    def text(name: str) -> str:
        try:
            return raw(name).decode().strip()
        except UnicodeDecodeError:
            raise KeyMaterialError(f"data.{name} is not text", where=where) from None

    return assemble(
        where,
        scheme=text(n.SCHEME),
        certificate=raw(n.CERTIFICATE),
        kek_id=text(n.KEK_ID),
        algorithm=text(n.KEK_ALGORITHM),
        wrapped_data_key=raw(n.WRAPPED_DATA_KEY),
        ciphertext=raw(n.CIPHERTEXT),
    )


def key_birth(secret: Mapping[str, Any]) -> dt.datetime | None:
    """The Secret's creation time for --key-order-priority=SecretCreationTimestamp: the plaintext Secret's
    it replaced (recorded when it was wrapped), else its own."""
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    recorded = annotations.get(n.ORIGINAL_CREATION_ANNOTATION)
    if isinstance(recorded, str) and recorded:
        when = creation_time({"metadata": {"creationTimestamp": recorded}})
        if when is not None:
            return when
    return creation_time(secret)


@dataclass(frozen=True)
class HeldWrapped:
    """A wrapped key found in the cluster (its private key is not opened to list it)."""

    wrapped: WrappedKey
    secret: str
    active: bool
    resource_version: str = ""

    @property
    def fingerprint(self) -> str:
        return self.wrapped.fingerprint

    @property
    def created(self) -> dt.datetime | None:
        return self.wrapped.not_before


def backup_items(held: list[HeldWrapped], namespace: str) -> list[dict[str, Any]]:
    """Wrapped key Secrets as backup items (still wrapped: a backup file of them holds no plaintext key)."""
    return backup_secrets(
        held,
        namespace,
        secret_type=n.WRAPPED_KEY_TYPE,
        labels={n.WRAPPED_KEY_LABEL: n.WRAPPED_KEY_ACTIVE},
        data=lambda item: wrapped_data(item.wrapped),
    )


def held_wrapped(client: SecretsApi, namespace: str, *, strict: bool = False) -> list[HeldWrapped]:
    """Every wrapped key Secret in `namespace` (labelled active or not); unreadable ones are logged and skipped,
    or with `strict` raised (as `keysecrets.held_keys`)."""
    found: list[HeldWrapped] = []
    for secret in client.list_secrets(namespace, n.ANY_WRAPPED_SELECTOR):
        meta = secret.get("metadata") or {}
        name = str(meta.get("name") or "")
        try:
            wrapped = wrapped_from_secret(secret, f"wrapped key Secret {namespace}/{name}")
        except SealkitError as exc:
            if strict:
                raise
            logger.warning("ignoring %s", exc)
            continue
        found.append(HeldWrapped(wrapped, name, is_wrapped_key_secret(secret), str(meta.get("resourceVersion") or "")))
    return found
