"""Rules on plain Secrets: nothing readable may be committed, least of all a private key."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sealkit.bitnami import LAST_APPLIED_ANNOTATIONS, SEALING_KEY_LABEL
from sealkit.lint import catalog
from sealkit.lint.loader import Manifest
from sealkit.lint.model import Hit

TLS_KEY = "tls.key"


def secret_api_version(api_version: Any) -> bool:
    """An apiVersion a `kind: Secret` is a core Secret under: the core group by any spelling (`v1`, `/v1` as
    Kubernetes parses it, `core/v1` as people write it, another version), or none at all (empty, null, not a
    string): whether the API server would take it or not, its values are committed all the same."""
    if not isinstance(api_version, str):
        return True
    group, _, _ = api_version.strip().rpartition("/")
    return group in ("", "core")


def is_secret(manifest: Manifest) -> bool:
    return manifest.kind == "Secret" and secret_api_version(manifest.api_version)


def _plain(value: Any, sops: bool) -> bool:
    """A value someone can read: non-empty and, in a SOPS-encrypted file, not an ENC[...] envelope."""
    if value in (None, ""):
        return False
    return not (sops and isinstance(value, str) and value.startswith("ENC["))


def _filled(value: Any, sops: bool = False) -> bool:
    return isinstance(value, Mapping) and any(_plain(v, sops) for v in value.values())


def filled(value: Any) -> bool:
    """A data/stringData mapping with at least one readable value."""
    return _filled(value)


def _has_key_material(obj: Mapping[str, Any], sops: bool) -> bool:
    for field in ("data", "stringData"):
        values = obj.get(field)
        if isinstance(values, Mapping) and _plain(values.get(TLS_KEY), sops):
            return True
    return False


def _annotation(manifest: Manifest, name: str) -> str | None:
    annotations = manifest.metadata.get("annotations")
    if not isinstance(annotations, Mapping) or name not in annotations:
        return None
    value = annotations[name]
    return value.strip() if isinstance(value, str) else ""


def check_secret(manifest: Manifest) -> Iterator[Hit]:
    """SK101 plaintext Secret (opt-out with a reason), SK102 a committed private key."""
    if not is_secret(manifest):
        return
    obj, name = manifest.obj, manifest.name or "(unnamed)"
    labels = manifest.metadata.get("labels")
    sops = isinstance(obj.get("sops"), Mapping)  # SOPS-encrypted: SK106 checks every value
    if sops:
        return
    filled = [f for f in ("data", "stringData") if _filled(obj.get(f), sops)]
    if not filled:
        return
    if isinstance(labels, Mapping) and SEALING_KEY_LABEL in labels:
        yield Hit(
            catalog.SEALING_KEY,
            manifest.line("metadata", "labels", SEALING_KEY_LABEL),
            f"Secret {name} is a Sealed Secrets sealing key ({SEALING_KEY_LABEL} label): anyone with the repo "
            "can open every SealedSecret sealed for it",
        )
        return
    if _has_key_material(obj, sops):
        field = "stringData" if isinstance(obj.get("stringData"), Mapping) and TLS_KEY in obj["stringData"] else "data"
        yield Hit(
            catalog.SEALING_KEY,
            manifest.line(field, TLS_KEY),
            f"Secret {name} holds a private key ({field}.{TLS_KEY}) in plain text",
        )
        return
    reason = _annotation(manifest, catalog.ALLOW_PLAINTEXT_ANNOTATION)
    if reason:
        return
    fields = " and ".join(filled)
    if reason == "":
        message = (
            f"Secret {name} has {fields} in plain text and its {catalog.ALLOW_PLAINTEXT_ANNOTATION} "
            "annotation gives no reason"
        )
    elif sops:
        message = f"Secret {name} is SOPS-encrypted but has values in {fields} that are not encrypted"
    else:
        message = f"Secret {name} has {fields} in plain text (base64 is an encoding, not encryption)"
    yield Hit(catalog.PLAINTEXT_SECRET, manifest.line(filled[0]), message)


def _holds_secret_values(text: str) -> bool:
    try:
        copy = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(copy, Mapping)
        and copy.get("kind") == "Secret"
        and (_filled(copy.get("data")) or _filled(copy.get("stringData")))
    )


def check_last_applied(manifest: Manifest) -> Iterator[Hit]:
    """SK103: kubectl's last-applied-configuration keeps a full copy of a Secret, values included."""
    places: list[tuple[tuple[str | int, ...], Any]] = [(("metadata",), manifest.metadata)]
    spec = manifest.obj.get("spec")
    if isinstance(spec, Mapping) and isinstance(spec.get("template"), Mapping):
        places.append((("spec", "template", "metadata"), spec["template"].get("metadata")))
    for base, meta in places:
        annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
        if not isinstance(annotations, Mapping):
            continue
        for name in LAST_APPLIED_ANNOTATIONS:
            value = annotations.get(name)
            if isinstance(value, str) and _holds_secret_values(value):
                yield Hit(
                    catalog.LAST_APPLIED,
                    manifest.line(*base, "annotations", name),
                    f"{manifest.kind} {manifest.name or '(unnamed)'}: annotation {name} holds a copy of a Secret "
                    "with its values in plain text",
                )
