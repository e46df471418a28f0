"""How many CPUs this process may use: the default size of the controller's thread pool and of the CLI's
worker processes.

Where it sits: the core, read by the controller's settings when `--workers`/`--threads` are not given and by
`sealkit seal --env` when it splits a large run over processes. A container sees the
node's CPUs in `os.cpu_count()`; what it may use is the smaller of its CPU affinity
(`os.sched_getaffinity`, e.g. a cpuset) and its CPU quota (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us`
over `cpu.cfs_period_us`), rounded up, at least 1.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

logger = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")


def allowed_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """The CPUs this process may use: affinity, capped by the cgroup's quota (rounded up); at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = cgroup_quota(cgroup_root)
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return max(1, count)


def cgroup_quota(root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota in CPUs (cgroup v2 `cpu.max`, else v1 CFS quota/period); None when unlimited or unknown."""
    for path in _own_cgroup_dirs(root):
        v2 = _read(path / "cpu.max")
        if v2 is not None:
            parts = v2.split()
            if len(parts) == 2 and parts[0] != "max":
                return _ratio(parts[0], parts[1])
            return None
        quota, period = _read(path / "cpu.cfs_quota_us"), _read(path / "cpu.cfs_period_us")
        if quota is not None and period is not None:
            return None if quota.strip() == "-1" else _ratio(quota, period)
    return None


def _own_cgroup_dirs(root: Path) -> list[Path]:
    """This process' cgroup directory (from /proc/self/cgroup) when it is mounted, then the root (a container's
    namespace shows its own cgroup there)."""
    dirs = []
    text = _read(Path("/proc/self/cgroup")) or ""
    for line in text.splitlines():
        _, controllers, relative = [*line.split(":", 2), "", ""][:3]
        if (controllers == "" or "cpu" in controllers.split(",")) and relative not in ("", "/"):
            for base in (root, root / "cpu", root / "cpu,cpuacct"):
                candidate = base / relative.lstrip("/")
                if candidate.is_dir():
                    dirs.append(candidate)
    return [*dirs, root, root / "cpu", root / "cpu,cpuacct"]


def _ratio(quota: str, period: str) -> float | None:
    try:
        value, length = int(quota), int(period)
    except ValueError:
        return None
    return value / length if value > 0 and length > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
