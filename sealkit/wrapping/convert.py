"""`sealkit keys wrap` and `rewrap`: plaintext key Secrets become wrapped ones; wrapped ones move to a new KEK version.

Where it sits: the core, over a cluster client (`KeySecretsClient`; `sealkit.clients.kube.KubeClient`) and a
`KeyWrapper` (`sealkit.clients.keyvault.kek.VaultKek`). Both are idempotent and never lose a key:

- wrap: for each plaintext key Secret (Bitnami's label, any value), write the wrapped key Secret (same
  labels and annotations, the label value kept under sealkit's label, the plaintext Secret's name and
  creation time recorded), read it back from the API, unwrap it and compare the key; only then is the
  plaintext Secret deleted (with its uid as a precondition). A Secret's type cannot change in Kubernetes, so
  the wrapped key is a new Secret beside the old one until it is proven, never a delete-then-create. A
  wrapped Secret already holding the key (an interrupted run) is checked the same way and reused.
- rewrap: for each wrapped key Secret whose KEK version is not the current one, unwrap with the old
  version, wrap with the current one, unwrap the new copy to check it, and replace the Secret's data (with
  its resourceVersion as a precondition). Old KEK versions keep opening the keys not yet rewrapped. A wrapped
  key Secret that does not read ends the run before anything is rewrapped, naming it (never passed over).

Results name keys by fingerprint and Secret only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.certificates import refuse_another_keys_certificate
from sealkit.errors import KeyMaterialError, SealkitError, ServiceError
from sealkit.keys import PrivateKey
from sealkit.keysecrets import ANY_KEY_SELECTOR, SecretsApi, creation_time, keys_from_secret
from sealkit.wrapping import names as n
from sealkit.wrapping.envelope import KeyWrapper, WrappedKey, unwrap_private_key, wrap_private_key, wrap_verified
from sealkit.wrapping.keysecret import (
    HeldWrapped,
    held_wrapped,
    wrapped_data,
    wrapped_from_secret,
    wrapped_key_manifest,
    wrapped_secret_name,
)

logger = logging.getLogger(__name__)

WRAPPED = "wrapped"
REUSED = "already wrapped"
WOULD_WRAP = "would wrap"
REWRAPPED = "rewrapped"
CURRENT = "current"
WOULD_REWRAP = "would rewrap"


class KeySecretsClient(SecretsApi, Protocol):
    """The Secret calls wrap and rewrap need besides list/get/create."""

    def replace_secret(self, namespace: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    def delete_secret(self, namespace: str, name: str, uid: str | None = None) -> bool: ...


@dataclass(frozen=True)
class Converted:
    """What happened to one key: `action` is one of the constants above."""

    fingerprint: str
    source: str  # the plaintext Secret (wrap) or the wrapped Secret (rewrap)
    target: str  # the wrapped Secret
    kek_id: str
    action: str


def _meta(secret: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = secret.get("metadata") or {}
    return meta if isinstance(meta, Mapping) else {}


def _label_value(secret: Mapping[str, Any]) -> str:
    """The plaintext key Secret's label value, which its wrapped Secret carries under sealkit's label."""
    labels = _meta(secret).get("labels") or {}
    return str(labels.get(SEALING_KEY_LABEL, n.WRAPPED_KEY_ACTIVE) or n.WRAPPED_KEY_ACTIVE)


def _verify_stored(
    client: SecretsApi, namespace: str, name: str, key: PrivateKey, kek: KeyWrapper, label_value: str
) -> WrappedKey:
    """Read the wrapped Secret back from the API and unwrap it: it must open to `key`, and carry the plaintext
    Secret's label value (a wrapped copy found from an earlier run, active while the plaintext key was retired
    since, would have brought a retired key back into use when the plaintext Secret is deleted)."""
    where = f"wrapped key Secret {namespace}/{name}"
    stored = client.get_secret(namespace, name)
    if stored is None:
        raise SealkitError("written, but not found when read back", where=where)
    labelled = (_meta(stored).get("labels") or {}).get(n.WRAPPED_KEY_LABEL)
    if labelled != label_value:
        shown = f"labelled {n.WRAPPED_KEY_LABEL}={labelled}" if isinstance(labelled, str) else "without its label"
        raise KeyMaterialError(
            f"it holds this key {shown}, but the key Secret it would replace is labelled "
            f"{SEALING_KEY_LABEL}={label_value}: relabel one so they agree (nothing deleted)",
            where=where,
        )
    wrapped = wrapped_from_secret(stored, where)
    opened = unwrap_private_key(wrapped, kek, where)
    if opened.fingerprint != key.fingerprint:
        raise KeyMaterialError(f"read back, it opens to {opened.fingerprint}, not {key.fingerprint}", where=where)
    return wrapped


def _plaintext_key(secret: Mapping[str, Any], namespace: str) -> PrivateKey:
    name = str(_meta(secret).get("name") or "")
    where = f"key Secret {namespace}/{name}"
    keys = keys_from_secret(secret, where)
    if len(keys) != 1:
        raise KeyMaterialError(f"it holds {len(keys)} private keys; wrap one key per Secret", where=where)
    if keys[0].certificate_pem is None:
        raise KeyMaterialError("it has no tls.crt; a wrapped key keeps its certificate in clear", where=where)
    # The certificate is kept in clear beside the wrapped key (served, dated by): it must be the key's, named
    # by the Secret it is in (`wrap_private_key` checks it again, naming the key only).
    refuse_another_keys_certificate(keys[0].certificate_pem, keys[0].public_key, where)
    return keys[0]


def wrap_key_secrets(
    client: KeySecretsClient, namespace: str, kek: KeyWrapper, *, prefix: str, dry_run: bool = False
) -> list[Converted]:
    """Wrap every plaintext key Secret of `namespace` in place (see the module docstring); oldest first."""
    plaintext = sorted(
        client.list_secrets(namespace, ANY_KEY_SELECTOR),
        key=lambda s: (str(_meta(s).get("creationTimestamp") or ""), str(_meta(s).get("name") or "")),
    )
    existing = {h.fingerprint: h for h in held_wrapped(client, namespace)}
    done: list[Converted] = []
    for secret in plaintext:
        meta = _meta(secret)
        name = str(meta.get("name") or "")
        key = _plaintext_key(secret, namespace)
        found = existing.get(key.fingerprint)
        target = found.secret if found else wrapped_secret_name(prefix, key.fingerprint)
        if dry_run:
            done.append(Converted(key.fingerprint, name, target, found.wrapped.kek_id if found else "", WOULD_WRAP))
            continue
        action = REUSED
        if found is None:
            manifest = _wrapped_replacement(secret, key, kek, namespace=namespace, prefix=prefix)
            try:
                client.create_secret(namespace, manifest)
                action = WRAPPED
            except ServiceError as exc:
                if exc.status != 409:
                    raise
        wrapped = _verify_stored(client, namespace, target, key, kek, _label_value(secret))
        client.delete_secret(namespace, name, str(meta.get("uid") or "") or None)
        logger.info(
            "wrapped sealing key %s: %s/%s replaced by %s/%s (%s)",
            key.fingerprint,
            namespace,
            name,
            namespace,
            target,
            wrapped.kek_id,
        )
        done.append(Converted(key.fingerprint, name, target, wrapped.kek_id, action))
        existing[key.fingerprint] = HeldWrapped(wrapped, target, True)
    return done


def _wrapped_replacement(
    secret: Mapping[str, Any], key: PrivateKey, kek: KeyWrapper, *, namespace: str, prefix: str
) -> dict[str, Any]:
    meta = _meta(secret)
    labels = dict(meta.get("labels") or {})
    label_value = _label_value(secret)
    labels.pop(SEALING_KEY_LABEL, None)
    annotations = {
        k: v
        for k, v in dict(meta.get("annotations") or {}).items()
        if k != "kubectl.kubernetes.io/last-applied-configuration"
    }
    annotations[n.WRAPPED_FROM_ANNOTATION] = str(meta.get("name") or "")
    born = creation_time(secret)
    if born is not None:
        annotations.setdefault(n.ORIGINAL_CREATION_ANNOTATION, born.strftime("%Y-%m-%dT%H:%M:%SZ"))
    wrapped = wrap_private_key(key, kek)
    return wrapped_key_manifest(
        wrapped, namespace=namespace, prefix=prefix, labels=labels, annotations=annotations, label_value=label_value
    )


def rewrap_key_secrets(
    client: KeySecretsClient, namespace: str, kek: KeyWrapper, *, dry_run: bool = False
) -> list[Converted]:
    """Move every wrapped key Secret of `namespace` to the KEK's current version (see the module docstring)."""
    target = kek.current_id()
    done: list[Converted] = []
    # Strict: a wrapped key Secret that does not read was passed over (a log line, exit 0), and the old KEK
    # version, disabled next, was all that could still open its key once the Secret is repaired.
    for held in held_wrapped(client, namespace, strict=True):
        where = f"wrapped key Secret {namespace}/{held.secret}"
        if held.wrapped.kek_id == target:
            done.append(Converted(held.fingerprint, held.secret, held.secret, target, CURRENT))
            continue
        if dry_run:
            done.append(Converted(held.fingerprint, held.secret, held.secret, held.wrapped.kek_id, WOULD_REWRAP))
            continue
        key = unwrap_private_key(held.wrapped, kek, where)
        fresh = wrap_verified(key, kek)
        secret = client.get_secret(namespace, held.secret)
        if secret is None or wrapped_from_secret(secret, where).fingerprint != key.fingerprint:
            raise SealkitError("it changed while it was being rewrapped; run rewrap again", where=where)
        body = dict(secret)
        body["data"] = {**dict(secret.get("data") or {}), **wrapped_data(fresh)}
        body.pop("stringData", None)
        client.replace_secret(namespace, held.secret, body)
        stored = client.get_secret(namespace, held.secret)
        if stored is None or not wrapped_from_secret(stored, where).same_envelope(fresh):
            raise SealkitError("read back, it holds another envelope than was written", where=where)
        logger.info("rewrapped sealing key %s in %s with %s", key.fingerprint, where, fresh.kek_id)
        done.append(Converted(key.fingerprint, held.secret, held.secret, fresh.kek_id, REWRAPPED))
    return done
