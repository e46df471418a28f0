"""The one place the running controller is built from its settings: Kopf, the rooms, and how they start.

Flow: `run` (foreground, `sealkit controller`) or `ControllerThread` (a thread, for the demo and tests)
loads the Kubernetes configuration (`sealkit.clients.kube`) and starts Kopf with `build_registry`. At
Kopf's start-up, `Runtime.start` builds the rooms in order: the Kubernetes client and thread pool, the
reconciler (`reconciling`), the key manager (which opens wrapped keys through the KEK), escrow restore
before any key is generated (`keys`), the first key decision, the HTTP and metrics listeners (`serving`);
then the loops start. Clean-up stops them in reverse. A key that cannot be made safely at start (the KEK or
the escrow vault failing) does not stop the start: the keys held serve, /readyz says whether any is usable,
and the renewal loop retries with backoff.

With leader election (`--leader-elect`, docs/high-availability.md) every replica builds all of this, keeps
its key ring current from the watch (and a listing of the key Secrets every few minutes) and serves the HTTP
API and metrics, but the writers (the work queue, key renewal and escrow) run only while it leads:
`LeaderElector` (plumbing) calls `Runtime.lead` on taking the Lease (a fresh listing, then the writers start)
and `Runtime.follow` on losing it. The controller's
Kubernetes client asks the election's `Fence` before every write, so a replica that cannot renew stops
writing before its lease can pass to another. Kopf's own peering stays off (standalone) either way.

Kopf watches, logs in, and hands every event to the controller; it keeps no bookkeeping of its own on any
object. Only event-level handlers are registered (no create/update/delete handlers), so Kopf writes no
diff-base annotation (a copy of the spec that can reach the 256 KiB annotation limit), no progress
annotations, no finalizers and nothing in status, on SealedSecrets or on Secrets. The storages are still
pointed at small annotations under a short prefix, should a handler with change tracking ever be added. Kopf
builds a diff base (a deep copy of the body) for every watch event, whatever the handlers; with event-level
handlers only nothing reads it, so `kopf_settings` gives Kopf a storage that builds none (`build_registry`
refuses change handlers and daemons while that is so).
Nor does Kopf keep a memory per object in the process (`kopf_memories`): with event handlers only, nothing
reads one back, and for every SealedSecret and every Secret it cost about 0.8 KB for as long as the object
lived.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Self

from sealkit.bitnami import GROUP, PLURAL, VERSION
from sealkit.clients.kube.api import ApiError, KubeClient
from sealkit.clients.kube.config import Connection, connection_of, load_configuration
from sealkit.errors import SealkitError
from sealkit.retry import Backoff
from sealkit_controller.keys.escrowkeeper import EscrowKeeper, EscrowMetrics, build_keeper
from sealkit_controller.keys.kekreport import KekReport, KeyMetrics, own_object
from sealkit_controller.keys.keystore import KeyStore
from sealkit_controller.keys.renewal import KeyManager
from sealkit_controller.keys.writes import KeyWrites
from sealkit_controller.plumbing.election import ElectionConfig, Fence, LeaderElector
from sealkit_controller.plumbing.logs import log_loop_errors, quiet_libraries
from sealkit_controller.plumbing.workqueue import log_unexpected
from sealkit_controller.reconciling.reconciler import Controller
from sealkit_controller.serving.metrics import Metrics
from sealkit_controller.serving.servers import Servers
from sealkit_controller.settings import SECRET_CREATION_TIMESTAMP, Settings

logger = logging.getLogger(__name__)

KOPF_PREFIX = "kopf.sealkit.io"
LIST_CHUNK = 500  # objects per page of a listing (`limit`/`continue`)
WORKER_IDLE_SECONDS = 0.1


def _event_only_diffbase() -> Any:
    """Kopf's annotation diff-base storage, but building an empty essence: for event-level handlers only.

    Kopf calls `build` on every watch event (a deep copy of the whole body, ciphertext or Secret data
    included) to detect changes for change handlers and daemons; this controller registers neither, so
    the essence is never compared or stored, and building it cost about a tenth of each event's handling.
    """
    import kopf

    class EventOnlyDiffBase(kopf.AnnotationsDiffBaseStorage):
        def build(self, *, body: Any, extra_fields: Any = None) -> Any:
            return kopf.BodyEssence()

    return EventOnlyDiffBase(prefix=KOPF_PREFIX, key="last")


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
    kopf_config.persistence.diffbase_storage = _event_only_diffbase()
    kopf_config.watching.server_timeout = settings.watch_server_timeout
    kopf_config.networking.error_backoffs = list(settings.watch_error_backoffs)
    kopf_config.execution.max_workers = settings.threads
    # Memory stays flat with many objects: the first listing comes in pages, and Kopf's per-object worker
    # (a task holding the object's last event) ends once the event is handled, instead of idling 5 s: a
    # listing of 10,000 objects otherwise holds 10,000 workers and bodies at once.
    kopf_config.watching.chunk_size = LIST_CHUNK
    kopf_config.queueing.idle_timeout = WORKER_IDLE_SECONDS
    return kopf_config


def kopf_memories() -> Any:
    """Kopf's per-object memories, remembering no object: each event gets a fresh one, dropped after it.

    Kopf keeps one (memo, error throttler, daemon and index state, resume flags) per uid of every watched
    object, SealedSecrets and Secrets, until the object is deleted. Only change, resume and daemon handlers
    and indexes read them back; the controller registers none of these (its own records are in `reconciling`).
    The one other use, throttling an object whose events keep failing inside Kopf itself, starts afresh per event.
    """
    from kopf._cogs.structs.bodies import RawBody
    from kopf._cogs.structs.ephemera import AnyMemo
    from kopf._core.reactor.inventory import ResourceMemories, ResourceMemory  # Kopf's own (pinned to 1.45.x)

    class ForgetfulMemories(ResourceMemories):
        async def recall(
            self,
            raw_body: RawBody,
            *,
            memobase: AnyMemo | None = None,
            noticed_by_listing: bool = False,
            ephemeral: bool = False,
        ) -> ResourceMemory:
            return await super().recall(
                raw_body, memobase=memobase, noticed_by_listing=noticed_by_listing, ephemeral=True
            )

    return ForgetfulMemories()


def kopf_connection(connection: Connection) -> Any:
    """Kopf's credentials from the client's plain connection data."""
    import kopf

    return kopf.ConnectionInfo(
        server=connection.server,
        ca_path=connection.ca_path,
        insecure=connection.insecure,
        username=connection.username,
        password=connection.password,
        scheme=connection.scheme,
        token=connection.token,
        certificate_path=connection.certificate_path,
        private_key_path=connection.private_key_path,
    )


def escrow_credential(settings: Settings) -> object:
    """The azure-identity credential `--escrow-auth` names (`sealkit.clients.keyvault.credentials`); its errors
    and hints name the controller's flags and the AZURE_* variables (it has no --tenant-id...)."""
    from sealkit.clients.keyvault.credentials import AuthOptions, make_credential
    from sealkit.vault.urls import check_resource

    flag = "--escrow-accept-challenge-resource"
    options = AuthOptions(
        mode=settings.escrow_auth,
        timeout=settings.escrow_timeout,
        accepted_resources=tuple(check_resource(r, flag) for r in settings.escrow_accept_challenge_resources),
        mode_flag="--escrow-auth",
    )
    return make_credential(options)


