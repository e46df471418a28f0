"""The manifest emitter reads back as what it was given, by PyYAML (and so by kubectl's readers)."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sealkit.csi.yamlio import dump_document, load_lined

TRICKY = [
    "true",
    "no",
    "on",
    "~",
    "null",
    "0644",
    "1e3",
    "0o17",
    ".inf",
    "-",
    "- x",
    "a: b",
    "#c",
    "x #y",
    " lead",
    "trail ",
    "",
    "'q'",
    '"dq"',
    "é",
    "tab\there",
    "@x",
    "*x",
    "&x",
    "!x",
    "%x",
    "{x}",
    "[x]",
    "a\nb\n",
    "a\nb",
    "a\n\nb\n",
    "a\n\n",
    " x\ny",
    "\n x",
    "\n\n  y\n",
    "\n",
    "line\r\nbreak",
    "\u2028",
    "x\x85y",
    "app.kubernetes.io/name",
    "/mnt/x",
]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(TRICKY), st.text(max_size=12))
keys = st.one_of(st.sampled_from(TRICKY), st.text(min_size=0, max_size=8))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300)
@given(st.dictionaries(keys, documents, max_size=5))
def test_round_trip(doc: dict[str, Any]) -> None:
    assert yaml.safe_load(dump_document(doc)) == (doc or None)


def test_readable_block_style() -> None:
    text = dump_document({"a": {"b": [1, {"c": "x", "d": []}]}, "objects": "array:\n  - |\n    k: v\n", "t": "0644"})
    assert text == ('a:\n  b:\n  - 1\n  - c: x\n    d: []\nobjects: |\n  array:\n    - |\n      k: v\nt: "0644"\n')


def test_lines_of_nested_paths() -> None:
    lined = load_lined("a:\n  b:\n    - x\n    - y: 1\n", "f.yaml")
    assert lined.value == {"a": {"b": ["x", {"y": 1}]}}
    assert lined.line(("a", "b", 1, "y")) == 4
    assert lined.line(("a", "missing")) == 1
