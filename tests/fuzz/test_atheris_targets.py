"""The atheris targets (scripts/fuzz_atheris.py, a local long run) replay the seeded corpus cleanly, so the
script keeps working although atheris itself is not run in CI."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.fuzzing import SEEDS

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_atheris.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_atheris", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("target", ["reader", "seal", "unseal", "csi", "lint"])
def test_every_target_replays_the_corpus(target: str) -> None:
    run = load_script().TARGETS[target]()
    for data in SEEDS.values():
        run(data)
