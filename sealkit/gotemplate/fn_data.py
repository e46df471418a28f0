"""sprig's defaults, JSON, list, dict, conversion, arithmetic, reflection and path functions.

Where Go's map order would make the output random (`keys`, `values`), sealkit sorts by key:
one of the orders Go could produce, and the only one that does not churn the Secret.
"""

from __future__ import annotations

import copy
import math
import re

from sealkit.gotemplate import gojson
from sealkit.gotemplate.fn_strings import strval
from sealkit.gotemplate.literals import parse_float, parse_int
from sealkit.gotemplate.registry import Func, FuncError, fn
from sealkit.gotemplate.values import (
    Int64,
    StrMap,
    TypedList,
    go_kind,
    go_type,
    is_int,
    to_bytes,
    truth,
)

MAX_LIST = 1_000_000


# --- conversions (spf13/cast rules, errors read as 0) ---


def _trim_zero_decimal(text: str) -> str:
    """cast's trimZeroDecimal: "12.000" -> "12" (only an all-zero fraction)."""
    found_zero = False
    for i in range(len(text), 0, -1):
        ch = text[i - 1]
        if ch == ".":
            if found_zero:
                return text[: i - 1]
        elif ch == "0":
            found_zero = True
        else:
            return text
    return text


def _wrap64(value: int) -> int:
    return (value + (1 << 63)) % (1 << 64) - (1 << 63)


def to_int64(value: object) -> int:
    """cast.ToInt64 (unconvertible values give 0)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if is_int(value):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return -(1 << 63)
        return _wrap64(int(value))
    if isinstance(value, str):
        parsed = parse_int(_trim_zero_decimal(value))
        return parsed if parsed is not None else 0
    return 0


def to_float64(value: object) -> float:
    """cast.ToFloat64 (unconvertible values give 0)."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if is_int(value):
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        lowered = value.lower().lstrip("+-")
        if lowered in ("inf", "infinity", "nan"):
            return float(value.lower().replace("infinity", "inf"))
        parsed = parse_float(value)
        if parsed is None and parse_int(value) is not None and not value.startswith(("0x", "0X", "-0x", "+0x")):
            parsed = float(value.replace("_", ""))
        return parsed if parsed is not None else 0.0
    return 0.0


_ATOI = re.compile(r"[+-]?[0-9]+")


@fn("string")
def _atoi(text: str) -> int:
    if not _ATOI.fullmatch(text):
        return 0
    value = int(text)
    return value if -(1 << 63) <= value < (1 << 63) else 0


@fn("any")
def _int(value: object) -> int:
    return to_int64(value)


@fn("any")
def _int64(value: object) -> Int64:
    return Int64(to_int64(value))


@fn("any")
def _float64(value: object) -> float:
    return to_float64(value)


@fn("any")
def _to_decimal(value: object) -> Int64:
    """strconv.ParseInt(fmt.Sprint(v), 8, 64); errors give 0."""
    text = strval(value)
    if not re.fullmatch(r"[+-]?[0-7]+", text):
        return Int64(0)
    parsed = int(text, 8)
    return Int64(parsed if -(1 << 63) <= parsed < (1 << 63) else 0)


# --- arithmetic (int64, wrapping like Go) ---


def _div_trunc(a: int, b: int) -> int:
    if b == 0:
        raise FuncError("integer divide by zero")
    q = abs(a) // abs(b)
    return _wrap64(q if (a >= 0) == (b >= 0) else -q)


@fn("any")
def _add1(a: object) -> Int64:
    return Int64(_wrap64(to_int64(a) + 1))


@fn(variadic="any")
def _add(*values: object) -> Int64:
    return Int64(_wrap64(sum(to_int64(v) for v in values)))


@fn("any", "any")
def _sub(a: object, b: object) -> Int64:
    return Int64(_wrap64(to_int64(a) - to_int64(b)))


@fn("any", "any")
def _div(a: object, b: object) -> Int64:
    return Int64(_div_trunc(to_int64(a), to_int64(b)))


@fn("any", "any")
def _mod(a: object, b: object) -> Int64:
    x, y = to_int64(a), to_int64(b)
    return Int64(_wrap64(x - y * _div_trunc(x, y)))


