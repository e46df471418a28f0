"""The one bounded reader for untrusted documents: bytes within a size cap, then YAML or JSON
checked for expansion, depth and duplicate keys before any Python object is built.

Where it sits: the core. Every command's input files and stdin, key and certificate files, the
controller's `/v1/verify` and `/v1/rotate` bodies, the CSI spec (before ruamel.yaml edits it),
kustomize bases, kubeconfig pre-checks and the lint loader read through here. Limits
(docs/errors.md):

- size: `SEALKIT_MAX_INPUT_BYTES` (default 8 MiB) per file, stream or body, read with a bounded
  read (a 100 MiB file costs one `stat`, never 100 MiB of memory);
- text: UTF-8 (a byte-order mark is allowed), no NUL bytes;
- aliases: counted at their expanded size. The parser's event stream is walked once; each anchor's
  expanded node count, characters and height are remembered when its node closes (memoised), and
  every alias adds its anchor's totals. A stream whose expansion exceeds the size cap, or a
  document whose aliases expand to far more nodes than it holds (go-yaml's excessive-aliasing rule,
  which kubectl inherits), is refused before the composer or constructor runs;
- depth: collections nested deeper than `MAX_DEPTH` (aliases included) are refused;
- duplicate mapping keys: refused in Kubernetes objects (documents with apiVersion and kind), as
  the API server's strict field validation refuses them (kubectl --validate=strict, the default).

Every refusal is one `InputError` naming the source (and line) and the limit; none quotes content.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator, Mapping
from typing import IO, Any, NamedTuple

import yaml

from sealkit.errors import InputError, os_reason

# libyaml is several times faster; fall back when PyYAML was built without it.
SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_INPUT_ENV = "SEALKIT_MAX_INPUT_BYTES"
DEFAULT_MAX_INPUT_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 128

# go-yaml's excessive-aliasing rule (decode.go, allowedAliasRatio): past 100 aliased nodes and
# 1,000 decoded nodes, at most 99% of a document's nodes may come from aliases while it holds up
# to 400,000, sliding down to 10% at 4,000,000.
_ALIAS_RATIO_LOW = 400_000
_ALIAS_RATIO_HIGH = 4_000_000
_READ_CHUNK = 1 << 20
_SPACE = re.compile(r"\s*")
_QUOTED = re.compile(r"""'[^']*'|"[^"]*\"""")
# The parser's words for its own tokens: one indicator character, or a token's name (never an input's text).
_GRAMMAR = re.compile(
    r"[-?:,\[\]{}|>!&*%@`]|<(?:stream|document|block|flow) [a-z ]+>|<(?:directive|alias|anchor|tag|scalar)>"
)


# The records below are named tuples and plain classes, not dataclasses: every command reads through this
# module, and defining a dataclass costs more at start-up (docs/benchmarks.md, CLI start-up).


class Limits(NamedTuple):
    """How much one untrusted input may hold."""

    max_bytes: int = DEFAULT_MAX_INPUT_BYTES
    max_depth: int = MAX_DEPTH

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        return cls(max_bytes=max_input_bytes(environ))


