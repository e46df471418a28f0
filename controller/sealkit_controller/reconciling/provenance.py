"""What a Secret was made from, and proof of what was written into it, recorded on the Secret itself, so that
in-sync objects need no RSA work and edited ones are found without any.

The controller writes `sealkit.io/unsealed-from: <source digest>/<content digest>/<key fingerprint>` on every
Secret it writes. The source digest is SHA-256 over what decides the Secret's content: the SealedSecret's
uid, name, namespace, scope annotations, encryptedData (ciphertext), deprecated data and template. No
plaintext goes in: the ciphertext is public (it is in Git). The content digest is an HMAC-SHA256
(`contentdigest`) of the Secret as written, keyed with a key derived from the private key that opened
it: its type, data, labels and annotations (this record left out), all of them where the controller replaces
them all, only the keys the SealedSecret names where it merges into a `patch` Secret (`content_selection`).

On a restart, or any reconcile, a Secret whose recorded source digest matches, whose key is still held and
whose content digest matches the Secret as read is already right: nothing is decrypted. Otherwise (the spec
changed, or the Secret was edited: data, type, labels, annotations) it is unsealed and written again; the
recorded fingerprint is the key to try first: it survives restarts. A record without a content digest (the
format before it, `<source digest>/<key fingerprint>`, also under `sealkit.dev/`) proves nothing about the
content: such a Secret is unsealed once and recorded anew.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from sealkit.bitnami import CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION
from sealkit.keys import KeyRing
from sealkit_controller.reconciling.contentdigest import Selection, content_digest, derive_key, matches
from sealkit_controller.reconciling.ownership import is_patched

UNSEALED_FROM_ANNOTATION = "sealkit.io/unsealed-from"
# The spelling before sealkit wrote everything under sealkit.io/: still read, so that Secrets written by an
# older controller count as in sync after an upgrade (no RSA work for every object at once).
LEGACY_UNSEALED_FROM_ANNOTATION = "sealkit.dev/unsealed-from"
RECORD_ANNOTATIONS = frozenset({UNSEALED_FROM_ANNOTATION, LEGACY_UNSEALED_FROM_ANNOTATION})
_VERSION = 1
_HEX64 = re.compile(r"[0-9a-f]{64}")


def source_digest(sealed_secret: Mapping[str, Any]) -> str:
    """A hex SHA-256 of everything in the SealedSecret that shapes its Secret."""
    meta = sealed_secret.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    spec = sealed_secret.get("spec") or {}
    material = {
        "v": _VERSION,
        "uid": meta.get("uid"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "scope": [annotations.get(CLUSTER_WIDE_ANNOTATION), annotations.get(NAMESPACE_WIDE_ANNOTATION)],
        "encryptedData": spec.get("encryptedData"),
        "data": spec.get("data"),
        "template": spec.get("template"),
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def record(digest: str, fingerprint: str, content: str | None = None) -> str:
    """The annotation's value; without `content` the older format (which no in-sync check accepts)."""
    return f"{digest}/{content}/{fingerprint}" if content else f"{digest}/{fingerprint}"


def _parsed(secret: Mapping[str, Any] | None) -> tuple[str, str, str | None] | None:
    """(source digest, key fingerprint, content digest or None for the older format), or None."""
    if not secret:
        return None
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(UNSEALED_FROM_ANNOTATION, annotations.get(LEGACY_UNSEALED_FROM_ANNOTATION))
    if not isinstance(value, str):
        return None
    digest, sep, rest = value.partition("/")
    if not sep or len(digest) != 64 or not rest:
        return None
    # A fingerprint is `SHA256:<base64>` (it may hold '/'), never 64 hex digits before a '/'.
    content, sep, fingerprint = rest.partition("/")
    if sep and fingerprint and _HEX64.fullmatch(content):
        return digest, fingerprint, content
    return digest, rest, None


