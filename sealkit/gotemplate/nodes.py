"""The parse tree: what a template says, independent of any data."""

from __future__ import annotations

from dataclasses import dataclass, field

from sealkit.gotemplate.literals import NumberValue


@dataclass(frozen=True)
class Node:
    """Every node knows its character offset in the source, for error messages."""

    pos: int


# --- arguments (operands of a command) ---


@dataclass(frozen=True)
class DotArg(Node):
    """`.`"""


@dataclass(frozen=True)
class NilArg(Node):
    """`nil`"""


@dataclass(frozen=True)
class BoolArg(Node):
    """`true` / `false`"""

    value: bool


@dataclass(frozen=True)
class NumberArg(Node):
    """A numeric or character constant."""

    number: NumberValue


@dataclass(frozen=True)
class StringArg(Node):
    """A string constant (already unquoted)."""

    value: str


@dataclass(frozen=True)
class FieldArg(Node):
    """`.a.b`: keys looked up from dot."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class VariableArg(Node):
    """`$x` or `$x.a.b`."""

    name: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class IdentArg(Node):
    """A function name."""

    name: str


@dataclass(frozen=True)
class PipeArg(Node):
    """A parenthesised pipeline."""

    pipe: Pipe


@dataclass(frozen=True)
class ChainArg(Node):
    """`(pipeline).a.b`"""

    base: Node
    names: tuple[str, ...]


LITERALS = (BoolArg, DotArg, NilArg, NumberArg, StringArg)


@dataclass(frozen=True)
class Command(Node):
    """One stage of a pipeline: an operand, or a function with arguments."""

    args: tuple[Node, ...]


@dataclass(frozen=True)
class Pipe(Node):
    """Commands joined by `|`, optionally declaring (`:=`) or assigning (`=`) variables."""

    decl: tuple[str, ...]
    is_assign: bool
    cmds: tuple[Command, ...]


# --- statements ---


@dataclass(frozen=True)
class Text(Node):
    """Literal text copied to the output."""

    text: str


@dataclass(frozen=True)
class Action(Node):
    """`{{ pipeline }}`: printed unless it declares variables."""

    pipe: Pipe


@dataclass(frozen=True)
class Branch(Node):
    """`if`, `with` or `range` with a body and an optional else body."""

    kind: str
    pipe: Pipe
    body: tuple[Node, ...]
    else_body: tuple[Node, ...] | None = field(default=None)


@dataclass(frozen=True)
class Break(Node):
    """`{{break}}` inside range."""


@dataclass(frozen=True)
class Continue(Node):
    """`{{continue}}` inside range."""
