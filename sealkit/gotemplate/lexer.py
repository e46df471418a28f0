"""Tokens of a Go text/template: text between actions, and the words inside `{{ }}`.

Follows text/template/parse's lexing rules: `{{- ` and ` -}}` trim markers need the space, comments
`{{/* */}}` must touch the delimiters, newlines may sit inside actions but not inside "strings",
and identifiers must end at a terminator (space . , | : ( ) or the closing delimiter).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum, auto


class Tok(Enum):
    """Token kinds."""

    TEXT = auto()
    LEFT = auto()
    RIGHT = auto()
    SPACE = auto()
    IDENT = auto()
    FIELD = auto()
    VARIABLE = auto()
    DOT = auto()
    NIL = auto()
    BOOL = auto()
    NUMBER = auto()
    CHAR = auto()
    STRING = auto()
    RAW_STRING = auto()
    PIPE = auto()
    LPAREN = auto()
    RPAREN = auto()
    DECLARE = auto()
    ASSIGN = auto()
    OTHER = auto()
    EOF = auto()
    # keywords
    IF = auto()
    ELSE = auto()
    END = auto()
    RANGE = auto()
    WITH = auto()
    BREAK = auto()
    CONTINUE = auto()
    DEFINE = auto()
    TEMPLATE = auto()
    BLOCK = auto()


KEYWORDS = {
    "if": Tok.IF,
    "else": Tok.ELSE,
    "end": Tok.END,
    "range": Tok.RANGE,
    "with": Tok.WITH,
    "break": Tok.BREAK,
    "continue": Tok.CONTINUE,
    "define": Tok.DEFINE,
    "template": Tok.TEMPLATE,
    "block": Tok.BLOCK,
    "nil": Tok.NIL,
}

SPACE_CHARS = " \t\r\n"
_TERMINATORS = set(SPACE_CHARS) | set(".,|:()}")


@dataclass(frozen=True)
class Token:
    """One token: kind, source text and character offset."""

    kind: Tok
    text: str
    pos: int


class LexError(Exception):
    """Bad template syntax found while lexing, at a character offset."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


def is_alnum(ch: str) -> bool:
    """Go's isAlphaNumeric: underscore, Unicode letter or decimal digit."""
    return ch == "_" or ch.isalpha() or unicodedata.category(ch) == "Nd"