def max_input_bytes(environ: Mapping[str, str] | None = None) -> int:
    """The size cap: $SEALKIT_MAX_INPUT_BYTES (a positive whole number of bytes), default 8 MiB."""
    raw = (os.environ if environ is None else environ).get(MAX_INPUT_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT_BYTES
    value = int(raw) if raw.isascii() and raw.isdigit() else 0
    if value <= 0:
        raise InputError("not a positive whole number of bytes", where=f"environment variable {MAX_INPUT_ENV}")
    return value


def describe_size(count: int) -> str:
    if count >= 1 << 20 and count % (1 << 20) == 0:
        return f"{count >> 20} MiB"
    if count >= 1 << 10 and count % (1 << 10) == 0:
        return f"{count >> 10} KiB"
    return f"{count} bytes"


class TooLarge(InputError):
    """Input over the size cap."""


class LimitExceeded(InputError):
    """A YAML stream whose aliases expand too far, that recurses, or that nests too deep; `line` is 1-based."""

    def __init__(self, message: str, *, where: str, line: int) -> None:
        super().__init__(message, where=where)
        self.line = line


class DuplicateKey(LimitExceeded):
    """A mapping key given twice in a Kubernetes object."""


def too_large(limit: int, where: str) -> TooLarge:
    what = f"larger than the {describe_size(limit)} input limit (raise it with {MAX_INPUT_ENV})"
    return TooLarge(what, where=where)


# --- bytes in ---------------------------------------------------------------------------------------------


def read_stream(stream: IO[bytes], where: str, limit: int | None = None) -> bytes:
    """At most `limit` bytes of `stream`; one more byte than that is a refusal (nothing more is read)."""
    cap = max_input_bytes() if limit is None else limit
    chunks: list[bytes] = []
    total = 0
    while total <= cap:
        chunk = stream.read(min(_READ_CHUNK, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > cap:
        raise too_large(cap, where)
    return b"".join(chunks)


def read_file(path: str | os.PathLike[str], *, where: str | None = None, limit: int | None = None) -> bytes:
    """The bytes of a file, within the size cap; every failure is one line naming the file."""
    name = where or str(path)
    cap = max_input_bytes() if limit is None else limit
    try:
        with open(path, "rb") as handle:  # noqa: PTH123 - no pathlib: `sealkit seal` starts without it
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise InputError("is a directory, not a file", where=name)
            if stat.S_ISREG(info.st_mode) and info.st_size > cap:
                raise too_large(cap, name)  # decided from its size: not one byte is read
            return read_stream(handle, name, cap)
    except FileNotFoundError:
        raise InputError("no such file", where=name) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", where=name) from None
    except PermissionError:
        raise InputError("permission denied", where=name) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({os_reason(exc)})", where=name) from None


def file_found(path: str | os.PathLike[str]) -> bool:
    """Whether a file is at `path`, for one found by its name (a config file in a directory): False when
    nothing is there. Anything else there that is not a regular file (symlinks followed) is an error naming
    it, never taken for absent: a directory, a symbolic link to nothing, a path that cannot be looked up."""
    name = os.fspath(path)
    try:
        mode = os.stat(path).st_mode  # noqa: PTH116 - no pathlib: `sealkit seal` starts without it
    except (FileNotFoundError, NotADirectoryError):
        if os.path.islink(path):  # noqa: PTH114
            raise InputError("a symbolic link to nothing", where=name) from None
        return False
    except PermissionError:
        raise InputError("permission denied", where=name) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({os_reason(exc)})", where=name) from None
    if stat.S_ISDIR(mode):
        raise InputError("is a directory, not a file", where=name)
    if not stat.S_ISREG(mode):
        raise InputError("not a regular file", where=name)
    return True


def read_stdin(limit: int | None = None) -> bytes:
    """Standard input within the size cap."""
    return read_stream(sys.stdin.buffer, "stdin", limit)


def decode_text(data: bytes | str, where: str) -> str:
    """UTF-8 text (a leading byte-order mark dropped); binary data and invalid UTF-8 are refused."""
    if isinstance(data, str):
        return data
    if b"\x00" in data:
        raise InputError("binary data (NUL bytes), not YAML or JSON text", where=where)
    try:
        text = data.decode()  # UTF-8; the BOM dropped by hand: the "utf-8-sig" codec is one more import
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid UTF-8 text (byte {exc.start + 1})", where=where) from None
    return text[1:] if text.startswith("\ufeff") else text


# --- YAML: decide before building ------------------------------------------------------------------------


def allowed_alias_ratio(decoded: int) -> float:
    """go-yaml's share of a document's nodes that may come from alias expansion."""
    if decoded <= _ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= _ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _ALIAS_RATIO_LOW) / (_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW)


def _problem(exc: yaml.YAMLError) -> str:
    """A parser's complaint without the input it quotes (an alias name, a tag, a value); the grammar's own
    tokens it names stay (`did not find expected ',' or ']'`, `but got '<stream end>'`)."""
    text = getattr(exc, "problem", None) or "syntax error"
    kept = _QUOTED.sub(lambda quoted: quoted[0] if _GRAMMAR.fullmatch(quoted[0][1:-1]) else "", str(text))
    return " ".join(kept.split()) or "syntax error"


def _line(mark: Any) -> int:
    return int(getattr(mark, "line", 0)) + 1


def yaml_error(exc: yaml.YAMLError, where: str) -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    at = f"{where} line {_line(mark)}" if mark is not None else where
    return InputError(f"not valid YAML: {_problem(exc)}", where=at)


class _Shape(NamedTuple):
    """An anchored node as it expands: nodes, characters of its scalars, collection height."""

    nodes: int
    chars: int
    height: int


class _Open:
    """A collection being read."""

    __slots__ = ("anchor", "chars", "height", "key_turn", "keys", "last_key", "line", "mapping", "nodes")

    def __init__(self, anchor: str | None, mapping: bool, line: int) -> None:
        self.anchor = anchor
        self.mapping = mapping
        self.line = line
        self.nodes = 1
        self.chars = 1
        self.height = 1
        self.key_turn = True  # mappings alternate key, value
        self.keys: set[str] = set()
        self.last_key: str | None = None


class _Document:
    """One document's counts (go-yaml counts per document) and what it refuses later."""

    __slots__ = ("aliased", "anchors", "decoded", "duplicate", "index", "kube_fields")

    def __init__(self, index: int) -> None:
        self.index = index
        self.decoded = 0
        self.aliased = 0
        self.anchors: dict[str, _Shape] = {}
        self.duplicate: tuple[str, int] | None = None
        self.kube_fields: set[str] = set()


class _Checker:
    """Walks the event stream once with per-anchor totals; raises InputError at the first limit hit."""

    def __init__(self, where: str, limits: Limits, *, refuse_duplicates: bool = True) -> None:
        self.where = where
        self.limits = limits
        self.refuse_duplicates = refuse_duplicates
        self.stack: list[_Open] = []
        self.expanded = 0  # characters of the whole stream as it would expand
        self.document = _Document(0)
        self.line = 1  # of the event being read

    def refuse(self, what: str, line: int, kind: type[LimitExceeded] = LimitExceeded) -> LimitExceeded:
        return kind(what, where=f"{self.where} document {max(self.document.index, 1)} line {line}", line=line)

    def run(self, text: str) -> None:
        index = 0
        try:
            for event in yaml.parse(text, Loader=SafeLoader):
                self.line = _line(event.start_mark)
                if isinstance(event, yaml.DocumentStartEvent):
                    index += 1
                    self.document = _Document(index)
                elif isinstance(event, yaml.DocumentEndEvent):
                    self._end_document()
                elif isinstance(event, yaml.ScalarEvent):
                    self._scalar(event)
                elif isinstance(event, yaml.AliasEvent):
                    self._alias(event)
                elif isinstance(event, yaml.CollectionStartEvent):
                    self._start(event)
                elif isinstance(event, yaml.CollectionEndEvent):
                    self._end(event)
        except yaml.YAMLError as exc:
            raise yaml_error(exc, self.where) from None
        except RecursionError:  # the pure-Python parser, on pathological nesting
            raise self.refuse(f"collections nest deeper than {self.limits.max_depth} levels", self.line) from None

    def _grow(self, chars: int, line: int) -> None:
        """Count what the stream expands to; past the size cap it is refused."""
        self.expanded += chars
        if self.expanded > self.limits.max_bytes:
            raise self.refuse(
                f"aliases expand beyond the {describe_size(self.limits.max_bytes)} input limit "
                f"(raise it with {MAX_INPUT_ENV})",
                line,
            )

    def _child(self, shape: _Shape, key_text: str | None) -> None:
        """Add a finished child (scalar, alias or collection) to the collection it is in."""
        if not self.stack:
            return
        parent = self.stack[-1]
        parent.nodes += shape.nodes
        parent.chars += shape.chars
        parent.height = max(parent.height, shape.height + 1)
        if not parent.mapping:
            return
        if parent.key_turn:
            parent.last_key = key_text
            if key_text is not None and key_text != "<<":
                if key_text in parent.keys and self.document.duplicate is None:
                    self.document.duplicate = (key_text, self.line)
                parent.keys.add(key_text)
        elif len(self.stack) == 1 and parent.last_key in ("apiVersion", "kind") and key_text:
            self.document.kube_fields.add(parent.last_key)
        parent.key_turn = not parent.key_turn

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        self.document.decoded += 1
        shape = _Shape(1, len(event.value) + 1, 0)
        if event.anchor is not None:
            self.document.anchors[event.anchor] = shape
        line = _line(event.start_mark)
        self._grow(shape.chars, line)
        self._child(shape, event.value)

    def _alias(self, event: yaml.AliasEvent) -> None:
        line = _line(event.start_mark)
        anchor = str(event.anchor)
        if any(frame.anchor == anchor for frame in self.stack):
            raise self.refuse("an alias refers to a collection that contains it (recursive YAML)", line)
        shape = self.document.anchors.get(anchor)
        if shape is None:
            raise self.refuse("not valid YAML: an alias refers to an anchor not defined before it", line)
        if len(self.stack) + shape.height > self.limits.max_depth:
            raise self.refuse(f"aliases nest collections deeper than {self.limits.max_depth} levels", line)
        doc = self.document
        doc.decoded += shape.nodes
        doc.aliased += shape.nodes
        if doc.aliased > 100 and doc.decoded > 1000 and doc.aliased / doc.decoded > allowed_alias_ratio(doc.decoded):
            raise self.refuse(
                f"excessive aliasing: aliases expand to {doc.aliased} of the document's {doc.decoded} nodes",
                line,
            )
        self._grow(shape.chars, line)
        self._child(shape, None)

    def _start(self, event: yaml.CollectionStartEvent) -> None:
        line = _line(event.start_mark)
        if len(self.stack) >= self.limits.max_depth:
            raise self.refuse(f"collections nest deeper than {self.limits.max_depth} levels", line)
        self.document.decoded += 1
        self._grow(1, line)
        self.stack.append(_Open(event.anchor, isinstance(event, yaml.MappingStartEvent), line))

    def _end(self, event: yaml.CollectionEndEvent) -> None:
        done = self.stack.pop()
        shape = _Shape(done.nodes, done.chars, done.height)
        if done.anchor is not None:
            self.document.anchors[done.anchor] = shape
        self._child(shape, None)

    def _end_document(self) -> None:
        doc = self.document
        if self.refuse_duplicates and doc.duplicate is not None and doc.kube_fields == {"apiVersion", "kind"}:
            key, line = doc.duplicate
            raise self.refuse(duplicate_key_message(key), line, DuplicateKey)


_SAFE_KEY = re.compile(r"[-._/a-zA-Z0-9]{1,63}")


def duplicate_key_message(key: str) -> str:
    """A duplicate key by name when it looks like a field name, else not at all (it may be a value)."""
    label = repr(key) if _SAFE_KEY.fullmatch(key) else "(not shown)"
    return f"mapping key {label} is given twice (the API server refuses duplicate keys)"


def check_yaml(text: str, where: str, limits: Limits | None = None, *, refuse_duplicates: bool = True) -> None:
    """Refuse a YAML stream that breaks a limit; builds nothing (callers compose or load after this).

    Raises TooLarge, LimitExceeded (aliases, recursion, depth; DuplicateKey unless `refuse_duplicates`
    is off), or InputError when the text is not YAML at all.
    """
    limits = limits or Limits.from_env()
    if len(text) > limits.max_bytes:
        raise too_large(limits.max_bytes, where)
    _Checker(where, limits, refuse_duplicates=refuse_duplicates).run(text)


def _yaml_documents(text: str, where: str) -> Iterator[Any]:
    try:
        yield from yaml.load_all(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, where) from None
    except (ValueError, OverflowError, TypeError):  # e.g. a date that does not exist, a 5,000-digit integer
        raise InputError("not valid YAML: a value cannot be read as its type", where=where) from None


# --- JSON ------------------------------------------------------------------------------------------------


def is_kubernetes_object(obj: Any) -> bool:
    """A mapping with a non-empty string apiVersion and kind (what the API server would take)."""
    if not isinstance(obj, Mapping):
        return False
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    return isinstance(api_version, str) and bool(api_version) and isinstance(kind, str) and bool(kind)


def depth_of(obj: Any, limit: int) -> int:
    """How deep `obj` nests (a scalar is 0), counting no further than `limit` + 1; no recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def _json_documents(text: str, where: str, limits: Limits) -> Iterator[Any]:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    import json  # here: YAML is the common case, and every import counts in the CLI's start-up

    decoder = json.JSONDecoder(object_pairs_hook=pairs)
    position, index = 0, 0
    while True:
        position = _SPACE.match(text, position).end()  # type: ignore[union-attr]  # \s* always matches
        if position >= len(text):
            return
        index += 1
        here = f"{where} document {index}"
        try:
            obj, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", where=f"{where} line {exc.lineno}") from None
        except RecursionError:
            raise InputError(f"collections nest deeper than {limits.max_depth} levels", where=here) from None
        except ValueError:  # an integer past Python's digit limit
            raise InputError("not valid JSON: a number has too many digits", where=here) from None
        if depth_of(obj, limits.max_depth) > limits.max_depth:
            raise InputError(f"collections nest deeper than {limits.max_depth} levels", where=here)
        if duplicates and is_kubernetes_object(obj):
            raise InputError(duplicate_key_message(duplicates[0]), where=here)
        duplicates.clear()
        yield obj


# --- documents out ---------------------------------------------------------------------------------------


class Document:
    """One object from a manifest stream, with where it came from for error messages (read-only)."""

    __slots__ = ("index", "obj", "source")

    obj: Any
    source: str
    index: int  # 1-based position among the stream's non-empty documents

    def __init__(self, obj: Any, source: str, index: int) -> None:
        object.__setattr__(self, "obj", obj)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Document):
            return NotImplemented
        return (self.obj, self.source, self.index) == (other.obj, other.source, other.index)

    def __hash__(self) -> int:
        return hash((self.obj, self.source, self.index))

    def __repr__(self) -> str:
        return f"Document(obj={self.obj!r}, source={self.source!r}, index={self.index!r})"

    @property
    def where(self) -> str:
        return f"{self.source} document {self.index}"


def is_json(text: str) -> bool:
    """kubectl's sniff: a stream whose first non-space character opens a JSON object or array."""
    return text.lstrip().startswith(("{", "["))


def load_documents(data: bytes | str, source: str, *, limits: Limits | None = None) -> list[Document]:
    """Every non-empty document in a YAML stream or a run of concatenated JSON values, within limits."""
    limits = limits or Limits.from_env()
    if len(data) > limits.max_bytes:
        raise too_large(limits.max_bytes, source)
    text = decode_text(data, source)
    if is_json(text):
        objects: Iterator[Any] = _json_documents(text, source, limits)
    else:
        check_yaml(text, source, limits)
        objects = _yaml_documents(text, source)
    documents = [obj for obj in objects if obj is not None]
    return [Document(obj, source, i + 1) for i, obj in enumerate(documents)]


# What can open a collection: a document's nesting depth is at most the count of these characters.
_NESTING = "[{-:?"


def _plainly_bounded(text: str, limits: Limits) -> bool:
    """Whether `text` stays within every limit whatever it holds: no anchor or alias (nothing expands), fewer
    characters that can open a collection than the depth limit (so it cannot nest deeper), and short enough
    that its nodes' expanded size (each node's text plus one) cannot reach the size cap."""
    return (
        4 * len(text) < limits.max_bytes
        and "&" not in text
        and "*" not in text
        and sum(map(text.count, _NESTING)) < limits.max_depth
    )


def _first_duplicate(root: yaml.Node) -> yaml.ScalarNode | None:
    """The first mapping key given twice in a composed document (without aliases), in the order the check
    meets them: the parser's event order, keys before their values, depth first."""
    stack: list[tuple[yaml.Node, set[str] | None]] = [(root, None)]
    while stack:
        node, keys = stack.pop()
        if keys is not None and isinstance(node, yaml.ScalarNode) and node.value != "<<":  # a mapping's key
            if node.value in keys:
                return node
            keys.add(node.value)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in reversed(node.value):
                stack.append((value, None))
                stack.append((key, seen))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, None) for child in reversed(node.value))
    return None


