"""sprig's regex functions: Go RE2 syntax translated to Python `re`, with Go's match iteration.

The translation keeps RE2 meaning: \\d \\w \\s \\b are ASCII-only, `$` without (?m) is the end of
text only, \\z is supported, POSIX classes like [[:alpha:]] work. Constructs RE2 rejects
(look-around, back-references, possessive or atomic groups, repeats over 1000) count as a Go
compile failure: `regexMatch` then yields false as sprig does, the other functions fail. RE2
features sealkit does not translate (\\p{..} classes, the U flag, flags set mid-pattern) are
refused with an error naming them. Replacement strings use Go's $1 / ${name} expansion.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sealkit.gotemplate.registry import Func, FuncError, fn
from sealkit.gotemplate.values import TypedList, from_bytes, to_bytes


class RegexUnsupported(Exception):
    """Valid RE2 that sealkit does not translate (message names the construct)."""


class RegexInvalid(Exception):
    """Not valid RE2: Go's regexp.Compile would fail."""


_WORD = "0-9A-Za-z_"
_CLASS_ESCAPES = {"d": "0-9", "w": _WORD, "s": "\\t\\n\\f\\r "}
_NEG_ESCAPES = {"D": "[^0-9]", "W": f"[^{_WORD}]", "S": "[^\\t\\n\\f\\r ]"}
_WORD_B = f"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))"
_NOT_WORD_B = f"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))"
_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": _WORD,
    "xdigit": "0-9A-Fa-f",
}
_SIMPLE = set("aftnrv")
_PUNCT = set("\\.+*?()|[]{}^$-&~#/!\"%',:;<=>@`_ ")
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    """Translate the escape at pattern[i] == '\\'; returns (python text, next index)."""
    if i + 1 >= len(pattern):
        raise RegexInvalid("trailing backslash")
    ch = pattern[i + 1]
    if ch in _CLASS_ESCAPES:
        text = _CLASS_ESCAPES[ch]
        return (text if in_class else f"[{text}]"), i + 2
    if ch in _NEG_ESCAPES:
        if in_class:
            raise RegexUnsupported(f"\\{ch} inside a character class")
        return _NEG_ESCAPES[ch], i + 2
    if ch in "bB" and not in_class:
        return (_WORD_B if ch == "b" else _NOT_WORD_B), i + 2
    if ch == "A" and not in_class:
        return "\\A", i + 2
    if ch == "z" and not in_class:
        return "\\Z", i + 2
    if ch in "pP":
        raise RegexUnsupported(f"Unicode class \\{ch}")
    if ch == "Q":
        end = pattern.find("\\E", i + 2)
        literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
        return re.escape(literal), len(pattern) if end < 0 else end + 2
    if ch == "x":
        if pattern.startswith("{", i + 2):
            end = pattern.find("}", i + 3)
            digits = pattern[i + 3 : end] if end > 0 else ""
            if not digits or not all(c in "0123456789abcdefABCDEF" for c in digits) or int(digits, 16) > 0x10FFFF:
                raise RegexInvalid("bad \\x{} escape")
            return re.escape(chr(int(digits, 16))), end + 1
        digits = pattern[i + 2 : i + 4]
        if len(digits) != 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise RegexInvalid("bad \\x escape")
        return re.escape(chr(int(digits, 16))), i + 4
    if ch in "01234567":
        j = i + 1
        while j < len(pattern) and j < i + 4 and pattern[j] in "01234567":
            j += 1
        if ch != "0" and j == i + 2:
            raise RegexInvalid("back-references are not RE2")
        return re.escape(chr(int(pattern[i + 1 : j], 8))), j
    if ch in _SIMPLE:
        return "\\" + ch, i + 2
    if ch in _PUNCT or (not ch.isascii()):
        return re.escape(ch), i + 2
    raise RegexInvalid(f"invalid escape \\{ch}")


def _char_class(pattern: str, i: int) -> tuple[str, int]:
    """Translate the class starting at pattern[i] == '['."""
    out = ["["]
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        out.append("^")
        j += 1
    first = True
    while True:
        if j >= len(pattern):
            raise RegexInvalid("missing closing ]")
        ch = pattern[j]
        if ch == "]" and not first:
            out.append("]")
            return "".join(out), j + 1
        first = False
        if pattern.startswith("[:", j):
            end = pattern.find(":]", j + 2)
            name = pattern[j + 2 : end] if end > 0 else ""
            negated = name.startswith("^")
            if end > 0 and name.lstrip("^") in _POSIX:
                if negated:
                    raise RegexUnsupported("negated POSIX class inside a character class")
                out.append(_POSIX[name])
                j = end + 2
                continue
        if ch == "\\":
            text, j = _escape(pattern, j, in_class=True)
            out.append(text)
            continue
        out.append("\\" + ch if ch in "[&~|" else ch)
        j += 1


