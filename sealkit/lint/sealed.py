"""Rules on SealedSecrets: will each one open where it is going?

Offline checks read only the framing (base64, RSA part length); with a key ring or the
controller, every object is opened for its own name, namespace and scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sealkit import hybrid
from sealkit.bitnami import CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION
from sealkit.errors import SealkitError
from sealkit.keys import KeyRing
from sealkit.lint import catalog
from sealkit.lint.loader import Manifest
from sealkit.lint.model import Hit
from sealkit.manifest import decode_base64
from sealkit.scope import Scope, scope_from_annotations
from sealkit.sealedsecret import is_sealed_secret, parse_sealed_secret
from sealkit.unsealing import open_items
from sealkit.validation import template_problems

# (SealedSecret with its namespace filled in, "ns/name" for messages) -> None when it opens, else why not.
Opener = Callable[[Mapping[str, Any], str], str | None]

_SCOPE_ANNOTATIONS = (CLUSTER_WIDE_ANNOTATION, NAMESPACE_WIDE_ANNOTATION)


@dataclass(frozen=True)
class SealedChecks:
    """What the caller can offer beyond the files: certificate key sizes and a way to open values."""

    key_bits: frozenset[int] = field(default_factory=frozenset)
    opener: Opener | None = None


def offline_opener(keyring: KeyRing) -> Opener:
    """Open every item with private keys, as `sealkit verify --private-key` does."""

    def opens(obj: Mapping[str, Any], where: str) -> str | None:
        try:
            open_items(parse_sealed_secret(obj, f"SealedSecret {where}"), keyring)
        except SealkitError as exc:
            return str(exc)
        return None

    return opens


def _annotations(meta: Any) -> Mapping[str, Any]:
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    return annotations if isinstance(annotations, Mapping) else {}


def _scope(annotations: Mapping[str, Any]) -> Scope:
    return scope_from_annotations({k: v for k, v in annotations.items() if isinstance(v, str)})


def _template_scope_hits(manifest: Manifest, outer: Scope) -> Iterator[Hit]:
    spec = manifest.obj.get("spec")
    template = spec.get("template") if isinstance(spec, Mapping) else None
    inner_annotations = _annotations(template.get("metadata") if isinstance(template, Mapping) else None)
    inner = _scope(inner_annotations)
    if inner is Scope.STRICT or inner is outer:
        return
    annotation = next(a for a in _SCOPE_ANNOTATIONS if a in inner_annotations)
    yield Hit(
        catalog.SEALED_SCOPE_ON_TEMPLATE,
        manifest.line("spec", "template", "metadata", "annotations", annotation),
        f"SealedSecret {manifest.name or '(unnamed)'}: {annotation} is set on spec.template.metadata only; the "
        f"controller reads metadata.annotations, so it opens as {outer.value}, not {inner.value}",
    )


def _value_length(value: str) -> int | str:
    """The RSA part's length in bytes, or why the value is not a sealed value (never the value)."""
    try:
        blob = decode_base64(value, "value")
    except SealkitError:
        return "is not valid base64"
    try:
        return hybrid.rsa_part_length(blob)
    except hybrid.MalformedValue as exc:
        return f"is not a sealed value ({exc})"


def _field_path(field: str) -> tuple[str, ...]:
    """`spec.template.metadata.labels[app]` -> ("spec", "template", "metadata", "labels", "app")."""
    path: list[str] = []
    for part in field.split("."):
        head, _, rest = part.partition("[")
        path.append(head)
        if rest:
            path.append(rest.rstrip("]"))
    return tuple(path)


def _template_hits(manifest: Manifest, name: str) -> Iterator[Hit]:
    """SK209: what the API server would refuse in the Secret built from this SealedSecret."""
    spec = manifest.obj.get("spec")
    if not isinstance(spec, Mapping):
        return
    for problem in template_problems(spec):
        yield Hit(
            catalog.SEALED_TEMPLATE_INVALID,
            manifest.line(*_field_path(problem.field)),
            f"SealedSecret {name}: the Secret it describes would be refused: {problem}",
        )