@fn("any", variadic="any")
def _mul(a: object, *rest: object) -> Int64:
    value = to_int64(a)
    for b in rest:
        value = _wrap64(value * to_int64(b))
    return Int64(value)


@fn("any", variadic="any")
def _max(a: object, *rest: object) -> Int64:
    return Int64(max([to_int64(a), *(to_int64(b) for b in rest)]))


@fn("any", variadic="any")
def _min(a: object, *rest: object) -> Int64:
    return Int64(min([to_int64(a), *(to_int64(b) for b in rest)]))


def _go_max(a: float, b: float) -> float:
    if (math.isinf(a) and a > 0) or (math.isinf(b) and b > 0):
        return math.inf
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return max(a, b)


def _go_min(a: float, b: float) -> float:
    if (math.isinf(a) and a < 0) or (math.isinf(b) and b < 0):
        return -math.inf
    if math.isnan(a) or math.isnan(b):
        return math.nan
    return min(a, b)


@fn("any", variadic="any")
def _maxf(a: object, *rest: object) -> float:
    value = to_float64(a)
    for b in rest:
        value = _go_max(value, to_float64(b))
    return value


@fn("any", variadic="any")
def _minf(a: object, *rest: object) -> float:
    value = to_float64(a)
    for b in rest:
        value = _go_min(value, to_float64(b))
    return value


@fn("any")
def _floor(a: object) -> float:
    value = to_float64(a)
    return value if math.isnan(value) or math.isinf(value) else float(math.floor(value))


@fn("any")
def _ceil(a: object) -> float:
    value = to_float64(a)
    return value if math.isnan(value) or math.isinf(value) else float(math.ceil(value))


def _until_step(start: int, stop: int, step: int) -> list[int]:
    """sprig's untilStep: counting from start towards stop (exclusive); a step the wrong way gives []."""
    if step == 0:
        return []
    numbers = range(start, stop, step)
    if len(numbers) > MAX_LIST:
        raise FuncError(f"more than {MAX_LIST} numbers (sealkit's limit)")
    return list(numbers)


@fn("int")
def _until(count: int) -> TypedList:
    return TypedList(_until_step(0, count, -1 if count < 0 else 1), "int")


@fn("int", "int", "int")
def _until_step_fn(start: int, stop: int, step: int) -> TypedList:
    return TypedList(_until_step(start, stop, step), "int")


@fn(variadic="int")
def _seq(*params: int) -> str:
    if len(params) == 1:
        start, end = 1, params[0]
        inc = -1 if end < start else 1
        numbers = _until_step(start, end + inc, inc)
    elif len(params) == 2:
        start, end = params
        step = -1 if end < start else 1
        numbers = _until_step(start, end + step, step)
    elif len(params) == 3:
        start, step, end = params
        inc = 1
        if end < start:
            inc = -1
            if step > 0:
                return ""
        numbers = _until_step(start, end + inc, step)
    else:
        return ""
    return " ".join(str(n) for n in numbers)


# --- defaults ---


def empty(value: object) -> bool:
    """sprig's empty: the zero value of its type."""
    return not truth(value)


@fn("any", variadic="any")
def _default(default: object, *given: object) -> object:
    if not given or empty(given[0]):
        return default
    return given[0]


@fn("any")
def _empty(value: object) -> bool:
    return empty(value)


@fn(variadic="any")
def _coalesce(*values: object) -> object:
    return next((v for v in values if not empty(v)), None)


@fn(variadic="any")
def _all(*values: object) -> bool:
    return all(not empty(v) for v in values)


@fn(variadic="any")
def _any(*values: object) -> bool:
    return any(not empty(v) for v in values)


@fn("any", "any", "bool")
def _ternary(true_value: object, false_value: object, condition: bool) -> object:
    return true_value if condition else false_value


# --- JSON ---


@fn("string")
def _from_json(text: str) -> object:
    try:
        return gojson.decode(text)
    except gojson.JSONError:
        return None


@fn("string")
def _must_from_json(text: str) -> object:
    try:
        return gojson.decode(text)
    except gojson.JSONError as exc:
        raise FuncError(str(exc)) from None


