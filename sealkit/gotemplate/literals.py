"""Go constant syntax inside actions: numbers, "interpreted" and `raw` strings, 'c' characters.

Numbers follow text/template's parse rules: a constant carries every reading that fits (int, uint,
float), so `3` can feed an int or a float64 parameter, and `3.0` an int one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sealkit.gotemplate.values import from_bytes

INT64_MIN, INT64_MAX, UINT64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1


class LiteralError(Exception):
    """Malformed constant (message names the problem)."""


@dataclass(frozen=True)
class NumberValue:
    """The readings of one numeric constant."""

    text: str
    is_int: bool = False
    int_value: int = 0
    is_uint: bool = False
    is_float: bool = False
    float_value: float = 0.0


def _underscores_ok(body: str, prefixed: bool) -> bool:
    """Go: an underscore only between digits, or between a base prefix and a digit."""
    if "_" not in body:
        return True
    if "__" in body or body.endswith("_"):
        return False
    return prefixed or not body.startswith("_")


_DIGITS = {16: "0123456789abcdefABCDEF", 10: "0123456789", 8: "01234567", 2: "01"}


def parse_int(text: str, *, signed: bool = True) -> int | None:
    """strconv.ParseInt(text, 0, 64) (or ParseUint): prefixes 0x 0o 0b, leading-0 octal, underscores."""
    body, sign = text, 1
    if body[:1] in ("+", "-"):
        if not signed:
            return None
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    base, prefixed = 10, False
    if len(body) >= 2 and body[0] == "0" and body[1] in "xXoObB":
        base = {"x": 16, "o": 8, "b": 2}[body[1].lower()]
        body, prefixed = body[2:], True
    elif len(body) >= 2 and body[0] == "0":
        base, body, prefixed = 8, body[1:], True
    if not body or not _underscores_ok(body, prefixed):
        return None
    digits = body.replace("_", "")
    if not digits or any(ch not in _DIGITS[base] for ch in digits):
        return None
    value = sign * int(digits, base)
    if signed and not INT64_MIN <= value <= INT64_MAX:
        return None
    if not signed and value > UINT64_MAX:
        return None
    return value


_DEC_FLOAT = re.compile(r"[+-]?(?=\.?[0-9])[0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9_]+)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX][0-9a-fA-F_]*(\.[0-9a-fA-F_]*)?[pP][+-]?[0-9_]+")


def parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64) for the syntax the lexer lets through; overflow is an error."""
    if _DEC_FLOAT.fullmatch(text):
        plain = text.replace("_", "")
        if "_" in text and not _underscores_ok(text.lstrip("+-"), False):
            return None
        try:
            value = float(plain)
        except ValueError:
            return None
    elif _HEX_FLOAT.fullmatch(text):
        try:
            value = float.fromhex(text.replace("_", ""))
        except (ValueError, OverflowError):
            return None
    else:
        return None
    return None if value in (float("inf"), float("-inf")) else value


def parse_number(text: str) -> NumberValue:
    """A numeric constant as text/template's parser reads it."""
    if text.endswith("i"):
        raise LiteralError(f"imaginary and complex constants are not supported: {text}")
    as_uint = parse_int(text, signed=False)
    as_int = parse_int(text)
    if as_int is not None:
        return NumberValue(text, True, as_int, as_uint is not None or as_int == 0, True, float(as_int))

    if as_uint is not None:
        return NumberValue(text, is_uint=True, is_float=True, float_value=float(as_uint))
    as_float = parse_float(text)
    if as_float is None:
        raise LiteralError(f"illegal number syntax: {text!r}")
    if not any(ch in text for ch in ".eEpP"):
        raise LiteralError(f"integer overflow: {text!r}")
    fits_int = as_float.is_integer() and INT64_MIN <= as_float <= INT64_MAX
    fits_uint = as_float.is_integer() and 0 <= as_float <= UINT64_MAX
    return NumberValue(text, fits_int, int(as_float) if fits_int else 0, fits_uint, True, as_float)


def char_number(text: str) -> NumberValue:
    """A 'c' constant: a rune, usable as int, uint or float."""
    body = text[1:-1]
    if len(text) < 3 or not text.endswith("'"):
        raise LiteralError(f"malformed character constant: {text}")
    pieces, rest = _unescape_one(body, "'")
    if rest or pieces is None:
        raise LiteralError(f"malformed character constant: {text}")
    code = pieces if isinstance(pieces, int) else ord(pieces)
    return NumberValue(text, True, code, True, True, float(code))


_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _unescape_one(text: str, quote: str) -> tuple[str | int | None, str]:
    """One (possibly escaped) character: a str, or an int for a \\x / octal byte; and the rest."""
    if not text:
        return None, ""
    if text[0] != "\\":
        return (None, "") if text[0] == quote else (text[0], text[1:])
    if len(text) < 2:
        raise LiteralError("backslash at end of literal")
    kind, rest = text[1], text[2:]
    if kind in _SIMPLE:
        return _SIMPLE[kind], rest
    if kind in "'\"":
        if kind != quote:
            raise LiteralError(f"unknown escape sequence \\{kind}")
        return kind, rest
    sizes = {"x": 2, "u": 4, "U": 8}
    if kind in sizes:
        digits = rest[: sizes[kind]]
        if len(digits) != sizes[kind] or any(ch not in _DIGITS[16] for ch in digits):
            raise LiteralError(f"invalid \\{kind} escape")
        code = int(digits, 16)
        if kind == "x":
            return code, rest[2:]
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise LiteralError(f"escape \\{kind}{digits} is not a valid rune")
        return chr(code), rest[sizes[kind] :]
    if kind in "01234567":
        digits = text[1:4]
        if len(digits) != 3 or any(ch not in "01234567" for ch in digits) or int(digits, 8) > 255:
            raise LiteralError("invalid octal escape")
        return int(digits, 8), text[4:]
    raise LiteralError(f"unknown escape sequence \\{kind}")


def unquote(text: str) -> str:
    """strconv.Unquote of a "..." or `...` token; byte escapes may yield non-UTF-8 (kept as surrogates)."""
    if text.startswith("`"):
        return text[1:-1].replace("\r", "")
    body = text[1:-1]
    out = bytearray()
    while body:
        piece, body = _unescape_one(body, '"')
        if piece is None:
            raise LiteralError('unescaped " inside a string')
        out += bytes([piece]) if isinstance(piece, int) else piece.encode("utf-8", "surrogateescape")
    return from_bytes(bytes(out))
