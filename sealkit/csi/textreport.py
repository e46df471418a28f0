"""The text layout `sealkit csi` reports share: a table of columns, and a summary's count per status.

Used by `csi verify` (Key Vault: `sealkit.csi.vaultreport`; HashiCorp Vault: `sealkit.csi.hashicorp.check`)
and `csi discover` (`sealkit.csi.discover`), so every table and summary line is laid out one way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import TypeVar

S = TypeVar("S", bound=StrEnum)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The header, then the rows: each column as wide as its widest cell, two spaces apart, no trailing
    blanks, every line ending in a newline."""
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(header)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]
    return "\n".join(lines) + "\n"


def counts(statuses: Iterable[S], count: Callable[[S], int], always: S) -> str:
    """`<n> <status>` for each status that occurs (and for `always`, even at 0), comma-separated."""
    return ", ".join(f"{count(status)} {status.value}" for status in statuses if count(status) or status is always)
