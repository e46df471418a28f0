"""What a Secret was made from, recorded on the Secret itself, so in-sync objects need no RSA work.

The controller writes `sealkit.io/unsealed-from: <digest>/<key fingerprint>` on every Secret it writes.
The digest is SHA-256 over what decides the Secret's content: the SealedSecret's uid, name, namespace,
scope annotations, encryptedData (ciphertext), deprecated data and template. No plaintext goes in: the
ciphertext is public (it is in Git). On a restart, or any reconcile, a Secret whose recorded digest
matches and whose key is still held is already right: nothing is decrypted. When it does not match (the
spec changed meanwhile), the recorded fingerprint is the key to try first: it survives restarts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sealkit.bitnami import CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION

UNSEALED_FROM_ANNOTATION = "sealkit.io/unsealed-from"
# The spelling before sealkit wrote everything under sealkit.io/: still read, so that Secrets written by an
# older controller count as in sync after an upgrade (no RSA work for every object at once).
LEGACY_UNSEALED_FROM_ANNOTATION = "sealkit.dev/unsealed-from"
_VERSION = 1


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


def record(digest: str, fingerprint: str) -> str:
    return f"{digest}/{fingerprint}"


def recorded(secret: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """(digest, key fingerprint) from a Secret's annotation, or None if absent or malformed."""
    if not secret:
        return None
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(UNSEALED_FROM_ANNOTATION, annotations.get(LEGACY_UNSEALED_FROM_ANNOTATION))
    if not isinstance(value, str):
        return None
    digest, sep, fingerprint = value.partition("/")
    if not sep or len(digest) != 64 or not fingerprint:
        return None
    return digest, fingerprint


def annotate(secret: dict[str, Any], digest: str, fingerprint: str) -> dict[str, Any]:
    """`secret` (a fresh dict from the core) with the provenance annotation added."""
    metadata = secret.setdefault("metadata", {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != LEGACY_UNSEALED_FROM_ANNOTATION}
    metadata["annotations"] = {**annotations, UNSEALED_FROM_ANNOTATION: record(digest, fingerprint)}
    return secret
