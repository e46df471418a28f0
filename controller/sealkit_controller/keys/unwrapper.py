"""Opening wrapped key Secrets: one unwrap per key, at start and when a new wrapped key appears, memory only.

Where it sits: the key lifecycle room, between the Secret watch (and the start-up listing) and the
`KeyStore`. For each wrapped key Secret: if a key with its certificate's fingerprint is already held (a
restart's watch replay, a `sealkit keys wrap` or `rewrap` of a key in use), it is taken as is, with no vault
call; otherwise its key is unwrapped through the KEK in the thread pool and put in the store. Until then
the Secret is "waiting" in the store (its certificate counts for renewal, its key is not used). A key this
controller is writing right now (`writing`) counts as held: the watch can deliver the new Secret before its
create call returns, and the key is in memory already, so no vault call is made for it.

A failure is reported (`KekReport`) and retried with capped exponential backoff for that Secret alone, so
one Secret that does not open never holds up the others. Failures retrying cannot fix (the Secret's
fields or ciphertext are bad, the vault calls the wrapped data invalid) wait for the Secret to change.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sealkit.errors import KeyMaterialError, SealkitError
from sealkit.keys import PrivateKey
from sealkit.keysecrets import made_by_unsealing
from sealkit.retry import Backoff
from sealkit.wrapping.envelope import KekError, KeyWrapper, WrappedKey, unwrap_private_key
from sealkit.wrapping.keysecret import is_wrapped_key_secret, key_birth, wrapped_from_secret
from sealkit_controller.keys.kekreport import UNWRAP, KekReport
from sealkit_controller.keys.keystore import UNSEALED_KEY, KeyStore, Known
from sealkit_controller.plumbing.pool import Run

logger = logging.getLogger(__name__)


class WrappedKeyLoader:
    """Wrapped key Secrets in, open keys into the store (see the module docstring)."""

    def __init__(
        self,
        store: KeyStore,
        kek: Callable[[], KeyWrapper],
        run: Run,
        report: KekReport,
        *,
        namespace: str,
        backoff: Backoff,
    ) -> None:
        self._store = store
        self._kek = kek
        self._run = run
        self._report = report
        self._namespace = namespace
        self._backoff = backoff
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._taking: dict[str, WrappedKey] = {}  # name -> the envelope being unwrapped
        self._refused: dict[str, WrappedKey] = {}  # name -> an envelope that will not open (until it changes)
        self._writing: dict[str, PrivateKey] = {}  # fingerprint -> a key this controller is writing now

    @contextmanager
    def writing(self, key: PrivateKey) -> Iterator[None]:
        """While its key Secret is written: a wrapped Secret of this key seen meanwhile is taken, not unwrapped."""
        self._writing[key.fingerprint] = key
        try:
            yield
        finally:
            self._writing.pop(key.fingerprint, None)

    def _where(self, name: str) -> str:
        return f"wrapped key Secret {self._namespace}/{name}"

    def _dated(self, wrapped: WrappedKey, secret: Mapping[str, Any]) -> WrappedKey:
        if not self._store.by_creation:
            return wrapped
        born = key_birth(secret)
        return dataclasses.replace(wrapped, not_before=born) if born else wrapped

    def _envelope(self, secret: Mapping[str, Any]) -> WrappedKey:
        """The envelope a wrapped key Secret holds, dated as configured; raises SealkitError when it does not read."""
        name = str((secret.get("metadata") or {}).get("name") or "")
        if made_by_unsealing(secret):
            raise KeyMaterialError(UNSEALED_KEY, where=self._where(name))
        return self._dated(wrapped_from_secret(secret, self._where(name)), secret)

    def _take(self, secret: Mapping[str, Any]) -> WrappedKey | None:
        """The envelope still to unwrap, or None when nothing more is needed (held already, or unreadable)."""
        name = str((secret.get("metadata") or {}).get("name") or "")
        try:
            wrapped = self._envelope(secret)
        except SealkitError as exc:
            self._cancel(name)
            self._store.refuse(name, str(exc), wrapped=True)
            self._spawn(name, self._report.failed(UNWRAP, exc, secret=name))
            return None
        held = self._store.ring.get(wrapped.fingerprint) or self._writing.get(wrapped.fingerprint)
        if held is not None:
            # Opened by this controller only if this very envelope was (a listing at takeover re-takes the Secrets
            # it opened itself); another envelope of a key held (rewrapped, a copy) was not opened here.
            opened = self._store.opened(wrapped)
            self._cancel(name)
            key = dataclasses.replace(held, not_before=wrapped.not_before, source=self._where(name))
            self._store.put(name, [key], envelope=wrapped, verified=opened)
            self._report.inventory()
            return None
        taking = self._taking.get(name)
        if taking is not None and taking.same_envelope(wrapped):
            return None  # already being unwrapped
        refused = self._refused.get(name)
        if refused is not None and refused.same_envelope(wrapped):
            return None  # known not to open; waits for the Secret to change
        self._cancel(name)
        self._store.wait(name, Known(wrapped.fingerprint, wrapped.not_before))
        self._report.inventory()
        return wrapped

    async def load(self, secrets: list[dict[str, Any]]) -> None:
        """At start: one unwrap per wrapped key (all at once in the pool); failures go on retrying in the background.

        These unwraps are no tasks `_cancel` can stop: one whose Secret the watch changed or deleted meanwhile (its
        `_taking` entry is no longer this envelope) ends with nothing done, neither refused, reported nor retried."""
        todo = [(str(s["metadata"]["name"]), w) for s in secrets if (w := self._take(s)) is not None]
        for name, wrapped in todo:
            self._taking[name] = wrapped
        results = await asyncio.gather(*(self._attempt(name, wrapped, 1) for name, wrapped in todo))
        for (name, wrapped), (done, retry_in) in zip(todo, results, strict=True):
            if not done and retry_in is not None:
                self._spawn(name, self._retry(name, wrapped, 2, retry_in))

    def observe(self, secret: Mapping[str, Any], *, deleted: bool = False) -> str | None:
        """A wrapped key Secret seen by the watch (on the event loop); returns what happened, for the log."""
        name = str((secret.get("metadata") or {}).get("name") or "")
        if not name:
            return None
        if deleted or not is_wrapped_key_secret(secret):
            self._cancel(name)
            self._refused.pop(name, None)
            if self._store.drop(name):
                self._report.inventory()
                return "deleted" if deleted else "no longer labelled active"
            return None
        wrapped = self._take(secret)
        if wrapped is None:
            return None
        self._taking[name] = wrapped
        self._spawn(name, self._retry(name, wrapped, 1, None))
        return "found; unwrapping its key"

    def unchanged(self, secret: Mapping[str, Any]) -> bool:
        """Whether this wrapped key Secret (active, as a listing gives it) is as this loader last took it: held open
        with this envelope, being unwrapped or refused with it, or ignored for the same fault. Such a Secret needs
        nothing (no vault call, no report); reading its envelope is no RSA work."""
        name = str((secret.get("metadata") or {}).get("name") or "")
        try:
            wrapped = self._envelope(secret)
        except SealkitError as exc:
            return self._store.unusable_reason(name) == str(exc)
        if self._store.holds_envelope(name, wrapped):
            return True
        for pending in (self._taking.get(name), self._refused.get(name)):
            if pending is not None and pending.same_envelope(wrapped) and pending.not_before == wrapped.not_before:
                return True
        return False

    def secret_names(self) -> set[str]:
        """The wrapped key Secrets this loader is busy with or remembers (being unwrapped, refused until changed)."""
        return {*self._tasks, *self._taking, *self._refused}

    def forget(self, name: str) -> bool:
        """A wrapped key Secret gone from a listing: its unwrap stops, its refusal is forgotten, the store drops it.
        True if it was known."""
        known = name in self.secret_names()
        self._cancel(name)
        self._refused.pop(name, None)
        known = self._store.drop(name) or known
        if known:
            self._report.inventory()
        return known

    async def _attempt(self, name: str, wrapped: WrappedKey, attempt: int) -> tuple[bool, float | None]:
        """One unwrap: (done, seconds until the next try; None: no next try)."""
        where = self._where(name)
        try:
            key: PrivateKey = await self._run(lambda: unwrap_private_key(wrapped, self._kek(), where))
        except SealkitError as exc:
            if self._taking.get(name) is not wrapped:
                return False, None  # the Secret changed or went meanwhile: the newer state decides, not this failure
            permanent = isinstance(exc, KeyMaterialError) or (isinstance(exc, KekError) and exc.permanent)
            delay = None if permanent else self._backoff.delay(attempt, getattr(exc, "retry_after", None))
            if permanent:
                self._taking.pop(name, None)
                self._refused[name] = wrapped
            await self._report.failed(UNWRAP, exc, secret=name, retry_in=delay)
            return False, delay
        if self._taking.get(name) is not wrapped:
            return False, None  # the Secret changed or went meanwhile: the newer state decides
        self._taking.pop(name, None)
        self._store.put(name, [key], envelope=wrapped)
        logger.info("unwrapped the sealing key %s of %s with %s", key.fingerprint, where, wrapped.kek_id)
        await self._report.succeeded(UNWRAP, secret=name)
        return True, None

    async def _retry(self, name: str, wrapped: WrappedKey, attempt: int, wait: float | None) -> None:
        while True:
            if wait is not None:
                await asyncio.sleep(wait)
            done, wait = await self._attempt(name, wrapped, attempt)
            if done or wait is None:
                return
            attempt += 1

    def _spawn(self, name: str, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=f"sealkit-unwrap-{name}")
        self._tasks[name] = task
        task.add_done_callback(lambda t: self._tasks.pop(name, None) if self._tasks.get(name) is t else None)

    def _cancel(self, name: str) -> None:
        self._taking.pop(name, None)
        task = self._tasks.pop(name, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self._taking.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
