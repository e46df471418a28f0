"""Checking many references at once: one fetch per distinct lookup, in parallel, with bounded retries.

The fetch function is the adapter's (it talks to the vault and raises `VaultAccessError` for
anything that is not about one object). The first such error stops further requests to that
vault, and a credential error stops all of them, so a CI job fails in about one round trip
instead of retrying hundreds of objects. Throttling is retried here, honouring Retry-After, but
only within a small budget: a vault that keeps throttling fails the run rather than stalling it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from sealkit.csi.vaultcheck import (
    DEFAULT_WARN_WITHIN,
    Answer,
    Lookup,
    ObjectResult,
    Reference,
    Status,
    evaluate,
)
from sealkit.csi.vaultreads import read_each
from sealkit.retry import RetryPolicy, call_with_retries
from sealkit.vault.errors import VaultAccessError

T = TypeVar("T")
Fetch = Callable[[Lookup], Answer]


@dataclass(frozen=True)
class VaultFailure:
    vault: str
    url: str
    message: str


@dataclass(frozen=True)
class Report:
    results: tuple[ObjectResult, ...]
    failures: tuple[VaultFailure, ...] = ()
    credential_error: str | None = None
    urls: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and self.credential_error is None
            and all(r.status in (Status.OK, Status.WARNING) for r in self.results)
        )

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)


def run(
    refs: Iterable[Reference],
    fetch: Fetch,
    *,
    urls: Mapping[str, str],
    concurrency: int = 8,
    now: dt.datetime | None = None,
    warn_within: dt.timedelta = DEFAULT_WARN_WITHIN,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Fetch each distinct lookup once (`concurrency` at a time) and judge every reference."""
    refs = list(refs)
    policy = retry or RetryPolicy()
    reads = read_each(
        (ref.lookup for ref in refs),
        lambda lookup: call_with_retries(lambda: fetch(lookup), policy, sleep, give_up=VaultAccessError),
        lambda lookup: lookup.vault,
        concurrency=concurrency,
        thread_name_prefix="sealkit-vault",
    )
    moment = now or dt.datetime.now(dt.UTC)
    results = []
    for ref in refs:
        answer = reads.answers[ref.lookup]
        if answer is None:
            results.append(ObjectResult(ref, Status.NOT_CHECKED, ("vault not readable",)))
        else:
            results.append(evaluate(ref, answer, moment, warn_within))
    failures = tuple(VaultFailure(vault, urls.get(vault, ""), msg) for vault, msg in sorted(reads.failures.items()))
    return Report(tuple(results), failures, reads.credential, dict(urls))
