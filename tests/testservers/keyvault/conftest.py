"""Shared helpers for the local Key Vault contract tests."""

from __future__ import annotations

from typing import Any

import pytest

# SDK retries add seconds to every injected error; tests that expect an error turn them off.
NO_RETRY = {"retry_total": 0}
FAST_RETRY = {"retry_total": 3, "retry_backoff_factor": 0.01, "retry_backoff_max": 0.05}


@pytest.fixture
def no_retry() -> dict[str, Any]:
    return dict(NO_RETRY)


@pytest.fixture
def fast_retry() -> dict[str, Any]:
    return dict(FAST_RETRY)
