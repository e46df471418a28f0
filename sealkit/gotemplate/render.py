"""render_template: parse, check and execute one `spec.template.data` entry."""

from __future__ import annotations

from collections.abc import Mapping

from sealkit.errors import TemplateError
from sealkit.gotemplate.evaluator import EvalError, execute
from sealkit.gotemplate.functions import FUNCS, check_function
from sealkit.gotemplate.nodes import Node
from sealkit.gotemplate.parser import ParseError, parse
from sealkit.gotemplate.values import canonical


def _where(source: str, pos: int) -> str:
    pos = max(0, min(pos, len(source)))
    line = source.count("\n", 0, pos) + 1
    column = pos - (source.rfind("\n", 0, pos) + 1) + 1
    return f"{line}:{column}"


def _error(name: str, source: str, pos: int, message: str, where: str | None = None) -> TemplateError:
    label = f"template {name}" if name else "template"
    return TemplateError(f"{label} at {_where(source, pos)}: {message}", where=where)


def _parsed(source: str, name: str, where: str | None) -> tuple[Node, ...]:
    try:
        return parse(source, check_function)
    except ParseError as exc:
        raise _error(name, source, exc.pos, str(exc), where) from None
    except RecursionError:
        raise _error(name, source, 0, "template nests too deeply", where) from None


def check_syntax(source: str, *, name: str = "", where: str | None = None) -> None:
    """Parse and check one entry as `render_template` does (syntax, refused functions), without executing it:
    for a caller whose template must not run over the values (its outcome would answer questions about them).
    Raises the same TemplateError as `render_template` for what does not parse."""
    _parsed(source, name, where)


def render_template(source: str, items: Mapping[str, str], *, name: str = "", where: str | None = None) -> str:
    """Render a Go text/template (+ sprig) over the items, as Bitnami's controller does.

    `items` are the decrypted items as strings (dot is that map, a Go map[string]string). Bytes that
    are not valid UTF-8 may be passed, and come back, as lone surrogates U+DC80..U+DCFF: decode the
    Secret bytes with `errors="surrogateescape"` and encode the result the same way to get exactly
    Go's bytes. Raises TemplateError (one line: name, line:column, the construct) on syntax sealkit
    or Go rejects, on refused functions and on execution errors; never with an item value in it.
    """
    nodes = _parsed(source, name, where)
    try:
        return canonical(execute(nodes, FUNCS, items))
    except EvalError as exc:
        raise _error(name, source, exc.pos, str(exc), where) from None
    except RecursionError:
        raise _error(name, source, 0, "values nest too deeply", where) from None
