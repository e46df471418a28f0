"""The Kopf side: settings, a registry of handlers, and the objects they share for one run.

Kopf watches, logs in, and hands every event to the controller; it keeps no bookkeeping of its own on any
object. Only event-level handlers are registered (no create/update/delete handlers), so Kopf writes no
diff-base annotation (a copy of the spec that can reach the 256 KiB annotation limit), no progress
annotations, no finalizers and nothing in status, on SealedSecrets or on Secrets. The storages are still
pointed at small annotations under a short prefix, should a handler with change tracking ever be added.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from dataclasses import dataclass, field
from typing import Any

from sealkit.bitnami import GROUP, PLURAL, VERSION
from sealkit.errors import SealkitError
from sealkit_controller.controller import Controller
from sealkit_controller.escrowkeeper import EscrowKeeper, EscrowMetrics, build_keeper
from sealkit_controller.keymanager import KeyManager
from sealkit_controller.keystore import KeyStore
from sealkit_controller.kubeapi import ApiError, KubeClient, connection_info
from sealkit_controller.metrics import Metrics
from sealkit_controller.servers import Servers
from sealkit_controller.settings import SECRET_CREATION_TIMESTAMP, Settings

logger = logging.getLogger("sealkit.controller")

KOPF_PREFIX = "kopf.sealkit.dev"


def kopf_settings(settings: Settings) -> Any:
    """Kopf configured for one replica that posts its own events and stores nothing on objects."""
    import kopf

    kopf_config = kopf.OperatorSettings()
    kopf_config.peering.standalone = True
    kopf_config.peering.clusterwide = settings.watched_namespaces() is None
    kopf_config.posting.enabled = False
    kopf_config.posting.loggers = False
    kopf_config.scanning.disabled = True
    kopf_config.persistence.finalizer = f"{KOPF_PREFIX}/finalizer"
    kopf_config.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=KOPF_PREFIX)
    kopf_config.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=KOPF_PREFIX, key="last")
    kopf_config.watching.server_timeout = settings.watch_server_timeout
    kopf_config.networking.error_backoffs = list(settings.watch_error_backoffs)
    kopf_config.execution.max_workers = settings.threads
    return kopf_config


@dataclass
class Runtime:
    """Everything one controller run shares; built at Kopf start-up, torn down at clean-up."""

    settings: Settings
    configuration: Any
    keys: KeyStore = field(default_factory=KeyStore)
    metrics: Metrics = field(default_factory=Metrics)
    servers: Servers = field(default_factory=Servers)
    client: KubeClient | None = None
    executor: concurrent.futures.ThreadPoolExecutor | None = None
    controller: Controller | None = None
    key_manager: KeyManager | None = None
    escrow: EscrowKeeper | None = None
    escrow_metrics: EscrowMetrics | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.keys.by_creation = self.settings.key_order_priority == SECRET_CREATION_TIMESTAMP

    async def start(self) -> None:
        s = self.settings
        self.executor = concurrent.futures.ThreadPoolExecutor(s.threads, thread_name_prefix="sealkit")
        self.client = KubeClient(self.configuration, s.api_timeout, qps=s.kubeclient_qps, burst=s.kubeclient_burst)
        self.controller = Controller(s, self.client, self.keys, self.executor, metrics=self.metrics)
        self.key_manager = KeyManager(s, self.client, self.keys, self.controller.run)
        await self.key_manager.load()
        if s.escrow_enabled:
            # Restore escrowed keys before deciding to generate one (raises if the vault cannot be read).
            self.escrow_metrics = self.escrow_metrics or EscrowMetrics(self.metrics.registry)
            self.escrow = build_keeper(s, self.client, self.keys, self.controller, self.escrow_metrics)
            if await self.escrow.restore_if_empty():
                await self.key_manager.load()
        await self.key_manager.ensure()
        await self.servers.start(s, self.keys, self.metrics)
        self.controller.start()
        self.key_manager.start()
        if self.escrow is not None:
            self.escrow.start()
        self.started.set()

    async def stop(self) -> None:
        await self.servers.stop()
        if self.escrow is not None:
            await self.escrow.stop()
            self.escrow.close()
            self.escrow = None
        if self.key_manager is not None:
            await self.key_manager.stop()
        if self.controller is not None:
            await self.controller.stop()
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
        if self.client is not None:
            self.client.close()


def build_registry(runtime: Runtime) -> Any:
    """Kopf handlers bound to `runtime` (a registry per run, so tests can run several)."""
    import kopf

    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> Any:
        return connection_info(runtime.configuration)

    @kopf.on.startup(registry=registry)
    async def startup(**_: Any) -> None:
        try:
            await runtime.start()
        except (ApiError, SealkitError, OSError) as exc:
            await runtime.stop()
            logger.error("start-up failed (retrying): %s", exc)
            raise kopf.TemporaryError(str(exc), delay=runtime.settings.retry_base_delay) from None

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        await runtime.stop()

    @kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)
    async def sealed_secret_event(event: Any, **_: Any) -> None:
        if runtime.controller is not None and isinstance(event.get("object"), dict):
            runtime.controller.observe_sealed_secret(event["object"], deleted=event.get("type") == "DELETED")

    @kopf.on.event("v1", "secrets", registry=registry)
    async def secret_event(event: Any, **_: Any) -> None:
        if runtime.controller is not None and isinstance(event.get("object"), dict):
            runtime.controller.observe_secret(event["object"], deleted=event.get("type") == "DELETED")

    if runtime.settings.namespace_selector:

        @kopf.on.event("v1", "namespaces", registry=registry)
        async def namespace_event(event: Any, **_: Any) -> None:
            if runtime.controller is not None and isinstance(event.get("object"), dict):
                runtime.controller.observe_namespace(event["object"], deleted=event.get("type") == "DELETED")

    return registry
