"""The one retry policy: Retry-After in both forms, capped doubling backoff, bounded retries on throttling."""

from __future__ import annotations

import email.utils

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealkit.errors import SealkitError
from sealkit.retry import Backoff, RetryPolicy, Throttled, call_with_retries, parse_retry_after


def test_retry_after_seconds_http_date_and_junk() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-1") == 0.0
    assert parse_retry_after(email.utils.formatdate(1030.0, usegmt=True), now=lambda: 1000.0) == 30.0
    assert parse_retry_after(email.utils.formatdate(900.0, usegmt=True), now=lambda: 1000.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None and parse_retry_after(None) is None


def test_backoff_doubles_up_to_the_cap_and_a_longer_retry_after_wins() -> None:
    backoff = Backoff(base=0.5, cap=3.0)
    assert [backoff.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.delay(1, retry_after=2.5) == 2.5
    assert backoff.delay(3, retry_after=1.0) == 2.0  # the backoff is longer: it stays
    assert backoff.delay(1, retry_after=60.0) == 3.0  # never past the cap


def test_throttling_is_retried_as_asked_then_given_up() -> None:
    waits: list[float] = []
    answers: list[object] = [Throttled("429", 0.25), Throttled("429", None), "done"]

    def call() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert call_with_retries(call, RetryPolicy(attempts=3, default_wait=0.5), waits.append) == "done"
    assert waits == [0.25, 1.0]  # the server's hint, then the doubling default (second attempt)

    class GaveUp(SealkitError):
        pass

    def always() -> object:
        raise Throttled("429 Throttled", 1.0)

    with pytest.raises(GaveUp, match="still throttled after 2 attempts"):
        call_with_retries(always, RetryPolicy(attempts=2), waits.append, give_up=GaveUp)
    with pytest.raises(SealkitError, match="longer than the 10 s sealkit waits"):
        call_with_retries(lambda: (_ for _ in ()).throw(Throttled("429", 60.0)), RetryPolicy(), waits.append)


@given(attempt=st.integers(min_value=0, max_value=10**6), base=st.floats(min_value=0.001, max_value=60.0))
def test_the_backoff_holds_at_its_cap_for_ever(attempt: int, base: float) -> None:
    """float(2 ** 1024) overflowed: a loop retrying at the cap for some 85 hours (1,025 attempts of 300 s) ended
    on an OverflowError instead of going on waiting."""
    wait = Backoff(base=base, cap=300.0).delay(attempt)
    assert 0 < wait <= 300.0
    if attempt > 20:
        assert wait == 300.0
