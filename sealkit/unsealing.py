"""SealedSecret -> Secret, as the controller builds it; a template the API server would refuse is
refused here first (`sealkit.validation`), before any value is opened."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sealkit.bitnami import API_VERSION, KIND, SKIP_OWNER_REFERENCES_ANNOTATION
from sealkit.errors import InputError, UnsealError
from sealkit.keys import KeyRing
from sealkit.manifest import decode_base64, encode_base64, string_map
from sealkit.opening import open_value
from sealkit.sealedsecret import SealedSecretView, item_label, parse_sealed_secret
from sealkit.sealing import Target, secret_items
from sealkit.validation import Problem, secret_data_problems, template_problems


class InvalidTemplate(InputError):
    """The Secret a SealedSecret describes would be refused by the API server (retrying cannot help)."""


@dataclass
class Unsealed:
    """The Secret a SealedSecret opens to, and what it cost."""

    secret: dict[str, Any]
    items: dict[str, bytes]
    key_fingerprints: list[str] = field(default_factory=list)
    rsa_operations: int = 0


def _alternative_targets(view: SealedSecretView) -> tuple[Target, ...]:
    meta = view.template_metadata
    name, namespace = meta.get("name"), meta.get("namespace")
    if (name and name != view.name) or (namespace and namespace != view.namespace):
        return (Target(view.scope, str(namespace or view.namespace), str(name or view.name)),)
    return ()


def open_items(
    view: SealedSecretView, keyring: KeyRing, *, preferred_key: str | None = None, parse_legacy: bool = False
) -> Unsealed:
    """Open every encryptedData value (or the deprecated spec.data blob) without building the Secret.

    The deprecated spec.data opens to a JSON Secret whose items are read only with `parse_legacy` (the
    unseal): without it, nothing is read from the opened blob and it gives no items. Its label is the
    scope's, as every value's, so a caller can post any value of a SealedSecret it copied as spec.data,
    and whether it reads as a JSON Secret (and the problems of its items) would answer about that value."""
    items: dict[str, bytes] = {}
    used: list[str] = []
    operations = 0
    alternatives = _alternative_targets(view)
    preferred = preferred_key
    if view.legacy_data:
        blob = decode_base64(view.legacy_data, "spec.data", where=view.where)
        opened = open_value(
            keyring, blob, view.target, item="spec.data", preferred_key=preferred, alternatives=alternatives
        )
        if not parse_legacy:
            return Unsealed({}, {}, [opened.key.fingerprint], opened.rsa_operations)
        try:
            legacy_secret = json.loads(opened.plaintext)
        except (ValueError, RecursionError):
            raise UnsealError("spec.data does not hold a JSON Secret", where=view.where) from None
        if not isinstance(legacy_secret, Mapping):
            raise UnsealError("spec.data does not hold a JSON Secret", where=view.where)
        items.update(secret_items(legacy_secret, f"{view.where} spec.data"))
        return Unsealed({}, items, [opened.key.fingerprint], opened.rsa_operations)
    positions = {key: n for n, key in enumerate(view.encrypted_data, start=1)}
    for key in sorted(view.encrypted_data):
        label = item_label(key, positions[key])
        blob = decode_base64(view.encrypted_data[key], f"spec.encryptedData[{label}]", where=view.where)
        try:
            opened = open_value(
                keyring, blob, view.target, item=label, preferred_key=preferred, alternatives=alternatives
            )
        except UnsealError as exc:
            raise UnsealError(exc.what, where=view.where) from None
        items[key] = opened.plaintext
        operations += opened.rsa_operations
        preferred = opened.key.fingerprint
        if opened.key.fingerprint not in used:
            used.append(opened.key.fingerprint)
    return Unsealed({}, items, used, operations)


def render_template_data(view: SealedSecretView, items: Mapping[str, bytes]) -> dict[str, bytes]:
    """`spec.template.data`: Go templates over the decrypted items as strings; output overrides items."""
    if not view.template_data:
        return {}
    from sealkit.gotemplate import render_template  # imported only when a template needs it

    strings = {k: v.decode("utf-8", "surrogateescape") for k, v in items.items()}
    return {
        key: render_template(source, strings, name=f"spec.template.data[{key}]", where=view.where).encode(
            "utf-8", "surrogateescape"
        )
        for key, source in sorted(view.template_data.items())
    }


def _check_template_syntax(view: SealedSecretView) -> None:
    """Every `spec.template.data` entry parsed and checked as `render_template_data` would, never executed."""
    if not view.template_data:
        return
    from sealkit.gotemplate import check_syntax  # imported only when a template needs it

    for key, source in sorted(view.template_data.items()):
        check_syntax(source, name=f"spec.template.data[{key}]", where=view.where)


def build_secret(view: SealedSecretView, data: Mapping[str, bytes]) -> dict[str, Any]:
    """The Secret: template metadata, type, immutable; name/namespace forced; owner reference when known."""
    template_meta = view.template_metadata
    metadata: dict[str, Any] = {"name": view.name}
    if view.namespace:
        metadata["namespace"] = view.namespace
    labels = string_map(template_meta.get("labels"), view.where, "spec.template.metadata.labels")
    annotations = string_map(template_meta.get("annotations"), view.where, "spec.template.metadata.annotations")
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    skip_owner = annotations.get(SKIP_OWNER_REFERENCES_ANNOTATION) == "true"  # exactly, as Bitnami reads it
    if view.uid and not skip_owner:
        metadata["ownerReferences"] = [
            {"apiVersion": API_VERSION, "kind": KIND, "name": view.name, "uid": view.uid, "controller": True}
        ]
    secret: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata}
    secret_type = view.template.get("type")
    if secret_type:
        secret["type"] = secret_type
    if view.template.get("immutable") is not None:
        secret["immutable"] = view.template.get("immutable")
    secret["data"] = {key: encode_base64(data[key]) for key in sorted(data)}
    return secret


def unseal(
    obj: Any,
    keyring: KeyRing,
    *,
    where: str = "input",
    default_namespace: str | None = None,
    preferred_key: str | None = None,
    read_values: bool = True,
) -> Unsealed:
    """Open a SealedSecret into the Secret the controller would create from it.

    Without `read_values` (the controller's /v1/verify: its answer goes to whoever posted the SealedSecret, a
    copy of any in a config repo) nothing is concluded from what a value holds, only that it opens: the
    template is checked, each `spec.template.data` entry parsed and checked (before anything is opened) but
    never executed over the values (its outcome would answer the poster's questions about them, e.g.
    `{{ if hasPrefix "a" .password }}{{ else }}{{ fail "" }}{{ end }}`), and what names and sizes decide
    (`_problems_named`): the keys the type needs (items' and templates' keys), the annotation it needs, the
    1 MiB limit and an empty `ssh-privatekey` for the items no template replaces (the ciphertext shows their
    sizes). Not checked: a template's output (whether it fails, its size, an empty `ssh-privatekey` it makes),
    a `.dockerconfigjson` holding a JSON object, a spec.data holding a JSON Secret (whose keys are then
    unknown, so none of the above is checked); no Secret is built (`secret` is empty). The controller's unseal
    reads them, runs the templates and refuses such a Secret, saying why in the status."""
    view = parse_sealed_secret(obj, where, default_namespace=default_namespace)
    check_template(view, obj)
    if not read_values:
        _check_template_syntax(view)
    opened = open_items(view, keyring, preferred_key=preferred_key, parse_legacy=read_values)
    if not read_values and view.legacy_data:
        return opened  # the Secret's keys are known only from a value: the spec.data blob's JSON
    annotations = string_map(
        view.template_metadata.get("annotations"), view.where, "spec.template.metadata.annotations"
    )
    secret_type = view.template.get("type")
    if not read_values:
        _raise_invalid(_problems_named(view, opened.items, secret_type, annotations), view.where)
        return opened
    data = dict(opened.items)
    data.update(render_template_data(view, opened.items))
    _raise_invalid(secret_data_problems(data, secret_type, annotations), view.where)
    opened.secret = build_secret(view, data)
    return opened


def _problems_named(
    view: SealedSecretView, items: Mapping[str, bytes], secret_type: str | None, annotations: Mapping[str, str]
) -> list[Problem]:
    """The Secret's data problems decided without running a template or reading a value (opens only): its keys
    (every item's and every `spec.template.data` entry's), the annotations the type needs, and the sizes of the
    items no template replaces (the ciphertext shows them), a template's output counted as empty, the least it
    can be. What one template's output holds (its size, whether it is empty) is known only by running it over
    the values, so no problem of a templated key is concluded (an empty `ssh-privatekey` from a template
    passes; the controller's unseal refuses it, in the status)."""
    known = {key: value for key, value in items.items() if key not in view.template_data}
    known.update(dict.fromkeys(view.template_data, b""))
    templated = {f"data[{key}]" for key in view.template_data}
    problems = secret_data_problems(known, secret_type, annotations, read_values=False)
    return [problem for problem in problems if problem.field not in templated]


def _raise_invalid(problems: list[Problem], where: str) -> None:
    if problems:
        raise InvalidTemplate(f"the Secret it describes is invalid: {problems[0]}", where=where)


def check_template(view: SealedSecretView, obj: Any) -> None:
    """Refuse a template (or item key) the API server would refuse in the Secret, before opening anything."""
    spec = obj.get("spec") if isinstance(obj, Mapping) else None
    problems = template_problems(spec) if isinstance(spec, Mapping) else []
    _raise_invalid(problems, view.where)
