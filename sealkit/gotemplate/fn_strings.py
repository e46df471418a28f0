"""sprig's string, encoding and hash functions, with Go's byte-level behaviour where sprig has it.

Notes that matter for exact output: `trunc`, `substr` and `abbrev` cut bytes, not characters;
`nospace` and `initials` walk bytes (so non-ASCII text next to removed spaces comes out as Go's
Latin-1 reading of the bytes, as sprig does); case mapping is per character (Go's simple mapping).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib

from sealkit.gotemplate.gofmt import format_v, quote
from sealkit.gotemplate.registry import Func, FuncError, fn
from sealkit.gotemplate.values import from_bytes, to_bytes

MAX_RESULT_BYTES = 4 * 1024 * 1024

# unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space characters (not Python's \x1c-\x1f).
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_LATIN1_SPACE = frozenset(b"\t\n\v\f\r \x85\xa0")


def _limit(size: int) -> None:
    if size > MAX_RESULT_BYTES:
        raise FuncError(f"result larger than {MAX_RESULT_BYTES} bytes (sealkit's limit)")


def _runes(text: str) -> str:
    """Go's []rune(s) / range over s: invalid bytes read as U+FFFD."""
    return "".join("\ufffd" if 0xDC80 <= ord(ch) <= 0xDCFF else ch for ch in text)


_SIMPLE_LOWER = {"\u0130": "i"}


def _map_case(text: str, how: str) -> str:
    """unicode.ToUpper/ToLower/ToTitle rune by rune (simple one-to-one mapping)."""
    out = []
    for ch in _runes(text):
        mapped = getattr(ch, how)()
        if len(mapped) != 1:
            mapped = _SIMPLE_LOWER.get(ch, ch) if how == "lower" else ch
        out.append(mapped)
    return "".join(out)


@fn("string")
def _upper(s: str) -> str:
    return _map_case(s, "upper")


@fn("string")
def _lower(s: str) -> str:
    return _map_case(s, "lower")


def _is_title_separator(ch: str) -> bool:
    """strings.Title's word boundary test."""
    if ch.isascii():
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdigit():
        return False
    return ch in GO_SPACE


@fn("string")
def _title(s: str) -> str:
    out, prev = [], " "
    for ch in _runes(s):
        out.append(_map_case(ch, "title") if _is_title_separator(prev) else ch)
        prev = ch
    return "".join(out)


@fn("string")
def _untitle(s: str) -> str:
    out, nxt = [], True
    for ch in _runes(s):
        if ch in GO_SPACE:
            nxt = True
            out.append(ch)
        elif nxt:
            out.append(_map_case(ch, "lower"))
            nxt = False
        else:
            out.append(ch)
    return "".join(out)


@fn("string")
def _swapcase(s: str) -> str:
    out, space = [], True
    for ch in _runes(s):
        if ch.isupper() or ch.istitle():
            out.append(_map_case(ch, "lower"))
            space = False
        elif ch.islower():
            out.append(_map_case(ch, "title" if space else "upper"))
            space = False
        else:
            space = ch in GO_SPACE
            out.append(ch)
    return "".join(out)


@fn("string")
def _trim(s: str) -> str:
    start, end = 0, len(s)
    while start < end and s[start] in GO_SPACE:
        start += 1
    while end > start and s[end - 1] in GO_SPACE:
        end -= 1
    return s[start:end]


@fn("string", "string")
def _trim_all(cutset: str, s: str) -> str:
    return s.strip(cutset) if cutset else s


@fn("string", "string")
def _trim_suffix(suffix: str, s: str) -> str:
    return s.removesuffix(suffix)


@fn("string", "string")
def _trim_prefix(prefix: str, s: str) -> str:
    return s.removeprefix(prefix)


@fn("string")
def _nospace(s: str) -> str:
    data = to_bytes(s)
    kept = [b for b in data if b not in _LATIN1_SPACE]
    if len(kept) == len(data):
        return s
    return "".join(chr(b) for b in kept)


@fn("string")
def _initials(s: str) -> str:
    out, gap = [], True
    for b in to_bytes(s):
        if b in _LATIN1_SPACE:
            gap = True
        elif gap:
            out.append(chr(b))
            gap = False
    return "".join(out)