def kek_credential(settings: Settings) -> object:
    """The azure-identity credential `--kek-auth` names (its errors and hints name the controller's flags)."""
    from sealkit.clients.keyvault.credentials import AuthOptions, make_credential
    from sealkit.vault.urls import check_resource

    flag = "--kek-accept-challenge-resource"
    options = AuthOptions(
        mode=settings.kek_auth,
        timeout=settings.kek_timeout,
        accepted_resources=tuple(check_resource(r, flag) for r in settings.kek_accept_challenge_resources),
        mode_flag="--kek-auth",
    )
    return make_credential(options)


class KekClient:
    """The KEK client, built on first use (azure SDKs load only when a key is wrapped or unwrapped); thread-safe."""

    def __init__(self, settings: Settings, credential: object = None) -> None:
        self._settings = settings
        self._credential = credential
        self._lock = threading.Lock()
        self._kek: Any = None

    def __call__(self) -> Any:
        with self._lock:
            if self._kek is None:
                from sealkit.clients.keyvault.kek import VaultKek
                from sealkit.wrapping.envelope import KekError

                s = self._settings
                logging.getLogger("azure").setLevel(logging.ERROR)  # no request logs, no multi-line warnings
                try:
                    credential = self._credential if self._credential is not None else kek_credential(s)
                except SealkitError as exc:  # a credential that cannot be built: reported like any KEK failure
                    raise KekError(exc.what, "credential", where=exc.where or f"--kek-auth {s.kek_auth}") from None
                self._kek = VaultKek(
                    s.kek_url or None,
                    credential,
                    timeout=s.kek_timeout,
                    verify_challenge_resource=not s.kek_accept_challenge_resources,
                )
                self._credential = credential
            return self._kek

    def close(self) -> None:
        with self._lock:
            if self._kek is not None:
                self._kek.close()
                self._kek = None


