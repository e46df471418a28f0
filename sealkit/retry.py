"""One retry policy for every outside call: capped exponential backoff that honours Retry-After.

Where it sits: the core, used by the clients (`sealkit.clients`) for throttled requests and by the
controller's loops (reconcile retries, key renewal, escrow, events) for their backoff. One parser
reads Retry-After (seconds or an HTTP date) for the Kubernetes API, the controller's HTTP API and
Key Vault alike.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sealkit.errors import SealkitError

T = TypeVar("T")


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a Retry-After header asks to wait (a number of seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(when.timestamp() - now(), 0.0)


@dataclass(frozen=True)
class Backoff:
    """`base * 2**(attempt-1)` seconds, at most `cap`; a server's Retry-After wins when longer."""

    base: float = 1.0
    cap: float = 300.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait before try number `attempt + 1` (attempt 1 is the first failure)."""
        # The exponent held where a float has one: float(2 ** 1024) overflows, and a loop that retries for days
        # (over 1,024 attempts at the cap) ended on that error.
        wait = min(self.cap, self.base * 2.0 ** min(max(0, attempt - 1), 1023))
        if retry_after:
            wait = max(wait, min(retry_after, self.cap))
        return wait


class Throttled(SealkitError):
    """The service answered 429 (or 503): try again later; `retry_after` is its hint in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries per request; a Retry-After above `max_wait` is not waited for."""

    attempts: int = 4
    max_wait: float = 10.0
    default_wait: float = 0.5  # when a 429 carries no Retry-After (doubles per attempt)

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """The wait after failed try `attempt`: the server's hint, else the doubling default."""
        return retry_after if retry_after is not None else self.default_wait * 2 ** (attempt - 1)


def call_with_retries(
    fn: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    *,
    give_up: Callable[[str], Exception] = SealkitError,
) -> T:
    """`fn()`, retried on `Throttled` as the server asks, within `policy`; then `give_up(message)`."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return fn()
        except Throttled as exc:
            wait = policy.wait(attempt, exc.retry_after)
            if attempt == policy.attempts:
                raise give_up(f"{exc}; still throttled after {attempt} attempts, try again later") from None
            if wait > policy.max_wait:
                raise give_up(
                    f"{exc}; Retry-After {wait:g} s is longer than the {policy.max_wait:g} s sealkit waits"
                ) from None
            sleep(max(wait, 0.0))
    raise AssertionError("unreachable")  # pragma: no cover