def _flags(spec: str) -> str:
    if "U" in spec:
        raise RegexUnsupported("the U (ungreedy) flag")
    if not spec or any(c not in "imsU-" for c in spec) or spec.count("-") > 1 or spec.endswith("-"):
        raise RegexInvalid("bad flag group")
    return spec


def translate(pattern: str) -> str:  # noqa: C901 - one case per RE2 construct, read against RE2's syntax
    """RE2 pattern -> equivalent Python pattern (raises RegexUnsupported / RegexInvalid)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    multiline = False
    last_was_repeat = False
    while i < n:
        ch = pattern[i]
        repeat = False
        if ch == "\\":
            text, i = _escape(pattern, i, in_class=False)
            out.append(text)
        elif ch == "[":
            text, i = _char_class(pattern, i)
            out.append(text)
        elif ch == "(":
            if pattern.startswith("(?", i):
                if pattern.startswith("(?P<", i) or pattern.startswith("(?<", i):
                    start = i + (4 if pattern[i + 2] == "P" else 3)
                    end = pattern.find(">", start)
                    name = pattern[start:end] if end > 0 else ""
                    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or (pattern[i + 2] == "<" and name[:1] in "=!"):
                        raise RegexInvalid("bad group name or look-behind")
                    out.append(f"(?P<{name}>")
                    i = end + 1
                else:
                    m = re.match(r"\(\?([A-Za-z-]*)([:)])", pattern[i:])
                    if not m:
                        raise RegexInvalid("look-around, atomic groups and comments are not RE2")
                    spec, kind = m.group(1), m.group(2)
                    if spec:
                        _flags(spec)
                    on, _, off = spec.partition("-")
                    if kind == ")":
                        if out:
                            raise RegexUnsupported("flags set in the middle of a pattern")
                        if off:
                            raise RegexUnsupported("clearing flags with (?-...)")
                        multiline = "m" in on
                        if on:
                            out.append(f"(?{on})")
                    else:
                        if "m" in spec:
                            raise RegexUnsupported("the m flag inside a group")
                        out.append(f"(?{on}-{off}:" if off else f"(?{on}:")
                    i += m.end()
            else:
                out.append("(")
                i += 1
        elif ch == "$":
            out.append("$" if multiline else "\\Z")
            i += 1
        elif ch in "*+?":
            if last_was_repeat:
                raise RegexInvalid("nested repetition operator")
            out.append(ch)
            i += 1
            if i < n and pattern[i] == "?":
                out.append("?")
                i += 1
            repeat = True
        elif ch == "{":
            m = _REPEAT.match(pattern, i)
            if m:
                low = int(m.group(1))
                high = int(m.group(3)) if m.group(3) else low
                if low > 1000 or high > 1000 or (m.group(3) and high < low):
                    raise RegexInvalid("bad repetition count")
                if last_was_repeat:
                    raise RegexInvalid("nested repetition operator")
                out.append(m.group(0))
                i = m.end()
                if i < n and pattern[i] == "?":
                    out.append("?")
                    i += 1
                repeat = True
            else:
                out.append("\\{")
                i += 1
        elif ch in "&~#":
            out.append("\\" + ch)
            i += 1
        else:
            out.append(ch)
            i += 1
        last_was_repeat = repeat
    return "".join(out)


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(translate(pattern))
    except re.error:
        raise RegexInvalid("pattern does not compile") from None
    except RecursionError:
        raise RegexInvalid("pattern nests too deeply") from None


def compile_go(pattern: str) -> re.Pattern[str]:
    """The compiled pattern; FuncError if sealkit refuses it or Go would not compile it."""
    try:
        return _compile(pattern)
    except RegexUnsupported as exc:
        raise FuncError(f"regex construct not supported by sealkit: {exc}") from None
    except RegexInvalid as exc:
        raise FuncError(f"regex is not valid RE2 ({exc})") from None


def find_all(rx: re.Pattern[str], text: str, limit: int) -> list[re.Match[str]]:
    """Go's FindAll: successive matches; an empty match right after the previous match is dropped."""
    out: list[re.Match[str]] = []
    pos, prev_end = 0, -1
    while (limit < 0 or len(out) < limit) and pos <= len(text):
        m = rx.search(text, pos)
        if m is None:
            break
        accept = True
        if m.end() == m.start():
            if m.start() == prev_end:
                accept = False
            pos = m.end() + 1
        else:
            pos = m.end()
        prev_end = m.end()
        if accept:
            out.append(m)
    return out