@dataclass
class Runtime:
    """Everything one controller run shares; built at Kopf start-up, torn down at clean-up."""

    settings: Settings
    configuration: Any  # kubernetes.client.Configuration (the SDK is untyped)
    escrow_credential: object = None
    kek_credential: object = None
    keys: KeyStore = field(default_factory=KeyStore)
    metrics: Metrics = field(default_factory=Metrics)
    servers: Servers = field(default_factory=Servers)
    client: KubeClient | None = None
    executor: concurrent.futures.ThreadPoolExecutor | None = None
    controller: Controller | None = None
    key_manager: KeyManager | None = None
    escrow: EscrowKeeper | None = None
    escrow_metrics: EscrowMetrics | None = None
    fence: Fence | None = None
    elector: LeaderElector | None = None
    lease_client: KubeClient | None = None
    key_metrics: KeyMetrics | None = None
    kek_report: KekReport | None = None
    kek: KekClient | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.keys.by_creation = self.settings.key_order_priority == SECRET_CREATION_TIMESTAMP
        self.metrics.omit_secret_labels = self.settings.metrics_omit_secret_labels

    async def start(self) -> None:
        s = self.settings
        self.executor = concurrent.futures.ThreadPoolExecutor(s.threads, thread_name_prefix="sealkit")
        self.fence = Fence() if s.leader_elect else None
        qps, burst = s.kube_rate()
        self.client = KubeClient(
            self.configuration,
            s.api_timeout,
            qps=qps,
            burst=burst,
            write_guard=self.fence.guard if self.fence is not None else None,
        )
        self.controller = Controller(s, self.client, self.keys, self.executor, metrics=self.metrics)
        run = self.controller.run
        self.kek = KekClient(s, self.kek_credential)
        self.key_metrics = self.key_metrics or KeyMetrics(self.metrics.registry)
        own = own_object(s.namespace, s.deployment_name, s.instance)
        self.kek_report = KekReport(
            self.keys, self.key_metrics, namespace=s.namespace, events=self.controller.events, own=own
        )
        writes = KeyWrites(self.client, run, s.namespace, gate=self.fence.check if self.fence is not None else None)
        self.key_manager = KeyManager(
            s,
            self.client,
            self.keys,
            run,
            writes=writes,
            kek=self.kek,
            wrap_new_keys=s.wraps_keys,
            report=self.kek_report,
        )
        self.controller.key_observer = self.key_manager.observe_secret
        await self.key_manager.load()
        self.key_manager.start_resync()  # every replica, leader or not, until clean-up (`KeyManager.resync`)
        if s.escrow_enabled:
            # Restore escrowed keys before deciding to generate one (raises if the vault cannot be read).
            if self.escrow_credential is None:
                self.escrow_credential = escrow_credential(s)
            self.escrow_metrics = self.escrow_metrics or EscrowMetrics(self.metrics.registry)
            self.escrow = build_keeper(
                s,
                self.escrow_credential,
                self.client,
                self.keys,
                run,
                self.controller.events,
                self.escrow_metrics,
                writes=writes,
                wrap=self._wrap_for_escrow if s.wraps_keys else None,
            )
            self.key_manager.escrow_gate = self.escrow.escrow_now
        if self.fence is None:
            await self._prepare_keys()
        await self.servers.start(s, self.keys, self.metrics, not_ready=self.not_ready)
        if self.fence is None:
            self.metrics.leader.set(1)
            self._start_writers()
        else:
            self._start_election()
        self.started.set()

    async def _prepare_keys(self) -> None:
        """Escrowed keys restored into an empty namespace, then a key made if one is due (a writer's job).

        A key that cannot be made safely now (the KEK or the escrow vault failing) is reported, not raised:
        the keys held keep serving and the renewal loop retries with backoff.
        """
        assert self.key_manager is not None
        if self.escrow is not None and await self.escrow.restore_if_empty():
            await self.key_manager.load()
        await self.key_manager.ensure_or_report()

    def _start_writers(self) -> None:
        assert self.key_manager is not None and self.controller is not None
        self.controller.start()
        self.key_manager.start()
        if self.escrow is not None:
            self.escrow.start()

    def _start_election(self) -> None:
        s = self.settings
        assert self.fence is not None
        self.lease_client = lease_client(self.configuration, s)
        config = ElectionConfig(
            namespace=s.namespace,
            name=s.leader_elect_lease_name,
            identity=s.identity(),
            lease_duration=s.leader_elect_lease_duration,
            renew_deadline=s.leader_elect_renew_deadline,
            retry_period=s.leader_elect_retry_period,
        )
        self.elector = LeaderElector(
            self.lease_client, config, self.fence, on_started=self.lead, on_stopped=self.follow
        )
        self.elector.start()

    async def lead(self) -> None:
        """This replica took the Lease: resume from a fresh listing, then run the writers until `follow`."""
        assert self.controller is not None and self.key_manager is not None
        self.metrics.leader.set(1)
        self.metrics.leader_transitions.inc()
        backoff = Backoff(self.settings.retry_base_delay, self.settings.retry_max_delay)
        attempt = 0
        while True:
            try:
                listed = await self.controller.run(self._list_sealed_secrets)
                await self.key_manager.load()
                await self._prepare_keys()
                break
            except SealkitError as exc:  # API trouble, a key that cannot be made or restored yet: retry
                attempt += 1
                delay = backoff.delay(attempt)
                logger.warning("taking over as leader: retrying in %.1fs: %s", delay, exc)
                await asyncio.sleep(delay)
        queued = self.controller.resume(listed)
        logger.info("leading: %d SealedSecret(s) queued from a fresh listing", queued)
        self.key_manager.start()
        if self.escrow is not None:
            self.escrow.start()

    async def follow(self) -> None:
        """This replica lost (or gave up) the Lease: the writers stop; watching and serving go on."""
        self.metrics.leader.set(0)
        if self.controller is not None:
            await self.controller.pause()
        if self.key_manager is not None:
            await self.key_manager.stop()
        if self.escrow is not None:
            await self.escrow.stop()

    def _list_sealed_secrets(self) -> list[dict[str, Any]]:
        """Every SealedSecret of the watched namespaces, within the label selector (blocking)."""
        assert self.client is not None
        s = self.settings
        namespaces = s.watched_namespaces()
        if namespaces is None:
            return self.client.list_sealed_secrets(None, s.label_selector)
        items: list[dict[str, Any]] = []
        for namespace in namespaces:
            try:
                items.extend(self.client.list_sealed_secrets(namespace, s.label_selector))
            except ApiError as exc:
                if exc.status != 404:
                    raise
        return items

    def _wrap_for_escrow(self, key: Any) -> Any:
        from sealkit.wrapping.envelope import wrap_verified

        assert self.kek is not None
        return wrap_verified(key, self.kek())

    def not_ready(self) -> str | None:
        """Why /readyz answers 503: no key to unseal with (None: ready)."""
        if len(self.keys.ring):
            return None
        waiting = self.keys.waiting_secret_names()
        last = self.kek_report.last_error if self.kek_report is not None else None
        if waiting:
            detail = last or "unwrapping"
            return f"no usable sealing key: {len(waiting)} wrapped key Secret(s) not unwrapped yet ({detail})"
        return f"no usable sealing key yet ({last})" if last else "no usable sealing key yet"

    async def stop(self) -> None:
        if self.elector is not None:  # a leader stops its writers, then hands the Lease over at once
            await self.elector.stop(release=True)
            self.elector = None
        if self.lease_client is not None:
            self.lease_client.close()
            self.lease_client = None
        await self.servers.stop()
        if self.escrow is not None:
            await self.escrow.stop()
            self.escrow.close()
            self.escrow = None
        if self.key_manager is not None:
            await self.key_manager.stop()
            await self.key_manager.close()
        if self.controller is not None:
            await self.controller.stop()
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
        if self.client is not None:
            self.client.close()
        if self.kek is not None:
            self.kek.close()