def _abbreviate_full(s: str, offset: int, width: int) -> str:
    """goutils.AbbreviateFull over bytes; "" where it reports an error."""
    data = to_bytes(s)
    if not data:
        return ""
    if width < 4:
        return ""
    if len(data) <= width:
        return s
    offset = min(offset, len(data))
    if len(data) - offset < width - 3:
        offset = len(data) - (width - 3)
    if offset <= 4:
        return from_bytes(data[: width - 3]) + "..."
    if width < 7:
        return ""
    if offset + width - 3 < len(data):
        return "..." + _abbreviate_full(from_bytes(data[offset:]), 0, width - 3)
    return "..." + from_bytes(data[len(data) - (width - 3) :])


@fn("int", "string")
def _abbrev(width: int, s: str) -> str:
    return s if width < 4 else _abbreviate_full(s, 0, width)


@fn("int", "int", "string")
def _abbrevboth(left: int, right: int, s: str) -> str:
    if right < 4 or (left > 0 and right < 7):
        return s
    return _abbreviate_full(s, left, right)


@fn("int", "string")
def _trunc(count: int, s: str) -> str:
    data = to_bytes(s)
    if count < 0 and len(data) + count > 0:
        return from_bytes(data[len(data) + count :])
    if count >= 0 and len(data) > count:
        return from_bytes(data[:count])
    return s


@fn("int", "int", "string")
def _substr(start: int, end: int, s: str) -> str:
    data = to_bytes(s)
    size = len(data)
    if start < 0:
        if not 0 <= end <= size:
            raise FuncError(f"slice bounds out of range [:{end}] with length {size}")
        return from_bytes(data[:end])
    if end < 0 or end > size:
        if start > size:
            raise FuncError(f"slice bounds out of range [{start}:{size}]")
        return from_bytes(data[start:])
    if start > end:
        raise FuncError(f"slice bounds out of range [{start}:{end}]")
    return from_bytes(data[start:end])


@fn("int", "string")
def _repeat(count: int, s: str) -> str:
    if count < 0:
        raise FuncError("negative Repeat count")
    _limit(count * len(to_bytes(s)))
    return s * count


@fn("string", "string")
def _contains(sub: str, s: str) -> bool:
    return to_bytes(sub) in to_bytes(s)


@fn("string", "string")
def _has_prefix(prefix: str, s: str) -> bool:
    return to_bytes(s).startswith(to_bytes(prefix))


@fn("string", "string")
def _has_suffix(suffix: str, s: str) -> bool:
    return to_bytes(s).endswith(to_bytes(suffix))


def strval(value: object) -> str:
    """sprig's strval: strings as they are, everything else as fmt's %v."""
    return value if isinstance(value, str) else format_v(value)


@fn(variadic="any")
def _quote(*values: object) -> str:
    return " ".join(quote(strval(v)) for v in values if v is not None)


@fn(variadic="any")
def _squote(*values: object) -> str:
    return " ".join(f"'{format_v(v)}'" for v in values if v is not None)


@fn(variadic="any")
def _cat(*values: object) -> str:
    return " ".join(format_v(v) for v in values if v is not None)


def _indent_text(spaces: int, s: str) -> str:
    if spaces < 0:
        raise FuncError("negative Repeat count")
    _limit(spaces * (s.count("\n") + 1) + len(s))
    pad = " " * spaces
    return pad + s.replace("\n", "\n" + pad)


@fn("int", "string")
def _indent(spaces: int, s: str) -> str:
    return _indent_text(spaces, s)


@fn("int", "string")
def _nindent(spaces: int, s: str) -> str:
    return "\n" + _indent_text(spaces, s)


@fn("string", "string", "string")
def _replace(old: str, new: str, src: str) -> str:
    if old == "":
        _limit(len(src) * (len(new) + 1))
    return src.replace(old, new)


@fn("string", "string", "int")
def _plural(one: str, many: str, count: int) -> str:
    return one if count == 1 else many