def _expand(template: str, m: re.Match[str]) -> str:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$; unknown groups give ""."""
    out: list[str] = []
    i = 0
    while i < len(template):
        j = template.find("$", i)
        if j < 0:
            out.append(template[i:])
            break
        out.append(template[i:j])
        rest = template[j + 1 :]
        if rest.startswith("$"):
            out.append("$")
            i = j + 2
            continue
        brace = rest.startswith("{")
        body = rest[1:] if brace else rest
        k = 0
        while k < len(body) and (body[k] == "_" or body[k].isalnum()):
            k += 1
        name = body[:k]
        if not name or (brace and not body.startswith("}", k)):
            out.append("$")
            i = j + 1
            continue
        i = j + 1 + k + (2 if brace else 0)
        group: str | None
        if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1):
            number = int(name)
            group = m.group(number) if number <= m.re.groups else None
        else:
            group = m.groupdict().get(name)
        out.append(group or "")
    return "".join(out)


def replace_all(rx: re.Pattern[str], src: str, repl: str, *, literal: bool) -> str:
    """Go's ReplaceAllString / ReplaceAllLiteralString iteration."""
    out: list[str] = []
    last_end, search = 0, 0
    while search <= len(src):
        m = rx.search(src, search)
        if m is None:
            break
        out.append(src[last_end : m.start()])
        if m.end() > last_end or m.start() == 0:
            out.append(repl if literal else _expand(repl, m))
        last_end = m.end()
        search = search + 1 if search + 1 > m.end() else m.end()
    out.append(src[last_end:])
    return "".join(out)


def split(rx: re.Pattern[str], text: str, n: int) -> list[str]:
    """Go's Regexp.Split."""
    if n == 0:
        return []
    if rx.pattern and text == "":
        return [""]
    parts: list[str] = []
    begin = end = 0
    for m in find_all(rx, text, n):
        if n > 0 and len(parts) == n - 1:
            break
        end = m.start()
        if m.end() != 0:
            parts.append(text[begin:end])
        begin = m.end()
    if end != len(text):
        parts.append(text[begin:])
    return parts


def _canonical(text: str) -> str:
    return from_bytes(to_bytes(text))


@fn("string", "string")
def _regex_match(pattern: str, text: str) -> bool:
    try:
        rx = _compile(pattern)
    except RegexInvalid:
        return False
    except RegexUnsupported as exc:
        raise FuncError(f"regex construct not supported by sealkit: {exc}") from None
    return rx.search(_canonical(text)) is not None


@fn("string", "string")
def _must_regex_match(pattern: str, text: str) -> bool:
    return compile_go(pattern).search(_canonical(text)) is not None


@fn("string", "string", "int")
def _regex_find_all(pattern: str, text: str, n: int) -> TypedList:
    return TypedList([m.group(0) for m in find_all(compile_go(pattern), _canonical(text), n)], "string")


@fn("string", "string")
def _regex_find(pattern: str, text: str) -> str:
    m = compile_go(pattern).search(_canonical(text))
    return m.group(0) if m else ""


@fn("string", "string", "string")
def _regex_replace_all(pattern: str, text: str, repl: str) -> str:
    return replace_all(compile_go(pattern), _canonical(text), repl, literal=False)


@fn("string", "string", "string")
def _regex_replace_all_literal(pattern: str, text: str, repl: str) -> str:
    return replace_all(compile_go(pattern), _canonical(text), repl, literal=True)


@fn("string", "string", "int")
def _regex_split(pattern: str, text: str, n: int) -> TypedList:
    return TypedList(split(compile_go(pattern), _canonical(text), n), "string")


_META = set("\\.+*?()|[]{}^$")


@fn("string")
def _regex_quote_meta(text: str) -> str:
    return "".join("\\" + ch if ch in _META else ch for ch in text)


REGEX_FUNCS: dict[str, Func] = {
    "regexMatch": _regex_match,
    "mustRegexMatch": _must_regex_match,
    "regexFindAll": _regex_find_all,
    "mustRegexFindAll": _regex_find_all,
    "regexFind": _regex_find,
    "mustRegexFind": _regex_find,
    "regexReplaceAll": _regex_replace_all,
    "mustRegexReplaceAll": _regex_replace_all,
    "regexReplaceAllLiteral": _regex_replace_all_literal,
    "mustRegexReplaceAllLiteral": _regex_replace_all_literal,
    "regexSplit": _regex_split,
    "mustRegexSplit": _regex_split,
    "regexQuoteMeta": _regex_quote_meta,
}
