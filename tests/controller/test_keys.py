"""Sealing keys: Bitnami-format key Secrets, when a new key is due, and the key store's snapshots."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import example, given
from hypothesis import strategies as st

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import PrivateKey, fingerprint
from sealkit.keysecrets import key_secret_manifest, keys_from_secret, successor_secret_name
from sealkit.wrapping.names import WRAPPED_SELECTOR
from sealkit_controller.keys.keystore import KeyStore, key_due
from sealkit_controller.keys.renewal import KeyManager
from sealkit_controller.settings import Settings
from tests.sealkit.test_certificates import unknown_key_type

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def generated() -> GeneratedKey:
    return generate_key_pair(bits=2048, now=NOW - 10 * DAY)


def key_at(key: rsa.RSAPrivateKey, born: dt.datetime | None) -> PrivateKey:
    return PrivateKey(key, fingerprint(key.public_key()), "test", born)


def test_manifest_is_bitnamis_key_secret(generated: GeneratedKey) -> None:
    manifest = key_secret_manifest(
        generated, namespace="kube-system", prefix="sealed-secrets-key", labels={"team": "x"}, annotations={"a": "b"}
    )
    assert manifest["type"] == "kubernetes.io/tls"
    meta = manifest["metadata"]
    assert meta["generateName"] == "sealed-secrets-key" and meta["namespace"] == "kube-system"
    assert meta["labels"] == {"team": "x", SEALING_KEY_LABEL: "active"}
    assert meta["annotations"] == {"a": "b"}
    assert base64.b64decode(manifest["data"]["tls.key"]).startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert base64.b64decode(manifest["data"]["tls.crt"]).startswith(b"-----BEGIN CERTIFICATE-----")
    (key,) = keys_from_secret({**manifest, "metadata": {**meta, "name": "k1"}}, "test")
    assert key.fingerprint == generated.key.fingerprint and key.not_before == generated.key.not_before


def test_bring_your_own_pkcs8_key_without_certificate(small_key: rsa.RSAPrivateKey) -> None:
    pem = small_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    secret = {"metadata": {"name": "byo"}, "type": "Opaque", "data": {"tls.key": base64.b64encode(pem).decode()}}
    (key,) = keys_from_secret(secret, "test")
    assert key.fingerprint == fingerprint(small_key.public_key()) and key.not_before is None


def test_key_due(small_key: rsa.RSAPrivateKey) -> None:
    renew = 30 * DAY
    assert key_due(None, NOW, renew_period=renew, cutoff=None) == NOW
    fresh = key_at(small_key, NOW - DAY)
    assert key_due(fresh, NOW, renew_period=renew, cutoff=None) == NOW + 29 * DAY
    assert key_due(fresh, NOW, renew_period=dt.timedelta(0), cutoff=None) is None
    # A key born before the cutoff is due at the cutoff (now once it has passed); a younger one is not.
    assert key_due(fresh, NOW, renew_period=renew, cutoff=NOW - dt.timedelta(hours=1)) <= NOW
    assert key_due(fresh, NOW, renew_period=renew, cutoff=NOW + DAY) == NOW + DAY
    assert key_due(fresh, NOW, renew_period=dt.timedelta(0), cutoff=NOW - 2 * DAY) is None
    # A key with no known birth (no certificate) counts as old.
    assert key_due(key_at(small_key, None), NOW, renew_period=renew, cutoff=None) < NOW


@given(
    born=st.datetimes(timezones=st.just(dt.UTC)),
    renew=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=2562047, minutes=47, seconds=16)),
    cutoff=st.none() | st.datetimes(timezones=st.just(dt.UTC)),
)
@example(born=dt.datetime(9999, 12, 31, tzinfo=dt.UTC), renew=30 * DAY, cutoff=None)
def test_key_due_is_decided_for_any_certificate_date(
    small_key: rsa.RSAPrivateKey, born: dt.datetime, renew: dt.timedelta, cutoff: dt.datetime | None
) -> None:
    """A certificate may be dated up to 9999-12-31 (a key Secret brought in, a clock gone far ahead): its
    renewal date past the calendar's end overflowed, and start-up failed on it for ever."""
    due = key_due(key_at(small_key, born), NOW, renew_period=renew, cutoff=cutoff)
    assert due is None or due >= born or cutoff is not None


