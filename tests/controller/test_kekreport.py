"""KekReport's events: one per message, and a post that did not go through is not taken as posted."""

from __future__ import annotations

from typing import Any

from sealkit.wrapping.envelope import KekError
from sealkit_controller.keys.kekreport import UNWRAP, KekReport, KeyMetrics
from sealkit_controller.keys.keystore import KeyStore


class Events:
    """An EventRecorder whose posts fail (False: refused by a follower's fence, or the API server) until told."""

    def __init__(self) -> None:
        self.accept = False
        self.tried: list[str] = []

    async def post(self, obj: Any, type_: str, reason: str, message: str, *, name: str | None = None) -> bool:
        self.tried.append(reason)
        return self.accept


async def test_an_event_that_was_not_posted_is_posted_when_the_failure_comes_again() -> None:
    """It was marked as posted before the post and whether or not it went through: a replica that saw the
    failure as a follower (its post refused) never posted it after becoming the leader."""
    events = Events()
    report = KekReport(KeyStore(), KeyMetrics(), namespace="ns", events=events)  # type: ignore[arg-type]
    failure = KekError("the key is disabled", "disabled", where="kek")
    await report.failed(UNWRAP, failure, secret="wrapped-1")
    events.accept = True
    await report.failed(UNWRAP, failure, secret="wrapped-1")
    await report.failed(UNWRAP, failure, secret="wrapped-1")  # posted now: not again
    assert events.tried == ["ErrUnwrapFailed", "ErrUnwrapFailed"]
