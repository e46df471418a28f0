"""Progress lines on long runs, with a fake clock: only for a person watching (stderr a terminal)."""

from __future__ import annotations

import pytest

from sealkit_cli import bulk


def test_progress_reports_rate_and_time_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = [100.0]
    monkeypatch.setattr(bulk.time, "monotonic", lambda: now[0])
    progress = bulk.Progress(100, every=2.0, show=True)
    for _ in range(10):
        now[0] += 0.5
        progress.step()
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["[4/100] 2.0/s, about 48s left", "[8/100] 2.0/s, about 46s left"]


def test_short_runs_stay_quiet(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    now = [0.0]
    monkeypatch.setattr(bulk.time, "monotonic", lambda: now[0])
    progress = bulk.Progress(5, show=True)
    for _ in range(5):
        now[0] += 10
        progress.step()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("tty", [True, False])
def test_progress_only_when_stderr_is_a_terminal(
    tty: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    now = [0.0]
    monkeypatch.setattr(bulk.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(bulk.terminal, "on_terminal", lambda: tty)
    progress = bulk.Progress(100)
    for _ in range(10):
        now[0] += 10
        progress.step()
    bulk.announce_controller_run(100, 2.0)
    err = capsys.readouterr().err
    assert ("[1/100]" in err and "about 50s" in err) if tty else err == ""
