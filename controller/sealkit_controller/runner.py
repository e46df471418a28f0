"""Running the controller: in the foreground for `sealkit controller`, or on a thread for tests and demos."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from typing import Any, Self

from sealkit_controller.kubeapi import load_configuration, quiet_client_loggers
from sealkit_controller.operator import Runtime, build_registry, kopf_settings
from sealkit_controller.settings import Settings

logger = logging.getLogger("sealkit.controller")


class JsonFormatter(logging.Formatter):
    """One JSON object a line (--log-format json)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                "level": record.levelname,
                "logger": record.name,
                "msg": record.getMessage(),
            }
        )


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    quiet_client_loggers()
    if root.level > logging.DEBUG:
        # Kopf logs a line per handled watch event; with every Secret of the cluster watched that is noise.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)


async def run_operator(
    settings: Settings,
    *,
    configuration: Any = None,
    ready_flag: Any = None,
    stop_flag: Any = None,
    runtime: Runtime | None = None,
) -> None:
    """Run Kopf with the controller's handlers until `stop_flag` (or a signal, on the main thread)."""
    import kopf

    quiet_client_loggers()
    if runtime is None:
        if configuration is None:
            configuration = load_configuration(settings.kubeconfig, settings.context)
        runtime = Runtime(settings, configuration)
    namespaces = settings.watched_namespaces()
    await kopf.operator(
        registry=build_registry(runtime),
        settings=kopf_settings(settings),
        standalone=True,
        identity=settings.identity(),  # type: ignore[arg-type]  # kopf.Identity is a NewType of str
        clusterwide=namespaces is None,
        namespaces=namespaces or (),
        ready_flag=ready_flag,
        stop_flag=stop_flag,
    )


def run(settings: Settings) -> None:
    """The foreground controller (`sealkit controller`)."""
    configuration = load_configuration(settings.kubeconfig, settings.context)
    logger.info(
        "sealkit controller starting: API server %s, keys in namespace %s, watching %s",
        configuration.host,
        settings.namespace,
        ", ".join(settings.watched_namespaces() or ["all namespaces"]),
    )
    asyncio.run(run_operator(settings, configuration=configuration))


class ControllerThread:
    """The real controller on its own thread and event loop, for tests: `with ControllerThread(s) as c:`."""

    def __init__(self, settings: Settings, *, configuration: Any = None) -> None:
        self.settings = settings
        self.configuration = configuration or load_configuration(settings.kubeconfig, settings.context)
        self.runtime = Runtime(settings, self.configuration)
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def _main(self) -> None:
        try:
            asyncio.run(run_operator(self.settings, runtime=self.runtime, ready_flag=self._ready, stop_flag=self._stop))
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
