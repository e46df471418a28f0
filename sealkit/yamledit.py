"""Edit `spec.encryptedData` values and `metadata.annotations` inside a manifest's text, leaving every
other byte as it was.

Re-serialising a file loses comments, quoting and key order; instead this module finds each
SealedSecret's encryptedData value nodes (with their character spans) and splices new text in.
JSON files work the same way: JSON is YAML, and its values are double-quoted scalars.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from sealkit.errors import InputError
from sealkit.reading import compose_documents, load_documents

# Character positions need the pure-Python composer (libyaml reports byte-based marks); for ASCII text
# (sealed files nearly always are) bytes are characters and libyaml composes some 20 times faster.
_Loader = yaml.SafeLoader
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose(text: str, source: str) -> list[yaml.Node]:
    """The non-empty documents of `text` as nodes whose marks are character positions in `text`."""
    loader = _FastLoader if text.isascii() else _Loader
    try:
        return [n for n in yaml.compose_all(text, Loader=loader) if n is not None and not _is_null(n)]
    except yaml.YAMLError:
        raise InputError("not valid YAML", where=source) from None


def _is_null(node: yaml.Node) -> bool:
    """A document that reads as nothing (`null`, `~`, an empty document between markers): `load_documents`
    skips it, so document numbers here must skip it too."""
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class ValueSpan:
    """Where one encryptedData value sits in the text, and how it is quoted."""

    start: int
    end: int
    style: str | None  # None plain, '"' or "'" quoted, '|' or '>' block
    alias: bool = False  # `*x`: the span is its anchor's, elsewhere in the text


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
    return [sealed_document(node, i) for i, node in enumerate(compose(text, source), start=1)]


def sealed_document(node: yaml.Node, index: int) -> SealedDocument | None:
    """The value spans of one composed document (`index`: its number in the stream), or None when it is not
    a SealedSecret. `sealkit.reading.compose_documents` gives the nodes of a text it parsed once."""
    if _scalar(_get(node, "kind")) != "SealedSecret":
        return None
    doc = SealedDocument(index)
    encrypted = _get(_get(node, "spec") or yaml.MappingNode("", []), "encryptedData")
    if isinstance(encrypted, yaml.MappingNode):
        doc.mapping_start = encrypted.start_mark.index
        doc.mapping_end = encrypted.end_mark.index
        doc.mapping_flow = bool(encrypted.flow_style)
        if encrypted.value:
            doc.mapping_indent = encrypted.value[0][0].start_mark.column
        for key_node, value_node in encrypted.value:
            if isinstance(key_node, yaml.ScalarNode) and isinstance(value_node, yaml.ScalarNode):
                start = value_node.start_mark.index
                doc.values[key_node.value] = ValueSpan(  # libyaml says "" for plain, PyYAML None
                    start,
                    value_node.end_mark.index,
                    value_node.style or None,
                    alias=start < key_node.end_mark.index,  # an alias's node is its anchor's, marks and all
                )
    return doc


def _render(value: str, style: str | None) -> str:
    if style in ('"', "'"):
        return f"{style}{value}{style}"
    return value  # base64 is always a safe plain scalar (a `|`/`>` block value becomes one)


def _value_end(text: str, span: ValueSpan) -> int:
    """Where a value's own text ends: a block scalar's span runs on over its line breaks (and blank lines)."""
    end = span.end
    if span.style in ("|", ">"):
        while end > span.start and text[end - 1] in " \t\r\n":
            end -= 1
    return end


def newline_of(text: str) -> str:
    """The file's line break: CRLF when its first line ends so, else LF (new lines are written alike)."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def read_back(text: str, source: str) -> list[Any]:
    """The objects of `text`'s non-empty documents, read through the bounded reader."""
    composed = compose_documents(text, source)
    if composed is not None:
        return [doc.obj for doc, _ in composed]
    return [doc.obj for doc in load_documents(text, source)]


