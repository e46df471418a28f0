"""YAML in and out for the CSI generator: specs with line numbers in, stable block YAML out.

The spec is plain YAML (no tags, no anchors needed) so ruamel.yaml can later edit it in place
(`verify --pin`); here it is first checked by the core's bounded reader (size, aliases at their
expanded size, depth, duplicate keys: `sealkit.reading.check_yaml`), then read with PyYAML's
composer (libyaml when present), which keeps each node's line so spec errors can say where the
problem is.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import yaml

from sealkit.errors import InputError
from sealkit.reading import check_yaml, duplicate_key_message, yaml_error

# libyaml is several times faster; fall back when PyYAML was built without it.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

YamlPath = tuple[str | int, ...]


_PLAIN = re.compile(r"[A-Za-z_./][-A-Za-z0-9_./+= ]*")
# Not printable in YAML, or a YAML 1.1 line break: always written as an escape.
_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_RESOLVER: Any = yaml.resolver.Resolver()  # untyped in the stubs
_STR_TAG = "tag:yaml.org,2002:str"


@functools.lru_cache(maxsize=65536)
def _scalar(text: str) -> str:
    """A one-line string scalar: plain when every YAML reader would read it back as this string
    (no leading digit, no YAML 1.1 bool/null/number look-alike), else double-quoted JSON."""
    if (
        _PLAIN.fullmatch(text)
        and not text.endswith(" ")
        and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG
    ):
        return text
    return _quote(text)


def _quote(text: str) -> str:
    """A double-quoted scalar: JSON string syntax, which YAML shares, with YAML's escapes."""
    return _ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _literal(text: str, indent: str) -> str | None:
    """A multi-line string as a `|` block, or None when a block cannot carry it exactly."""
    body = text[:-1] if text.endswith("\n") else text
    if not body or body.endswith("\n") or body.lstrip("\n").startswith(" ") or _ESCAPE.search(body):
        return None
    lines = body.split("\n")
    chomp = "" if text.endswith("\n") else "-"
    return f"|{chomp}\n" + "\n".join(f"{indent}{line}" if line else "" for line in lines)


def _inline(value: Any, indent: str) -> str:
    if isinstance(value, str):
        if "\n" in value:
            block = _literal(value, indent)
            if block is not None:
                return block
            return _quote(value)
        return _scalar(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value == {}:
        return "{}"
    if value == []:
        return "[]"
    raise TypeError(f"cannot emit {type(value).__name__} inline")


def flow_scalar(value: str | int | bool | None) -> str:
    """One scalar as it would appear after `key: ` on a single line (used inside `objects`)."""
    if isinstance(value, str) and "\n" in value:
        return _quote(value)
    return _inline(value, "")


def _block(value: dict[str, Any] | list[Any], indent: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                out.append(f"{indent}{_scalar(str(key))}:\n")
                _block(item, indent if isinstance(item, list) else indent + "  ", out)
            else:
                out.append(f"{indent}{_scalar(str(key))}: {_inline(item, indent + '  ')}\n")
        return
    for item in value:
        if isinstance(item, dict | list) and item:
            start = len(out)
            _block(item, indent + "  ", out)
            out[start] = f"{indent}- {out[start][len(indent) + 2 :]}"
        else:
            out.append(f"{indent}- {_inline(item, indent + '  ')}\n")


def dump_document(obj: dict[str, Any]) -> str:
    """One manifest as block YAML in the key order it was built; same input -> same text.

    A small emitter for what manifests hold (maps, lists, strings, ints, bools, null): PyYAML's
    representer, even over libyaml, spends ~4x longer in Python per file than this does.
    """
    out: list[str] = []
    _block(obj, "", out)
    return "".join(out)


class LinedYaml:
    """A parsed document plus the 1-based line each path in it starts on."""

    def __init__(self, value: Any, lines: dict[YamlPath, int]) -> None:
        self.value = value
        self._lines = lines

    def line(self, path: YamlPath) -> int | None:
        """The line of `path`, or of its nearest ancestor that exists in the file."""
        while True:
            found = self._lines.get(path)
            if found is not None or not path:
                return found
            path = path[:-1]


def _construct_scalar(node: yaml.ScalarNode, source: str) -> Any:
    """A scalar typed the way safe_load types it (the composer already resolved its tag)."""
    try:
        return yaml.constructor.SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError, OverflowError, TypeError):
        raise InputError("unsupported YAML value", where=f"{source}:{node.start_mark.line + 1}") from None


def _convert(node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int], source: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                where = f"{source}:{key_node.start_mark.line + 1}"
                raise InputError("mapping keys must be plain strings", where=where)
            key = key_node.value
            if key in out:
                raise InputError(duplicate_key_message(key), where=f"{source}:{key_node.start_mark.line + 1}")
            out[key] = _convert(value_node, (*path, key), lines, source)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, source) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _construct_scalar(node, source)


def load_lined(text: str, source: str) -> LinedYaml:
    """Parse one YAML document keeping line numbers; duplicate keys are refused, not overwritten."""
    check_yaml(text, source)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source) from None
    lines: dict[YamlPath, int] = {}
    if node is None:
        return LinedYaml(None, lines)
    return LinedYaml(_convert(node, (), lines, source), lines)