def check_sealed(manifest: Manifest, default_namespace: str, checks: SealedChecks) -> Iterator[Hit]:
    """SK201-SK209 for one SealedSecret; `default_namespace` is what a kustomization listing the file sets: kustomize
    puts the object there whatever its metadata.namespace says, so that is where it must open."""
    if not is_sealed_secret(manifest.obj):
        return
    name = manifest.name or "(unnamed)"
    outer = _scope(_annotations(manifest.metadata))
    yield from _template_scope_hits(manifest, outer)
    namespace = default_namespace or manifest.namespace
    if outer is not Scope.CLUSTER_WIDE and not namespace:
        yield Hit(
            catalog.SEALED_NO_NAMESPACE,
            manifest.line("metadata"),
            f"SealedSecret {name} is {outer.value} but has no metadata.namespace: it opens only in the namespace "
            "it was sealed for",
        )
    try:
        view = parse_sealed_secret(manifest.obj, f"SealedSecret {name}", default_namespace=namespace or "-")
    except SealkitError as exc:
        yield Hit(catalog.SEALED_INVALID, manifest.line("spec"), str(exc))
        return
    yield from _template_hits(manifest, name)
    lengths: dict[str, int] = {}
    values: list[tuple[tuple[str, ...], str, str]] = [
        (("spec", "encryptedData", item), f"spec.encryptedData.{item}", value)
        for item, value in sorted(view.encrypted_data.items())
    ]
    if view.legacy_data:
        values.append((("spec", "data"), "spec.data", view.legacy_data))
    bad_values = False
    for path, label, value in values:
        length = _value_length(value)
        if isinstance(length, str):
            bad_values = True
            yield Hit(catalog.SEALED_BAD_VALUE, manifest.line(*path), f"SealedSecret {name}: {label} {length}")
        else:
            lengths[label] = length
    if checks.key_bits:
        for (path, label, _), length in ((v, lengths[v[1]]) for v in values if v[1] in lengths):
            if length not in {hybrid.modulus_bytes(bits) for bits in checks.key_bits}:
                expected = "/".join(str(b) for b in sorted(checks.key_bits))
                yield Hit(
                    catalog.SEALED_KEY_SIZE,
                    manifest.line(*path),
                    f"SealedSecret {name}: {label} was sealed with a {length * 8}-bit key, but the certificate's "
                    f"key is {expected}-bit: sealed for another cluster",
                )
    elif len(set(lengths.values())) > 1:
        sizes = ", ".join(f"{label} {bits * 8}-bit" for label, bits in sorted(lengths.items()))
        yield Hit(
            catalog.SEALED_KEY_SIZE,
            manifest.line("spec", "encryptedData"),
            f"SealedSecret {name}: items were sealed with keys of different sizes ({sizes}): they cannot all open "
            "in one cluster",
        )
    for item in sorted(view.template_data):
        if item in view.encrypted_data:
            yield Hit(
                catalog.SEALED_TEMPLATE_OVERRIDE,
                manifest.line("spec", "template", "data", item),
                f"SealedSecret {name}: spec.template.data.{item} replaces the sealed item {item}",
            )
    if view.legacy_data:
        yield Hit(catalog.SEALED_DEPRECATED_DATA, manifest.line("spec", "data"), f"SealedSecret {name} uses spec.data")
    if checks.opener is None or bad_values or (outer is not Scope.CLUSTER_WIDE and not namespace):
        return
    obj = dict(manifest.obj)
    if namespace and namespace != manifest.namespace:
        obj["metadata"] = {**manifest.metadata, "namespace": namespace}
    reason = checks.opener(obj, f"{namespace or '-'}/{name}")
    if reason is not None:
        if manifest.namespace and namespace != manifest.namespace:
            reason += f" (its kustomization.yaml sets namespace {namespace} over its metadata.namespace)"
        yield Hit(catalog.SEALED_DOES_NOT_OPEN, manifest.line("metadata", "name"), reason)
