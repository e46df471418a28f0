"""The controller's default worker count follows the CPUs the container may use (affinity, cgroup quota)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sealkit.cpus import allowed_cpus
from sealkit_cli.main import cli
from sealkit_controller.settings import Settings, default_threads, default_workers


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
