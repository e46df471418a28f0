"""Fixtures for the image tests: the image scripts/build-image.sh exported, and the chart rendered with defaults.

Where no image could be built (not root, no package access) the tests that need one skip with the reason
build-image.sh recorded; under CI, a missing or stale image fails instead (.ci/run builds it first).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "charts"))

from charttools import by_kind
from imagetools import Image, can_run_pods, find_image, render_chart


@pytest.fixture(scope="session")
def image() -> Image:
    found = find_image()
    if isinstance(found, str):
        if os.environ.get("CI") and "could not build" not in found:
            pytest.fail(f"{found} (.ci/run runs scripts/build-image.sh before the tests)")
        pytest.skip(found)
    return found


@pytest.fixture(scope="session")
def pods(image: Image) -> Image:
    """The image, where its process can also be started as a pod's (root: namespaces, chroot, setuid)."""
    reason = can_run_pods()
    if reason:
        pytest.skip(reason)
    return image


@pytest.fixture(scope="session")
def chart_objects(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The chart rendered with its default values."""
    return render_chart(None, tmp_path_factory.mktemp("chart"))


@pytest.fixture(scope="session")
def deployment(chart_objects: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = by_kind(chart_objects, "Deployment")
    return found
