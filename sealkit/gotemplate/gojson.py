"""encoding/json as sprig uses it: toJson, toPrettyJson, toRawJson and fromJson.

Go's encoder sorts map keys, escapes <, > and & unless told not to (toRawJson), always escapes
U+2028/U+2029, writes \\b and \\f (Go >= 1.22) and prints float64 in its own shortest form.
The decoder turns every number into a float64, as json.Unmarshal into interface{} does.
"""

from __future__ import annotations

import json
import math

from sealkit.gotemplate.gofmt import float_json
from sealkit.gotemplate.values import StrMap, canonical, go_type, is_int


class JSONError(Exception):
    """Value cannot be encoded / text cannot be decoded (message never holds the data)."""


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def _string(text: str, escape_html: bool) -> str:
    out = ['"']
    for ch in canonical(text):
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif escape_html and ch in _HTML:
            out.append(_HTML[ch])
        elif ch in "\u2028\u2029":
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:  # invalid UTF-8: Go writes the escape for U+FFFD
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def encode(value: object, *, escape_html: bool = True, indent: str | None = None, depth: int = 0) -> str:
    """Marshal (or MarshalIndent with prefix "" when `indent` is given)."""
    if depth > 200:
        raise JSONError("value nests too deeply")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_int(value):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise JSONError("json: unsupported float value (NaN or Inf)")
        return float_json(value)
    if isinstance(value, str):
        return _string(value, escape_html)
    inner_indent = None if indent is None else indent * (depth + 1)
    if isinstance(value, list):
        parts = [encode(v, escape_html=escape_html, indent=indent, depth=depth + 1) for v in value]
        return _join("[", "]", parts, indent, inner_indent, depth)
    if isinstance(value, StrMap | dict):
        sep = ": " if indent is not None else ":"
        parts = [
            _string(k, escape_html) + sep + encode(value[k], escape_html=escape_html, indent=indent, depth=depth + 1)
            for k in sorted(value)
        ]
        return _join("{", "}", parts, indent, inner_indent, depth)
    raise JSONError(f"json: unsupported type {go_type(value)}")


def _join(open_: str, close: str, parts: list[str], indent: str | None, inner: str | None, depth: int) -> str:
    if not parts:
        return open_ + close
    if indent is None or inner is None:
        return open_ + ",".join(parts) + close
    outer = indent * depth
    return open_ + "\n" + ",\n".join(inner + p for p in parts) + "\n" + outer + close


def _no_constant(name: str) -> object:
    raise ValueError(name)


def _to_go(value: object) -> object:
    if isinstance(value, list):
        return [_to_go(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_go(v) for k, v in value.items()}
    if isinstance(value, float) and math.isinf(value):
        raise JSONError("json: number out of float64 range")
    return value


def decode(text: str) -> object:
    """Unmarshal into interface{}: objects -> dict, arrays -> list, numbers -> float64."""
    try:
        loaded = json.loads(canonical(text), parse_int=float, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        pos = getattr(exc, "pos", None)
        where = f" at offset {pos}" if isinstance(pos, int) else ""
        raise JSONError(f"input is not valid JSON{where}") from None
    return _to_go(loaded)
