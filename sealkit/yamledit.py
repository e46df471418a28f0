"""Edit `spec.encryptedData` values inside a manifest's text, leaving every other byte as it was.

Re-serialising a file loses comments, quoting and key order; instead this module finds each
SealedSecret's encryptedData value nodes (with their character spans) and splices new text in.
JSON files work the same way: JSON is YAML, and its values are double-quoted scalars.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml

from sealkit.errors import InputError

# Character positions need the pure-Python composer (libyaml reports byte-based marks).
_Loader = yaml.SafeLoader


@dataclass(frozen=True)
class ValueSpan:
    """Where one encryptedData value sits in the text, and how it is quoted."""

    start: int
    end: int
    style: str | None  # None plain, '"' or "'" quoted, '|' or '>' block


@dataclass
class SealedDocument:
    """One SealedSecret document in a stream: its position and the spans of its encrypted values."""

    index: int
    values: dict[str, ValueSpan] = field(default_factory=dict)
    mapping_start: int = 0
    mapping_end: int = 0
    mapping_flow: bool = False
    mapping_indent: int | None = None  # column of the keys of a block mapping


def _get(node: yaml.Node, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key and isinstance(value_node, yaml.Node):
            return value_node
    return None


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def locate(text: str, source: str) -> list[SealedDocument | None]:
    """Per document of the stream (empty ones skipped, as `load_documents` does): its SealedSecret
    value spans, or None when the document is not a SealedSecret."""
    try:
        nodes = [n for n in yaml.compose_all(text, Loader=_Loader) if n is not None]
    except yaml.YAMLError:
        raise InputError(f"{source}: not valid YAML") from None
    out: list[SealedDocument | None] = []
    for i, node in enumerate(nodes, start=1):
        if _scalar(_get(node, "kind")) != "SealedSecret":
            out.append(None)
            continue
        doc = SealedDocument(i)
        encrypted = _get(_get(node, "spec") or yaml.MappingNode("", []), "encryptedData")
        if isinstance(encrypted, yaml.MappingNode):
            doc.mapping_start = encrypted.start_mark.index
            doc.mapping_end = encrypted.end_mark.index
            doc.mapping_flow = bool(encrypted.flow_style)
            if encrypted.value:
                doc.mapping_indent = encrypted.value[0][0].start_mark.column
            for key_node, value_node in encrypted.value:
                if isinstance(key_node, yaml.ScalarNode) and isinstance(value_node, yaml.ScalarNode):
                    doc.values[key_node.value] = ValueSpan(
                        value_node.start_mark.index, value_node.end_mark.index, value_node.style
                    )
        out.append(doc)
    return out


def _render(value: str, style: str | None) -> str:
    if style in ('"', "'"):
        return f"{style}{value}{style}"
    return value  # base64 is always a safe plain scalar


def replace_values(text: str, edits: Mapping[int, Mapping[str, str]], source: str) -> str:
    """Replace existing encryptedData values: `edits[document index][item] = new base64`."""
    documents = {d.index: d for d in locate(text, source) if d is not None}
    splices: list[tuple[int, int, str]] = []
    for index, items in edits.items():
        doc = documents.get(index)
        if doc is None:
            raise InputError(f"{source} document {index}: not a SealedSecret")
        for item, value in items.items():
            span = doc.values.get(item)
            if span is None:
                raise InputError(f"{source} document {index}: no encryptedData.{item} to replace")
            splices.append((span.start, span.end, _render(value, span.style)))
    for start, end, new in sorted(splices, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def merge_values(text: str, index: int, items: Mapping[str, str], source: str) -> str:
    """Replace or add encryptedData items of one document; other lines stay untouched."""
    documents = {d.index: d for d in locate(text, source) if d is not None}
    doc = documents.get(index)
    if doc is None:
        raise InputError(f"{source} document {index}: not a SealedSecret")
    existing = {k: v for k, v in items.items() if k in doc.values}
    added = {k: v for k, v in items.items() if k not in doc.values}
    if existing:
        text = replace_values(text, {index: existing}, source)
        doc = next(d for d in locate(text, source) if d is not None and d.index == index)
    if not added:
        return text
    if doc.mapping_end == 0:
        raise InputError(f"{source} document {index}: the SealedSecret has no spec.encryptedData mapping to merge into")
    if doc.mapping_flow:
        close = text.rindex("}", doc.mapping_start, doc.mapping_end)
        before = text[doc.mapping_start + 1 : close].strip()
        entries = ", ".join(f'"{k}": "{v}"' for k, v in added.items())
        insert = (", " if before else "") + entries
        return text[:close].rstrip() + insert + text[close:]
    if doc.mapping_indent is None:
        raise InputError(f"{source} document {index}: spec.encryptedData is empty; cannot infer its indentation")
    # A block mapping ends after its last value's line: insert new lines there, same indentation.
    last = max(doc.values.values(), key=lambda s: s.end)
    pos = _line_end(text, last.end)
    lines = "".join(f"\n{' ' * doc.mapping_indent}{k}: {v}" for k, v in added.items())
    return text[:pos] + lines + text[pos:]
