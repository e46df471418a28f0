"""Reading what `csi verify` looks up: each distinct lookup once, in parallel, a vault stopped at its first failure.

Shared by both stores' checks: Key Vault (`sealkit.csi.vaultrun`, whose fetch retries throttling first) and
HashiCorp Vault (`sealkit.csi.hashicorp.check`). A fetch raises `VaultAccessError` for anything about a vault
as a whole; the first one stops further reads of that vault, and a `CredentialError` stops every vault, so a
CI job fails in about one round trip instead of once per object.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from sealkit.vault.errors import CredentialError, VaultAccessError

L = TypeVar("L", bound=Hashable)  # a lookup
A = TypeVar("A")  # its answer
V = TypeVar("V", bound=Hashable)  # the vault it is read from


@dataclass(frozen=True)
class Reads(Generic[L, A, V]):
    answers: Mapping[L, A | None]  # None: not read, its vault (or the credential) had failed
    failures: Mapping[V, str]  # each vault that failed: its first error's message
    credential: str | None  # the credential error that stopped every vault


class _Stops(Generic[V]):
    """Vaults (and the credential) that already failed, shared by the worker threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.vaults: dict[V, str] = {}
        self.credential: str | None = None

    def stopped(self, vault: V) -> bool:
        with self.lock:
            return self.credential is not None or vault in self.vaults

    def record(self, vault: V, exc: VaultAccessError) -> None:
        with self.lock:
            if isinstance(exc, CredentialError):
                self.credential = self.credential or str(exc)
            else:
                self.vaults.setdefault(vault, str(exc))


def read_each(
    lookups: Iterable[L],
    fetch: Callable[[L], A],
    vault_of: Callable[[L], V],
    *,
    concurrency: int,
    thread_name_prefix: str,
) -> Reads[L, A, V]:
    """`fetch` each distinct lookup once, `concurrency` at a time, none of a vault that has failed."""
    distinct = list(dict.fromkeys(lookups))
    stops: _Stops[V] = _Stops()

    def task(lookup: L) -> A | None:
        vault = vault_of(lookup)
        if stops.stopped(vault):
            return None
        try:
            return fetch(lookup)
        except VaultAccessError as exc:
            stops.record(vault, exc)
            return None

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix=thread_name_prefix) as pool:
        answers = dict(zip(distinct, pool.map(task, distinct), strict=True))
    return Reads(answers, stops.vaults, stops.credential)