@contextlib.contextmanager
def _unexpected_logged(kind: str, event: Any) -> Iterator[None]:
    """An error escaping a watch handler (a bug) is one warning naming the object and where it was raised.

    Left to Kopf, it would be an error line with the error's message (which may quote a value of the
    object) and its traceback, under the handler's Python name.
    """
    try:
        yield
    except Exception as exc:
        meta = (event.get("object") or {}).get("metadata") or {}
        name = "/".join(str(part) for part in (meta.get("namespace"), meta.get("name")) if part)
        log_unexpected(f"handling a watch event of {kind} {name}", exc)


def start_up_delay(settings: Settings, retry: int) -> float:
    """The wait before start-up is tried again after its try number `retry` + 1 failed: doubling from
    `retry_base_delay` up to `retry_max_delay`, as the renewal loop backs off. Each try may talk to an API server
    that is failing and make an RSA key: retrying at a fixed second would hammer both."""
    return Backoff(settings.retry_base_delay, settings.retry_max_delay).delay(retry + 1)


def build_registry(runtime: Runtime) -> Any:
    """Kopf handlers bound to `runtime` (a registry per run, so tests can run several)."""
    import kopf

    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry, id="login")
    def login(**_: Any) -> Any:
        return kopf_connection(connection_of(runtime.configuration))

    @kopf.on.startup(registry=registry, id="startup")
    async def startup(retry: int = 0, **_: Any) -> None:
        # Kopf counts the retries (`retry`: 0 on the first try) and waits the TemporaryError's delay; its own
        # line for each ("Activity 'startup' failed temporarily") is held back by `quiet_libraries`.
        try:
            await runtime.start()
        except (SealkitError, OSError) as exc:
            await runtime.stop()
            delay = start_up_delay(runtime.settings, retry)
            logger.warning("start-up failed (retrying in %.1fs): %s", delay, exc)
            raise kopf.TemporaryError(str(exc), delay=delay) from None
        except Exception as exc:  # a bug: Kopf would log its traceback, which may quote a value
            await runtime.stop()
            delay = start_up_delay(runtime.settings, retry)
            log_unexpected("start-up", exc, retrying_in=delay)
            raise kopf.TemporaryError("start-up failed unexpectedly", delay=delay) from None

    @kopf.on.cleanup(registry=registry, id="cleanup")
    async def cleanup(**_: Any) -> None:
        await runtime.stop()

    @kopf.on.event(GROUP, VERSION, PLURAL, registry=registry, id="sealedsecrets")
    async def sealed_secret_event(event: Any, **_: Any) -> None:
        if runtime.controller is not None and isinstance(event.get("object"), dict):
            with _unexpected_logged("SealedSecret", event):
                runtime.controller.observe_sealed_secret(event["object"], deleted=event.get("type") == "DELETED")

    @kopf.on.event("v1", "secrets", registry=registry, id="secrets")
    async def secret_event(event: Any, **_: Any) -> None:
        if runtime.controller is not None and isinstance(event.get("object"), dict):
            with _unexpected_logged("Secret", event):
                runtime.controller.observe_secret(event["object"], deleted=event.get("type") == "DELETED")

    if runtime.settings.namespace_selector:

        @kopf.on.event("v1", "namespaces", registry=registry, id="namespaces")
        async def namespace_event(event: Any, **_: Any) -> None:
            if runtime.controller is not None and isinstance(event.get("object"), dict):
                with _unexpected_logged("Namespace", event):
                    runtime.controller.observe_namespace(event["object"], deleted=event.get("type") == "DELETED")

    # The diff-base storage builds no essence (`kopf_settings`): only event-level handlers can work with it.
    assert not registry._changing.get_all_handlers(), "change handlers need Kopf's real diff base"
    assert not registry._spawning.get_all_handlers(), "daemons need Kopf's real diff base"
    return registry


