"""docs/templates.md lists exactly what the code supports and refuses."""

from __future__ import annotations

import re
from pathlib import Path

from sealkit.gotemplate.functions import FUNCS, REFUSED, check_function

DOC = Path(__file__).resolve().parents[3] / "docs" / "templates.md"


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end)]


def test_every_supported_function_is_documented_as_supported() -> None:
    text = DOC.read_text()
    supported = _section(text, "## Supported functions", "## Refused")
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", supported))
    missing = sorted(name for name in FUNCS if name not in words)
    assert not missing, f"supported but not in docs/templates.md: {missing}"


def test_every_refused_function_is_documented_as_refused() -> None:
    text = DOC.read_text()
    refused = _section(text, "## Refused", "## Limits")
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", refused))
    missing = sorted(name for name in REFUSED if name not in words)
    assert not missing, f"refused but not in the docs' Refused table: {missing}"


def test_supported_and_refused_do_not_overlap() -> None:
    assert not set(FUNCS) & set(REFUSED)
    assert all(check_function(name) is None for name in FUNCS)
    assert all(name in (check_function(name) or "") for name in REFUSED)
