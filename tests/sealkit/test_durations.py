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


@pytest.mark.parametrize("text", ["2562048h", "99999999999999h", "9" * 400 + "h", "1" + "0" * 30 + "s"])
def test_a_duration_longer_than_go_allows_is_refused(text: str) -> None:
    """Go's durations are int64 nanoseconds (at most 2562047h47m16s): longer ones are an error there, and were
    an OverflowError here ('internal error' from `sealkit controller --key-ttl 99999999999999h`)."""
    with pytest.raises(InputError) as info:
        parse_duration(text, "--key-ttl")
    assert str(info.value) == f"{text!r} is out of range (at most 2562047h47m16s): --key-ttl"


def test_the_longest_go_duration_is_taken() -> None:
    assert parse_duration("2562047h47m16s").total_seconds() == 2562047 * 3600 + 47 * 60 + 16


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
