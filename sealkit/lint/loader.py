"""Reading one file for lint: its bytes within a size cap, then YAML or JSON documents with line
numbers, within fixed bounds.

`read_file` is the one place lint reads a file from disk, through the core's bounded reader
(`sealkit.reading`): a file over the cap (`SEALKIT_MAX_INPUT_BYTES`, default 8 MiB) or that cannot
be read is a finding naming the file, never a silent skip. Before composing, the core's event-stream
check refuses aliases that expand beyond the cap or go-yaml's excessive-aliasing ratio, recursion
and nesting deeper than MAX_DEPTH (a YAML_BOMB finding).

PyYAML's constructor shares aliased nodes, but anything walking the result visits each alias
again: a few hundred bytes of nested aliases ("billion laughs") become billions of visits. Here
the composed node graph is converted with each collection converted once and its expanded size
(aliases counted every time they are used) summed; a file whose expansion exceeds its own size
plus a fixed allowance, or that recurses, is refused as a finding. An anchor defined twice is
valid YAML (go-yaml, and so kubectl and Flux, take the later one for later aliases): it is read
the same way here. Duplicate keys are reported only inside Kubernetes objects (apiVersion and
kind), not in other YAML such as CI pipelines. Nothing here quotes file content.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sealkit import reading
from sealkit.errors import InputError
from sealkit.lint import catalog
from sealkit.lint.model import Hit
from sealkit.validation import type_name

# libyaml composes in C and caps flow nesting itself; fall back when PyYAML was built without it.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_INPUT_ENV = reading.MAX_INPUT_ENV
DEFAULT_MAX_INPUT_BYTES = reading.DEFAULT_MAX_INPUT_BYTES
MAX_DEPTH = 200
EXPANSION_ALLOWANCE = 100_000  # nodes beyond the file's own size in bytes

_TAG = "tag:yaml.org,2002:"
_STR_TAG = _TAG + "str"
_MERGE_TAG = _TAG + "merge"
_SCALAR_TAGS = frozenset(_TAG + t for t in ("null", "bool", "int", "float", "binary", "timestamp"))
_CONSTRUCTOR = yaml.constructor.SafeConstructor()

Path_ = tuple[str | int, ...]


def _descend(node: yaml.Node, path: Path_) -> tuple[int, yaml.Node, bool]:
    """Follow `path` (mapping keys, the last of a repeated key winning, and sequence indexes) as far as it
    exists: (the 1-based line reached, a mapping step's being its key's; the node reached; whether all of it)."""
    line = int(node.start_mark.line) + 1
    current: Any = node
    for part in path:
        if isinstance(current, yaml.MappingNode) and isinstance(part, str):
            found = None
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                    found = (key_node, value_node)
            if found is None:
                return line, current, False
            line, current = int(found[0].start_mark.line) + 1, found[1]
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(current.value):
            current = current.value[part]
            line = int(current.start_mark.line) + 1
        else:
            return line, current, False
    return line, current, True


def node_line(node: yaml.Node, path: Path_) -> int:
    """1-based line of `path` inside `node`: the key's line for mapping steps, else the nearest
    ancestor that exists (for paths through merge keys or missing fields)."""
    return _descend(node, path)[0]


def node_at(node: yaml.Node, path: Path_) -> yaml.Node | None:
    """The node at `path` (mapping keys and sequence indexes), or None when it is not there."""
    _, found, whole = _descend(node, path)
    return found if whole and isinstance(found, yaml.Node) else None


def _text(mapping: Mapping[str, Any], key: str) -> str:
    """A string field, or "" when it is missing or not a string."""
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object from a file: a document, or one item of a `kind: List` document."""

    obj: Mapping[str, Any]
    node: yaml.Node
    document: int  # 1-based among the file's non-empty documents
    item: int | None = None  # 0-based position in a List document

    def line(self, *path: str | int) -> int:
        return node_line(self.node, path)

    @property
    def kind(self) -> str:
        return _text(self.obj, "kind")

    @property
    def api_version(self) -> str:
        return _text(self.obj, "apiVersion")

    @property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.obj.get("metadata")
        return meta if isinstance(meta, Mapping) else {}

    @property
    def name(self) -> str:
        return _text(self.metadata, "name")

    @property
    def namespace(self) -> str:
        return _text(self.metadata, "namespace")


