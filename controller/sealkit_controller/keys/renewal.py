"""Loading, generating and renewing the controller's sealing keys in the cluster (key Secrets).

At start the key Secrets of the controller's namespace are listed; afterwards the Secret watch keeps the
`KeyStore` current (see `Controller.observe_secret`). A background task makes a new key when none is held,
when the newest predates the cutoff, or when the newest's NotBefore is older than the renew period.

Never two keys for one period, even across leaders: before making a key the key Secrets are listed again
(the decision is taken from the cluster's keys, not from a watch that may lag), and the new key Secret's
name is fixed by the key it follows (`keysecrets.successor_secret_name`), so a second controller deciding
the same renewal gets a 409 and takes the key that is there. With leader election only the leader runs
this (and its writes pass the lease fence).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from sealkit.clients.kube.api import ApiError, KubeClient
from sealkit.errors import SealkitError
from sealkit.keygen import generate_key_pair
from sealkit.keysecrets import (
    ACTIVE_SELECTOR,
    creation_time,
    is_active_key_secret,
    key_secret_manifest,
    successor_secret_name,
)
from sealkit.retry import Backoff
from sealkit_controller.keys.keystore import KeyStore, key_due
from sealkit_controller.plumbing.background import BackgroundLoop
from sealkit_controller.plumbing.pool import Run
from sealkit_controller.settings import Settings

logger = logging.getLogger(__name__)

_NAME_ATTEMPTS = 5


class KeyManager:
    """Keeps at least one current key in `store`, writing new ones as Bitnami-format key Secrets."""

    def __init__(
        self,
        settings: Settings,
        client: KubeClient,
        store: KeyStore,
        run: Run,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._settings = settings
        self._client = client
        self._store = store
        self._run = run
        self._clock = clock
        self._wake = asyncio.Event()
        self._background = BackgroundLoop("sealkit-key-renewal", self._loop)
        self._backoff = Backoff(settings.retry_base_delay, settings.retry_max_delay)
        store.on_change(lambda added, removed: self._wake.set())

    async def load(self) -> int:
        """Read every active key Secret in the controller's namespace; returns how many keys are held."""
        namespace = self._settings.namespace
        secrets = await self._run(self._client.list_secrets, namespace, ACTIVE_SELECTOR)
        for secret in secrets:
            name = str((secret.get("metadata") or {}).get("name") or "")
            try:
                keys = self._store.keys_of(secret, f"key Secret {namespace}/{name}")
            except SealkitError as exc:
                logger.warning("ignoring key Secret %s/%s: %s", namespace, name, exc)
                continue
            self._store.put(name, keys)
        held = len(self._store.ring)
        logger.info("loaded %d sealing key(s) from %d key Secret(s) in %s", held, len(secrets), namespace)
        return held

    def due(self) -> dt.datetime | None:
        s = self._settings
        return key_due(self._store.newest(), self._clock(), renew_period=s.key_renew_period, cutoff=s.key_cutoff_time)

    def _is_due(self) -> bool:
        due = self.due()
        return due is not None and due <= self._clock()

    async def ensure(self) -> bool:
        """Generate a key now if one is due (decided again from a fresh listing); True if one was made."""
        if not self._is_due():
            return False
        await self.load()  # another controller may have made this period's key: decide from the cluster
        if not self._is_due():
            return False
        await self.generate()
        return True

    async def generate(self) -> str:
        """A new key pair in a new key Secret; it seals from now on, the older ones keep opening.

        The Secret's name follows from the newest key held (see the module docstring); if it exists already
        with a usable key (another controller made this period's key), that key is taken instead.
        """
        s = self._settings
        newest = self._store.newest()
        predecessor = newest.fingerprint if newest is not None else None
        now = self._clock()
        generated = await self._run(
            lambda: generate_key_pair(bits=s.key_size, common_name=s.my_cn, validity=s.key_ttl, now=now)
        )
        manifest = key_secret_manifest(
            generated,
            namespace=s.namespace,
            prefix=s.key_prefix,
            labels=s.private_key_labels,
            annotations=s.private_key_annotations,
        )
        manifest["metadata"].pop("generateName", None)
        for attempt in range(_NAME_ATTEMPTS):
            manifest["metadata"]["name"] = successor_secret_name(s.key_prefix, predecessor, attempt)
            try:
                created = await self._run(self._client.create_secret, s.namespace, manifest)
                break
            except ApiError as exc:
                if exc.status != 409 or exc.reason != "AlreadyExists":
                    raise
            taken = await self._take_existing(manifest["metadata"]["name"])
            if taken is not None:
                return taken
        else:
            raise SealkitError(
                f"no new sealing key: the key Secret names after {predecessor or 'no key'} are all taken in "
                f"{s.namespace} by Secrets holding no usable key"
            )
        name = str((created.get("metadata") or {}).get("name") or s.key_prefix)
        born = creation_time(created) if self._store.by_creation else None
        self._store.put(name, [dataclasses.replace(generated.key, not_before=born) if born else generated.key])
        logger.info("generated sealing key %s in key Secret %s/%s", generated.key.fingerprint, s.namespace, name)
        return name

    async def _take_existing(self, name: str) -> str | None:
        """The key Secret of this name that another controller made: held from now on (None: no usable key)."""
        namespace = self._settings.namespace
        existing = await self._run(self._client.get_secret, namespace, name)
        if existing is None or not is_active_key_secret(existing):
            return None
        try:
            keys = self._store.keys_of(existing, f"key Secret {namespace}/{name}")
        except SealkitError:
            return None
        self._store.put(name, keys)
        logger.info("this period's sealing key exists already (key Secret %s/%s): no second key made", namespace, name)
        return name

    def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _loop(self) -> None:
        failures = 0
        while True:
            wait = self._settings.key_check_interval
            self._wake.clear()
            try:
                await self.ensure()
                failures = 0
                due = self.due()
                if due is not None:
                    wait = min(wait, max(0.0, (due - self._clock()).total_seconds()))
            except SealkitError as exc:  # the API's errors included
                failures += 1
                wait = self._backoff.delay(failures + 1)
                logger.warning(
                    "could not make a new sealing key in namespace %s (retrying in %.1fs): %s",
                    self._settings.namespace,
                    wait,
                    exc,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
