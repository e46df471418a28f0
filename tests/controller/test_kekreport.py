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
        self.names: list[str | None] = []

    async def post(self, obj: Any, type_: str, reason: str, message: str, *, name: str | None = None) -> bool:
        self.tried.append(reason)
        self.names.append(name)
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


async def test_an_unusable_key_event_is_named_so_a_repeated_post_is_not_a_second_event() -> None:
    """Posted under a generated name, a post whose answer was lost (a timeout under load) and was tried again
    made two events for one fault. Named by the Secret, its content and the report's number, the repeat is
    refused as already made; a restart's first report of the same content finds the event made before."""
    store = KeyStore()
    secret = {"metadata": {"name": "sealed-secrets-key-", "namespace": "ns"}, "data": {"tls.key": "eA=="}}
    store.refuse("sealed-secrets-key-", "tls.key holds no PEM private key")
    events = Events()
    events.accept = True
    report = KekReport(store, KeyMetrics(), namespace="ns", events=events)  # type: ignore[arg-type]
    await report.key_unusable(secret, "tls.key holds no PEM private key")
    restarted = KekReport(store, KeyMetrics(), namespace="ns", events=events)  # type: ignore[arg-type]
    await restarted.key_unusable(secret, "tls.key holds no PEM private key")
    first, again = events.names
    assert first is not None and first == again and first.startswith("sealed-secrets-key.")  # no '-.' in a name
    store.drop("sealed-secrets-key-")
    restarted.inventory()  # usable again, or gone: the next fault is news
    store.refuse("sealed-secrets-key-", "tls.key holds no PEM private key")
    await restarted.key_unusable(secret, "tls.key holds no PEM private key")
    assert events.names[2] not in (None, first)