def is_kubernetes_object(obj: Any) -> bool:
    """An object the API server would take: a mapping with a string apiVersion and kind."""
    if not isinstance(obj, Mapping):
        return False
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    return isinstance(api_version, str) and bool(api_version) and isinstance(kind, str) and bool(kind)


@dataclass
class LoadedFile:
    """What one file holds: its Kubernetes objects, every top-level document (any YAML), and the
    findings that reading it produced."""

    manifests: list[Manifest] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    documents: list[tuple[Any, yaml.Node]] = field(default_factory=list)


class _Refused(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


class _RedefiningLoader(yaml.SafeLoader):
    """PyYAML refuses an anchor defined twice; YAML allows it and go-yaml uses the later one."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if not self.check_event(yaml.AliasEvent):
            anchor = getattr(self.peek_event(), "anchor", None)  # type: ignore[no-untyped-call]
            if anchor is not None:
                self.anchors.pop(anchor, None)
        return super().compose_node(parent, index)


class _Converter:
    """Composed nodes -> plain Python objects, each collection once, with an expansion budget."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self.objects: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.active: set[int] = set()
        self.hits: list[Hit] = []

    def document(self, node: yaml.Node) -> Any:
        value, size = self.convert(node, 0)
        self.total += size
        if self.total > self.limit:
            raise _Refused(f"aliases expand to more than {self.limit} nodes", int(node.start_mark.line) + 1)
        return value

    def convert(self, node: yaml.Node, depth: int) -> tuple[Any, int]:
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node), 1
        key = id(node)
        if key in self.sizes:
            return self.objects[key], self.sizes[key]
        line = int(node.start_mark.line) + 1
        if key in self.active:
            raise _Refused("an alias refers to a collection that contains it (recursive YAML)", line)
        if depth >= MAX_DEPTH:
            raise _Refused(f"collections nest deeper than {MAX_DEPTH} levels", line)
        self.active.add(key)
        if isinstance(node, yaml.SequenceNode):
            items: list[Any] = []
            self.objects[key] = items
            size = 1
            for child in node.value:
                value, child_size = self.convert(child, depth + 1)
                items.append(value)
                size += child_size
        else:
            assert isinstance(node, yaml.MappingNode)
            mapping: dict[Any, Any] = {}
            self.objects[key] = mapping
            size = self._fill_mapping(node, mapping, depth)
        self.active.discard(key)
        if size > self.limit:
            raise _Refused(f"aliases expand to more than {self.limit} nodes", line)
        self.sizes[key] = size
        return self.objects[key], size

    def _fill_mapping(self, node: yaml.MappingNode, out: dict[Any, Any], depth: int) -> int:
        size = 1
        merges: list[Any] = []
        for key_node, value_node in node.value:
            key, key_size = self.convert(key_node, depth + 1)
            value, value_size = self.convert(value_node, depth + 1)
            size += key_size + value_size
            if key_node.tag == _MERGE_TAG:
                merges.extend(value if isinstance(value, list) else [value])
                continue
            if not _hashable(key):
                key = f"<{type_name(key)} key at line {int(key_node.start_mark.line) + 1}>"
            if key in out:
                self.hits.append(
                    Hit(
                        catalog.DUPLICATE_KEY,
                        int(key_node.start_mark.line) + 1,
                        f"key {_short(key)} appears twice in one mapping; YAML readers disagree on which wins",
                    )
                )
            out[key] = value
        for merged in merges:
            if isinstance(merged, Mapping):
                for k, v in merged.items():
                    out.setdefault(k, v)
        return size


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _short(key: Any) -> str:
    text = str(key)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _scalar(node: yaml.ScalarNode) -> Any:
    """A scalar typed as safe_load types it; unknown tags and unparsable values stay strings."""
    if node.tag == _STR_TAG or node.tag not in _SCALAR_TAGS:
        return node.value
    constructor = yaml.constructor.SafeConstructor.yaml_constructors[node.tag]
    try:
        return constructor(_CONSTRUCTOR, node)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return node.value


def _bare_secret(obj: Any) -> bool:
    """A mapping that says `kind: Secret` without an apiVersion (a kustomize patch, a hand-written file; an
    empty, null or non-string one too): not an object the API server takes as it stands, but plaintext Secret
    values committed all the same."""
    if not isinstance(obj, Mapping) or obj.get("kind") != "Secret":
        return False
    api_version = obj.get("apiVersion")
    return not (isinstance(api_version, str) and api_version)