async def run_operator(
    runtime: Runtime,
    *,
    ready_flag: threading.Event | None = None,
    stop_flag: threading.Event | None = None,
) -> None:
    """Run Kopf with the controller's handlers until `stop_flag` (or a signal, on the main thread)."""
    import kopf

    quiet_libraries()
    asyncio.get_running_loop().set_exception_handler(log_loop_errors)
    settings = runtime.settings
    namespaces = settings.watched_namespaces()
    await kopf.operator(
        registry=build_registry(runtime),
        settings=kopf_settings(settings),
        memories=kopf_memories(),
        standalone=True,
        identity=settings.identity(),  # type: ignore[arg-type]  # kopf.Identity is a NewType of str
        clusterwide=namespaces is None,
        namespaces=namespaces or (),
        ready_flag=ready_flag,
        stop_flag=stop_flag,
    )


def run(settings: Settings, *, escrow_credential: object = None, kek_credential: object = None) -> None:
    """The foreground controller (`sealkit controller`)."""
    configuration = load_configuration(settings.kubeconfig, settings.context)
    logger.info(
        "sealkit controller starting: API server %s, keys in namespace %s, watching %s",
        configuration.host,
        settings.namespace,
        ", ".join(settings.watched_namespaces() or ["all namespaces"]),
    )
    asyncio.run(run_operator(Runtime(settings, configuration, escrow_credential, kek_credential)))