def test_store_follows_label_and_deletion(generated: GeneratedKey) -> None:
    store = KeyStore()
    changes: list[tuple[set[str], set[str]]] = []
    store.on_change(lambda added, removed: changes.append((added, removed)))
    secret = key_secret_manifest(generated, namespace="ns", prefix="k")
    secret["metadata"]["name"] = "k1"
    ring_before = store.ring
    assert store.observe_secret(secret) == "loaded"
    assert generated.key.fingerprint in store.ring and len(ring_before) == 0  # snapshots: old one unchanged
    assert store.observe_secret(secret) is None  # seen again: nothing to do
    relabelled = {**secret, "metadata": {**secret["metadata"], "labels": {SEALING_KEY_LABEL: "compromised"}}}
    assert store.observe_secret(relabelled) == "no longer labelled active"
    assert len(store.ring) == 0
    assert store.observe_secret(secret) == "loaded"
    assert store.observe_secret(secret, deleted=True) == "deleted"
    fp = generated.key.fingerprint
    assert changes == [({fp}, set()), (set(), {fp}), ({fp}, set()), (set(), {fp})]


BROKEN_PEM = b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"


def test_broken_key_secret_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    secret = {
        "metadata": {"name": "bad", "namespace": "ns", "labels": {SEALING_KEY_LABEL: "active"}},
        "data": {"tls.key": base64.b64encode(BROKEN_PEM).decode()},
    }
    store = KeyStore()
    assert store.observe_secret(secret) is None
    assert len(store.ring) == 0 and "ignoring key Secret ns/bad" in caplog.text


def test_a_certificate_of_an_unknown_key_type_is_ignored_with_a_warning(
    generated: GeneratedKey, caplog: pytest.LogCaptureFixture
) -> None:
    """A tls.crt whose key type `cryptography` does not know (`public_key()` raises UnsupportedAlgorithm, no
    ValueError): it escaped the store, and on start-up ended the controller's key loading."""
    secret = key_secret_manifest(generated, namespace="ns", prefix="k")
    secret["metadata"]["name"] = "odd"
    secret["data"]["tls.crt"] = base64.b64encode(unknown_key_type(generated.certificate_pem)).decode()
    store = KeyStore()
    assert store.observe_secret(secret) is None
    assert len(store.ring) == 0
    assert "ignoring key Secret ns/odd: tls.crt's key is not RSA: key Secret ns/odd" in caplog.text


