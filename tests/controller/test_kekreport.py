"""KekReport's events: one per message, and a post that did not go through is not taken as posted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.wrapping.envelope import KekError
from sealkit.wrapping.names import WRAPPED_KEY_ACTIVE, WRAPPED_KEY_LABEL, WRAPPED_KEY_TYPE, WRAPPED_SELECTOR
from sealkit_controller.keys.kekreport import UNWRAP, KekReport, KeyMetrics
from sealkit_controller.keys.keystore import KeyStore, Known
from sealkit_controller.keys.renewal import KeyManager
from sealkit_controller.settings import Settings


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
    store = KeyStore()
    store.wait("wrapped-1", Known("SHA256:x", None))  # its key not opened
    report = KekReport(store, KeyMetrics(), namespace="ns", events=events)  # type: ignore[arg-type]
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


class Listing:
    """The key Secrets of a namespace as the API server lists them, by label selector."""

    def __init__(self, plaintext: list[dict[str, Any]], wrapped: list[dict[str, Any]]) -> None:
        self.plaintext, self.wrapped = plaintext, wrapped

    def list_secrets(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        return self.wrapped if selector == WRAPPED_SELECTOR else self.plaintext


async def direct(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


def unreadable_wrapped(name: str) -> dict[str, Any]:
    labels = {WRAPPED_KEY_LABEL: WRAPPED_KEY_ACTIVE}
    return {"metadata": {"name": name, "namespace": "ctl", "labels": labels}, "type": WRAPPED_KEY_TYPE, "data": {}}


async def loaded(listing: Listing, events: Events) -> tuple[KeyManager, KeyStore, KeyMetrics]:
    """A controller's start over `listing` (its key manager and store, and the key inventory it reports)."""
    store, metrics = KeyStore(), KeyMetrics()
    report = KekReport(store, metrics, namespace="ctl", events=events)  # type: ignore[arg-type]
    km = KeyManager(Settings(namespace="ctl"), listing, store, direct, report=report)  # type: ignore[arg-type]
    await km.load()
    await asyncio.sleep(0)  # the reports run in tasks of their own
    await km.close()
    return km, store, metrics


def gauge(metrics: KeyMetrics, name: str) -> float:
    return float(metrics.registry.get_sample_value(f"sealed_secrets_controller_{name}") or 0.0)


async def test_a_wrapped_key_secret_that_does_not_parse_is_counted_and_reported_once_by_a_fixed_name() -> None:
    """A wrapped key Secret refused as it was read (a field missing, one that is not base64) was dropped from the
    store: `unusable_wrapped_keys` said 0 while it was ignored, and its ErrUnwrapFailed event had a generated
    name, so every restart posted it again. Now it counts as unusable (as a plaintext one counts in
    `unusable_plaintext_keys`) until it is mended or gone, and its event is named by the Secret and the fault."""
    events = Events()
    events.accept = True
    listing = Listing([], [unreadable_wrapped("sealed-secrets-key-wrapped-0")])
    km, _, metrics = await loaded(listing, events)
    assert gauge(metrics, "unusable_wrapped_keys") == 1 and gauge(metrics, "unusable_plaintext_keys") == 0
    assert events.tried == ["ErrUnwrapFailed"]
    first = events.names[0]
    assert first is not None and first.startswith("sealed-secrets-key-wrapped-0.")
    _, _, restarted = await loaded(listing, events)
    assert events.names[1] == first  # the restart's report is refused as already made: one event
    assert gauge(restarted, "unusable_wrapped_keys") == 1
    km.observe_secret(listing.wrapped[0], deleted=True)
    assert gauge(metrics, "unusable_wrapped_keys") == 0


async def test_an_unusable_key_secret_that_loses_its_label_is_no_longer_counted() -> None:
    """Refused, a key Secret left the store's names: the watch no longer took its updates to the key manager, so
    one whose key label was taken off (not set to another value) stayed counted as unusable until a restart."""
    events = Events()
    events.accept = True
    broken = {
        "metadata": {"name": "sealed-secrets-keybroken", "namespace": "ctl", "labels": {SEALING_KEY_LABEL: "active"}},
        "data": {"tls.key": "eA=="},
    }
    for listing, kind in ((Listing([broken], []), "plaintext"), (Listing([], [unreadable_wrapped("w")]), "wrapped")):
        km, store, metrics = await loaded(listing, events)
        (secret,) = listing.plaintext or listing.wrapped
        assert gauge(metrics, f"unusable_{kind}_keys") == 1
        unlabelled = {**secret, "metadata": {**secret["metadata"], "labels": {}}, "type": "Opaque"}
        assert unlabelled["metadata"]["name"] in store.secret_names()  # what the watch hands to the manager
        km.observe_secret(unlabelled)
        assert gauge(metrics, f"unusable_{kind}_keys") == 0