def lease_client(configuration: Any, settings: Settings) -> KubeClient:
    """The leader election's own client and connections (the Lease is never queued behind the reconciler's
    requests). urllib3 retries nothing (retries=0): the election loop is the retry, and a hung renewal must
    cost one timeout (at most half the renew deadline), not one per urllib3 retry. Built on a copy of the
    configuration, so the controller's clients keep theirs."""
    timeout = min(settings.api_timeout, settings.leader_elect_renew_deadline / 2)
    return KubeClient(copy.copy(configuration), timeout, retries=0)


class ControllerThread:
    """The real controller on its own thread and event loop, for the demo and tests: `with ControllerThread(s):`."""

    def __init__(
        self,
        settings: Settings,
        *,
        configuration: Any = None,
        escrow_credential: object = None,
        kek_credential: object = None,
    ) -> None:
        self.settings = settings
        self.configuration = configuration or load_configuration(settings.kubeconfig, settings.context)
        self.runtime = Runtime(settings, self.configuration, escrow_credential, kek_credential)
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def _main(self) -> None:
        try:
            asyncio.run(run_operator(self.runtime, ready_flag=self._ready, stop_flag=self._stop))
        except BaseException as exc:
            self.error = exc

    def start(self, timeout: float = 20.0) -> Self:
        if self._thread is not None:
            return self
        self._ready.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._main, name="sealkit-controller", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError(f"the controller did not start within {timeout} s (error: {self.error!r})")
        return self

    def stop(self, timeout: float = 20.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError("the controller did not stop")
            self._thread = None

    @property
    def api_url(self) -> str:
        """Where the HTTP API (:8080 in a cluster) listens, e.g. http://127.0.0.1:41234."""
        return self.runtime.servers.urls.get("api", "")

    @property
    def metrics_url(self) -> str:
        return self.runtime.servers.urls.get("metrics", "")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
