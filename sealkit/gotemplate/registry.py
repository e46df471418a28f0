"""How template functions are declared: Go parameter types (checked like Go does) and an implementation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Parameter types a function may declare, and how Go's messages spell them.
GO_PARAM_NAMES = {
    "any": "interface {}",
    "string": "string",
    "int": "int",
    "bool": "bool",
    "float64": "float64",
    "map": "map[string]interface {}",
}


class FuncError(Exception):
    """A function failed (Go: the error result or a recovered panic); the text never holds data."""


@dataclass(frozen=True)
class Func:
    """A template function: fixed parameter types, an optional variadic element type, the code."""

    params: tuple[str, ...]
    impl: Callable[..., object]
    variadic: str | None = None


def fn(*params: str, variadic: str | None = None) -> Callable[[Callable[..., object]], Func]:
    """Decorator: declare a function's Go signature next to its implementation."""

    def wrap(impl: Callable[..., object]) -> Func:
        return Func(tuple(params), impl, variadic)

    return wrap
