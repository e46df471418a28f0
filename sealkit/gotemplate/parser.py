"""Tokens to a parse tree, with text/template's parse-time checks.

Like Go, this rejects undefined variables, unknown functions, `{{break}}` outside range, and
literals used as later pipeline stages before any data is touched. `define`, `template` and
`block` are refused: sealkit renders single-template entries only.
"""

from __future__ import annotations

from collections.abc import Callable

from sealkit.gotemplate.lexer import Tok, Token, lex
from sealkit.gotemplate.literals import LiteralError, char_number, parse_number, unquote
from sealkit.gotemplate.nodes import (
    LITERALS,
    Action,
    BoolArg,
    Branch,
    Break,
    ChainArg,
    Command,
    Continue,
    DotArg,
    FieldArg,
    IdentArg,
    NilArg,
    Node,
    NumberArg,
    Pipe,
    PipeArg,
    StringArg,
    Text,
    VariableArg,
)

MAX_NESTING = 100

_OPERAND_START = {
    Tok.BOOL,
    Tok.CHAR,
    Tok.DOT,
    Tok.FIELD,
    Tok.IDENT,
    Tok.NUMBER,
    Tok.NIL,
    Tok.RAW_STRING,
    Tok.STRING,
    Tok.VARIABLE,
    Tok.LPAREN,
}


