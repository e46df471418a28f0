"""A takeover (or any listing of the key Secrets: `KeyManager.load` at start, at takeover, before making a key) changes
nothing about what escrow writes or reports for the wrapped keys this controller opened itself.

Found in review: the listing re-took every wrapped key Secret already held by fingerprint and marked it "not opened
by this controller", so the escrow after a takeover no longer escrowed those Secrets' envelopes: it wrapped each key
again with the KEK (a wrap and an unwrap call, an RSA operation with an RSA KEK) and escrowed that new envelope, not
the one the cluster holds; with the KEK refusing, escrow failed (counted, `ErrEscrowFailed`, pending) for keys whose
envelopes needed no KEK to be escrowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from sealkit.escrow.scheme import Escrowable
from sealkit.escrow.sync import EscrowVaultError
from sealkit.keygen import GeneratedKey, generate_key_pair
from sealkit.keys import PrivateKey
from sealkit.wrapping.envelope import KekError, WrappedKey, wrap_private_key, wrap_verified
from sealkit.wrapping.keysecret import wrapped_from_secret, wrapped_key_manifest
from sealkit_controller.keys.escrowkeeper import EscrowKeeper, EscrowTarget
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.keys.renewal import KeyManager
from sealkit_controller.settings import Settings
from tests.controller.test_key_listings import Cluster, direct
from tests.support.keys import LocalKek

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
NS = "ctl"


@pytest.fixture(scope="module")
def pairs() -> list[GeneratedKey]:
    return [generate_key_pair(bits=2048, now=NOW - (10 - i) * DAY) for i in range(2)]


def wrapped(pair: GeneratedKey, name: str, kek: LocalKek) -> dict[str, Any]:
    secret = wrapped_key_manifest(wrap_private_key(pair.key, kek), namespace=NS, prefix="k")
    secret["metadata"]["name"] = name
    return secret


class Vault:
    """An escrow vault with no copies; what is escrowed is recorded (as `KeyWrites.escrow` would write it)."""

    url = "https://escrow.example"

    def __init__(self) -> None:
        self.written: list[Escrowable] = []

    def entries(self, cluster: str) -> list[Any]:
        return []

    async def escrow(self, vault: Any, material: Escrowable, cluster: str) -> None:
        self.written.append(material)


class Kek:
    """The KEK as the controller reaches it: counted, and refused (disabled) once `refusing`."""

    def __init__(self) -> None:
        self.kek = LocalKek()
        self.calls = 0
        self.refusing = False

    def __call__(self) -> LocalKek:
        self.calls += 1
        if self.refusing:
            raise KekError("the key is disabled, so wrapKey is refused (KeyDisabled)", "disabled", where="kek")
        return self.kek


def replica(cluster: Cluster, kek: Kek) -> tuple[KeyManager, KeyStore]:
    store = KeyStore()
    settings = Settings(namespace=NS, key_size=2048, kek_url="https://kv.example/keys/kek")
    km = KeyManager(settings, cluster, store, direct, clock=lambda: NOW, kek=kek, wrap_new_keys=True)  # type: ignore[arg-type]
    return km, store


def keeper(store: KeyStore, vault: Vault, wrap: Callable[[PrivateKey], WrappedKey]) -> EscrowKeeper:
    return EscrowKeeper(
        EscrowTarget(cluster="dev", namespace=NS, key_prefix="k"),
        vault=vault,  # type: ignore[arg-type]
        client=object(),  # type: ignore[arg-type]
        store=store,
        run=direct,
        writes=vault,  # type: ignore[arg-type]
        wrap=wrap,
    )


@pytest.mark.parametrize("listings", [1, 2, 3])
async def test_escrow_after_a_takeover_writes_the_envelopes_the_cluster_holds_with_no_kek_call(
    pairs: list[GeneratedKey], listings: int
) -> None:
    """One listing is the start; each further one is a takeover (or the listing before a renewal)."""
    kek = Kek()
    secrets = [wrapped(pair, f"w{i}", kek.kek) for i, pair in enumerate(pairs)]
    km, store = replica(Cluster(secrets), kek)
    try:
        for _ in range(listings):
            await km.load()
        assert kek.kek.unwraps == len(pairs)  # each opened once, at start
        calls = kek.calls
        vault, wraps = Vault(), []

        def wrap(key: PrivateKey) -> WrappedKey:
            wraps.append(key.fingerprint)
            return wrap_verified(key, kek())

        escrow = keeper(store, vault, wrap)
        assert await escrow.sync() == len(pairs)
    finally:
        await km.close()
    assert wraps == [] and kek.calls == calls and kek.kek.unwraps == len(pairs)
    held = {w.fingerprint: w for w in (wrapped_from_secret(s) for s in secrets)}
    assert len(vault.written) == len(pairs)
    for material in vault.written:
        assert isinstance(material, WrappedKey) and material.same_envelope(held[material.fingerprint])
    assert escrow.metrics.pending._value.get() == 0


async def test_a_kek_refusing_after_a_takeover_does_not_fail_the_escrow_of_envelopes_opened_before(
    pairs: list[GeneratedKey],
) -> None:
    kek = Kek()
    secrets = [wrapped(pair, f"w{i}", kek.kek) for i, pair in enumerate(pairs)]
    km, store = replica(Cluster(secrets), kek)
    try:
        await km.load()  # start: both opened
        kek.refusing = True  # the KEK disabled meanwhile
        await km.load()  # takeover
        vault = Vault()
        escrow = keeper(store, vault, lambda key: wrap_verified(key, kek()))
        try:
            written = await escrow.sync()
        except EscrowVaultError as exc:
            pytest.fail(f"escrow failed after the takeover: {exc}")
    finally:
        await km.close()
    assert written == len(pairs) and len(vault.written) == len(pairs)
    assert escrow.metrics.pending._value.get() == 0
    assert all(s._value.get() == 0 for s in escrow.metrics.failures._metrics.values())


async def test_a_rewrapped_secret_of_a_held_key_is_still_not_taken_as_opened(pairs: list[GeneratedKey]) -> None:
    """What stays as it was: a Secret with another envelope of a key held (a `keys rewrap`, a copy) is taken by
    fingerprint without a vault call, so its envelope was not opened here, and escrow wraps the key afresh."""
    kek = Kek()
    first = wrapped(pairs[0], "w0", kek.kek)
    cluster = Cluster([first])
    km, store = replica(cluster, kek)
    try:
        await km.load()
        rewrapped = wrapped(pairs[0], "w0", kek.kek)  # same key, a fresh data key: another envelope
        cluster.secrets = [rewrapped]
        km.observe_secret(rewrapped)
        assert kek.kek.unwraps == 1
        assert store.envelope_of(pairs[0].key.fingerprint, verified=True) is None
        await km.load()
        assert store.envelope_of(pairs[0].key.fingerprint, verified=True) is None
    finally:
        await km.close()
