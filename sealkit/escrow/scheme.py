"""Sealing keys kept outside the cluster: how one key pair is stored as one Key Vault secret.

Why: a cluster's private keys are the only way to open what its config repos hold; keeping a copy
in a vault the team already runs lets a rebuilt cluster open them again. This module is the model
only (names, payload, tags, parsing back with checks); what is backed up and restored is
`sealkit.escrow.sync`, and the vault I/O is `sealkit.clients.keyvault.escrow`.

Scheme version 1 (see docs/disaster-recovery.md):

- secret name: ``sealkit-<cluster>-<key id>``, where the key id is the first 32 hex characters of
  the SHA-256 of the public key's SSH wire encoding (the digest behind kubeseal's fingerprint), so
  a name is fixed by the key and the same key is never stored twice under two names;
- value: PEM, the PKCS#1 private key (``RSA PRIVATE KEY``) then the certificate if the key has one;
- content type ``application/x-pem-file``;
- tags: ``fingerprint`` (kubeseal's ``SHA256:...``), ``created`` (the certificate's NotBefore,
  RFC 3339 UTC; absent without a certificate), ``cluster``, ``sealkit-escrow`` (the scheme version).

A wrapped key (docs/wrapped-keys.md) is escrowed still wrapped, under the same name and tags plus ``kek``
(the KEK's versioned id): the value is the envelope's JSON form (`sealkit.wrapping.envelope.to_document`),
content type ``application/vnd.sealkit.wrapped-key+json``. Reading it back needs no vault key operation;
opening it needs the KEK.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization

from sealkit.certificates import PEM_BLOCKS, refuse_another_keys_certificate
from sealkit.errors import KeyMaterialError, SealkitError
from sealkit.keys import PrivateKey, certificate_not_before, load_private_keys
from sealkit.wrapping.envelope import WrappedKey, from_json, to_json

SCHEME_VERSION = "1"
NAME_PREFIX = "sealkit-"
CONTENT_TYPE = "application/x-pem-file"
WRAPPED_CONTENT_TYPE = "application/vnd.sealkit.wrapped-key+json"
CONTENT_TYPES = (CONTENT_TYPE, WRAPPED_CONTENT_TYPE)
TAG_KEK = "kek"
TAG_FINGERPRINT = "fingerprint"
TAG_CREATED = "created"
TAG_CLUSTER = "cluster"
TAG_SCHEME = "sealkit-escrow"
KEY_ID_LENGTH = 32
# Key Vault names: [0-9a-zA-Z-]{1,127}, case-insensitive. Cluster names are kept lower case (so two
# spellings cannot name one secret) and short enough for the prefix, a dash and the key id.
MAX_CLUSTER_LENGTH = 127 - len(NAME_PREFIX) - 1 - KEY_ID_LENGTH
_CLUSTER = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_KEY_ID = re.compile(r"[0-9a-f]{32}")
_FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")


class EscrowError(SealkitError):
    """An escrowed key cannot be stored, found or trusted."""


def check_cluster_name(name: str, where: str | None = None) -> str:
    """The cluster name as used in secret names and tags; one clear line (naming `where`) when it cannot be."""
    if not name or len(name) > MAX_CLUSTER_LENGTH or not _CLUSTER.fullmatch(name):
        raise EscrowError(
            f"escrow cluster name {name!r}: use 1-{MAX_CLUSTER_LENGTH} lower-case letters, digits and dashes, "
            "starting and ending with a letter or digit",
            where=where,
        )
    return name


def key_id(fingerprint: str) -> str:
    """The 32 hex characters naming a key in the vault, from kubeseal's fingerprint of it."""
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise EscrowError(f"{fingerprint!r} is not a kubeseal fingerprint (SHA256:<43 base64 characters>)")
    try:
        digest = base64.b64decode(fingerprint.removeprefix("SHA256:") + "=", validate=True)
    except binascii.Error:
        raise EscrowError(f"{fingerprint!r} is not a kubeseal fingerprint") from None
    return digest.hex()[:KEY_ID_LENGTH]


def secret_name(cluster: str, fingerprint: str) -> str:
    """``sealkit-<cluster>-<key id>``: the vault secret that holds this cluster's key."""
    return f"{NAME_PREFIX}{check_cluster_name(cluster)}-{key_id(fingerprint)}"


def parse_secret_name(name: str) -> tuple[str, str] | None:
    """(cluster, key id) of a scheme-1 secret name, or None for any other name (case-insensitive)."""
    lowered = name.lower()
    if not lowered.startswith(NAME_PREFIX) or len(lowered) < len(NAME_PREFIX) + KEY_ID_LENGTH + 2:
        return None
    cluster = lowered[len(NAME_PREFIX) : -KEY_ID_LENGTH - 1]
    dash, ident = lowered[-KEY_ID_LENGTH - 1], lowered[-KEY_ID_LENGTH:]
    if dash != "-" or not _KEY_ID.fullmatch(ident) or not _CLUSTER.fullmatch(cluster):
        return None
    return cluster, ident


def rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class EscrowPayload:
    """What is written for one key: the secret's name, value, content type and tags."""

    name: str
    value: str
    content_type: str
    tags: Mapping[str, str]
    fingerprint: str

    def __repr__(self) -> str:  # the value is a private key: never in a repr, log or traceback
        return f"EscrowPayload(name={self.name!r}, fingerprint={self.fingerprint!r})"


def private_pem(key: PrivateKey) -> bytes:
    """The key as PKCS#1 PEM, the form Bitnami's key Secrets hold."""
    return key.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


Escrowable = PrivateKey | WrappedKey


def build_payload(key: Escrowable, cluster: str) -> EscrowPayload:
    """The secret that escrows `key` for `cluster` (the certificate is included when the key has one).

    A `WrappedKey` is stored still wrapped (its envelope as JSON), never opened to be escrowed.
    """
    if isinstance(key, WrappedKey):
        return _wrapped_payload(key, cluster)
    name = secret_name(cluster, key.fingerprint)
    pem = private_pem(key)
    tags = {TAG_FINGERPRINT: key.fingerprint, TAG_CLUSTER: cluster, TAG_SCHEME: SCHEME_VERSION}
    if key.certificate_pem:  # b"" is no certificate here: nothing would be written after the key
        try:  # a PEM value: the private key, then the certificate
            refuse_another_keys_certificate(
                key.certificate_pem, key.public_key, f"sealing key {key.fingerprint}", names=PEM_BLOCKS
            )
        except KeyMaterialError as exc:
            raise EscrowError(f"{exc.what}; not escrowed", where=exc.where) from None
        pem = pem.rstrip(b"\n") + b"\n" + key.certificate_pem.strip() + b"\n"
        if key.not_before is not None:
            tags[TAG_CREATED] = rfc3339(key.not_before)
    return EscrowPayload(name, pem.decode(), CONTENT_TYPE, tags, key.fingerprint)


def _wrapped_payload(wrapped: WrappedKey, cluster: str) -> EscrowPayload:
    name = secret_name(cluster, wrapped.fingerprint)
    tags = {
        TAG_FINGERPRINT: wrapped.fingerprint,
        TAG_CLUSTER: cluster,
        TAG_SCHEME: SCHEME_VERSION,
        TAG_KEK: wrapped.kek_id,
    }
    if wrapped.not_before is not None:
        tags[TAG_CREATED] = rfc3339(wrapped.not_before)
    return EscrowPayload(name, to_json(wrapped), WRAPPED_CONTENT_TYPE, tags, wrapped.fingerprint)


DATED_STATES = ("expired", "not yet valid")  # the vault's exp/nbf: dated out, not withdrawn


@dataclass(frozen=True)
class EscrowEntry:
    """One escrowed key as a vault listing shows it (no value): name and tags, read back."""

    name: str
    cluster: str
    fingerprint: str
    created: dt.datetime | None
    enabled: bool = True
    version: str = ""
    wrapped: bool = False  # the copy is a wrapped key (opens through its KEK)
    kek: str = ""  # the KEK's versioned id, for wrapped copies
    # Why a copy is not to be used (then `enabled` is False): "disabled", "expired" or "not yet valid"
    # (the vault's exp/nbf, which Key Vault does not enforce on reads: sealkit does).
    state: str = ""

    @property
    def restorable(self) -> bool:
        """A copy a restore may still use: enabled, or only dated out (expired, not yet valid). Its key is the
        key (checked on reading), and a cluster rebuilt without it would make a new key and leave every
        SealedSecret sealed for the old one closed; a backup writes a fresh version over it. Disabled: never."""
        return self.enabled or self.state in DATED_STATES


