"""Loading, generating and renewing the controller's sealing keys in the cluster (key Secrets).

At start the key Secrets of the controller's namespace are listed; afterwards the Secret watch keeps the
`KeyStore` current (see `Controller.observe_secret`). A background task makes a new key when none is held,
when the newest predates the cutoff, or when the newest's NotBefore is older than the renew period.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from sealkit.clients.kube.api import KubeClient
from sealkit.errors import SealkitError
from sealkit.keygen import generate_key_pair
from sealkit.keysecrets import ACTIVE_SELECTOR, creation_time, key_secret_manifest
from sealkit.retry import Backoff
from sealkit_controller.keys.keystore import KeyStore, key_due
from sealkit_controller.plumbing.background import BackgroundLoop
from sealkit_controller.plumbing.pool import Run
from sealkit_controller.settings import Settings

logger = logging.getLogger(__name__)


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

    async def ensure(self) -> bool:
        """Generate a key now if one is due; True if one was made."""
        due = self.due()
        if due is None or due > self._clock():
            return False
        await self.generate()
        return True

    async def generate(self) -> str:
        """A new key pair in a new key Secret; it seals from now on, the older ones keep opening."""
        s = self._settings
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
        created = await self._run(self._client.create_secret, s.namespace, manifest)
        name = str((created.get("metadata") or {}).get("name") or s.key_prefix)
        born = creation_time(created) if self._store.by_creation else None
        self._store.put(name, [dataclasses.replace(generated.key, not_before=born) if born else generated.key])
        logger.info("generated sealing key %s in key Secret %s/%s", generated.key.fingerprint, s.namespace, name)
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
