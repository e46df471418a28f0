"""A keyed digest of a Secret's content: proof that a Secret still holds what the controller wrote into it.

Pure (`cryptography`, hashlib/hmac, json). The controller records the digest beside the SealedSecret's own
digest on every Secret it writes (`sealkit.io/unsealed-from`, reconciling.provenance); an in-sync check
recomputes it over the Secret as read and compares, without any RSA operation.

The digest is HMAC-SHA256 over a canonical JSON of the Secret's `type` (`Opaque` when absent, as the API
server defaults it), `data`, `metadata.labels` and `metadata.annotations` (each restricted to a `Selection`:
all entries, or named keys, an absent named key counting as null), the selection itself, and a context the
caller binds it to (the object and what it was made from). Its key is derived with HKDF-SHA256 from the
private key that opened the object (its PKCS#8 DER, a fixed info string): whoever can edit the Secret but
does not hold the private key cannot make a digest that matches an edit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HKDF_INFO = b"sealkit.io/unsealed-from secret content digest v1"
DIGEST_HEX_LENGTH = 64
_VERSION = 1
_NOT_A_MAPPING = "<not a mapping>"  # a JSON string: never equal to a mapping's encoding


def derive_key(private_key: rsa.RSAPrivateKey) -> bytes:
    """The 32-byte digest key of a sealing key: HKDF-SHA256 over its PKCS#8 DER (no salt, fixed info)."""
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(der)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which entries the digest covers: None = every entry there is; a set = those keys (absent ones as null).
    `ignored_annotations` are left out in both cases (the record that carries the digest)."""

    data: frozenset[str] | None = None
    labels: frozenset[str] | None = None
    annotations: frozenset[str] | None = None
    ignored_annotations: frozenset[str] = frozenset()


def _select(mapping: Any, keys: frozenset[str] | None, ignored: frozenset[str]) -> Any:
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, Mapping):
        return _NOT_A_MAPPING
    if keys is None:
        return {str(k): v for k, v in mapping.items() if k not in ignored}
    return {k: mapping.get(k) for k in keys if k not in ignored}


def _keys(keys: frozenset[str] | None) -> list[str] | None:
    return None if keys is None else sorted(keys)


def content_digest(key: bytes, secret: Mapping[str, Any], context: Any, selection: Selection | None = None) -> str:
    """The hex HMAC-SHA256 of `secret`'s type, data, labels and annotations as `selection` picks them."""
    chosen = selection or Selection()
    meta = secret.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    material = {
        "v": _VERSION,
        "context": context,
        "selection": [
            _keys(chosen.data),
            _keys(chosen.labels),
            _keys(chosen.annotations),
            sorted(chosen.ignored_annotations),
        ],
        "type": secret.get("type") or "Opaque",
        "data": _select(secret.get("data"), chosen.data, frozenset()),
        "labels": _select(meta.get("labels"), chosen.labels, frozenset()),
        "annotations": _select(meta.get("annotations"), chosen.annotations, chosen.ignored_annotations),
    }
    canonical = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hmac.new(key, canonical.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def matches(key: bytes, secret: Mapping[str, Any], context: Any, selection: Selection | None, recorded: str) -> bool:
    """Whether `recorded` is the digest of `secret` (compared in constant time)."""
    expected = content_digest(key, secret, context, selection).encode("ascii")
    return hmac.compare_digest(expected, recorded.encode("utf-8", "surrogatepass"))