class _Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.tokens: list[Token] = []

    def at(self, pos: int) -> str:
        return self.src[pos] if pos < len(self.src) else ""

    def right_delim(self, pos: int) -> tuple[bool, bool]:
        """(at a closing delimiter, with a trim marker)."""
        if self.at(pos) in SPACE_CHARS and self.at(pos) and self.src.startswith("-}}", pos + 1):
            return True, True
        return self.src.startswith("}}", pos), False

    def run(self) -> list[Token]:
        pos = 0
        src = self.src
        while True:
            x = src.find("{{", pos)
            if x < 0:
                if pos < len(src):
                    self.tokens.append(Token(Tok.TEXT, src[pos:], pos))
                self.tokens.append(Token(Tok.EOF, "", len(src)))
                return self.tokens
            after = x + 2
            trim_left = self.at(after) == "-" and self.at(after + 1) != "" and self.at(after + 1) in SPACE_CHARS
            text = src[pos:x]
            if trim_left:
                text = text.rstrip(SPACE_CHARS)
            if text:
                self.tokens.append(Token(Tok.TEXT, text, pos))
            inner = after + 2 if trim_left else after
            if src.startswith("/*", inner):
                pos = self.comment(inner, x)
                continue
            self.tokens.append(Token(Tok.LEFT, "{{", x))
            pos = self.action(inner)

    def skip_trimmed(self, pos: int, trim: bool) -> int:
        if trim:
            while self.at(pos) != "" and self.at(pos) in SPACE_CHARS:
                pos += 1
        return pos

    def comment(self, pos: int, start: int) -> int:
        end = self.src.find("*/", pos + 2)
        if end < 0:
            raise LexError("unclosed comment", start)
        close = end + 2
        delim, trim = self.right_delim(close)
        if not delim:
            raise LexError("comment ends before closing delimiter", start)
        return self.skip_trimmed(close + (4 if trim else 2), trim)

    def terminated(self, pos: int, start: int) -> None:
        ch = self.at(pos)
        if ch and ch not in _TERMINATORS:
            raise LexError(f"bad character {ch!r} after {self.src[start:pos]!r}", pos)

    def action(self, pos: int) -> int:  # noqa: C901 - one case per token kind, as Go's lexInsideAction
        src, depth = self.src, 0
        while True:
            delim, trim = self.right_delim(pos)
            if delim:
                if depth > 0:
                    raise LexError("unclosed left paren", pos)
                self.tokens.append(Token(Tok.RIGHT, "}}", pos))
                return self.skip_trimmed(pos + (4 if trim else 2), trim)
            ch = self.at(pos)
            start = pos
            if ch == "":
                raise LexError("unclosed action", pos)
            if ch in SPACE_CHARS:
                while self.at(pos) != "" and self.at(pos) in SPACE_CHARS:
                    pos += 1
                if src.startswith("-}}", pos):  # the last space belongs to " -}}"
                    pos -= 1
                if pos > start:
                    self.tokens.append(Token(Tok.SPACE, src[start:pos], start))
                continue
            if ch == "=":
                self.tokens.append(Token(Tok.ASSIGN, "=", pos))
                pos += 1
            elif ch == ":":
                if self.at(pos + 1) != "=":
                    raise LexError("expected :=", pos)
                self.tokens.append(Token(Tok.DECLARE, ":=", pos))
                pos += 2
            elif ch == "|":
                self.tokens.append(Token(Tok.PIPE, "|", pos))
                pos += 1
            elif ch == '"':
                pos = self.quoted(pos, '"', Tok.STRING, "unterminated quoted string")
            elif ch == "'":
                pos = self.quoted(pos, "'", Tok.CHAR, "unterminated character constant")
            elif ch == "`":
                end = src.find("`", pos + 1)
                if end < 0:
                    raise LexError("unterminated raw quoted string", pos)
                self.tokens.append(Token(Tok.RAW_STRING, src[pos : end + 1], pos))
                pos = end + 1
            elif ch == "$":
                pos = self.word(pos + 1)
                self.terminated(pos, start)
                self.tokens.append(Token(Tok.VARIABLE, src[start:pos], start))
            elif ch == "." and not ("0" <= self.at(pos + 1) <= "9" and self.at(pos + 1) != ""):
                pos = self.word(pos + 1)
                self.terminated(pos, start)
                kind = Tok.DOT if pos == start + 1 else Tok.FIELD
                self.tokens.append(Token(kind, src[start:pos], start))
            elif ch in "+-." or "0" <= ch <= "9":
                pos = self.number(pos)
            elif is_alnum(ch):
                pos = self.word(pos)
                self.terminated(pos, start)
                word = src[start:pos]
                kind = KEYWORDS.get(word, Tok.BOOL if word in ("true", "false") else Tok.IDENT)
                self.tokens.append(Token(kind, word, start))
            elif ch == "(":
                depth += 1
                self.tokens.append(Token(Tok.LPAREN, "(", pos))
                pos += 1
            elif ch == ")":
                depth -= 1
                if depth < 0:
                    raise LexError("unexpected right paren", pos)
                self.tokens.append(Token(Tok.RPAREN, ")", pos))
                pos += 1
            elif ch.isascii() and ch.isprintable():
                self.tokens.append(Token(Tok.OTHER, ch, pos))
                pos += 1
            else:
                raise LexError(f"unrecognized character in action: U+{ord(ch):04X}", pos)

    def word(self, pos: int) -> int:
        while self.at(pos) != "" and is_alnum(self.at(pos)):
            pos += 1
        return pos

    def quoted(self, pos: int, quote: str, kind: Tok, unterminated: str) -> int:
        start, pos = pos, pos + 1
        while True:
            ch = self.at(pos)
            if ch in ("", "\n"):
                raise LexError(unterminated, start)
            if ch == "\\":
                if self.at(pos + 1) in ("", "\n"):
                    raise LexError(unterminated, start)
                pos += 2
                continue
            pos += 1
            if ch == quote:
                self.tokens.append(Token(kind, self.src[start:pos], start))
                return pos

    def accept_run(self, pos: int, valid: str) -> int:
        while self.at(pos) != "" and self.at(pos) in valid:
            pos += 1
        return pos

    def number(self, pos: int) -> int:
        """Go's scanNumber: sign, base prefix, digits, fraction, exponent; must not run into a letter."""
        start = pos
        if self.at(pos) in ("+", "-") and self.at(pos):
            pos += 1
        digits = "0123456789_"
        if self.at(pos) == "0":
            pos += 1
            nxt = self.at(pos)
            if nxt and nxt in "xX":
                digits, pos = "0123456789abcdefABCDEF_", pos + 1
            elif nxt and nxt in "oO":
                digits, pos = "01234567_", pos + 1
            elif nxt and nxt in "bB":
                digits, pos = "01_", pos + 1
        pos = self.accept_run(pos, digits)
        if self.at(pos) == ".":
            pos = self.accept_run(pos + 1, digits)
        if len(digits) == 11 and self.at(pos) and self.at(pos) in "eE":
            pos += 1
            if self.at(pos) and self.at(pos) in "+-":
                pos += 1
            pos = self.accept_run(pos, "0123456789_")
        if len(digits) == 23 and self.at(pos) and self.at(pos) in "pP":
            pos += 1
            if self.at(pos) and self.at(pos) in "+-":
                pos += 1
            pos = self.accept_run(pos, "0123456789_")
        if self.at(pos) == "i":
            pos += 1
        if self.at(pos) and is_alnum(self.at(pos)):
            raise LexError(f"bad number syntax: {self.src[start : pos + 1]!r}", start)
        if self.at(pos) and self.at(pos) in "+-" and self.src[start:pos] not in ("+", "-", ""):
            raise LexError("complex constants are not supported", start)
        self.tokens.append(Token(Tok.NUMBER, self.src[start:pos], start))
        return pos


def lex(src: str) -> list[Token]:
    """All tokens of a template, ending with EOF; raises LexError on bad syntax."""
    return _Lexer(src).run()