def _hasher(name: str) -> Func:
    @fn("string")
    def digest(s: str) -> str:
        return hashlib.new(name, to_bytes(s)).hexdigest()

    return digest


@fn("string")
def _adler32(s: str) -> str:
    return str(zlib.adler32(to_bytes(s)))


@fn("any")
def _to_string(value: object) -> str:
    return strval(value)


@fn("string")
def _b64enc(s: str) -> str:
    return base64.b64encode(to_bytes(s)).decode("ascii")


_B64 = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def go_b64decode(data: bytes) -> tuple[bytes, int | None]:
    """base64.StdEncoding.DecodeString: (decoded bytes, offset of the first bad byte or None).

    Newlines (CR, LF) are skipped anywhere; padding is required; bits after the last full
    byte are not checked (the encoding is not Strict).
    """
    out = bytearray()
    i, n = 0, len(data)
    while True:
        quantum: list[int] = []
        while len(quantum) < 4:
            if i == n:
                if not quantum:
                    return bytes(out), None
                return bytes(out), i - len(quantum)
            c = data[i]
            i += 1
            if c in (0x0A, 0x0D):
                continue
            if c in _B64:
                quantum.append(_B64[c])
                continue
            if c != 0x3D:  # '='
                return bytes(out), i - 1
            if len(quantum) < 2:
                return bytes(out), i - 1
            if len(quantum) == 2:
                while i < n and data[i] in (0x0A, 0x0D):
                    i += 1
                if i == n:
                    return bytes(out), n
                if data[i] != 0x3D:
                    return bytes(out), i - 1
                i += 1
            while i < n and data[i] in (0x0A, 0x0D):
                i += 1
            bits = 0
            for v in quantum:
                bits = bits << 6 | v
            bits <<= 6 * (4 - len(quantum))
            out += bits.to_bytes(3, "big")[: len(quantum) - 1]
            return bytes(out), (i if i < n else None)
        bits = 0
        for v in quantum:
            bits = bits << 6 | v
        out += bits.to_bytes(3, "big")


@fn("string")
def _b64dec(s: str) -> str:
    decoded, bad = go_b64decode(to_bytes(s))
    if bad is not None:
        return f"illegal base64 data at input byte {bad}"
    return from_bytes(decoded)


@fn("string")
def _b32enc(s: str) -> str:
    return base64.b32encode(to_bytes(s)).decode("ascii")


_B32 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


@fn("string")
def _b32dec(s: str) -> str:
    data = bytes(b for b in to_bytes(s) if b not in (0x0A, 0x0D))
    try:
        return from_bytes(base64.b32decode(data))
    except (binascii.Error, ValueError):
        for i, b in enumerate(data):
            if b not in _B32 and b != 0x3D:
                return f"illegal base32 data at input byte {i}"
        return f"illegal base32 data at input byte {len(data) - len(data) % 8}"


@fn()
def _hello() -> str:
    return "Hello!"


STRING_FUNCS: dict[str, Func] = {
    "hello": _hello,
    "abbrev": _abbrev,
    "abbrevboth": _abbrevboth,
    "trunc": _trunc,
    "trim": _trim,
    "upper": _upper,
    "lower": _lower,
    "title": _title,
    "untitle": _untitle,
    "swapcase": _swapcase,
    "substr": _substr,
    "repeat": _repeat,
    "trimall": _trim_all,
    "trimAll": _trim_all,
    "trimSuffix": _trim_suffix,
    "trimPrefix": _trim_prefix,
    "nospace": _nospace,
    "initials": _initials,
    "contains": _contains,
    "hasPrefix": _has_prefix,
    "hasSuffix": _has_suffix,
    "quote": _quote,
    "squote": _squote,
    "cat": _cat,
    "indent": _indent,
    "nindent": _nindent,
    "replace": _replace,
    "plural": _plural,
    "sha1sum": _hasher("sha1"),
    "sha256sum": _hasher("sha256"),
    "sha512sum": _hasher("sha512"),
    "adler32sum": _adler32,
    "toString": _to_string,
    "b64enc": _b64enc,
    "b64dec": _b64dec,
    "b32enc": _b32enc,
    "b32dec": _b32dec,
}
