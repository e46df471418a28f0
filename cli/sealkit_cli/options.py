"""Options shared by several commands, spelled as kubeseal and kubectl spell them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = click.Choice(["yaml", "json"])


def input_file(help_text: str, *aliases: str) -> Callable[[F], F]:
    return click.option("-f", "--file", *aliases, "input_path", default="-", show_default=True, help=help_text)


def output_file(help_text: str, *aliases: str) -> Callable[[F], F]:
    return click.option("-w", "--output-file", *aliases, "output_path", default=None, help=help_text)


def output_format(func: F) -> F:
    return click.option(
        "-o",
        "--format",
        "fmt",
        type=FORMATS,
        default=None,
        help="Output format (default: from the -w file's extension, else yaml).",
    )(func)


def namespace(help_text: str) -> Callable[[F], F]:
    return click.option("-n", "--namespace", default=None, help=help_text)
