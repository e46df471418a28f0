"""Go's fmt printing for template values: `{{ . }}`, print, println, printf and strconv.Quote.

Only the verbs and flags listed in docs/templates.md are implemented; an unsupported verb or an
explicit argument index is refused with a TemplateError-worthy FormatRefused, never guessed.
"""

from __future__ import annotations

import math
import unicodedata

from sealkit.gotemplate.values import (
    StrMap,
    canonical,
    from_bytes,
    go_type,
    is_int,
    to_bytes,
)


class FormatRefused(Exception):
    """A printf construct sealkit does not implement (the message names it)."""


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of |value| and the decimal point position (Go and Python agree)."""
    text = repr(abs(value))
    mantissa, _, exponent = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    digits = whole + frac
    point = len(whole) + (int(exponent) if exponent else 0)
    while len(digits) > 1 and digits[0] == "0":
        digits = digits[1:]
        point -= 1
    digits = digits.rstrip("0") or "0"
    return digits, point


def _exp_form(digits: str, point: int, sign: str) -> str:
    exp = point - 1
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _fixed_form(digits: str, point: int, sign: str) -> str:
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _special(value: float) -> str | None:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return None


def float_g(value: float) -> str:
    """Go's %v / %g (shortest) for a float64: exponent form when the exponent is < -4 or >= 6.

    strconv uses precision 6 for the %e-or-%f decision when formatting the shortest representation,
    which is why Go prints 1e+06 for float64(1000000).
    """
    special = _special(value)
    if special:
        return special
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0"
    digits, point = _shortest_digits(value)
    exp = point - 1
    if exp < -4 or exp >= 6:
        return _exp_form(digits, point, sign)
    return _fixed_form(digits, point, sign)


def float_json(value: float) -> str:
    """encoding/json's float64: fixed unless |v| < 1e-6 or >= 1e21, exponent "e-7" not "e-07"."""
    sign = "-" if math.copysign(1.0, value) < 0 and value != 0 else ""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    digits, point = _shortest_digits(value)
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        text = _exp_form(digits, point, sign)
        if text[-4:-1] == "e-0":
            text = text[:-2] + text[-1]
        return text
    return _fixed_form(digits, point, sign)


def _is_print(ch: str) -> bool:
    """unicode.IsPrint: graphic characters and the ASCII space only."""
    if ch == " ":
        return True
    return ch.isprintable() and unicodedata.category(ch) != "Zs"


_SIMPLE_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v"}


def quote(text: str, *, ascii_only: bool = False, quote_char: str = '"') -> str:
    """strconv.Quote (or QuoteToASCII / QuoteRune spelling when asked)."""
    out = [quote_char]
    for ch in canonical(text):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that is not valid UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in (quote_char, "\\"):
            out.append("\\" + ch)
        elif _is_print(ch) and not (ascii_only and code >= 0x80):
            out.append(ch)
        elif ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append(quote_char)
    return "".join(out)


def _can_backquote(text: str) -> bool:
    for ch in text:
        code = ord(ch)
        if ch == "`" or ch == "\ufeff" or 0xD800 <= code <= 0xDFFF:
            return False
        if (code < 0x20 and ch != "\t") or code == 0x7F:
            return False
    return True


def format_v(value: object) -> str:
    """fmt's %v of a value (what `print` and a printed action produce)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_int(value):
        return str(int(value))
    if isinstance(value, float):
        return float_g(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(format_v(item) for item in value) + "]"
    if isinstance(value, StrMap | dict):
        return "map[" + " ".join(f"{key}:{format_v(value[key])}" for key in sorted(value)) + "]"
    raise FormatRefused(f"printing a value of type {go_type(value)}")


def print_action(value: object) -> str:
    """What `{{ pipeline }}` writes: a missing value prints as "<no value>"."""
    return "<no value>" if value is None else format_v(value)


def sprint(args: list[object]) -> str:
    """fmt.Sprint: a space between operands when neither side is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i > 0 and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(format_v(arg))
    return canonical("".join(out))


