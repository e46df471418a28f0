"""Progress lines on long runs, with a fake clock."""

from __future__ import annotations

import pytest

from sealkit_cli import bulk


def test_progress_reports_rate_and_time_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = [100.0]
    monkeypatch.setattr(bulk.time, "monotonic", lambda: now[0])
    progress = bulk.Progress(100, every=2.0)
    for _ in range(10):
        now[0] += 0.5
        progress.step()
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["[4/100] 2.0/s, about 48s left", "[8/100] 2.0/s, about 46s left"]


def test_short_runs_stay_quiet(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    now = [0.0]
    monkeypatch.setattr(bulk.time, "monotonic", lambda: now[0])
    progress = bulk.Progress(5)
    for _ in range(5):
        now[0] += 10
        progress.step()
    assert capsys.readouterr().err == ""