def _json_fn(*, must: bool, escape_html: bool = True, indent: str | None = None, panics: bool = False) -> Func:
    @fn("any")
    def encode(value: object) -> str:
        try:
            return gojson.encode(value, escape_html=escape_html, indent=indent)
        except gojson.JSONError as exc:
            if must or panics:
                raise FuncError(str(exc)) from None
            return ""

    return encode


# --- lists ---


def _require_list(value: object, what: str) -> list[object]:
    if isinstance(value, list):
        return value
    if value is None:
        raise FuncError(f"{what}: nil is not a list")
    raise FuncError(f"Cannot {what} on type {go_kind(value)}")


def _same_kind(original: object, items: list[object]) -> list[object]:
    return TypedList(items, original.elem) if isinstance(original, TypedList) else items


@fn(variadic="any")
def _list(*values: object) -> list[object]:
    return list(values)


@fn("any", "any")
def _push(values: object, item: object) -> list[object]:
    return [*_require_list(values, "push"), item]


@fn("any", "any")
def _prepend(values: object, item: object) -> list[object]:
    return [item, *_require_list(values, "prepend")]


@fn("any")
def _first(values: object) -> object:
    items = _require_list(values, "find first")
    return items[0] if items else None


@fn("any")
def _last(values: object) -> object:
    items = _require_list(values, "find last")
    return items[-1] if items else None


@fn("any")
def _rest(values: object) -> list[object]:
    return list(_require_list(values, "find rest")[1:])


@fn("any")
def _initial(values: object) -> list[object]:
    return list(_require_list(values, "find initial")[:-1])


@fn("any")
def _reverse(values: object) -> list[object]:
    return list(reversed(_require_list(values, "find reverse")))


def deep_equal(a: object, b: object) -> bool:
    """reflect.DeepEqual over template values: same Go type and equal contents (NaN != NaN)."""
    if go_type(a) != go_type(b):
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, StrMap | dict) and isinstance(b, StrMap | dict):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, str) and isinstance(b, str):
        return to_bytes(a) == to_bytes(b)
    return a == b


def _contains(items: list[object], needle: object) -> bool:
    return any(deep_equal(needle, item) for item in items)


@fn("any")
def _uniq(values: object) -> list[object]:
    out: list[object] = []
    for item in _require_list(values, "find uniq"):
        if not _contains(out, item):
            out.append(item)
    return out


@fn("any", variadic="any")
def _without(values: object, *omit: object) -> list[object]:
    return [item for item in _require_list(values, "find without") if not _contains(list(omit), item)]


@fn("any", "any")
def _has(needle: object, haystack: object) -> bool:
    if haystack is None:
        return False
    return _contains(_require_list(haystack, "find has"), needle)


@fn("any")
def _compact(values: object) -> list[object]:
    return [item for item in _require_list(values, "compact") if not empty(item)]


@fn("any", variadic="any")
def _slice(values: object, *indices: object) -> object:
    if not isinstance(values, list):
        raise FuncError(f"list should be type of slice or array but {go_kind(values)}")
    if not values:
        return None
    start = to_int64(indices[0]) if indices else 0
    end = to_int64(indices[1]) if len(indices) > 1 else len(values)
    if not 0 <= start <= end <= len(values):
        raise FuncError(f"slice index out of range [{start}:{end}] with length {len(values)}")
    return _same_kind(values, values[start:end])


@fn(variadic="any")
def _concat(*lists: object) -> list[object]:
    out: list[object] = []
    for item in lists:
        if not isinstance(item, list):
            raise FuncError(f"Cannot concat type {go_kind(item)} as list")
        out.extend(item)
    return out


@fn("int", "any")
def _chunk(size: int, values: object) -> list[object]:
    items = _require_list(values, "chunk")
    if size <= 0:
        raise FuncError("chunk size must be positive")
    return [items[i : i + size] for i in range(0, len(items), size)]


def _strslice(value: object) -> list[str]:
    """sprig's strslice: a list's non-nil items as strings, or a scalar as a one-item list."""
    if isinstance(value, list):
        return [strval(v) for v in value if v is not None]
    if value is None:
        return []
    return [strval(value)]


@fn("string", "any")
def _join(sep: str, values: object) -> str:
    return sep.join(_strslice(values))


@fn("any")
def _sort_alpha(values: object) -> TypedList:
    if isinstance(values, list):
        return TypedList(sorted(_strslice(values), key=to_bytes), "string")
    return TypedList([strval(values)], "string")


