"""The controller's default worker count follows the CPUs the container may use (affinity, cgroup quota)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from sealkit_cli.main import cli
from sealkit_controller.plumbing.cpus import allowed_cpus, cgroup_quota
from sealkit_controller.settings import Settings, default_threads, default_workers


def cgroup(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text + "\n")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "150000 100000"}, 1.5),  # cgroup v2, limits.cpu: 1500m
        ({"cpu.max": "max 100000"}, None),  # v2, no limit
        ({"cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000"}, 0.5),  # cgroup v1
        ({"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000"}, None),  # v1, no limit
        ({}, None),  # no cgroup files at all
    ],
)
def test_the_cgroup_quota_is_read_from_v2_or_v1(tmp_path: Path, files: dict[str, str], quota: float | None) -> None:
    assert cgroup_quota(cgroup(tmp_path, files)) == quota


def test_the_quota_caps_the_affinity_rounded_up(tmp_path: Path) -> None:
    affinity = len(os.sched_getaffinity(0))
    assert allowed_cpus(cgroup(tmp_path, {"cpu.max": "max 100000"})) == affinity
    assert allowed_cpus(cgroup(tmp_path, {"cpu.max": "50000 100000"})) == 1  # half a CPU: still one worker pair
    assert allowed_cpus(cgroup(tmp_path, {"cpu.max": f"{100000 * affinity + 1} 100000"})) == affinity


def test_defaults_follow_the_cpus() -> None:
    assert (default_workers(1), default_threads(1)) == (2, 6)
    assert (default_workers(2), default_threads(2)) == (4, 8)
    assert (default_workers(16), default_threads(16)) == (32, 36)
    settings = Settings()
    assert (settings.workers, settings.threads) == (2 * allowed_cpus(), 2 * allowed_cpus() + 4)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], (2 * allowed_cpus(), 2 * allowed_cpus() + 4)),
        (["--workers", "3"], (3, 7)),  # the threads follow the workers given
        (["--workers", "3", "--threads", "2"], (3, 2)),
    ],
)
def test_the_flags_override_the_cpu_count(
    monkeypatch: pytest.MonkeyPatch, args: list[str], expected: tuple[int, int]
) -> None:
    import sealkit_controller as runner

    seen: list[Settings] = []
    monkeypatch.setattr(runner, "configure_logging", lambda settings: None)
    monkeypatch.setattr(runner, "run", seen.append)
    result = CliRunner().invoke(cli, ["controller", *args])
    assert result.exit_code == 0, result.output
    (settings,) = seen
    assert (settings.workers, settings.threads) == expected
