"""The CPUs a process may use: its affinity, capped by the cgroup quota (v2 or v1), rounded up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sealkit.cpus import allowed_cpus, cgroup_quota


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