def _is_kubernetes_node(root: yaml.Node) -> bool:
    """The check's test for a Kubernetes object: top-level apiVersion and kind with non-empty scalar values."""
    if not isinstance(root, yaml.MappingNode):
        return False
    fields = {
        key.value
        for key, value in root.value
        if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode) and value.value
    }
    return {"apiVersion", "kind"} <= fields


def compose_documents(
    text: str, source: str, *, limits: Limits | None = None
) -> list[tuple[Document, yaml.Node]] | None:
    """`load_documents` for a YAML text that is about to be edited in place, parsed once: each non-empty
    document with the node it was built from (marks: character positions in `text`, for `sealkit.yamledit`).

    Only for a text that plainly stays within the limits (`_plainly_bounded`: no anchors or aliases, too few
    characters to nest deeper than allowed, well under the size cap) and is ASCII (libyaml's marks are then
    character positions); for any other text it returns None, and the caller reads it with `load_documents`
    (the full check first) and composes it itself. Refuses what `load_documents` refuses, with the same
    messages: YAML errors, duplicate keys in Kubernetes objects, values that are not their type.
    """
    limits = limits or Limits.from_env()
    if is_json(text) or not text.isascii() or not _plainly_bounded(text, limits):
        return None
    built: list[tuple[yaml.Node, Any]] = []  # (node, its object, or _UNBUILT for the constructor to build)
    try:
        for number, node in enumerate(yaml.compose_all(text, Loader=SafeLoader), start=1):
            kubernetes = _is_kubernetes_node(node)
            duplicates: list[yaml.ScalarNode] = []
            try:
                obj = _build_strings(node, duplicates)
            except _NotStrings:
                obj = _UNBUILT
                duplicates = [d for d in [_first_duplicate(node)] if d is not None] if kubernetes else []
            if duplicates and kubernetes:  # refused when its document is read, as the check refuses it
                line = _line(duplicates[0].start_mark)
                where = f"{source} document {number} line {line}"
                raise DuplicateKey(duplicate_key_message(duplicates[0].value), where=where, line=line)
            built.append((node, obj))
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source) from None
    constructor = yaml.constructor.SafeConstructor()
    out: list[tuple[Document, yaml.Node]] = []
    for node, obj in built:
        if obj is _UNBUILT:
            try:
                obj = constructor.construct_document(node)
            except yaml.YAMLError as exc:
                raise yaml_error(exc, source) from None
            except (ValueError, OverflowError, TypeError):
                raise InputError("not valid YAML: a value cannot be read as its type", where=source) from None
        if obj is not None:
            out.append((Document(obj, source, len(out) + 1), node))
    return out


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_UNBUILT = object()


class _NotStrings(Exception):
    """A node `_build_strings` leaves to PyYAML's constructor (a non-string scalar, a merge key...)."""


def _build_strings(node: yaml.Node, duplicates: list[yaml.ScalarNode]) -> Any:
    """The object PyYAML's safe constructor builds from `node` when every scalar in it is a string and every
    mapping key a string scalar (as in a SealedSecret), built directly; the first key given twice in a
    mapping (in the check's order: keys before their values, depth first) is appended to `duplicates`,
    and, as the constructor does, the last value wins. Raises `_NotStrings` for anything else."""
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
        return node.value
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP:
        out: dict[str, Any] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag != _STR or key.value == "<<":
                raise _NotStrings
            if key.value in out and not duplicates:
                duplicates.append(key)
            out[key.value] = _build_strings(value, duplicates)
        return out
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_build_strings(child, duplicates) for child in node.value]
    raise _NotStrings


def read_documents(path: str, *, limits: Limits | None = None) -> list[Document]:
    """The documents of a file, or of stdin for `-`."""
    limits = limits or Limits.from_env()
    if path == "-":
        return load_documents(read_stdin(limits.max_bytes), "stdin", limits=limits)
    return load_documents(read_file(path, limit=limits.max_bytes), path, limits=limits)
