"""Bitnami's flag values: Go durations, RFC 1123Z cutoff times, k=v maps, the controller's namespace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealkit.errors import InputError
from sealkit_controller.settings import Settings, default_namespace, parse_cutoff, parse_duration, parse_map


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


def test_cutoff_rfc1123z_and_iso() -> None:
    expected = dt.datetime(2006, 1, 2, 22, 4, 5, tzinfo=dt.UTC)
    assert parse_cutoff("Mon, 02 Jan 2006 15:04:05 -0700") == expected
    assert parse_cutoff("2006-01-02T22:04:05Z") == expected
    assert parse_cutoff("") is None
    with pytest.raises(InputError, match="RFC 1123Z"):
        parse_cutoff("yesterday")


def test_maps() -> None:
    assert parse_map("a=1, b=two,", "labels") == {"a": "1", "b": "two"}
    with pytest.raises(InputError, match="'oops' is not key=value"):
        parse_map("oops", "labels")


def test_namespace_order(tmp_path: Path) -> None:
    sa = tmp_path / "namespace"
    assert default_namespace({"POD_NAMESPACE": "sealed"}, sa) == "sealed"
    assert default_namespace({}, sa) == "kube-system"
    sa.write_text("from-sa\n")
    assert default_namespace({}, sa) == "from-sa"


def test_watched_namespaces() -> None:
    assert Settings().watched_namespaces() is None
    only = Settings(namespace="ctl", all_namespaces=False, additional_namespaces=("b", "a"))
    assert only.watched_namespaces() == ["a", "b", "ctl"]


def test_validation() -> None:
    with pytest.raises(InputError, match="2048"):
        Settings(key_size=1024).validate()
    with pytest.raises(InputError, match="log format"):
        Settings(log_format="xml").validate()
