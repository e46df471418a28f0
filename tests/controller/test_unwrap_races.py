"""The unwraps a listing starts (`KeyManager.load`: at start, at takeover, before making a key) against the watch
speaking of the same wrapped key Secret while they run: the watch's word is newer, so an unwrap of what the listing
gave ends with nothing done (no refusal remembered, no report, no retry) once the Secret changed or went.

Found in review: those unwraps are not tasks the watch can cancel, and their failure was acted on whatever had
happened meanwhile. A repaired Secret delivered during a refused unwrap was never opened (the old refusal took its
place: it stayed waiting, its key unused, until it changed again); a Secret deleted during an unwrap the vault
refused for now was retried (and reported, on a Secret that is gone) for as long as the vault refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.wrapping.envelope import KekError, wrap_private_key
from sealkit.wrapping.keysecret import wrapped_key_manifest
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.keys.renewal import KeyManager
from sealkit_controller.settings import Settings
from tests.controller.test_key_listings import Cluster
from tests.support.keys import LocalKek

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
NS = "ctl"


@pytest.fixture(scope="module")
def pair() -> GeneratedKey:
    return generate_key_pair(bits=2048, now=NOW - dt.timedelta(days=3))


def wrapped(pair: GeneratedKey, name: str, kek: LocalKek) -> dict[str, Any]:
    secret = wrapped_key_manifest(wrap_private_key(pair.key, kek), namespace=NS, prefix="k")
    secret["metadata"]["name"] = name
    return secret


class Run:
    """The thread pool, inline; `at[n]` runs just before the n-th call (what the watch delivers while that call is on
    its way). A listing's calls: 1 and 2 list the key Secrets (plaintext, wrapped), 3 the first unwrap."""

    def __init__(self) -> None:
        self.at: dict[int, Callable[[], object]] = {}
        self.calls = 0

    async def __call__(self, fn: Callable[..., Any], *args: Any) -> Any:
        self.calls += 1
        hook = self.at.pop(self.calls, None)
        if hook is not None:
            hook()
        return fn(*args)


class Kek:
    """The KEK as the controller reaches it, unreachable while `away`."""

    def __init__(self) -> None:
        self.kek = LocalKek()
        self.away = False
        self.calls = 0

    def __call__(self) -> LocalKek:
        self.calls += 1
        if self.away:
            raise KekError("cannot reach the vault (connection refused)", "unreachable", where="kek")
        return self.kek


def replica(cluster: Cluster, kek: Kek, run: Run) -> tuple[KeyManager, KeyStore]:
    store = KeyStore()
    settings = Settings(namespace=NS, key_size=2048, kek_url="https://kv.example/keys/kek")
    km = KeyManager(settings, cluster, store, run, clock=lambda: NOW, kek=kek)  # type: ignore[arg-type]
    return km, store


async def settled(km: KeyManager) -> None:
    """Until the loader's unwrap tasks are done (each ends: the tests' vault answers at once)."""
    for _ in range(100):
        tasks = list(km.loader._tasks.values())
        if not tasks:
            return
        await asyncio.gather(*tasks, return_exceptions=True)
    pytest.fail("the unwrap tasks did not end")


async def test_a_secret_repaired_while_the_listing_unwraps_it_is_opened(pair: GeneratedKey) -> None:
    kek, run = Kek(), Run()
    damaged = wrapped(pair, "w0", LocalKek())  # another KEK's data key: refused for good ('invalid')
    repaired = wrapped(pair, "w0", kek.kek)
    cluster = Cluster([damaged])
    km, store = replica(cluster, kek, run)
    try:

        def repair() -> None:
            cluster.secrets = [repaired]
            km.observe_secret(repaired)

        run.at[3] = repair
        await km.load()
        await settled(km)
        assert store.ring.fingerprints() == [pair.key.fingerprint]
        assert store.waiting_secret_names() == [] and km.loader.secret_names() == set()
        assert km.report.metrics.kek_available._value.get() == 1
    finally:
        await km.close()


async def test_a_secret_deleted_while_the_listing_unwraps_it_is_not_retried(pair: GeneratedKey) -> None:
    kek, run = Kek(), Run()
    secret = wrapped(pair, "w0", kek.kek)
    cluster = Cluster([secret])
    km, store = replica(cluster, kek, run)
    kek.away = True  # the vault unreachable: retried with backoff
    try:

        def delete() -> None:
            cluster.secrets = []
            km.observe_secret(secret, deleted=True)

        run.at[3] = delete
        await km.load()
        assert km.loader.secret_names() == set()  # no retry of a Secret that is gone
        assert store.secret_names() == [] and len(store.ring) == 0
        failures = km.report.metrics.kek_failures.labels("unwrap", "unreachable")._value.get()
        assert failures == 0  # nothing reported on it
    finally:
        await km.close()
