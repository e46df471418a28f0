"""Fuzzing the CSI spec loader: mutated specs load or fail with spec problems; nothing else is raised,
nothing hangs (the bounded reader decides on aliases and depth before the composer runs)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from sealkit.csi.pinning import edit_text
from sealkit.csi.spec import parse_spec
from sealkit.errors import InputError
from tests.support.fuzzing import FUZZ, SEEDS, mutated

SPEC_SEEDS = {name: data for name, data in SEEDS.items() if name in ("spec.yaml", "bomb.yaml", "nested.yaml")}


@FUZZ
@given(mutated(SPEC_SEEDS))
@example(SEEDS["bomb.yaml"])
@example(SEEDS["nested.yaml"])
def test_spec_loader_never_crashes(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        parse_spec(text, Path("/nonexistent/sealkit-csi.yaml"), check_bases=False)
    except InputError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(mutated(SPEC_SEEDS), st.sampled_from(["dev", "prod"]))
def test_pin_editor_never_crashes(data: bytes, env: str) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    # KeyError and friends: a spec that no longer has that object (`apply` parses the spec first).
    with contextlib.suppress(InputError, KeyError, IndexError, TypeError):
        edit_text(text, {("orders", 0): {env: "0" * 32}}, ["dev", "prod"])