def expect_edit(
    before: list[Any],
    index: int,
    encrypted: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> list[Any]:
    """What the documents `before` read as once document `index` has these encryptedData items and
    annotations set (a copy; `before` stays)."""
    out = copy.deepcopy(before)
    obj = out[index - 1] if 1 <= index <= len(out) else None
    if isinstance(obj, dict) and encrypted:
        spec = obj.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("encryptedData"), dict):
            spec["encryptedData"].update(encrypted)
    if isinstance(obj, dict) and annotations and isinstance(obj.get("metadata"), dict):
        meta = obj["metadata"]
        if not isinstance(meta.get("annotations"), dict):
            meta["annotations"] = {}
        meta["annotations"].update(annotations)
    return out


_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_STR_TAG = "tag:yaml.org,2002:str"


def _plain_string(value: str) -> bool:
    """Whether `value` written plain reads back as this string (not a number, bool or null)."""
    tag: object = yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag == _STR_TAG


def swaps_values_only(text: str, located: SealedDocument, items: Mapping[str, str]) -> bool:
    """Whether putting `items` into `located`'s document only swaps one base64 value for another, token for
    token: each item replaces an existing value written on one line as base64 alone (plain, or in quotes:
    no tag, anchor, alias, block or line break) with base64 in the same style. Such an edit reads back as
    intended by construction, so the read-back (`check_edit`, a second parse of the file) can be skipped."""
    for item, value in items.items():
        span = located.values.get(item)
        if span is None or span.alias or not _BASE64.fullmatch(value):
            return False
        old = text[span.start : span.end]
        if span.style is None:
            if not (_BASE64.fullmatch(old) and _plain_string(value)):
                return False
        elif span.style not in ('"', "'") or not (
            len(old) > 2 and old[0] == old[-1] == span.style and _BASE64.fullmatch(old[1:-1])
        ):
            return False
    return True


def check_edit(expected: list[Any], text: str, source: str, index: int) -> str:
    """`text` (an edited file) when it reads back as exactly `expected`; else refused, so that an edit this
    module got wrong (a layout it cannot edit) is never written."""
    try:
        ok = read_back(text, source) == expected
    except InputError:
        ok = False
    if not ok:
        raise InputError(
            "cannot edit the file in place: the result would not read back as intended (an anchor or alias, "
            "or a layout sealkit cannot edit there)",
            where=f"{source} document {index}",
        )
    return text


def replace_values(text: str, edits: Mapping[int, Mapping[str, str]], source: str) -> str:
    """Replace existing encryptedData values: `edits[document index][item] = new base64`. The result is read
    back and refused unless it holds exactly those changes."""
    before = read_back(text, source)
    out = _replace(text, {d.index: d for d in locate(text, source) if d is not None}, edits, source)
    expected = before
    for index, items in edits.items():
        expected = expect_edit(expected, index, items)
    return check_edit(expected, out, source, min(edits, default=1))


