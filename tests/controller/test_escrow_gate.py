"""The escrow gate of a new key trusts only a copy this process wrote and read back, never a listing.

Found by CI: the keeper's periodic listing (which may list but not read) saw the new key's copy, written
while its read-back was refused, and the next gate attempt took it as escrowed and published the key.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from sealkit.escrow.sync import EscrowVaultError
from sealkit.keygen import generate_key_pair
from sealkit_controller.keys.escrowkeeper import EscrowKeeper, EscrowTarget
from sealkit_controller.keys.keystore import KeyStore


class RefusedReads:
    """KeyWrites whose escrow writes the copy but cannot read it back."""

    def __init__(self) -> None:
        self.attempts = 0

    async def escrow(self, vault: Any, material: Any, cluster: str) -> None:
        self.attempts += 1
        raise EscrowVaultError("cannot read the copy back", "forbidden")


async def run(fn: Any, *args: Any) -> Any:
    return fn(*args)


async def test_a_listed_copy_does_not_pass_the_gate_of_a_new_key() -> None:
    writes = RefusedReads()
    keeper = EscrowKeeper(
        EscrowTarget(cluster="dev", namespace="kube-system", key_prefix="sealed-secrets-key"),
        vault=object(),  # type: ignore[arg-type]
        client=object(),  # type: ignore[arg-type]
        store=KeyStore(),
        run=run,
        writes=writes,  # type: ignore[arg-type]
    )
    key = generate_key_pair(bits=2048).key
    with pytest.raises(EscrowVaultError):
        await keeper.escrow_now(key)
    keeper.escrowed.add(key.fingerprint)  # a listing meanwhile shows the copy written above
    with pytest.raises(EscrowVaultError):
        await keeper.escrow_now(key)  # still not read back: the key stays unpublished
    assert writes.attempts == 2


class Listed:
    """A vault with no copies that says when it was listed; writes go nowhere."""

    def __init__(self) -> None:
        self.listed = asyncio.Event()

    def entries(self, cluster: str) -> list[Any]:
        self.listed.set()
        return []

    async def escrow(self, vault: Any, material: Any, cluster: str) -> None:
        return None


async def test_stop_ends_the_escrow_loop_even_when_a_key_change_wakes_it_at_that_moment() -> None:
    """As the renewal loop (test_keys): asyncio.wait_for on Python 3.11 dropped the cancel of stop() meeting a
    wake-up, and the loop waited on for its recheck interval, an hour, with stop() waiting for it."""
    vault, store = Listed(), KeyStore()
    keeper = EscrowKeeper(
        EscrowTarget(cluster="dev", namespace="kube-system", key_prefix="sealed-secrets-key"),
        vault=vault,  # type: ignore[arg-type]
        client=object(),  # type: ignore[arg-type]
        store=store,
        run=run,
        writes=vault,  # type: ignore[arg-type]
    )
    keeper.start()
    await vault.listed.wait()  # resumes once the loop waits (nothing pending)
    loop_task = keeper._background._task
    assert loop_task is not None
    store.put("k", [generate_key_pair(bits=2048).key])  # wakes the loop...
    stopping = asyncio.create_task(keeper.stop())  # ...as it is stopped
    try:
        done, _ = await asyncio.wait({stopping}, timeout=10)
        assert stopping in done and loop_task.cancelled()
    finally:
        loop_task.cancel()
        await stopping


async def test_the_escrow_loop_goes_on_after_an_unexpected_error(caplog: pytest.LogCaptureFixture) -> None:
    """An error the loop does not expect (a bug) ended its task: no key was escrowed again, silently."""

    class Flaky(Listed):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def entries(self, cluster: str) -> list[Any]:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("secret-looking detail")
            return super().entries(cluster)

    vault = Flaky()
    keeper = EscrowKeeper(
        EscrowTarget(cluster="dev", namespace="kube-system", key_prefix="sealed-secrets-key", retry_base_delay=0.01),
        vault=vault,  # type: ignore[arg-type]
        client=object(),  # type: ignore[arg-type]
        store=KeyStore(),
        run=run,
        writes=vault,  # type: ignore[arg-type]
    )
    keeper.start()
    try:
        await asyncio.wait_for(vault.listed.wait(), timeout=10)
    finally:
        await keeper.stop()
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert line.startswith("key escrow of cluster dev failed: an unexpected error (a bug) at ")
    assert "secret-looking" not in caplog.text and "RuntimeError" not in line
