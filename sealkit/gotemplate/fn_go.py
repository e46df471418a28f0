"""text/template's predefined functions (and, or, not, len, index, print*, html, js, urlquery, eq...).

`slice` is not here: sprig's list `slice` replaces Go's builtin in Bitnami's function map.
`call` is refused: sealkit data never holds function values.
"""

from __future__ import annotations

from sealkit.gotemplate.gofmt import print_action, sprint, sprintf, sprintln
from sealkit.gotemplate.registry import Func, FuncError, fn
from sealkit.gotemplate.values import Byte, StrMap, go_len, go_type, has_len, is_int, to_bytes, truth


def _never(*_args: object) -> object:  # and/or are evaluated by the executor (short-circuit)
    raise AssertionError("unreachable")


def _basic_kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if is_int(value):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "invalid"


def _eq_one(a: object, b: object) -> bool:
    ka, kb = _basic_kind(a), _basic_kind(b)
    if ka != kb:
        if a is not None and b is not None:
            raise FuncError(f"incompatible types for comparison: {go_type(a)} and {go_type(b)}")
        return False
    if ka == "string":
        assert isinstance(a, str) and isinstance(b, str)
        return to_bytes(a) == to_bytes(b)
    if ka != "invalid":
        return a == b
    # non-basic kinds: only nil-ness can be compared; slices and maps are not comparable
    if a is None or b is None:
        if a is not None and b is not None:  # pragma: no cover
            return False
        if type(a) is not type(b) and a is not None and b is not None:  # pragma: no cover
            raise FuncError("non-comparable types")
        return a is None and b is None
    raise FuncError(f"non-comparable type {go_type(b)}")


@fn("any", variadic="any")
def _eq(first: object, *others: object) -> bool:
    if not others:
        raise FuncError("missing argument for comparison")
    return any(_eq_one(first, other) for other in others)


@fn("any", "any")
def _ne(a: object, b: object) -> bool:
    return not _eq_one(a, b)


def _lt(a: object, b: object) -> bool:
    ka, kb = _basic_kind(a), _basic_kind(b)
    if ka in ("invalid", "bool") or kb in ("invalid", "bool"):
        raise FuncError("invalid type for comparison")
    if ka != kb:
        raise FuncError(f"incompatible types for comparison: {go_type(a)} and {go_type(b)}")
    if ka == "string":
        assert isinstance(a, str) and isinstance(b, str)
        return to_bytes(a) < to_bytes(b)
    assert isinstance(a, int | float) and isinstance(b, int | float)
    return a < b


@fn("any", "any")
def _lt_fn(a: object, b: object) -> bool:
    return _lt(a, b)


@fn("any", "any")
def _le(a: object, b: object) -> bool:
    return _lt(a, b) or _eq_one(a, b)


@fn("any", "any")
def _gt(a: object, b: object) -> bool:
    return not (_lt(a, b) or _eq_one(a, b))


@fn("any", "any")
def _ge(a: object, b: object) -> bool:
    return not _lt(a, b)


@fn("any")
def _not(value: object) -> bool:
    return not truth(value)


@fn("any")
def _len(value: object) -> int:
    if value is None:
        raise FuncError("len of nil")
    if not has_len(value):
        raise FuncError(f"len of type {go_type(value)}")
    return go_len(value)


@fn("any", variadic="any")
def _index(item: object, *indexes: object) -> object:
    if item is None:
        raise FuncError("index of untyped nil")
    for index in indexes:
        if isinstance(item, str | list):
            if index is None:
                raise FuncError("cannot index slice/array with nil")
            if not is_int(index):
                raise FuncError(f"cannot index slice/array with type {go_type(index)}")
            sequence = to_bytes(item) if isinstance(item, str) else item
            position = int(index)
            if not 0 <= position < len(sequence):
                raise FuncError(f"index out of range: {position}")
            element = sequence[position]
            item = Byte(element) if isinstance(element, int) and isinstance(item, str) else element
        elif isinstance(item, StrMap | dict):
            key = "" if index is None else index
            if not isinstance(key, str):
                raise FuncError(f"value has type {go_type(key)}; should be string")
            item = item.get(key, "" if isinstance(item, StrMap) else None)
        else:
            raise FuncError(f"can't index item of type {go_type(item)}")
    return item


@fn(variadic="any")
def _print(*args: object) -> str:
    return sprint(list(args))


@fn("string", variadic="any")
def _printf(fmt_text: str, *args: object) -> str:
    return sprintf(fmt_text, list(args))


@fn(variadic="any")
def _println(*args: object) -> str:
    return sprintln(list(args))


def _eval_args(args: tuple[object, ...]) -> str:
    """text/template's evalArgs: fmt.Sprint, but a missing value prints as "<no value>"."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    printable: list[object] = [print_action(a) if a is None else a for a in args]
    return sprint(printable)


_HTML = {"\x00": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}


@fn(variadic="any")
def _html(*args: object) -> str:
    return "".join(_HTML.get(ch, ch) for ch in _eval_args(args))


def _js_char(ch: str) -> str:
    code = ord(ch)
    special = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}
    if ch in special:
        return special[ch]
    if code < 0x20:
        return f"\\u{code:04X}"
    if code < 0x80:
        return ch
    if 0xDC80 <= code <= 0xDCFF:  # invalid UTF-8 byte: Go decodes U+FFFD, which is printable
        return ch
    from sealkit.gotemplate.gofmt import _is_print

    return ch if _is_print(ch) else f"\\u{code:04X}"


@fn(variadic="any")
def _js(*args: object) -> str:
    return "".join(_js_char(ch) for ch in _eval_args(args))


_URL_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


@fn(variadic="any")
def _urlquery(*args: object) -> str:
    out = []
    for byte in to_bytes(_eval_args(args)):
        if byte in _URL_SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


GO_FUNCS: dict[str, Func] = {
    "and": Func(("any",), _never, "any"),
    "or": Func(("any",), _never, "any"),
    "not": _not,
    "len": _len,
    "index": _index,
    "print": _print,
    "printf": _printf,
    "println": _println,
    "html": _html,
    "js": _js,
    "urlquery": _urlquery,
    "eq": _eq,
    "ne": _ne,
    "lt": _lt_fn,
    "le": _le,
    "gt": _gt,
    "ge": _ge,
}
