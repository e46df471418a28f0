"""Executes a parse tree over the items, following text/template's exec rules.

Dot starts as the items (a Go map[string]string). A missing key yields no value: printed as
"<no value>", passed as nil to interface{} parameters and refused by string parameters
("invalid value; expected string"), exactly as Go does for Bitnami's data map.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

from sealkit.gotemplate.gofmt import FormatRefused, print_action
from sealkit.gotemplate.literals import NumberValue
from sealkit.gotemplate.nodes import (
    Action,
    BoolArg,
    Branch,
    Break,
    ChainArg,
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
from sealkit.gotemplate.registry import GO_PARAM_NAMES, Func, FuncError
from sealkit.gotemplate.values import Int64, StrMap, go_type, is_int, to_bytes, truth

MAX_OUTPUT_CHARS = 4 * 1024 * 1024
MAX_RANGE = 1_000_000
MAX_CALL_DEPTH = 200

# How Go's evalArg words a constant of the wrong kind for a parameter type.
_EXPECTED = {"int": "integer", "float64": "float", "bool": "bool", "string": "string"}


class EvalError(Exception):
    """Execution failed at a character offset; the message names the construct, never a value."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


class _NoFinal:
    """No value piped in from a previous command."""


NO_FINAL = _NoFinal()


class _BreakSignal(Exception):
    pass


class _ContinueSignal(Exception):
    pass


def _is_hex_int(text: str) -> bool:
    return len(text) > 2 and text[0] == "0" and text[1] in "xX" and not any(c in text for c in "pP")


def ideal_constant(number: NumberValue, pos: int) -> object:
    """A constant with no parameter type to guide it: float if it looks like one, else int."""
    text = number.text
    if number.is_float and not _is_hex_int(text) and not text.startswith("'") and any(c in text for c in ".eEpP"):
        return number.float_value
    if number.is_int:
        return number.int_value
    raise EvalError(f"{text} overflows int", pos)