def sprintln(args: list[object]) -> str:
    """fmt.Sprintln: operands always separated by spaces, newline appended."""
    return canonical(" ".join(format_v(arg) for arg in args) + "\n")


class _Spec:
    __slots__ = ("minus", "plus", "precision", "sharp", "space", "width", "zero")

    def __init__(self) -> None:
        self.minus = self.plus = self.sharp = self.space = self.zero = False
        self.width: int | None = None
        self.precision: int | None = None


def _pad(text: str, spec: _Spec, *, numeric: bool = False) -> str:
    if spec.width is None or len(text) >= spec.width:
        return text
    fill = spec.width - len(text)
    if spec.minus:
        return text + " " * fill
    if spec.zero:
        if numeric and text[:1] in "+- ":
            return text[0] + "0" * fill + text[1:]
        return "0" * fill + text
    return " " * fill + text


def _bad(verb: str, value: object) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type(value)}={format_v(value)})"


def _fmt_int(value: int, verb: str, spec: _Spec) -> str:
    digits_of = {"d": "d", "x": "x", "X": "X", "o": "o", "O": "o", "b": "b"}
    if verb == "c":
        return _pad(chr(value) if 0 <= value <= 0x10FFFF else "\ufffd", spec)
    if verb == "q":
        ch = chr(value) if 0 <= value <= 0x10FFFF else "\ufffd"
        return _pad(quote(ch, ascii_only=spec.plus, quote_char="'"), spec)
    if verb == "U":
        text = f"U+{value:04X}"
        if spec.sharp and 0 <= value <= 0x10FFFF and _is_print(chr(value)):
            text += f" '{chr(value)}'"
        return _pad(text, spec)
    body = format(abs(value), digits_of[verb])
    if spec.precision is not None:
        body = "" if spec.precision == 0 and value == 0 else body.rjust(spec.precision, "0")
    if spec.sharp:
        body = {"x": "0x", "X": "0X", "o": "0", "b": "0b"}.get(verb, "") + body
    if verb == "O":
        body = "0o" + body
    sign = "-" if value < 0 else "+" if spec.plus else " " if spec.space else ""
    if spec.zero and spec.precision is None and not spec.minus and spec.width:
        return sign + body.rjust(spec.width - len(sign), "0")
    return _pad(sign + body, spec)


def _fmt_float(value: float, verb: str, spec: _Spec) -> str:
    special = _special(value)
    if special:
        text = special if special != "+Inf" or spec.plus else "Inf"
        if spec.space and not text.startswith(("-", "+")) and text != "NaN":
            text = " " + text
        return _pad(text, spec)
    if verb in "gGv" and spec.precision is None:
        text = float_g(value)
        if verb == "G":
            text = text.upper()
    else:
        precision = 6 if spec.precision is None else spec.precision
        pyverb = {"v": "g", "F": "f"}.get(verb, verb)
        text = format(value, f"{'#' if spec.sharp else ''}.{precision}{pyverb}")
    if spec.plus and not text.startswith("-"):
        text = "+" + text
    elif spec.space and not text.startswith("-"):
        text = " " + text
    return _pad(text, spec, numeric=True)


def _fmt_string(value: str, verb: str, spec: _Spec) -> str:
    if verb in "sv":
        text = value if spec.precision is None else value[: spec.precision]
        return _pad(text, spec)
    if verb == "q":
        if spec.sharp and _can_backquote(value):
            return _pad(f"`{value}`", spec)
        return _pad(quote(value, ascii_only=spec.plus), spec)
    # x / X: the bytes in hex
    data = to_bytes(value)
    if spec.precision is not None:
        data = data[: spec.precision]
    pieces = [format(b, "02x" if verb == "x" else "02X") for b in data]
    prefix = ("0x" if verb == "x" else "0X") if spec.sharp else ""
    joined = " ".join(prefix + piece for piece in pieces) if spec.space else prefix + "".join(pieces)
    text = joined if pieces else ""
    return _pad(text, spec)


