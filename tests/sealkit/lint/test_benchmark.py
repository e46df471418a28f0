"""The benchmark's generated repos lint clean (benchmarks/bench_lint.py prints the speed beside its target)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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


def test_mixed_repo_sample_is_clean(tmp_path: Path) -> None:
    bench = load_bench()
    bench.generate_repo(tmp_path, 300)  # type: ignore[attr-defined]
    bench.mix_in_other_files(tmp_path)  # type: ignore[attr-defined]
    report = lint([tmp_path], LintConfig(root=tmp_path))
    assert report.files == 300 and report.findings == []