class Executor:
    """State of one execution: the variable stack and the output buffer."""

    def __init__(self, funcs: Mapping[str, Func], dot: object) -> None:
        self.funcs = funcs
        self.vars: list[list[object]] = [["$", dot]]
        self.out: list[str] = []
        self.size = 0
        self.depth = 0

    def fail(self, message: str, pos: int) -> NoReturn:
        raise EvalError(message, pos)

    def emit(self, text: str, pos: int) -> None:
        self.size += len(text)
        if self.size > MAX_OUTPUT_CHARS:
            self.fail(f"output is larger than {MAX_OUTPUT_CHARS} characters (sealkit's limit)", pos)
        self.out.append(text)

    # --- variables ---

    def var_value(self, name: str, pos: int) -> object:
        for entry in reversed(self.vars):
            if entry[0] == name:
                return entry[1]
        self.fail(f"undefined variable: {name}", pos)

    def set_var(self, name: str, value: object, pos: int) -> None:
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                return
        self.fail(f"undefined variable: {name}", pos)

    # --- statements ---

    def walk(self, dot: object, nodes: tuple[Node, ...]) -> None:
        for node in nodes:
            if isinstance(node, Text):
                self.emit(node.text, node.pos)
            elif isinstance(node, Action):
                value = self.eval_pipe(dot, node.pipe)
                if not node.pipe.decl:
                    try:
                        self.emit(print_action(value), node.pos)
                    except FormatRefused as exc:
                        self.fail(f"cannot print: {exc}", node.pos)
            elif isinstance(node, Branch):
                if node.kind == "range":
                    self.walk_range(dot, node)
                else:
                    self.walk_if_with(dot, node)
            elif isinstance(node, Break):
                raise _BreakSignal
            elif isinstance(node, Continue):
                raise _ContinueSignal
            else:  # pragma: no cover - the parser makes no other statements
                self.fail(f"unknown node {type(node).__name__}", node.pos)

    def walk_if_with(self, dot: object, node: Branch) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipe(dot, node.pipe)
            if truth(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: object, node: Branch) -> None:
        mark = len(self.vars)
        pipe = node.pipe
        try:
            value = self.eval_pipe(dot, pipe)
            inner = len(self.vars)

            def one(index: object, elem: object) -> None:
                if pipe.decl:
                    if pipe.is_assign:
                        if len(pipe.decl) > 1:
                            self.set_var(pipe.decl[0], index, node.pos)
                            self.set_var(pipe.decl[1], elem, node.pos)
                        else:
                            self.set_var(pipe.decl[0], elem, node.pos)
                    else:
                        self.vars[-1][1] = elem
                        if len(pipe.decl) > 1:
                            self.vars[-2][1] = index
                try:
                    self.walk(elem, node.body)
                except _ContinueSignal:
                    pass
                finally:
                    del self.vars[inner:]

            ran = False
            try:
                if isinstance(value, list):
                    for i, elem in enumerate(value):
                        ran = True
                        one(i, elem)
                elif isinstance(value, StrMap | dict):
                    for key in sorted(value, key=to_bytes):
                        ran = True
                        one(key, value[key])
                elif is_int(value) and not isinstance(value, bool):
                    if len(pipe.decl) > 1:
                        self.fail(f"can't use a {go_type(value)} to iterate over more than one variable", node.pos)
                    count = int(value)
                    if count > MAX_RANGE:
                        self.fail(f"range over more than {MAX_RANGE} integers (sealkit's limit)", node.pos)
                    for i in range(count):
                        ran = True
                        one(None, Int64(i) if isinstance(value, Int64) else i)
                elif value is not None:
                    self.fail(f"range can't iterate over a value of type {go_type(value)}", node.pos)
            except _BreakSignal:
                return
            if not ran and node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            del self.vars[mark:]

    # --- pipelines and commands ---

    def eval_pipe(self, dot: object, pipe: Pipe) -> object:
        value: object = NO_FINAL
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd.args, value)
        for name in pipe.decl:
            if pipe.is_assign:
                self.set_var(name, value, pipe.pos)
            else:
                self.vars.append([name, value])
        return value

    def not_a_function(self, args: tuple[Node, ...], final: object) -> None:
        if len(args) > 1 or final is not NO_FINAL:
            self.fail("can't give an argument to a non-function", args[0].pos)

    def eval_command(self, dot: object, args: tuple[Node, ...], final: object) -> object:
        first = args[0]
        if isinstance(first, FieldArg):
            return self.eval_fields(dot, first.names, args, final, first.pos)
        if isinstance(first, ChainArg):
            base = self.eval_arg(dot, "any", first.base)
            return self.eval_fields(base, first.names, args, final, first.pos)
        if isinstance(first, IdentArg):
            return self.eval_function(dot, first, args, final)
        if isinstance(first, VariableArg):
            value = self.var_value(first.name, first.pos)
            if not first.names:
                self.not_a_function(args, final)
                return value
            return self.eval_fields(value, first.names, args, final, first.pos)
        self.not_a_function(args, final)
        if isinstance(first, PipeArg):
            return self.eval_pipe(dot, first.pipe)
        if isinstance(first, BoolArg):
            return first.value
        if isinstance(first, DotArg):
            return dot
        if isinstance(first, NilArg):
            self.fail("nil is not a command", first.pos)
        if isinstance(first, NumberArg):
            return ideal_constant(first.number, first.pos)
        if isinstance(first, StringArg):
            return first.value
        self.fail("can't evaluate command", first.pos)  # pragma: no cover

    def eval_fields(
        self, receiver: object, names: tuple[str, ...], args: tuple[Node, ...], final: object, pos: int
    ) -> object:
        has_args = len(args) > 1 or final is not NO_FINAL
        for i, name in enumerate(names):
            last = i == len(names) - 1
            if receiver is None:
                return None
            if isinstance(receiver, StrMap | dict):
                if last and has_args:
                    self.fail(f"{name} is not a method but has arguments", pos)
                receiver = receiver.get(name)
                continue
            self.fail(f"can't evaluate field {name} in type {go_type(receiver)}", pos)
        return receiver

    def eval_function(self, dot: object, ident: IdentArg, args: tuple[Node, ...], final: object) -> object:
        name = ident.name
        spec = self.funcs[name]
        given = args[1:]
        n_in = len(given) + (0 if final is NO_FINAL else 1)
        fixed = len(spec.params)
        if spec.variadic is not None:
            if n_in < fixed:
                self.fail(f"wrong number of args for {name}: want at least {fixed} got {n_in}", ident.pos)
        elif n_in != fixed:
            self.fail(f"wrong number of args for {name}: want {fixed} got {n_in}", ident.pos)
        if name in ("and", "or"):  # short-circuit, like Go's builtins
            value: object = None
            for arg in given:
                value = self.eval_arg(dot, "any", arg)
                if truth(value) == (name == "or"):
                    return value
            return value if final is NO_FINAL else final
        argv: list[object] = []
        for i, arg in enumerate(given):
            typ = spec.params[i] if i < fixed else spec.variadic
            assert typ is not None
            argv.append(self.eval_arg(dot, typ, arg))
        if final is not NO_FINAL:
            index = n_in - 1
            typ = spec.params[index] if index < fixed else spec.variadic
            assert typ is not None
            argv.append(self.validate(final, typ, ident.pos))
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            self.fail("calls nest too deeply", ident.pos)
        try:
            return spec.impl(*argv)
        except FuncError as exc:
            if name == "fail":  # the message may come from the items: show it only when it is a literal
                shown = given[0].value if given and isinstance(given[0], StringArg) else "(message withheld)"
                self.fail(f"error calling fail: {shown}", ident.pos)
            self.fail(f"error calling {name}: {exc}", ident.pos)
        except FormatRefused as exc:
            self.fail(f"{name}: not supported: {exc}", ident.pos)
        except (RecursionError, MemoryError, OverflowError):
            self.fail(f"error calling {name}: result too large", ident.pos)
        finally:
            self.depth -= 1

    def validate(self, value: object, typ: str, pos: int) -> object:
        """Go's validateType: is the value assignable to the parameter type?"""
        if typ == "any":
            return value
        want = GO_PARAM_NAMES[typ]
        if value is None:
            if typ == "map":
                return None
            self.fail(f"invalid value; expected {want}", pos)
        ok = {
            "string": type(value) is str,
            "int": type(value) is int,
            "bool": type(value) is bool,
            "float64": type(value) is float,
            "map": type(value) is dict,
        }[typ]
        if not ok:
            self.fail(f"wrong type for value; expected {want}; got {go_type(value)}", pos)
        return value

    def eval_arg(self, dot: object, typ: str, node: Node) -> object:
        pos = node.pos
        if isinstance(node, DotArg):
            return self.validate(dot, typ, pos)
        if isinstance(node, NilArg):
            if typ in ("any", "map"):
                return None
            self.fail(f"cannot assign nil to {GO_PARAM_NAMES[typ]}", pos)
        if isinstance(node, FieldArg):
            return self.validate(self.eval_fields(dot, node.names, (node,), NO_FINAL, pos), typ, pos)
        if isinstance(node, VariableArg):
            value = self.var_value(node.name, pos)
            if node.names:
                value = self.eval_fields(value, node.names, (node,), NO_FINAL, pos)
            return self.validate(value, typ, pos)
        if isinstance(node, PipeArg):
            return self.validate(self.eval_pipe(dot, node.pipe), typ, pos)
        if isinstance(node, IdentArg):
            return self.validate(self.eval_function(dot, node, (node,), NO_FINAL), typ, pos)
        if isinstance(node, ChainArg):
            base = self.eval_arg(dot, "any", node.base)
            return self.validate(self.eval_fields(base, node.names, (node,), NO_FINAL, pos), typ, pos)
        expected = _EXPECTED.get(typ)
        if isinstance(node, BoolArg):
            if typ in ("bool", "any"):
                return node.value
            found = "true" if node.value else "false"
        elif isinstance(node, StringArg):
            if typ in ("string", "any"):
                return node.value
            found = "a string constant"
        elif isinstance(node, NumberArg):
            number = node.number
            if typ == "any":
                return ideal_constant(number, pos)
            if typ == "int" and number.is_int:
                return number.int_value
            if typ == "float64" and number.is_float:
                return number.float_value
            found = number.text
        else:  # pragma: no cover - the parser makes no other operands
            found = type(node).__name__
        if expected is None:
            self.fail(f"can't handle {found} for an argument of type {GO_PARAM_NAMES[typ]}", pos)
        self.fail(f"expected {expected}; found {found}", pos)


def execute(nodes: tuple[Node, ...], funcs: Mapping[str, Func], items: Mapping[str, str]) -> str:
    """Run the template over the items; raises EvalError."""
    dot = StrMap(items)
    ex = Executor(funcs, dot)
    try:
        ex.walk(dot, nodes)
    except (_BreakSignal, _ContinueSignal):  # pragma: no cover - the parser keeps them inside range
        raise EvalError("break/continue outside range", 0) from None
    return "".join(ex.out)


__all__ = ["EvalError", "Executor", "Int64", "execute", "ideal_constant"]
