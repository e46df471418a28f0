"""`sealkit.manifest`: base64 fields read as Go reads them (line breaks skipped, any other space refused)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealkit.errors import InputError
from sealkit.manifest import decode_base64


@given(
    st.binary(max_size=200),
    st.lists(st.integers(min_value=0, max_value=300), max_size=5),
    st.sampled_from(["\n", "\r\n"]),
)
def test_line_breaks_may_split_base64(value: bytes, cuts: list[int], newline: str) -> None:
    text = base64.b64encode(value).decode()
    for cut in sorted({min(c, len(text)) for c in cuts}, reverse=True):
        text = text[:cut] + newline + text[cut:]
    assert decode_base64(text, "data[k]") == value


@given(st.binary(min_size=1, max_size=200), st.integers(min_value=0), st.sampled_from([" ", "\t", "\u00a0", "\f"]))
def test_any_other_space_is_refused(value: bytes, at: int, space: str) -> None:
    """A YAML plain or folded scalar turns line breaks into spaces; the API server and Bitnami's controller
    refuse such a value, so sealing or checking it must not pass."""
    text = base64.b64encode(value).decode()
    cut = at % (len(text) + 1)
    with pytest.raises(InputError) as refused:
        decode_base64(text[:cut] + space + text[cut:], "data[k]", where="in.yaml document 1")
    assert str(refused.value) == (
        "data[k]: invalid base64 (a space inside it; only line breaks may split it, in a | block): in.yaml document 1"
    )