@pytest.mark.parametrize(
    "marker",
    [
        {"annotations": {"sealkit.io/unsealed-from": "x"}},
        {"annotations": {"sealkit.dev/unsealed-from": "x"}},
        {"ownerReferences": [{"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "k", "uid": "u"}]},
    ],
    ids=["record", "older-record", "owner"],
)
def test_a_key_secret_made_by_unsealing_is_not_taken(
    generated: GeneratedKey, marker: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The reconciler now refuses a SealedSecret that would write a key Secret, but one planted before (by
    whoever could commit a SealedSecret to the controller's namespace) was still loaded, and when newest served
    for sealing: everything sealed after it opened with the planter's key."""
    secret = key_secret_manifest(generated, namespace="ns", prefix="k")
    secret["metadata"].update({"name": "planted", **marker})
    store = KeyStore()
    assert store.observe_secret(secret) is None and len(store.ring) == 0
    assert "ignoring key Secret ns/planted: made by unsealing a SealedSecret" in caplog.text


class FakeClient:
    def __init__(self, secrets: list[dict[str, Any]]) -> None:
        self.secrets = secrets
        self.created: list[dict[str, Any]] = []

    def list_secrets(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        if selector == WRAPPED_SELECTOR:
            return []  # no wrapped key Secrets here
        assert selector == f"{SEALING_KEY_LABEL}=active"
        return self.secrets

    def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        meta = body["metadata"]
        name = meta.get("name") or f"{meta['generateName']}x{len(self.created)}"
        created = {**body, "metadata": {**body["metadata"], "name": name}}
        self.created.append(created)
        return created


async def direct(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


def manager(settings: Settings, client: FakeClient, now: dt.datetime = NOW) -> tuple[KeyManager, KeyStore]:
    store = KeyStore()
    return KeyManager(settings, client, store, direct, clock=lambda: now), store  # type: ignore[arg-type]


async def test_no_key_generates_one_in_bitnami_format() -> None:
    client = FakeClient([])
    km, store = manager(Settings(namespace="ctl", key_size=2048, my_cn="me"), client)
    assert await km.load() == 0
    assert await km.ensure() is True
    (created,) = client.created
    assert created["metadata"]["namespace"] == "ctl" and created["type"] == "kubernetes.io/tls"
    newest = store.newest()
    assert newest is not None and newest.not_before == NOW
    assert store.secret_names() == [successor_secret_name("sealed-secrets-key", None)]
    assert "generateName" not in created["metadata"]  # a name fixed by the period: see test_keys_live


async def test_existing_fresh_key_is_used_as_found(generated: GeneratedKey) -> None:
    secret = key_secret_manifest(generated, namespace="ctl", prefix="k")
    secret["metadata"]["name"] = "k1"
    client = FakeClient([secret])
    km, _ = manager(Settings(namespace="ctl", key_size=2048), client)
    assert await km.load() == 1
    assert await km.ensure() is False and not client.created
    assert km.due() == generated.key.not_before + dt.timedelta(hours=720)


async def test_renewal_by_key_age_and_cutoff(generated: GeneratedKey) -> None:
    secret = key_secret_manifest(generated, namespace="ctl", prefix="k")
    secret["metadata"]["name"] = "k1"
    for settings in (
        Settings(namespace="ctl", key_size=2048, key_renew_period=5 * DAY),
        Settings(namespace="ctl", key_size=2048, key_renew_period=dt.timedelta(0), key_cutoff_time=NOW - DAY),
    ):
        client = FakeClient([secret])
        km, store = manager(settings, client)
        await km.load()
        assert await km.ensure() is True
        assert len(store.ring) == 2  # the old key keeps opening
        assert store.newest() is not None and store.newest().fingerprint != generated.key.fingerprint  # type: ignore[union-attr]
    disabled = Settings(namespace="ctl", key_size=2048, key_renew_period=dt.timedelta(0))
    km, _ = manager(disabled, FakeClient([secret]))
    await km.load()
    assert await km.ensure() is False


def test_store_knows_wrapped_keys_it_has_not_opened_and_prefers_envelopes_it_opened(generated: GeneratedKey) -> None:
    from sealkit.wrapping.envelope import WrappedKey
    from sealkit_controller.keys.keystore import Known

    def envelope(tag: bytes) -> WrappedKey:
        return WrappedKey(b"", generated.key.fingerprint, generated.key.not_before, "k", "A256KW", tag, tag)

    store = KeyStore()
    changes: list[tuple[set[str], set[str]]] = []
    store.on_change(lambda added, removed: changes.append((added, removed)))
    later = Known("SHA256:waiting", NOW)
    store.wait("w2", later)
    assert len(store.ring) == 0 and store.newest_known() == later and changes == [(set(), set())]
    assert store.secret_names() == ["w2"] and store.is_wrapped("w2")
    store.put("w1", [generated.key], envelope=envelope(b"taken"), verified=False)
    assert store.envelope_of(generated.key.fingerprint, verified=True) is None
    store.put("w0", [generated.key], envelope=envelope(b"opened"))
    assert store.envelope_of(generated.key.fingerprint).wrapped_data_key == b"opened"  # type: ignore[union-attr]
    assert store.wrapped_secret_names() == ["w0", "w1"] and store.plaintext_secret_names() == []
    assert store.newest_known() == later  # renewal counts the key not opened yet
    assert store.drop("w2") and store.newest_known().fingerprint == generated.key.fingerprint  # type: ignore[union-attr]


class EchoingClient(FakeClient):
    """Creates as `FakeClient`, and the watch delivers the new Secret before the create call returns."""

    def __init__(self) -> None:
        super().__init__([])
        self.watch: Callable[[dict[str, Any]], object] = lambda secret: None

    def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        created = super().create_secret(namespace, body)
        self.watch(created)
        return created


async def test_a_wrapped_key_seen_by_the_watch_while_it_is_written_is_not_unwrapped_again() -> None:
    from tests.support.keys import LocalKek

    kek, client = LocalKek(), EchoingClient()
    store = KeyStore()
    km = KeyManager(
        Settings(namespace="ctl", key_size=2048),
        client,
        store,
        direct,
        clock=lambda: NOW,  # type: ignore[arg-type]
        kek=lambda: kek,
        wrap_new_keys=True,
    )
    seen: list[str | None] = []
    client.watch = lambda secret: seen.append(km.observe_secret(secret))
    await km.load()
    assert await km.ensure() is True
    (created,) = client.created
    assert seen == [None]  # taken as the key being written: nothing to unwrap
    assert kek.unwraps == 1  # the wrap check only
    await km.loader.stop()
    assert store.secret_names() == [created["metadata"]["name"]] and len(store.ring) == 1
    newest = store.newest()
    assert newest is not None and store.envelope_of(newest.fingerprint, verified=True) is not None


def test_a_key_secret_seen_again_with_the_same_data_is_not_parsed_again(
    generated: GeneratedKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sealkit_controller.keys import keystore

    parsed: list[str] = []
    real = keystore.keys_from_secret

    def counting(secret: Any, where: str) -> list[PrivateKey]:
        parsed.append(where)
        return real(secret, where)

    monkeypatch.setattr(keystore, "keys_from_secret", counting)
    store = KeyStore()
    secret = key_secret_manifest(generated, namespace="kube-system", prefix="sealed-secrets-key")
    secret["metadata"]["name"] = "sealed-secrets-key1"
    assert store.observe_secret(secret) == "loaded"
    # The watch delivers the same Secret again (after `load` read it, or an update of its labels): no parse.
    assert store.observe_secret({**secret, "metadata": {**secret["metadata"], "resourceVersion": "2"}}) is None
    assert len(parsed) == 1 and store.ring.fingerprints() == [generated.key.fingerprint]
    other = generate_key_pair(bits=2048, now=NOW)
    changed = {**secret, "data": key_secret_manifest(other, namespace="kube-system", prefix="x")["data"]}
    assert store.observe_secret(changed) == "loaded"  # new data: parsed, and the ring follows it
    assert len(parsed) == 2 and store.ring.fingerprints() == [other.key.fingerprint]
    store.observe_secret(changed, deleted=True)
    assert store.observe_secret(changed) == "loaded" and len(parsed) == 3  # forgotten with the Secret


async def test_stop_ends_the_renewal_loop_even_when_a_key_change_wakes_it_at_that_moment(
    generated: GeneratedKey,
) -> None:
    """On Python 3.11 (the image's) asyncio.wait_for drops a cancel that meets the wake-up it waits for: the loop
    went on and waited out its hour, and stop() (shutdown, a leader stepping down) with it."""
    secret = key_secret_manifest(generated, namespace="ctl", prefix="k")
    secret["metadata"]["name"] = "k1"
    decided = asyncio.Event()

    def clock() -> dt.datetime:
        decided.set()  # the loop reads the clock last before it waits
        return NOW

    store = KeyStore()
    km = KeyManager(Settings(namespace="ctl", key_size=2048), FakeClient([secret]), store, direct, clock=clock)  # type: ignore[arg-type]
    await km.load()
    km.start()
    await decided.wait()  # resumes once the loop waits (nothing is due)
    loop_task = km._background._task
    assert loop_task is not None
    store.put("k2", [generate_key_pair(bits=2048, now=NOW).key])  # wakes the loop...
    stopping = asyncio.create_task(km.stop())  # ...as it is stopped
    try:
        done, _ = await asyncio.wait({stopping}, timeout=10)
        assert stopping in done and loop_task.cancelled()
    finally:
        loop_task.cancel()
        await stopping


async def test_the_renewal_loop_goes_on_after_an_unexpected_error(caplog: pytest.LogCaptureFixture) -> None:
    """An error the loop does not expect (a bug) ended its task: no key was ever renewed again, and nothing
    said so but asyncio's 'exception was never retrieved', with the error's class and message."""
    made = asyncio.Event()

    class Client(FakeClient):
        def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
            made.set()
            return super().create_secret(namespace, body)

    calls = 0

    def clock() -> dt.datetime:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("secret-looking detail")
        return NOW

    settings = Settings(namespace="ctl", key_size=2048, retry_base_delay=0.01, retry_max_delay=0.05)
    km = KeyManager(settings, Client([]), KeyStore(), direct, clock=clock)  # type: ignore[arg-type]
    km.start()
    try:
        await asyncio.wait_for(made.wait(), timeout=10)
    finally:
        await km.stop()
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert line.startswith("renewing the sealing key in namespace ctl failed: an unexpected error (a bug) at ")
    assert "secret-looking" not in caplog.text and "RuntimeError" not in line


async def test_a_new_key_kept_through_an_outage_longer_than_the_renew_period_is_made_again(
    generated: GeneratedKey,
) -> None:
    """The new key is kept across failed writes (never two keys for one period), but one kept for longer than
    the renew period was published already due: a second key followed at once."""
    from sealkit.clients.kube.api import ApiError

    secret = key_secret_manifest(generated, namespace="ctl", prefix="k")
    secret["metadata"]["name"] = "k1"
    now = NOW

    class Refusing(FakeClient):
        refuse = True

        def create_secret(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
            if self.refuse:
                raise ApiError(403, "Forbidden", "forbidden by policy")
            return super().create_secret(namespace, body)

    client = Refusing([secret])
    settings = Settings(namespace="ctl", key_size=2048, key_renew_period=5 * DAY)
    store = KeyStore()
    km = KeyManager(settings, client, store, direct, clock=lambda: now)  # type: ignore[arg-type]
    await km.load()
    assert await km.ensure_or_report() is False  # refused: the new key is kept for the next attempt
    now = NOW + 6 * DAY  # the outage outlasts the renew period
    client.refuse = False
    assert await km.ensure_or_report() is True
    newest = store.newest()
    assert newest is not None and newest.not_before == now
    assert await km.ensure() is False and len(client.created) == 1