def validity_state(
    enabled: bool, not_before: dt.datetime | None, expires_on: dt.datetime | None, now: dt.datetime | None = None
) -> str:
    """ "" for a secret version that may be used now, else why not: "disabled", "expired", "not yet valid"."""
    now = now or dt.datetime.now(dt.UTC)
    if not enabled:
        return "disabled"
    if expires_on is not None and _aware(expires_on) <= now:
        return "expired"
    if not_before is not None and _aware(not_before) > now:
        return "not yet valid"
    return ""


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def entry_from_listing(
    name: str,
    tags: Mapping[str, str] | None,
    *,
    cluster: str,
    enabled: bool = True,
    version: str = "",
    content_type: str | None = None,
    not_before: dt.datetime | None = None,
    expires_on: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> EscrowEntry | None:
    """An `EscrowEntry` when this listed secret is a scheme-1 escrow of `cluster`'s key, else None.

    Name and tags must agree: a secret named for another cluster (``sealkit-dev-x-...`` is not
    ``sealkit-dev-...``'s) or whose fingerprint tag does not give its key id is not counted. A copy that is
    disabled, expired or not yet valid is listed with `enabled` False and `state` saying why.
    """
    parsed = parse_secret_name(name)
    tags = dict(tags or {})
    if parsed is None or parsed[0] != cluster or tags.get(TAG_SCHEME) != SCHEME_VERSION:
        return None
    fp = tags.get(TAG_FINGERPRINT, "")
    if tags.get(TAG_CLUSTER) != cluster or not _FINGERPRINT.fullmatch(fp) or key_id(fp) != parsed[1]:
        return None
    created = parse_rfc3339(tags[TAG_CREATED]) if tags.get(TAG_CREATED) else None
    wrapped = content_type == WRAPPED_CONTENT_TYPE
    state = validity_state(enabled, not_before, expires_on, now)
    kek = tags.get(TAG_KEK, "") if wrapped else ""
    return EscrowEntry(name, cluster, fp, created, not state, version, wrapped, kek, state)


def parse_payload(value: str, *, name: str, cluster: str, tags: Mapping[str, str] | None = None) -> PrivateKey:
    """The key an escrow secret holds, after checking it is the key its name (and tags) promise.

    Checks: one RSA private key; its fingerprint gives the key id in the name and equals the
    fingerprint tag; the certificate, if any, is for that key. Errors never quote the value.
    """
    where = f"escrowed key {name}"
    parsed = parse_secret_name(name)
    if parsed is None or parsed[0] != cluster:
        raise EscrowError(f"not a sealkit escrow secret name for cluster {cluster}", where=where)
    try:
        keys = load_private_keys(value.encode(), where)
    except KeyMaterialError as exc:
        raise EscrowError(exc.what, where=exc.where) from None
    if len(keys) != 1:
        raise EscrowError(f"it holds {len(keys)} private keys, expected one", where=where)
    key = keys[0]
    if key_id(key.fingerprint) != parsed[1]:
        raise EscrowError(f"it holds key {key.fingerprint}, not the key its name is for", where=where)
    tagged = (tags or {}).get(TAG_FINGERPRINT)
    if tagged is not None and tagged != key.fingerprint:
        raise EscrowError(f"it holds key {key.fingerprint}, but its fingerprint tag says {tagged}", where=where)
    try:
        refuse_another_keys_certificate(key.certificate_pem, key.public_key, where, names=PEM_BLOCKS)
    except KeyMaterialError as exc:
        raise EscrowError(exc.what, where=where) from None
    not_before = certificate_not_before(key.certificate_pem) if key.certificate_pem else None
    return PrivateKey(key.key, key.fingerprint, where, not_before, key.certificate_pem)


def parse_wrapped_payload(value: str, *, name: str, cluster: str, tags: Mapping[str, str] | None = None) -> WrappedKey:
    """The wrapped key an escrow secret holds (not opened), checked against its name and tags."""
    where = f"escrowed key {name}"
    parsed = parse_secret_name(name)
    if parsed is None or parsed[0] != cluster:
        raise EscrowError(f"not a sealkit escrow secret name for cluster {cluster}", where=where)
    try:
        wrapped = from_json(value, where)
    except KeyMaterialError as exc:
        raise EscrowError(exc.what, where=exc.where) from None
    if key_id(wrapped.fingerprint) != parsed[1]:
        raise EscrowError(f"it holds key {wrapped.fingerprint}, not the key its name is for", where=where)
    tagged = (tags or {}).get(TAG_FINGERPRINT)
    if tagged is not None and tagged != wrapped.fingerprint:
        raise EscrowError(f"it holds key {wrapped.fingerprint}, but its fingerprint tag says {tagged}", where=where)
    return wrapped


def parse_escrowed(
    value: str, *, name: str, cluster: str, content_type: str | None, tags: Mapping[str, str] | None = None
) -> Escrowable:
    """The key (plaintext) or wrapped key an escrow secret holds, by its content type."""
    if content_type == WRAPPED_CONTENT_TYPE:
        return parse_wrapped_payload(value, name=name, cluster=cluster, tags=tags)
    return parse_payload(value, name=name, cluster=cluster, tags=tags)


def verify_read_back(value: str, payload: EscrowPayload) -> None:
    """The stored value, read back, holds the very key that was written (else EscrowError).

    A wrapped copy must come back byte for byte the same envelope (no unwrap is needed to check it).
    """
    cluster = str(payload.tags[TAG_CLUSTER])
    where = f"escrowed key {payload.name}"
    if payload.content_type == WRAPPED_CONTENT_TYPE:
        back = parse_wrapped_payload(value, name=payload.name, cluster=cluster, tags=payload.tags)
        if not back.same_envelope(from_json(payload.value, where)):
            raise EscrowError("read back another envelope than was written", where=where)
        return
    key = parse_payload(value, name=payload.name, cluster=cluster, tags=payload.tags)
    if key.fingerprint != payload.fingerprint:
        raise EscrowError(f"read back {key.fingerprint}, wrote {payload.fingerprint}", where=where)


def missing(held: list[str], escrowed: list[EscrowEntry]) -> list[str]:
    """Fingerprints held in the cluster that no enabled escrow entry covers, in the order given."""
    covered = {entry.fingerprint for entry in escrowed if entry.enabled}
    return [fp for fp in held if fp not in covered]
