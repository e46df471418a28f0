"""The escrow gate of a new key trusts only a copy this process wrote and read back, never a listing.

Found by CI: the keeper's periodic listing (which may list but not read) saw the new key's copy, written
while its read-back was refused, and the next gate attempt took it as escrowed and published the key.
"""

from __future__ import annotations

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
