"""The Go values a template handles, modelled with Python types, and Go's truth and type names.

Go strings are byte strings; here they are `str`, and bytes that are not valid UTF-8 ride along as
lone surrogates U+DC80..U+DCFF (Python's "surrogateescape"), so byte-wise functions (`len`, `trunc`,
`substr`, ...) can work exactly like Go and the caller gets the very bytes back with
`.encode("utf-8", "surrogateescape")`.

Model: str=string, bool=bool, int=int, Int64=int64 (sprig arithmetic), Byte=uint8 (`index` of a
string), float=float64, None=nil / missing value, list=[]interface {}, TypedList=[]string or []int,
dict=map[string]interface {}, StrMap=map[string]string (the items, `split` results).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from typing import TypeGuard

_SURROGATE = re.compile("[\ud800-\udfff]")


def _gobytes_errors(exc: UnicodeError) -> tuple[bytes, int]:
    """Encode escaped bytes back to themselves; any other lone surrogate becomes U+FFFD, as Go would."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = bytearray()
    for ch in exc.object[exc.start : exc.end]:
        code = ord(ch)
        out += bytes([code - 0xDC00]) if 0xDC80 <= code <= 0xDCFF else "\ufffd".encode()
    return bytes(out), exc.end


codecs.register_error("sealkit-gobytes", _gobytes_errors)


def to_bytes(text: str) -> bytes:
    """The Go bytes of a string."""
    return text.encode("utf-8", "sealkit-gobytes")


def from_bytes(data: bytes) -> str:
    """A string from Go bytes; invalid UTF-8 bytes become escape surrogates."""
    return data.decode("utf-8", "surrogateescape")


def canonical(text: str) -> str:
    """One spelling per byte string (joins escaped halves that form valid UTF-8 again)."""
    return from_bytes(to_bytes(text)) if _SURROGATE.search(text) else text


class Int64(int):
    """A Go int64 (what sprig's arithmetic returns); Go does not pass it where an int is wanted."""

    __slots__ = ()


class Byte(int):
    """A Go uint8 (what `index` of a string returns)."""

    __slots__ = ()


class TypedList(list[object]):
    """A Go slice with a concrete element type, such as []string from `splitList`."""

    def __init__(self, items: Iterator[object] | list[object] | list[str] | list[int], elem: str) -> None:
        super().__init__(items)
        self.elem = elem


class StrMap(Mapping[str, str]):
    """A read-only Go map[string]string: the decrypted items (dot) and `split` results."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, str]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:  # never shows values: they are secrets
        return f"StrMap(keys={sorted(self._data)})"


def go_type(value: object) -> str:
    """Go's name for the value's type, as `%T` and Go's error messages spell it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Byte):
        return "uint8"
    if isinstance(value, Int64):
        return "int64"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, TypedList):
        return "[]" + value.elem
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, StrMap):
        return "map[string]string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return type(value).__name__


def go_kind(value: object) -> str:
    """reflect.Kind's name for the value (sprig `kindOf`)."""
    if value is None:
        return "invalid"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, StrMap | dict):
        return "map"
    return go_type(value)


def is_int(value: object) -> TypeGuard[int]:
    """Any Go integer kind (int, int64, uint8), not bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def truth(value: object) -> bool:
    """Go template truth: false, 0, nil and empty string/slice/map are false; everything else true."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | dict | StrMap):
        return len(value) > 0
    return True


def has_len(value: object) -> bool:
    """Values with a Go length (string, slice, map)."""
    return isinstance(value, str | list | dict | StrMap)


def go_len(value: object) -> int:
    """Go's len: bytes for strings."""
    if isinstance(value, str):
        return len(to_bytes(value))
    assert isinstance(value, list | dict | StrMap)
    return len(value)
