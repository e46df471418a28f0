"""Fuzzing lint: any file ends in findings (never an exception, never the end of the run), and no finding
quotes a planted Secret value."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from sealkit.lint.config import LintConfig
from sealkit.lint.scanner import lint
from tests.support.fuzzing import FUZZ, INPUTS, leaks


@FUZZ
@given(st.lists(INPUTS, min_size=1, max_size=3), st.sampled_from([".yaml", ".json", ".env", ".txt"]))
def test_lint_reports_every_file_without_leaking(files: list[bytes], suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for i, data in enumerate(files):
            (root / f"f{i}{suffix}").write_bytes(data)
        report = lint([root], LintConfig(root=root))
    assert report.files == len(files)
    for finding in report.findings:
        assert "\n" not in finding.message
        assert not leaks(finding.message), finding.message