def _fmt_one(value: object, verb: str, spec: _Spec) -> str:
    """One operand under one verb, with Go's %!verb(type=value) for mismatches."""
    if verb == "T":
        return _pad(go_type(value), spec)
    if value is None:
        return _pad("<nil>", spec) if verb == "v" else _bad(verb, value)
    if isinstance(value, list):
        return "[" + " ".join(_fmt_one(item, verb, _Spec()) for item in value) + "]"
    if isinstance(value, StrMap | dict):
        items = (f"{_fmt_one(k, verb, _Spec())}:{_fmt_one(value[k], verb, _Spec())}" for k in sorted(value))
        return "map[" + " ".join(items) + "]"
    if isinstance(value, bool):
        return _pad("true" if value else "false", spec) if verb in "vt" else _bad(verb, value)
    if is_int(value):
        assert isinstance(value, int)
        if verb == "v":
            verb = "d"
        if verb in "dxXoObcqU":
            return _fmt_int(int(value), verb, spec)
        return _bad(verb, value)
    if isinstance(value, float):
        if verb in "veEfFgG":
            return _fmt_float(value, verb, spec)
        if verb in "xX":
            raise FormatRefused(f"printf verb %{verb} with a float64")
        return _bad(verb, value)
    if isinstance(value, str):
        if verb in "svqxX":
            return _fmt_string(value, verb, spec)
        return _bad(verb, value)
    raise FormatRefused(f"printf of a value of type {go_type(value)}")


_VERBS = set("vTtsqxXdobOcUeEfFgG")


def _star(args: list[object], index: int) -> tuple[int | None, int, bool]:
    """A `*` width or precision taken from the arguments: (value, next index, ok)."""
    arg = args[index] if index < len(args) else None
    if not is_int(arg):
        return None, index + 1, False
    return int(arg), index + 1, abs(arg) <= 1_000_000


def sprintf(fmt_text: str, args: list[object]) -> str:
    """fmt.Sprintf over the supported verbs; Go's %!-notations for missing/extra/bad operands."""
    out: list[str] = []
    i, n, argi = 0, len(fmt_text), 0
    while i < n:
        ch = fmt_text[i]
        if ch != "%":
            j = fmt_text.find("%", i)
            j = n if j < 0 else j
            out.append(fmt_text[i:j])
            i = j
            continue
        i += 1
        spec = _Spec()
        while i < n and fmt_text[i] in "+-# 0":
            flag = fmt_text[i]
            spec.plus |= flag == "+"
            spec.minus |= flag == "-"
            spec.sharp |= flag == "#"
            spec.space |= flag == " "
            spec.zero |= flag == "0"
            i += 1
        if i < n and fmt_text[i] == "[":
            raise FormatRefused("printf explicit argument indexes ([n])")
        if i < n and fmt_text[i] == "*":
            width, argi, ok = _star(args, argi)
            i += 1
            if not ok or width is None:
                out.append("%!(BADWIDTH)")
            else:
                spec.width = abs(width)
                spec.minus |= width < 0
        else:
            start = i
            while i < n and fmt_text[i].isdigit() and fmt_text[i].isascii():
                i += 1
            if i > start:
                spec.width = int(fmt_text[start:i])
                if spec.width > 1_000_000:
                    raise FormatRefused("printf width over 1000000")
        if i < n and fmt_text[i] == ".":
            i += 1
            if i < n and fmt_text[i] == "*":
                prec, argi, ok = _star(args, argi)
                i += 1
                if not ok or prec is None or prec < 0:
                    out.append("%!(BADPREC)")
                else:
                    spec.precision = prec
            else:
                start = i
                while i < n and fmt_text[i].isdigit() and fmt_text[i].isascii():
                    i += 1
                spec.precision = int(fmt_text[start:i]) if i > start else 0
                if spec.precision > 1_000_000:
                    raise FormatRefused("printf precision over 1000000")
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt_text[i]
        i += 1
        if verb == "%":
            out.append("%")
            continue
        if verb not in _VERBS:
            raise FormatRefused(f"printf verb %{verb}")
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_fmt_one(args[argi], verb, spec))
        argi += 1
    if argi < len(args):
        extra = ", ".join("<nil>" if a is None else f"{go_type(a)}={format_v(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return canonical(from_bytes(to_bytes("".join(out))))