class ParseError(Exception):
    """Template syntax sealkit (or Go) rejects, at a character offset."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


class _End:
    """`{{end}}` seen while reading a list."""

    def __init__(self, pos: int) -> None:
        self.pos = pos


class _Else:
    """`{{else}}` seen; `chained` is "if"/"with" for `{{else if}}` / `{{else with}}`."""

    def __init__(self, pos: int, chained: str | None) -> None:
        self.pos = pos
        self.chained = chained


def _describe(tok: Token) -> str:
    if tok.kind == Tok.EOF:
        return "end of template"
    if tok.kind == Tok.RIGHT:
        return "}}"
    return repr(tok.text) if tok.kind not in (Tok.STRING, Tok.RAW_STRING) else "string constant"


class Parser:
    """One-shot parser over a token list."""

    def __init__(self, src: str, check_function: Callable[[str], str | None]) -> None:
        from sealkit.gotemplate.lexer import LexError

        try:
            self.tokens = lex(src)
        except LexError as exc:
            raise ParseError(str(exc), exc.pos) from None
        self.i = 0
        self.check_function = check_function
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.depth = 0

    # --- token helpers ---

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != Tok.EOF:
            self.i += 1
        return tok

    def skip_space(self) -> None:
        while self.tokens[self.i].kind == Tok.SPACE:
            self.i += 1

    def peek_non_space(self) -> Token:
        self.skip_space()
        return self.tokens[self.i]

    def next_non_space(self) -> Token:
        self.skip_space()
        return self.next()

    def expect(self, kind: Tok, context: str) -> Token:
        tok = self.next_non_space()
        if tok.kind != kind:
            raise ParseError(f"unexpected {_describe(tok)} in {context}", tok.pos)
        return tok

    def nest(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ParseError(f"template nests more than {MAX_NESTING} levels deep", pos)

    # --- structure ---

    def parse(self) -> tuple[Node, ...]:
        nodes, stop = self.item_list()
        if isinstance(stop, _End):
            raise ParseError("unexpected {{end}}", stop.pos)
        if isinstance(stop, _Else):
            raise ParseError("unexpected {{else}}", stop.pos)
        return nodes

    def item_list(self) -> tuple[tuple[Node, ...], _End | _Else | None]:
        nodes: list[Node] = []
        while True:
            tok = self.next()
            if tok.kind == Tok.EOF:
                return tuple(nodes), None
            if tok.kind == Tok.TEXT:
                nodes.append(Text(tok.pos, tok.text))
                continue
            assert tok.kind == Tok.LEFT
            node = self.action(tok)
            if isinstance(node, _End | _Else):
                return tuple(nodes), node
            if node is not None:
                nodes.append(node)

    def action(self, left: Token) -> Node | _End | _Else | None:
        tok = self.peek_non_space()
        kind = tok.kind
        if kind in (Tok.IF, Tok.WITH, Tok.RANGE):
            self.next()
            return self.control(kind.name.lower(), tok.pos)
        if kind == Tok.ELSE:
            self.next()
            after = self.peek_non_space()
            if after.kind in (Tok.IF, Tok.WITH):
                self.next()
                return _Else(tok.pos, after.kind.name.lower())
            self.expect(Tok.RIGHT, "{{else}}")
            return _Else(tok.pos, None)
        if kind == Tok.END:
            self.next()
            self.expect(Tok.RIGHT, "{{end}}")
            return _End(tok.pos)
        if kind in (Tok.BREAK, Tok.CONTINUE):
            self.next()
            word = tok.text
            self.expect(Tok.RIGHT, "{{" + word + "}}")
            if self.range_depth == 0:
                raise ParseError(f"{{{{{word}}}}} outside {{{{range}}}}", tok.pos)
            return Break(tok.pos) if kind == Tok.BREAK else Continue(tok.pos)
        if kind in (Tok.DEFINE, Tok.TEMPLATE, Tok.BLOCK):
            raise ParseError(
                f"{{{{{tok.text}}}}} is not supported: sealkit renders each template.data entry as one "
                "template, without named templates",
                tok.pos,
            )
        pipe = self.pipeline("command", Tok.RIGHT)
        return Action(left.pos, pipe)

    def control(self, kind: str, pos: int) -> Branch:
        self.nest(pos)
        mark = len(self.vars)
        pipe = self.pipeline(kind, Tok.RIGHT)
        if kind == "range":
            self.range_depth += 1
        body, stop = self.item_list()
        if kind == "range":
            self.range_depth -= 1
        else_body: tuple[Node, ...] | None = None
        if stop is None:
            raise ParseError(f"unexpected end of template: {{{{{kind}}}}} has no {{{{end}}}}", pos)
        if isinstance(stop, _Else):
            if stop.chained is not None:
                if stop.chained != kind:
                    raise ParseError(f"{{{{else {stop.chained}}}}} inside {{{{{kind}}}}}", stop.pos)
                else_body = (self.control(kind, stop.pos),)  # consumes the shared {{end}}
            else:
                else_body, stop2 = self.item_list()
                if not isinstance(stop2, _End):
                    where = stop2.pos if stop2 is not None else pos
                    raise ParseError(f"expected {{{{end}}}} to close {{{{{kind}}}}}", where)
        del self.vars[mark:]
        self.depth -= 1
        return Branch(pos, kind, pipe, body, else_body)

    # --- pipelines ---

    def declarations(self, context: str) -> tuple[list[str], bool]:
        decl: list[str] = []
        is_assign = False
        while True:
            start = self.i
            tok = self.peek_non_space()
            if tok.kind != Tok.VARIABLE:
                self.i = start
                return decl, is_assign
            self.next()
            nxt = self.peek_non_space()
            if nxt.kind in (Tok.DECLARE, Tok.ASSIGN):
                self.next()
                is_assign = nxt.kind == Tok.ASSIGN
                if is_assign and tok.text not in self.vars:
                    raise ParseError(f"undefined variable {tok.text}", tok.pos)
                decl.append(tok.text)
                self.vars.append(tok.text)
                return decl, is_assign
            if nxt.kind == Tok.OTHER and nxt.text == ",":
                self.next()
                decl.append(tok.text)
                self.vars.append(tok.text)
                if context == "range" and len(decl) < 2:
                    if self.peek_non_space().kind == Tok.VARIABLE:
                        continue
                    raise ParseError("range can only initialize variables", nxt.pos)
                raise ParseError(f"too many declarations in {context}", nxt.pos)
            self.i = start
            return decl, is_assign

    def pipeline(self, context: str, end: Tok) -> Pipe:
        pos = self.peek_non_space().pos
        decl, is_assign = self.declarations(context)
        cmds: list[Command] = []
        while True:
            tok = self.next_non_space()
            if tok.kind == end:
                break
            if tok.kind in _OPERAND_START:
                self.i -= 1
                cmds.append(self.command(context))
                continue
            raise ParseError(f"unexpected {_describe(tok)} in {context}", tok.pos)
        if not cmds:
            raise ParseError(f"missing value for {context}", pos)
        for stage, cmd in enumerate(cmds[1:], start=2):
            if isinstance(cmd.args[0], LITERALS):
                raise ParseError(f"non executable command in pipeline stage {stage}", cmd.pos)
        return Pipe(pos, tuple(decl), is_assign, tuple(cmds))

    def command(self, context: str) -> Command:
        pos = self.peek_non_space().pos
        args: list[Node] = []
        while True:
            self.skip_space()
            operand = self.operand()
            if operand is not None:
                args.append(operand)
            tok = self.next()
            if tok.kind == Tok.SPACE:
                continue
            if tok.kind in (Tok.RIGHT, Tok.RPAREN):
                self.i -= 1
                break
            if tok.kind == Tok.PIPE:
                if self.peek_non_space().kind in (Tok.RIGHT, Tok.RPAREN):
                    raise ParseError("missing command after |", tok.pos)
                break
            raise ParseError(f"unexpected {_describe(tok)} in operand", tok.pos)
        if not args:
            raise ParseError(f"empty command in {context}", pos)
        return Command(pos, tuple(args))

    def operand(self) -> Node | None:
        node = self.term()
        if node is None or self.peek().kind != Tok.FIELD:
            return node
        names: list[str] = []
        while self.peek().kind == Tok.FIELD:
            names.append(self.next().text[1:])
        if isinstance(node, FieldArg):
            return FieldArg(node.pos, node.names + tuple(names))
        if isinstance(node, VariableArg):
            return VariableArg(node.pos, node.name, node.names + tuple(names))
        if isinstance(node, LITERALS):
            raise ParseError("unexpected . after a constant", node.pos)
        return ChainArg(node.pos, node, tuple(names))

    def term(self) -> Node | None:
        self.skip_space()
        start = self.i
        tok = self.next()
        kind, pos = tok.kind, tok.pos
        try:
            if kind == Tok.IDENT:
                reason = self.check_function(tok.text)
                if reason is not None:
                    raise ParseError(reason, pos)
                return IdentArg(pos, tok.text)
            if kind == Tok.DOT:
                return DotArg(pos)
            if kind == Tok.NIL:
                return NilArg(pos)
            if kind == Tok.VARIABLE:
                if tok.text not in self.vars:
                    raise ParseError(f"undefined variable {tok.text}", pos)
                return VariableArg(pos, tok.text)
            if kind == Tok.FIELD:
                return FieldArg(pos, (tok.text[1:],))
            if kind == Tok.BOOL:
                return BoolArg(pos, tok.text == "true")
            if kind == Tok.NUMBER:
                return NumberArg(pos, parse_number(tok.text))
            if kind == Tok.CHAR:
                return NumberArg(pos, char_number(tok.text))
            if kind in (Tok.STRING, Tok.RAW_STRING):
                return StringArg(pos, unquote(tok.text))
            if kind == Tok.LPAREN:
                self.nest(pos)
                pipe = self.pipeline("parenthesized pipeline", Tok.RPAREN)
                self.depth -= 1
                return PipeArg(pos, pipe)
        except LiteralError as exc:
            raise ParseError(str(exc), pos) from None
        self.i = start
        return None


def parse(src: str, check_function: Callable[[str], str | None]) -> tuple[Node, ...]:
    """The parse tree of a template; raises ParseError."""
    return Parser(src, check_function).parse()