@fn("any")
def _to_strings(values: object) -> TypedList:
    return TypedList(_strslice(values), "string")


def _go_split(sep: str, text: str, n: int = -1) -> list[str]:
    """strings.SplitN (n < 0: all); an empty separator splits into characters."""
    if n == 0:
        return []
    if sep == "":
        chars = list(text)
        if 0 < n < len(chars):
            return [*chars[: n - 1], "".join(chars[n - 1 :])]
        return chars
    return text.split(sep) if n < 0 else text.split(sep, n - 1)


@fn("string", "string")
def _split_list(sep: str, text: str) -> TypedList:
    return TypedList(_go_split(sep, text), "string")


@fn("string", "string")
def _split(sep: str, text: str) -> StrMap:
    return StrMap({f"_{i}": part for i, part in enumerate(_go_split(sep, text))})


@fn("string", "int", "string")
def _splitn(sep: str, n: int, text: str) -> StrMap:
    return StrMap({f"_{i}": part for i, part in enumerate(_go_split(sep, text, n))})


# --- dicts (map[string]interface {} only: the items map is a map[string]string, as in Go) ---


@fn(variadic="any")
def _dict(*pairs: object) -> dict[str, object]:
    out: dict[str, object] = {}
    for i in range(0, len(pairs), 2):
        out[strval(pairs[i])] = pairs[i + 1] if i + 1 < len(pairs) else ""
    return out


@fn("map", "string")
def _get(d: dict[str, object] | None, key: str) -> object:
    return (d or {}).get(key, "")


@fn("map", "string", "any")
def _set(d: dict[str, object] | None, key: str, value: object) -> dict[str, object]:
    if d is None:
        raise FuncError("assignment to entry in nil map")
    d[key] = value
    return d


@fn("map", "string")
def _unset(d: dict[str, object] | None, key: str) -> dict[str, object] | None:
    if d is not None:
        d.pop(key, None)
    return d


@fn("map", "string")
def _has_key(d: dict[str, object] | None, key: str) -> bool:
    return key in (d or {})


@fn("string", variadic="map")
def _pluck(key: str, *dicts: dict[str, object] | None) -> list[object]:
    return [d[key] for d in dicts if d is not None and key in d]


@fn(variadic="map")
def _keys(*dicts: dict[str, object] | None) -> TypedList:
    return TypedList([k for d in dicts for k in sorted(d or {}, key=to_bytes)], "string")


@fn("map", variadic="string")
def _pick(d: dict[str, object] | None, *keys: str) -> dict[str, object]:
    source = d or {}
    return {k: source[k] for k in keys if k in source}


@fn("map", variadic="string")
def _omit(d: dict[str, object] | None, *keys: str) -> dict[str, object]:
    return {k: v for k, v in (d or {}).items() if k not in keys}


@fn("map")
def _values(d: dict[str, object] | None) -> list[object]:
    source = d or {}
    return [source[k] for k in sorted(source, key=to_bytes)]


@fn(variadic="any")
def _dig(*args: object) -> object:
    if len(args) < 3:
        raise FuncError("dig needs at least three arguments")
    current = args[-1]
    default = args[-2]
    keys = args[:-2]
    for i, key in enumerate(keys):
        if not isinstance(key, str):
            raise FuncError("dig keys must be strings")
        if not isinstance(current, dict):
            raise FuncError(f"dig: value of type {go_type(current)} is not a map[string]interface {{}}")
        if key not in current:
            return default
        current = current[key]
        if i == len(keys) - 1:
            return current
    return current  # pragma: no cover


# --- reflection ---


@fn("any")
def _type_of(value: object) -> str:
    return go_type(value)


@fn("string", "any")
def _type_is(target: str, value: object) -> bool:
    return target == go_type(value)


@fn("string", "any")
def _type_is_like(target: str, value: object) -> bool:
    return go_type(value) in (target, "*" + target)


@fn("any")
def _kind_of(value: object) -> str:
    return go_kind(value)


@fn("string", "any")
def _kind_is(target: str, value: object) -> bool:
    return target == go_kind(value)


@fn("any", "any")
def _deep_equal(a: object, b: object) -> bool:
    return deep_equal(a, b)