def _replace(
    text: str, documents: Mapping[int, SealedDocument], edits: Mapping[int, Mapping[str, str]], source: str
) -> str:
    splices: list[tuple[int, int, str]] = []
    for index, items in edits.items():
        doc = documents.get(index)
        if doc is None:
            raise InputError("not a SealedSecret", where=f"{source} document {index}")
        for item, value in items.items():
            span = doc.values.get(item)
            if span is None:
                raise InputError(f"no encryptedData.{item} to replace", where=f"{source} document {index}")
            if span.alias or text.startswith("&", span.start):  # its text is read elsewhere too
                raise InputError(
                    f"spec.encryptedData.{item} is a YAML anchor or alias; write its value out to change it in place",
                    where=f"{source} document {index}",
                )
            splices.append((span.start, _value_end(text, span), _render(value, span.style)))
    for start, end, new in sorted(splices, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _line_end(text: str, pos: int) -> int:
    """Where the line holding `pos` ends: at its line break (before the CR of a CRLF)."""
    end = text.find("\n", pos)
    if end < 0:
        return len(text)
    return end - 1 if end > pos and text[end - 1] == "\r" else end


def merge_values(
    text: str,
    index: int,
    items: Mapping[str, str],
    source: str,
    located: SealedDocument | None = None,
    *,
    check: bool = True,
) -> str:
    """Replace or add encryptedData items of one document; other lines stay untouched. `located`: that
    document's spans when the caller has them (`sealed_document`), else the text is composed here. The
    result is read back and refused unless it holds exactly those changes (`check=False`: the caller
    checks the final text itself, `check_edit`)."""
    if not check:
        return _merge(text, index, items, source, located)
    expected = expect_edit(read_back(text, source), index, items)
    return check_edit(expected, _merge(text, index, items, source, located), source, index)


def _merge(text: str, index: int, items: Mapping[str, str], source: str, located: SealedDocument | None = None) -> str:
    if located is not None and located.index == index:
        documents = {index: located}
    else:
        documents = {d.index: d for d in locate(text, source) if d is not None}
    doc = documents.get(index)
    if doc is None:
        raise InputError("not a SealedSecret", where=f"{source} document {index}")
    existing = {k: v for k, v in items.items() if k in doc.values}
    added = {k: v for k, v in items.items() if k not in doc.values}
    if existing:
        text = _replace(text, documents, {index: existing}, source)
        if not added:
            return text
        doc = next(d for d in locate(text, source) if d is not None and d.index == index)
    if not added:
        return text
    if doc.mapping_end == 0:
        raise InputError(
            "the SealedSecret has no spec.encryptedData mapping to merge into", where=f"{source} document {index}"
        )
    if doc.mapping_flow:
        entries = ", ".join(f"{_quoted(k)}: {_quoted(v)}" for k, v in added.items())
        if doc.values:  # right after the last value: a trailing comma or a comment after it stays valid
            at = max(s.end for s in doc.values.values())
            return text[:at] + ", " + entries + text[at:]
        return text[: doc.mapping_start + 1] + entries + text[doc.mapping_start + 1 :]
    if doc.mapping_indent is None or not doc.values:
        raise InputError(
            "spec.encryptedData is empty; cannot infer its indentation", where=f"{source} document {index}"
        )
    # A block mapping ends after its last value's line: insert new lines there, same indentation.
    last = max(doc.values.values(), key=lambda s: s.end)
    pos = _line_end(text, _value_end(text, last))
    newline = newline_of(text)
    lines = "".join(f"{newline}{' ' * doc.mapping_indent}{_block_scalar(k)}: {v}" for k, v in added.items())
    return text[:pos] + lines + text[pos:]


# --- metadata.annotations -------------------------------------------------------------------------


def _quoted(value: str) -> str:
    """A double-quoted scalar: valid YAML and JSON, and never read as a number, bool or null."""
    return json.dumps(value)


def _block_scalar(value: str) -> str:
    """In block context: plain when every YAML reader reads it back as this string, else double-quoted."""
    from sealkit.csi.yamlio import flow_scalar

    return flow_scalar(value)


def _content_end(node: yaml.Node) -> int:
    """Where a node's own text ends: a block collection ends with its last child (its end mark would sit at
    the next token, after any comments between)."""
    if isinstance(node, yaml.MappingNode) and node.value and not node.flow_style:
        return _content_end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and node.value and not node.flow_style:
        return _content_end(node.value[-1])
    return int(node.end_mark.index)


def _last_line_end(text: str, node: yaml.Node) -> int:
    """The end of the line holding the last character of a block node (so new lines go right after it)."""
    end = _content_end(node)
    while end > node.start_mark.index and text[end - 1] in " \t\n":  # block scalars end on the next line
        end -= 1
    return _line_end(text, end)


def _indent_step(mapping: yaml.MappingNode) -> int:
    """How far this file indents a nested block mapping (2 unless the mapping shows otherwise)."""
    for key, value in mapping.value:
        if isinstance(value, yaml.MappingNode) and value.value and not value.flow_style:
            step = value.value[0][0].start_mark.column - key.start_mark.column
            if step > 0:
                return int(step)
    return 2


def _flow_insert(text: str, node: yaml.MappingNode, entries: str) -> str:
    """`entries` into a flow mapping: right after its last value (a trailing comma or a comment after it stays
    valid), or after the `{` of an empty one."""
    if node.value:
        at = int(node.value[-1][1].end_mark.index)
        return text[:at] + ", " + entries + text[at:]
    at = int(node.start_mark.index) + 1
    return text[:at] + entries + text[at:]


def set_annotations(text: str, index: int, annotations: Mapping[str, str], source: str, *, check: bool = True) -> str:
    """Set `metadata.annotations` entries of document `index` (1-based, as `locate` counts), in place.

    An existing entry's value is replaced (kept in its quotes, plain values become double-quoted); new
    entries go after the last one at its indentation; a missing `annotations` map is added after the
    metadata's last line. Flow mappings (and JSON) get `"key": "value"` entries. Nothing else changes:
    the result is read back and refused unless it holds exactly those changes (`check=False`: the caller
    checks the final text itself, `check_edit`).
    """
    if not check:
        return _set_annotations(text, index, annotations, source)
    expected = expect_edit(read_back(text, source), index, annotations=annotations)
    return check_edit(expected, _set_annotations(text, index, annotations, source), source, index)


def _set_annotations(text: str, index: int, annotations: Mapping[str, str], source: str) -> str:
    nodes = compose(text, source)
    if not 1 <= index <= len(nodes):
        raise InputError("no such document", where=f"{source} document {index}")
    metadata = _get(nodes[index - 1], "metadata")
    if not isinstance(metadata, yaml.MappingNode) or not metadata.value:
        raise InputError("no metadata mapping to annotate", where=f"{source} document {index}")
    existing = _get(metadata, "annotations")
    if existing is not None and not isinstance(existing, yaml.MappingNode):
        if isinstance(existing, yaml.ScalarNode) and existing.value in ("", "~", "null"):
            existing = None  # `annotations:` with nothing after it
        else:
            raise InputError("metadata.annotations is not a mapping", where=f"{source} document {index}")
    splices: list[tuple[int, int, str]] = []
    added: dict[str, str] = {}
    for key, value in annotations.items():
        node = _get(existing, key) if existing is not None else None
        if isinstance(node, yaml.ScalarNode):
            if node.style == "'" and "'" not in value:
                rendered = f"'{value}'"
            elif not node.style and not (existing is not None and existing.flow_style):
                rendered = _block_scalar(value)
            else:
                rendered = _quoted(value)
            splices.append((node.start_mark.index, node.end_mark.index, rendered))
        else:
            added[key] = value
    for start, end, new in sorted(splices, reverse=True):
        text = text[:start] + new + text[end:]
    if not added:
        return text
    newline = newline_of(text)
    # Positions moved: find the nodes again in the edited text.
    metadata = _get(compose(text, source)[index - 1], "metadata")
    assert isinstance(metadata, yaml.MappingNode)
    existing = _get(metadata, "annotations")
    if isinstance(existing, yaml.MappingNode) and existing.value:
        if existing.flow_style:
            return _flow_insert(text, existing, ", ".join(f"{_quoted(k)}: {_quoted(v)}" for k, v in added.items()))
        indent = existing.value[0][0].start_mark.column
        pos = _last_line_end(text, existing)
        lines = "".join(f"{newline}{' ' * indent}{_block_scalar(k)}: {_block_scalar(v)}" for k, v in added.items())
        return text[:pos] + lines + text[pos:]
    if existing is not None:  # `annotations: {}` or `annotations:` (null): replace the value
        start, end = existing.start_mark.index, existing.end_mark.index
        flow = "{" + ", ".join(f"{_quoted(k)}: {_quoted(v)}" for k, v in added.items()) + "}"
        if metadata.flow_style or isinstance(existing, yaml.MappingNode):
            return text[:start] + flow + text[end:]
        return text[:start] + (" " if start and text[start - 1] == ":" else "") + flow + text[end:]
    if metadata.flow_style:
        entries = ", ".join(f"{_quoted(k)}: {_quoted(v)}" for k, v in added.items())
        return _flow_insert(text, metadata, f'"annotations": {{{entries}}}')
    indent = metadata.value[0][0].start_mark.column
    pos = _last_line_end(text, metadata)
    inner = " " * (indent + _indent_step(metadata))
    lines = f"{newline}{' ' * indent}annotations:" + "".join(
        f"{newline}{inner}{_block_scalar(k)}: {_block_scalar(v)}" for k, v in added.items()
    )
    return text[:pos] + lines + text[pos:]
