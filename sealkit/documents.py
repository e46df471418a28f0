"""Reading and writing Kubernetes manifests: multi-document YAML and concatenated JSON.

Parse errors name the file, document and position but never quote the offending text: a
manifest may hold plaintext secret values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from sealkit.errors import InputError

# libyaml is several times faster; fall back when PyYAML was built without it.
SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SafeDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@dataclass(frozen=True)
class Document:
    """One object from a manifest stream, with where it came from for error messages."""

    obj: Any
    source: str
    index: int  # 1-based position among the stream's non-empty documents

    @property
    def where(self) -> str:
        return f"{self.source} document {self.index}"


def _decode(data: bytes | str, source: str) -> str:
    if isinstance(data, str):
        return data
    if b"\x00" in data:
        raise InputError(f"{source}: binary data, not YAML or JSON")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{source}: binary data, not UTF-8 YAML or JSON") from None


def _json_documents(text: str, source: str) -> Iterator[Any]:
    import json  # here: YAML is the common case, and every import counts in the CLI's start-up

    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        yield obj


def _yaml_documents(text: str, source: str) -> Iterator[Any]:
    try:
        yield from yaml.load_all(text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise InputError(f"{source}: not valid YAML: {exc.problem or 'syntax error'}{where}") from None
    except yaml.YAMLError:
        raise InputError(f"{source}: not valid YAML") from None


def load_documents(data: bytes | str, source: str) -> list[Document]:
    """Every non-empty document in a YAML stream or a run of concatenated JSON objects."""
    text = _decode(data, source)
    stripped = text.lstrip()
    objects = _json_documents(text, source) if stripped.startswith(("{", "[")) else _yaml_documents(text, source)
    documents = [obj for obj in objects if obj is not None]
    return [Document(obj, source, i + 1) for i, obj in enumerate(documents)]


def dump_yaml(objects: Iterable[Any]) -> str:
    """Objects as a YAML stream, keys in the order built, documents separated by `---`."""
    return yaml.dump_all(
        list(objects), Dumper=SafeDumper, sort_keys=False, default_flow_style=False, explicit_start=True, width=1 << 16
    )


def dump_json(objects: Iterable[Any]) -> str:
    """Objects as indented JSON, concatenated when there are several (as kubeseal prints them)."""
    import json

    return "".join(json.dumps(obj, indent=2, ensure_ascii=False) + "\n" for obj in objects)


def dump(objects: Iterable[Any], fmt: str) -> str:
    if fmt == "json":
        return dump_json(objects)
    if fmt == "yaml":
        return dump_yaml(objects)
    raise InputError(f"unknown output format {fmt!r} (choose yaml or json)")
