"""Secrets nested inside other YAML: a plaintext Secret is committed wherever in a document it sits.

Charts take whole manifests in their values (`extraObjects`, `extraDeploy`, `extraManifests`), as
mappings or as strings holding YAML; a Flux HelmRelease carries those values, a kustomization's
`helmCharts` carries `valuesInline`, a ConfigMap or a CRD can carry a manifest in a string. Helm
renders each into a Secret with the same plaintext. So every mapping below a document's top that
says `kind: Secret` (core group, or no apiVersion) gets the Secret rules (SK101, SK102), and so does
each Secret in a string that holds YAML saying `kind: Secret` (strings in strings, three levels deep; a
string deeper still that holds YAML is SK005, never passed over).

Left to the rules that already read them: the document itself and the items of a List (objects in
their own right), the patches of kustomizations, Flux Kustomizations and HelmRelease post-renderers
(kustomize.py), last-applied annotations (SK103), and SOPS files (SK106). A Secret inside a Secret's
values is not looked for: the outer one is already reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import yaml

from sealkit.bitnami import LAST_APPLIED_ANNOTATIONS
from sealkit.lint import catalog, loader, secrets
from sealkit.lint.loader import Manifest
from sealkit.lint.model import Hit

YamlPath = tuple[str | int, ...]

PATCH_FIELDS = frozenset({"patches", "patchesStrategicMerge", "patchesJson6902"})
_PATCH_HOLDERS = frozenset({"Kustomization", "Component", "HelmRelease"})
_SKIPPED_STRINGS = frozenset(LAST_APPLIED_ANNOTATIONS)
MAX_STRING_DEPTH = 3  # a manifest in a string in a string (in a string): deeper ones are SK005, not read
DEEP_FIX = "Hold the manifest fewer strings deep (a values file, not a string in a string), or lint what is rendered."


def may_hold_secret(data: bytes) -> bool:
    """Whether a file's bytes can hold a nested Secret at all: `kind: Secret` is written out, or spelt with
    escapes (a backslash), or the file is UTF-16 (NUL bytes). Most files are passed over on this alone."""
    return b"Secret" in data or b"\\" in data or b"\x00" in data


def _may_hold_secret(text: str) -> bool:
    """A string that could hold a Secret's YAML or JSON (cheap to ask of every string); one with escapes
    (`"Secr\\u0065t"` in JSON, `\\x65` in a double-quoted YAML string) could spell anything."""
    if "\n" not in text and "{" not in text:
        return False
    return "\\" in text or ("Secret" in text and "kind" in text and "ata" in text)


def _dotted(path: YamlPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _where(document: Any, path: YamlPath, within: str = "") -> str:
    if loader.is_kubernetes_object(document):
        meta = document.get("metadata")
        name = meta.get("name") if isinstance(meta, Mapping) else None
        here = f"{document['kind']} {name if isinstance(name, str) else '(unnamed)'} {_dotted(path)}"
    else:
        here = _dotted(path) or "the document"
    return f"{here} of {within}" if within else here


def _secret_hits(manifest: Manifest, where: str) -> Iterator[Hit]:
    for hit in secrets.check_secret(manifest):
        yield dataclasses.replace(hit, message=f"{hit.message} (inside {where})")


Link = tuple[Any, str | int] | None  # (parent link, key): a path built only when something is found


def _path(link: Link) -> YamlPath:
    parts: list[str | int] = []
    while link is not None:
        link, part = link
        parts.append(part)
    return tuple(reversed(parts))


def embedded_hits(
    document: Any,
    node: yaml.Node,
    index: int,
    *,
    own: Collection[int] = (),
    kustomization: bool = False,
    depth: int = 0,
    within: str = "",
) -> Iterator[Hit]:
    """SK101/SK102 for every Secret nested in one document as the loader builds it (dicts, lists, scalars);
    `own`: ids of the objects that are manifests of their own, checked already. `kustomization`: the document
    is a kustomization file, whose patches kustomize.py checks. `within`: where the document itself is (a
    string in another one, a file a ConfigMap generator reads), added to where each Secret is said to be."""
    if not isinstance(document, dict | list):
        return
    if isinstance(document, dict) and isinstance(document.get("sops"), Mapping):
        return  # SOPS: SK106 checks every value
    skip_patches = kustomization or (isinstance(document, dict) and document.get("kind") in _PATCH_HOLDERS)
    skipped = _SKIPPED_STRINGS | PATCH_FIELDS if skip_patches else _SKIPPED_STRINGS
    stack: list[tuple[Any, Link]] = [(document, None)]
    while stack:  # only collections and strings that say "Secret" are visited
        value, link = stack.pop()
        if isinstance(value, str):
            if not _may_hold_secret(value):
                continue
            if depth < MAX_STRING_DEPTH:
                yield from _string_hits(document, node, _path(link), value, depth, within)
            elif _structured(value):  # YAML that may hold a Secret, too deep to look into
                where = f"a string at {_where(document, _path(link), within)}"
                why = f"is YAML {depth + 1} strings deep (at most {MAX_STRING_DEPTH}): no Secret in it was looked for"
                yield Hit(catalog.YAML_BOMB, loader.node_line(node, _path(link)), f"{where} {why}", DEEP_FIX)
            continue
        if isinstance(value, list):
            stack.extend((c, (link, i)) for i, c in enumerate(value) if isinstance(c, dict | list) or _says(c))
            continue
        if value.get("kind") == "Secret" and secret_api_version(value):
            if link is not None and id(value) not in own:
                path = _path(link)
                found = loader.node_at(node, path)
                manifest = Manifest(value, found if found is not None else node, index)
                yield from _secret_hits(manifest, _where(document, path, within))
            continue  # a Secret's values are its own: not searched for more Secrets
        stack.extend(
            (c, (link, str(k)))
            for k, c in value.items()
            if (isinstance(c, dict | list) or _says(c)) and k not in skipped
        )


def _structured(text: str) -> bool:
    """Whether a string is YAML holding a mapping or a list (plain text is a YAML string too)."""
    return any(isinstance(obj, dict | list) for obj, _ in loader.load_text(text).documents)


def _says(value: Any) -> bool:
    return isinstance(value, str) and ("Secret" in value or "\\" in value)


def secret_api_version(value: Mapping[str, Any]) -> bool:
    return secrets.secret_api_version(value.get("apiVersion", ""))


def _string_hits(document: Any, node: yaml.Node, path: YamlPath, text: str, depth: int, within: str) -> Iterator[Hit]:
    """Secrets in a string that is YAML (or JSON): at their lines when the string is a literal block (`|`),
    else at the string's key. A string that is not YAML is only text."""
    inner = list(text_hits(text, f"a string at {_where(document, path, within)}", depth + 1))
    if not inner:
        return
    key_line = loader.node_line(node, path)
    scalar = loader.node_at(node, path)
    literal = isinstance(scalar, yaml.ScalarNode) and scalar.style == "|"
    first = int(scalar.start_mark.line) + 1 if literal and scalar is not None else key_line
    for hit in inner:
        yield dataclasses.replace(hit, line=first + hit.line if literal else key_line)


def text_hits(text: str, where: str, depth: int = 1) -> Iterator[Hit]:
    """SK101/SK102 for every Secret in a text that is YAML (or JSON), at its lines in the text: a manifest of
    its own or nested in a document (chart values held in a ConfigMap, `extraObjects`). `where` says where the
    text is; `depth`: how many strings deep it is already. A text that is not YAML holds none."""
    if not _may_hold_secret(text):
        return
    loaded = loader.load_text(text)
    for manifest in loaded.manifests:
        yield from _secret_hits(manifest, where)
    own = {id(m.obj) for m in loaded.manifests}
    for i, (obj, inner_node) in enumerate(loaded.documents):
        yield from embedded_hits(obj, inner_node, i + 1, own=own, depth=depth, within=where)
