"""Go durations (Bitnami's flags) and kubectl's --request-timeout: one parser in the core."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealkit.durations import parse_duration, parse_timeout
from sealkit.errors import InputError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("720h", 720 * 3600),
        ("1h30m", 5400),
        ("0", 0),
        ("90s", 90),
        ("1.5h", 5400),
        ("500ms", 0.5),
        ("87600h", 87600 * 3600),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["30d", "h", "1h 2m", "-5m", "abc"])
def test_bad_durations_name_the_problem(text: str) -> None:
    with pytest.raises(InputError, match="not a duration"):
        parse_duration(text)


@given(st.integers(0, 10**6), st.integers(0, 59), st.integers(0, 59))
def test_duration_parts_add_up(hours: int, minutes: int, seconds: int) -> None:
    assert parse_duration(f"{hours}h{minutes}m{seconds}s") == dt.timedelta(
        hours=hours, minutes=minutes, seconds=seconds
    )


@pytest.mark.parametrize(("text", "seconds"), [("0", 0.0), ("15", 15.0), ("2m", 120.0), ("1h", 3600.0), ("1.5s", 1.5)])
def test_request_timeout_as_kubectl_reads_it(text: str, seconds: float) -> None:
    assert parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["soon", "5 s", "-1", "2d"])
def test_bad_request_timeout_is_one_line(text: str) -> None:
    with pytest.raises(InputError, match=r".* is not a timeout .*: --request-timeout$"):
        parse_timeout(text)
