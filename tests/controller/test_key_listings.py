"""Every listing of the key Secrets (`KeyManager.load`: at start, at takeover, before making a key) is authoritative
for what it saw: a key Secret missing from it leaves the key ring (deleted while the watch did not say so), except
one the watch spoke of after the listing was asked for (the listing may be older than that word)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from sealkit.bitnami import SEALING_KEY_LABEL
from sealkit.clients.kube.api import ApiError
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keysecrets import key_secret_manifest, successor_secret_name
from sealkit.wrapping.envelope import KekError, wrap_private_key
from sealkit.wrapping.keysecret import wrapped_key_manifest
from sealkit.wrapping.names import WRAPPED_SELECTOR
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.keys.renewal import KeyManager
from sealkit_controller.settings import Settings
from tests.support.keys import LocalKek

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
NS = "ctl"


@pytest.fixture(scope="module")
def pairs() -> list[GeneratedKey]:
    """Three keys, oldest first (the last one is the newest: the one that seals)."""
    return [generate_key_pair(bits=2048, now=NOW - (10 - i) * DAY) for i in range(3)]


def plaintext(pair: GeneratedKey, name: str) -> dict[str, Any]:
    secret = key_secret_manifest(pair, namespace=NS, prefix="k")
    secret["metadata"]["name"] = name
    return secret


def wrapped(pair: GeneratedKey, name: str, kek: LocalKek) -> dict[str, Any]:
    secret = wrapped_key_manifest(wrap_private_key(pair.key, kek), namespace=NS, prefix="k")
    secret["metadata"]["name"] = name
    return secret


def broken(name: str) -> dict[str, Any]:
    """A key Secret labelled active that holds no usable key (refused, counted unusable)."""
    meta = {"name": name, "namespace": NS, "labels": {SEALING_KEY_LABEL: "active"}}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "kubernetes.io/tls", "data": {}}


class Cluster:
    """The key Secrets as the API server lists them; `in_flight` runs once while the next listing is on its way
    (what the watch delivers meanwhile), and the listing answers what was there before."""

    def __init__(self, secrets: list[dict[str, Any]]) -> None:
        self.secrets = secrets
        self.in_flight: Callable[[], object] | None = None

    def list_secrets(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        assert namespace == NS
        label = "sealkit.io/wrapped-sealing-key" if selector == WRAPPED_SELECTOR else SEALING_KEY_LABEL
        answer = [s for s in self.secrets if label in (s["metadata"].get("labels") or {})]
        hook, self.in_flight = self.in_flight, None
        if hook is not None:
            hook()
        return answer


async def direct(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


def manager(cluster: Cluster, kek: Callable[[], LocalKek] | None = None) -> tuple[KeyManager, KeyStore]:
    store = KeyStore()
    settings = Settings(namespace=NS, key_size=2048)
    km = KeyManager(
        settings,
        cluster,  # type: ignore[arg-type]
        store,
        direct,
        clock=lambda: NOW,
        kek=kek,  # type: ignore[arg-type]
    )
    return km, store


def served(store: KeyStore) -> str | None:
    newest = store.newest()
    return newest.fingerprint if newest is not None else None


def name(secret: Mapping[str, Any]) -> str:
    return str(secret["metadata"]["name"])


async def test_a_key_secret_missing_from_a_listing_leaves_the_ring_and_is_no_longer_served(
    pairs: list[GeneratedKey], caplog: pytest.LogCaptureFixture
) -> None:
    old, newest = plaintext(pairs[0], "k-old"), plaintext(pairs[2], "k-newest")
    cluster = Cluster([old, newest])
    km, store = manager(cluster)
    assert await km.load() == 2 and served(store) == pairs[2].key.fingerprint
    cluster.secrets = [old]  # deleted while the watch was down: no DELETED event ever comes
    caplog.set_level(logging.WARNING)
    assert await km.load() == 1
    assert store.ring.fingerprints() == [pairs[0].key.fingerprint]
    assert served(store) == pairs[0].key.fingerprint  # the deleted key no longer seals
    (line,) = [r.getMessage() for r in caplog.records if "k-newest" in r.getMessage()]
    assert line == (
        "key Secret ctl/k-newest is not in a fresh listing of the key Secrets (deleted or no longer labelled active "
        f"while the watch did not say so): its key {pairs[2].key.fingerprint} leaves the key ring; 1 key(s) held"
    )
    assert store.secret_names() == ["k-old"]


async def test_the_listing_before_a_renewal_drops_a_deleted_newest_key_so_the_new_key_follows_the_one_held(
    pairs: list[GeneratedKey],
) -> None:
    """`ensure` lists the key Secrets again before making a key: a newest key deleted unseen is dropped there, so
    the new key Secret is named after the newest key the cluster holds, and the deleted one never seals again."""
    old, newest = plaintext(pairs[0], "k-old"), plaintext(pairs[2], "k-newest")
    cluster = Cluster([old, newest])
    created: list[dict[str, Any]] = []

    def create_secret(namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        created.append(body)
        return body

    cluster.create_secret = create_secret  # type: ignore[attr-defined]
    store = KeyStore()
    settings = Settings(namespace=NS, key_size=2048, key_renew_period=5 * DAY)  # both keys are due for renewal
    km = KeyManager(settings, cluster, store, direct, clock=lambda: NOW)  # type: ignore[arg-type]
    await km.load()
    cluster.secrets = [old]  # the newest deleted while the watch was down
    assert await km.ensure() is True
    (body,) = created
    assert name(body) == successor_secret_name("sealed-secrets-key", pairs[0].key.fingerprint)
    assert sorted(store.secret_names()) == sorted(["k-old", name(body)])
    assert pairs[2].key.fingerprint not in store.ring.fingerprints()
    assert served(store) not in (pairs[0].key.fingerprint, pairs[2].key.fingerprint, None)


async def test_a_listing_in_flight_while_the_watch_speaks_leaves_those_names_to_the_watch(
    pairs: list[GeneratedKey],
) -> None:
    """The watch adds a key (and removes another) while a listing is on its way; the listing answers the state
    before both. The added key stays (and seals), the removed one is not brought back, and a key Secret deleted
    unseen before the listing still leaves."""
    gone, removed, added = plaintext(pairs[0], "k-gone"), plaintext(pairs[1], "k-removed"), plaintext(pairs[2], "k-new")
    cluster = Cluster([gone, removed])
    km, store = manager(cluster)
    assert await km.load() == 2
    cluster.secrets = [removed]  # k-gone deleted, unseen by the watch

    def watch_meanwhile() -> None:
        assert km.observe_secret(added) == "loaded"
        assert km.observe_secret(removed, deleted=True) == "deleted"

    cluster.in_flight = watch_meanwhile
    assert await km.load() == 1
    assert store.ring.fingerprints() == [pairs[2].key.fingerprint]
    assert served(store) == pairs[2].key.fingerprint
    assert store.secret_names() == ["k-new"]
    # The next listing sees the cluster as it is by then: it agrees, nothing changes.
    cluster.secrets = [added]
    assert await km.load() == 1 and store.secret_names() == ["k-new"]


async def test_refused_key_secrets_follow_the_listing_too(pairs: list[GeneratedKey]) -> None:
    """An unusable key Secret the watch refused while a listing was in flight stays counted (the listing is older);
    one missing from a listing with nothing heard since is forgotten."""
    cluster = Cluster([plaintext(pairs[0], "k0"), broken("k-broken")])
    km, store = manager(cluster)
    await km.load()
    assert store.unusable_secret_names() == ["k-broken"]
    cluster.secrets = [plaintext(pairs[0], "k0")]
    cluster.in_flight = lambda: km.observe_secret(broken("k-late"))
    await km.load()
    assert store.unusable_secret_names() == ["k-late"]
    cluster.secrets = [plaintext(pairs[0], "k0")]
    await km.load()
    assert store.unusable_secret_names() == []


async def test_wrapped_key_secrets_follow_the_listing_too(pairs: list[GeneratedKey]) -> None:
    """A wrapped key missing from a listing leaves the ring; one waiting to be unwrapped (its unwrap retrying) is
    forgotten and its retries end; one the watch brought while the listing was in flight is kept."""
    kek = LocalKek()
    held, pending = wrapped(pairs[0], "w-held", kek), wrapped(pairs[1], "w-pending", kek)
    cluster = Cluster([held])
    reachable = True

    def vault() -> LocalKek:
        if not reachable:
            raise KekError("the vault does not answer", "unreachable", where="Key Vault key kek")
        return kek

    km, store = manager(cluster, vault)
    assert await km.load() == 1 and store.wrapped_secret_names() == ["w-held"]
    reachable = False  # a new wrapped key waits to be unwrapped, retrying
    assert km.observe_secret(pending) == "found; unwrapping its key"
    assert store.waiting_secret_names() == ["w-pending"] and km.loader.secret_names() == {"w-pending"}
    late = wrapped(pairs[2], "w-late", LocalKek())
    cluster.secrets = []  # both deleted unseen
    cluster.in_flight = lambda: km.observe_secret(late)
    assert await km.load() == 0
    assert store.wrapped_secret_names() == [] and store.waiting_secret_names() == ["w-late"]
    assert km.loader.secret_names() == {"w-late"}  # w-pending's retries ended
    assert store.newest_known() is not None and store.newest_known().fingerprint == pairs[2].key.fingerprint  # type: ignore[union-attr]
    await km.close()


# --- the periodic listing every replica takes (`KeyManager.resync`, on looptime's fake loop clock) -------------------

INTERVAL = 300.0  # Settings.key_resync_interval's default


class Failing(Cluster):
    """A listing the API server refuses while `failures` last (one failure per listing asked for)."""

    def __init__(self, secrets: list[dict[str, Any]]) -> None:
        super().__init__(secrets)
        self.failures = 0
        self.listings = 0

    def list_secrets(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        self.listings += 1
        if self.failures:
            self.failures -= 1
            raise ApiError(503, "ServiceUnavailable", "the API server is busy")
        return super().list_secrets(namespace, selector)


def follower(cluster: Cluster, kek: Callable[[], LocalKek] | None = None) -> tuple[KeyManager, KeyStore]:
    """A replica that does not lead: its renewal loop never runs, only the periodic listing. Its jitter is nil:
    each wait is the whole interval, the longest the listing ever waits."""
    store = KeyStore()
    settings = Settings(namespace=NS, key_size=2048, retry_base_delay=1.0, retry_max_delay=INTERVAL)
    km = KeyManager(settings, cluster, store, direct, clock=lambda: NOW, kek=kek, jitter=lambda: 0.0)  # type: ignore[arg-type]
    return km, store


def quiet(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("sealkit")]


@pytest.mark.looptime
async def test_a_follower_drops_a_key_secret_deleted_unseen_within_one_interval(
    pairs: list[GeneratedKey], caplog: pytest.LogCaptureFixture
) -> None:
    """A follower takes no listing of its own at takeover or before a renewal; a watch that resumed by listing again
    never reports the deletion. Before: it kept the deleted newest key and served its certificate until it took over
    or restarted. Now its periodic listing drops it within one interval, with one warning."""
    old, newest = plaintext(pairs[0], "k-old"), plaintext(pairs[2], "k-newest")
    cluster = Cluster([old, newest])
    km, store = follower(cluster)
    assert await km.load() == 2 and served(store) == pairs[2].key.fingerprint
    km.start_resync()
    try:
        cluster.secrets = [old]  # deleted while the watch was away: no DELETED event ever comes
        caplog.set_level(logging.INFO)
        caplog.clear()
        await asyncio.sleep(INTERVAL - 1)
        assert served(store) == pairs[2].key.fingerprint  # not yet listed again
        await asyncio.sleep(1.5)
        assert served(store) == pairs[0].key.fingerprint  # the deleted key no longer seals
        assert store.secret_names() == ["k-old"]
        (line,) = quiet(caplog)
        assert line.startswith("key Secret ctl/k-newest is not in a fresh listing of the key Secrets")
        # A key Secret the watch missed coming back (restored unseen) is taken in as well, said in one line.
        cluster.secrets = [old, newest]
        await asyncio.sleep(INTERVAL)
        assert served(store) == pairs[2].key.fingerprint
        assert quiet(caplog)[1:] == [
            "key Secret ctl/k-newest loaded (a fresh listing of the key Secrets: the watch did not say so); "
            "2 key(s) held"
        ]
    finally:
        await km.close()


@pytest.mark.looptime
async def test_a_replica_that_stops_leading_keeps_listing(pairs: list[GeneratedKey]) -> None:
    """Stepping down stops renewal (`stop`), not the periodic listing: only `close` (clean-up) ends it."""
    old, newest = plaintext(pairs[0], "k-old"), plaintext(pairs[2], "k-newest")
    cluster = Cluster([old, newest])
    km, store = follower(cluster)
    await km.load()
    km.start_resync()
    km.start()
    try:
        await km.stop()  # `Runtime.follow`
        cluster.secrets = [old]
        await asyncio.sleep(INTERVAL + 1)
        assert served(store) == pairs[0].key.fingerprint
    finally:
        await km.close()
    cluster.secrets = []
    await asyncio.sleep(10 * INTERVAL)
    assert served(store) == pairs[0].key.fingerprint  # closed: no more listings


@pytest.mark.looptime
async def test_nothing_is_logged_nor_redone_while_the_key_secrets_are_as_held(
    pairs: list[GeneratedKey], caplog: pytest.LogCaptureFixture
) -> None:
    """Listing after listing of an unchanged namespace (plaintext keys held, a wrapped one held, a wrapped one whose
    unwrap is refused for good, a refused plaintext one, a wrapped one that does not read), with plaintext keys at
    rest beside a KEK: not one log line (no 'loaded ...', no plaintext-key warning, no repeated refusal), no parse of
    a private key, no vault call, no event."""
    kek = LocalKek()
    calls = {"kek": 0}

    def vault() -> LocalKek:
        calls["kek"] += 1
        return kek

    foreign = wrapped(pairs[1], "w-foreign", LocalKek())  # another KEK's: it never opens (permanent)
    unreadable = wrapped(pairs[1], "w-unreadable", kek)
    unreadable["data"] = {}
    cluster = Cluster(
        [plaintext(pairs[0], "k0"), broken("k-broken"), wrapped(pairs[2], "w-held", kek), foreign, unreadable]
    )
    store = KeyStore()
    settings = Settings(namespace=NS, key_size=2048, kek_url="https://kv.example/keys/kek")
    km = KeyManager(
        settings,
        cluster,  # type: ignore[arg-type]
        store,
        direct,
        clock=lambda: NOW,
        kek=vault,
        wrap_new_keys=True,
        jitter=lambda: 0.0,
    )
    await km.load()
    ring = store.ring.fingerprints()
    state = (store.secret_names(), store.unusable_secret_names(), store.unusable_secret_names(wrapped=True))
    assert len(ring) == 2 and "k-broken" in state[1]
    opened, vault_calls = set(ring), calls["kek"]
    parses = 0
    real_keys_of = store.keys_of

    def counting_keys_of(secret: Mapping[str, Any], where: str) -> Any:
        nonlocal parses
        before = dict(store._parsed)
        keys = real_keys_of(secret, where)
        parses += store._parsed.get(name(secret)) is not before.get(name(secret))
        return keys

    store.keys_of = counting_keys_of  # type: ignore[method-assign]
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    km.start_resync()
    try:
        for _ in range(5):
            await asyncio.sleep(INTERVAL)
            assert await km.resync() == 0
    finally:
        await km.close()
    assert quiet(caplog) == []
    assert set(store.ring.fingerprints()) == opened
    assert (store.secret_names(), store.unusable_secret_names(), store.unusable_secret_names(wrapped=True)) == state
    assert calls["kek"] == vault_calls and parses == 0
    assert store.envelope_of(pairs[2].key.fingerprint, verified=True) is not None  # still opened by us


@pytest.mark.looptime
async def test_a_listing_the_api_server_refuses_is_one_warning_a_try_and_retried_with_backoff(
    pairs: list[GeneratedKey], caplog: pytest.LogCaptureFixture
) -> None:
    """Three refused listings: one warning each, retried after 1, 2 and 4 s (not a whole interval), the keys held
    serving throughout; the fourth drops the key deleted meanwhile. The loop never ends on an error."""
    old, newest = plaintext(pairs[0], "k-old"), plaintext(pairs[2], "k-newest")
    cluster = Failing([old, newest])
    km, store = follower(cluster)
    await km.load()
    km.start_resync()
    try:
        cluster.secrets = [old]
        cluster.failures = 3
        caplog.set_level(logging.INFO)
        caplog.clear()
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(INTERVAL + 0.5)
        assert served(store) == pairs[2].key.fingerprint and km.resync_failures == 1
        await asyncio.sleep(1 + 2 + 4)
        assert served(store) == pairs[0].key.fingerprint and km.resync_failures == 0
        assert loop.time() - start == pytest.approx(INTERVAL + 7.5)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings[:3] == [
            f"could not list the key Secrets in ctl to check the key ring (retrying in {wait:.1f}s; the keys held "
            "keep serving): 503 ServiceUnavailable: the API server is busy"
            for wait in (1.0, 2.0, 4.0)
        ]
        assert len(warnings) == 4 and warnings[3].startswith("key Secret ctl/k-newest is not in a fresh listing")
        # Back to the interval: nothing more until then.
        listings = cluster.listings
        await asyncio.sleep(INTERVAL - 1)
        assert cluster.listings == listings
    finally:
        await km.close()
