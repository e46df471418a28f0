"""The benchmark's generated repo: 10,000 YAML files lint clean in under 10 s (2-core target)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from sealkit.lint.config import LintConfig
from sealkit.lint.scanner import lint

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_lint.py"


def load_bench() -> object:
    spec = importlib.util.spec_from_file_location("bench_lint", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_repo_sample_is_clean(tmp_path: Path) -> None:
    load_bench().generate_repo(tmp_path, 300)  # type: ignore[attr-defined]
    report = lint([tmp_path], LintConfig(root=tmp_path))
    assert report.files == 300 and report.findings == []


@pytest.mark.slow
def test_ten_thousand_files_under_ten_seconds(tmp_path: Path) -> None:
    load_bench().generate_repo(tmp_path, 10_000)  # type: ignore[attr-defined]
    start = time.perf_counter()
    report = lint([tmp_path], LintConfig(root=tmp_path))
    elapsed = time.perf_counter() - start
    assert report.files == 10_000 and report.findings == []
    assert elapsed < 10.0, f"{elapsed:.1f}s"