def _kubernetes_objects(obj: Any, node: yaml.Node, document: int, item: int | None = None) -> list[Manifest]:
    """The objects of one document: itself, or the items of a `...List` (nested Lists flattened, as kubectl
    does; items without apiVersion and kind, as the API server lists them in a `SecretList`, take the
    List's: `v1` and `Secret`)."""
    if _bare_secret(obj):
        return [Manifest(obj, node, document, item)]
    if not is_kubernetes_object(obj):
        return []
    kind = obj.get("kind")
    items = obj.get("items")
    if not (isinstance(kind, str) and kind.endswith("List") and isinstance(items, list)):
        return [Manifest(obj, node, document, item)]
    items_node = None
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "items":
                items_node = value_node
    item_kind = kind.removesuffix("List")
    out: list[Manifest] = []
    for i, entry in enumerate(items):
        item_node = node
        if isinstance(items_node, yaml.SequenceNode) and i < len(items_node.value):
            item_node = items_node.value[i]
        if item_kind and isinstance(entry, Mapping) and "kind" not in entry and "apiVersion" not in entry:
            entry = {"apiVersion": obj["apiVersion"], "kind": item_kind, **entry}
        out.extend(_kubernetes_objects(entry, item_node, document, i if item is None else item))
    return out


def max_input_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The size cap: $SEALKIT_MAX_INPUT_BYTES (a positive integer), default 8 MiB (the core reader's)."""
    return reading.max_input_bytes(environ)


def too_large(limit: int) -> Hit:
    return Hit(
        catalog.FILE_TOO_LARGE,
        1,
        f"larger than the {limit}-byte input limit (${MAX_INPUT_ENV}): not checked, so it may hide a secret",
    )


def read_file(path: Path, limit: int) -> bytes | Hit:
    """The whole file through the core's bounded reader, or the finding that says why it cannot be read
    whole (lint's only file read)."""
    try:
        return reading.read_file(path, limit=limit)
    except reading.TooLarge:
        return too_large(limit)
    except InputError as exc:
        return Hit(catalog.FILE_UNREADABLE, 1, f"cannot be read ({exc.what}): not checked")


def read_chunks(path: Path, size: int) -> Iterator[bytes]:
    """A regular file piece by piece (`size` bytes each, the last shorter), for the one check that reads a file
    too large to hold whole: private keys in a file under the config's `ignore:` (SK104 is never ignored).
    Memory stays bounded by `size`; OSError is the caller's to report."""
    with path.open("rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        while chunk := handle.read(size):
            yield chunk


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode(data: bytes) -> str | Hit:
    """The file's text (UTF-8, or UTF-16 with a byte-order mark), or the finding that says why not."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    if encoding == "utf-8" and b"\x00" in data:
        return Hit(catalog.BINARY_FILE, 1, "binary data (NUL bytes) in a text file: not checked")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return Hit(catalog.BINARY_FILE, 1, f"not valid {encoding.removesuffix('-sig').upper()} text: not checked")


def _compose_all(text: str) -> list[yaml.Node]:
    try:
        return [n for n in yaml.compose_all(text, Loader=_Loader) if n is not None]
    except yaml.composer.ComposerError as exc:
        if "duplicate anchor" not in str(exc):
            raise
    return [n for n in yaml.compose_all(text, Loader=_RedefiningLoader) if n is not None]


def _convert(nodes: list[yaml.Node], size: int, result: LoadedFile) -> None:
    converter = _Converter(EXPANSION_ALLOWANCE + size)
    index = 0
    for node in nodes:
        before = len(converter.hits)
        try:
            obj = converter.document(node)
        except _Refused as exc:
            result.hits.append(Hit(catalog.YAML_BOMB, exc.line, f"document {index + 1}: {exc.message}: not checked"))
            break
        if not is_kubernetes_object(obj):
            del converter.hits[before:]  # duplicate keys matter to Kubernetes objects only
        if obj is not None:  # empty documents are skipped and not numbered, as load_documents does
            index += 1
            result.documents.append((obj, node))
            result.manifests.extend(_kubernetes_objects(obj, node, index))
    result.hits.extend(converter.hits)


def load_text(text: str, size: int | None = None) -> LoadedFile:
    """Every document and Kubernetes object in a YAML stream, or the findings that stopped it."""
    result = LoadedFile()
    if not _bounded(text, result):
        return result
    try:
        nodes = _compose_all(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        last_line = max(1, len(text.splitlines()))
        line = min(int(mark.line) + 1, last_line) if mark is not None else 1  # marks at EOF point past the end
        if "{{" in text:
            result.hits.append(Hit(catalog.TEMPLATE_SKIPPED, line, "Go/Helm template syntax, not YAML: not checked"))
        else:
            problem = exc.problem or "syntax error"
            result.hits.append(Hit(catalog.YAML_INVALID, line, f"not valid YAML: {problem}"))
        return result
    except yaml.YAMLError:
        result.hits.append(Hit(catalog.YAML_INVALID, 1, "not valid YAML"))
        return result
    except RecursionError:
        result.hits.append(Hit(catalog.YAML_BOMB, 1, "collections nest too deep to read"))
        return result
    _convert(nodes, len(text) if size is None else size, result)
    return result


TEMPLATED = "sealkit-templated-value"
_MARK = "\ue000"  # a private-use character standing for one action while lines are sorted out


def detemplated(text: str) -> str:
    """A Go/Helm template with its actions (`{{ ... }}`) taken out, line for line: a line of actions only
    becomes empty, an action inside a line becomes TEMPLATED. What is left is the literal text the template
    writes whatever its values, so a value it hard-codes can still be seen. Linear in the text's length."""
    parts: list[str] = []
    position = 0
    while (start := text.find("{{", position)) >= 0 and (end := text.find("}}", start + 2)) >= 0:
        parts += [text[position:start].replace(_MARK, ""), _MARK, "\n" * text.count("\n", start, end)]
        position = end + 2
    parts.append(text[position:].replace(_MARK, ""))
    lines = "".join(parts).split("\n")
    return "\n".join("" if line.strip(" \t") and not line.strip(" \t" + _MARK) else line.replace(_MARK, TEMPLATED)
                     for line in lines)  # fmt: skip


def _bounded(text: str, result: LoadedFile) -> bool:
    """The core reader's expansion and depth limits, decided on the event stream before composing;
    False (with a finding) when the text breaks one. Not-YAML and duplicate keys are reported by
    the composer and the converter below, with their own findings."""
    try:
        limits = reading.Limits(max(reading.max_input_bytes(), len(text)), MAX_DEPTH)
        reading.check_yaml(text, "file", limits, refuse_duplicates=False)
    except reading.LimitExceeded as exc:
        result.hits.append(Hit(catalog.YAML_BOMB, exc.line, f"{exc.what}: not checked"))
        return False
    except InputError:
        return True
    return True


_JSON = json.JSONDecoder()


def _json_spans(text: str) -> list[tuple[int, int]] | int:
    """(start, end) of each value in a JSON stream (one value, or several concatenated), or the
    1-based line where it stops being JSON."""
    spans: list[tuple[int, int]] = []
    position, length = 0, len(text)
    while True:
        while position < length and text[position] in " \t\r\n":
            position += 1
        if position >= length:
            return spans
        try:
            _, end = _JSON.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            return text.count("\n", 0, exc.pos) + 1
        except RecursionError:
            return text.count("\n", 0, position) + 1
        spans.append((position, end))
        position = end


def load_json_text(text: str, size: int | None = None) -> LoadedFile:
    """Every Kubernetes object in a JSON file: one object, a List, or objects concatenated.

    Each value is re-read as YAML (JSON is YAML's flow style) at its own lines, so findings point
    at keys as they do in YAML files; the expansion and depth bounds apply the same way.
    """
    spans = _json_spans(text)
    if isinstance(spans, int):
        return LoadedFile(hits=[Hit(catalog.JSON_INVALID, spans, "not valid JSON: checked for key material only")])
    result = LoadedFile()
    nodes: list[yaml.Node] = []
    for start, end in spans:
        padded = "\n" * text.count("\n", 0, start) + text[start:end]
        try:
            nodes.extend(_compose_all(padded))
        except (yaml.YAMLError, RecursionError):
            line = text.count("\n", 0, start) + 1
            result.hits.append(Hit(catalog.JSON_INVALID, line, "a JSON value YAML cannot read: not checked"))
    _convert(nodes, len(text) if size is None else size, result)
    return result


def load_bytes(data: bytes, *, json_file: bool = False) -> LoadedFile:
    text = decode(data)
    if isinstance(text, Hit):
        return LoadedFile(hits=[text])
    return load_json_text(text, len(data)) if json_file else load_text(text, len(data))