def recorded(secret: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """(source digest, key fingerprint) from a Secret's annotation, or None if absent or malformed."""
    found = _parsed(secret)
    return None if found is None else (found[0], found[1])


def recorded_content(secret: Mapping[str, Any] | None) -> str | None:
    """The content digest a Secret's annotation records; None if absent (also the older format) or malformed."""
    found = _parsed(secret)
    return None if found is None else found[2]


def annotate(secret: dict[str, Any], digest: str, fingerprint: str, content: str | None = None) -> dict[str, Any]:
    """`secret` (a fresh dict from the core) with the provenance annotation added."""
    metadata = secret.setdefault("metadata", {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != LEGACY_UNSEALED_FROM_ANNOTATION}
    metadata["annotations"] = {**annotations, UNSEALED_FROM_ANNOTATION: record(digest, fingerprint, content)}
    return secret


def _names(value: Any) -> frozenset[str]:
    return frozenset(str(k) for k in value) if isinstance(value, Mapping) else frozenset()


def content_selection(sealed_secret: Mapping[str, Any], secret: Mapping[str, Any]) -> Selection:
    """What of `secret` the content digest covers, as the controller writes it (ownership.plan_write).

    A Secret it replaces (its own, or `managed`): every data item, label and annotation, as Bitnami's
    controller replaces them all; whatever anybody else adds is drift, removed by the next write. A `patch`
    Secret: the controller merges into it and others' entries stay, so only what the SealedSecret names: the
    items of encryptedData and template.data, the template's labels and annotations (all data items for the
    deprecated spec.data, whose item names are known only once opened). The type in both.
    """
    if not is_patched(secret):
        return Selection(ignored_annotations=RECORD_ANNOTATIONS)
    spec = sealed_secret.get("spec") or {}
    template = spec.get("template") or {}
    template = template if isinstance(template, Mapping) else {}
    template_meta = template.get("metadata") or {}
    template_meta = template_meta if isinstance(template_meta, Mapping) else {}
    data = None if spec.get("data") else _names(spec.get("encryptedData")) | _names(template.get("data"))
    return Selection(
        data=data,
        labels=_names(template_meta.get("labels")),
        annotations=_names(template_meta.get("annotations")) - RECORD_ANNOTATIONS,
        ignored_annotations=RECORD_ANNOTATIONS,
    )


def _context(sealed_secret: Mapping[str, Any], digest: str, fingerprint: str) -> list[Any]:
    """What the content digest is bound to: the object and what it was made from (no replay elsewhere)."""
    meta = sealed_secret.get("metadata") or {}
    return [meta.get("namespace"), meta.get("name"), digest, fingerprint]


class ContentKeys:
    """Content digest keys by key fingerprint, derived once per key held (HKDF over the key's DER)."""

    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}

    def get(self, ring: KeyRing, fingerprint: str) -> bytes | None:
        """The digest key of a key the ring holds; None when it holds no such key."""
        private = ring.get(fingerprint)
        if private is None:
            return None
        key = self._keys.get(fingerprint)
        if key is None:
            key = self._keys[fingerprint] = derive_key(private.key)
        return key

    def forget(self, fingerprints: set[str]) -> None:
        for fingerprint in fingerprints:
            self._keys.pop(fingerprint, None)


def stamp(
    secret: dict[str, Any], sealed_secret: Mapping[str, Any], digest: str, fingerprint: str, key: bytes
) -> dict[str, Any]:
    """`secret` (the body about to be written) with its record: source digest, content digest, key."""
    selection = content_selection(sealed_secret, secret)
    content = content_digest(key, secret, _context(sealed_secret, digest, fingerprint), selection)
    return annotate(secret, digest, fingerprint, content)


def content_intact(
    secret: Mapping[str, Any], sealed_secret: Mapping[str, Any], digest: str, fingerprint: str, key: bytes
) -> bool:
    """Whether `secret` still holds what was written with its record (False for the older format)."""
    recorded_digest = recorded_content(secret)
    if recorded_digest is None:
        return False
    context = _context(sealed_secret, digest, fingerprint)
    return matches(key, secret, context, content_selection(sealed_secret, secret), recorded_digest)