@fn("any")
def _deep_copy(value: object) -> object:
    return copy.deepcopy(value)


# --- paths (Go's path package; filepath is the same on Linux, where the controller runs) ---


def go_clean(path: str) -> str:
    """path.Clean: the shortest equivalent path by lexical processing."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


@fn("string")
def _base(path: str) -> str:
    if path == "":
        return "."
    path = path.rstrip("/")
    if path == "":
        return "/"
    return path.rsplit("/", 1)[-1]


@fn("string")
def _dir(path: str) -> str:
    return go_clean(path[: path.rfind("/") + 1])


@fn("string")
def _clean(path: str) -> str:
    return go_clean(path)


@fn("string")
def _ext(path: str) -> str:
    for i in range(len(path) - 1, -1, -1):
        if path[i] == "/":
            break
        if path[i] == ".":
            return path[i:]
    return ""


@fn("string")
def _is_abs(path: str) -> bool:
    return path.startswith("/")


@fn("string")
def _fail(message: str) -> str:
    raise FuncError("fail called")


DATA_FUNCS: dict[str, Func] = {
    "atoi": _atoi,
    "int": _int,
    "int64": _int64,
    "float64": _float64,
    "toDecimal": _to_decimal,
    "add1": _add1,
    "add": _add,
    "sub": _sub,
    "div": _div,
    "mod": _mod,
    "mul": _mul,
    "max": _max,
    "biggest": _max,
    "min": _min,
    "maxf": _maxf,
    "minf": _minf,
    "floor": _floor,
    "ceil": _ceil,
    "until": _until,
    "untilStep": _until_step_fn,
    "seq": _seq,
    "default": _default,
    "empty": _empty,
    "coalesce": _coalesce,
    "all": _all,
    "any": _any,
    "ternary": _ternary,
    "fromJson": _from_json,
    "mustFromJson": _must_from_json,
    "toJson": _json_fn(must=False),
    "mustToJson": _json_fn(must=True),
    "toPrettyJson": _json_fn(must=False, indent="  "),
    "mustToPrettyJson": _json_fn(must=True, indent="  "),
    "toRawJson": _json_fn(must=False, escape_html=False, panics=True),
    "mustToRawJson": _json_fn(must=True, escape_html=False),
    "list": _list,
    "tuple": _list,
    "append": _push,
    "push": _push,
    "mustAppend": _push,
    "mustPush": _push,
    "prepend": _prepend,
    "mustPrepend": _prepend,
    "first": _first,
    "mustFirst": _first,
    "last": _last,
    "mustLast": _last,
    "rest": _rest,
    "mustRest": _rest,
    "initial": _initial,
    "mustInitial": _initial,
    "reverse": _reverse,
    "mustReverse": _reverse,
    "uniq": _uniq,
    "mustUniq": _uniq,
    "without": _without,
    "mustWithout": _without,
    "has": _has,
    "mustHas": _has,
    "compact": _compact,
    "mustCompact": _compact,
    "slice": _slice,
    "mustSlice": _slice,
    "concat": _concat,
    "chunk": _chunk,
    "mustChunk": _chunk,
    "join": _join,
    "sortAlpha": _sort_alpha,
    "toStrings": _to_strings,
    "splitList": _split_list,
    "split": _split,
    "splitn": _splitn,
    "dict": _dict,
    "get": _get,
    "set": _set,
    "unset": _unset,
    "hasKey": _has_key,
    "pluck": _pluck,
    "keys": _keys,
    "pick": _pick,
    "omit": _omit,
    "values": _values,
    "dig": _dig,
    "typeOf": _type_of,
    "typeIs": _type_is,
    "typeIsLike": _type_is_like,
    "kindOf": _kind_of,
    "kindIs": _kind_is,
    "deepEqual": _deep_equal,
    "deepCopy": _deep_copy,
    "mustDeepCopy": _deep_copy,
    "base": _base,
    "dir": _dir,
    "clean": _clean,
    "ext": _ext,
    "isAbs": _is_abs,
    "osBase": _base,
    "osDir": _dir,
    "osClean": _clean,
    "osExt": _ext,
    "osIsAbs": _is_abs,
    "fail": _fail,
}
