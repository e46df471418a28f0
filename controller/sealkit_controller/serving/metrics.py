"""Prometheus metrics with Bitnami's names and labels, so existing dashboards and alerts keep working.

Each controller run has its own registry (tests run several controllers in one process). Values follow
Bitnami: condition_info is 1 (True), -1 (False), 0 (unknown); unseal_errors_total's reason is one of
fetch, unseal, update, unmanaged, status; http metrics carry the route's path, not the raw URL. With leader
election, `leader` says which replica writes; only the leader reconciles, so only its condition_info is filled.

condition_info has a series per SealedSecret and condition, so it is kept as one compact record per object
(`ConditionInfo`: a tuple of shared (condition, value) pairs) rather than as a `Gauge` child per series (an
object with its own lock and label lists: about 1.3 KB per SealedSecret); the exposition is the same.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Metric,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from prometheus_client.core import GaugeMetricFamily

PREFIX = "sealed_secrets_controller"
CONDITION_VALUES = {"True": 1.0, "False": -1.0, "Unknown": 0.0}

# Reasons of unseal_errors_total, as Bitnami labels them.
FETCH = "fetch"
UNSEAL = "unseal"
UPDATE = "update"
UNMANAGED = "unmanaged"
STATUS = "status"


def version() -> str:
    try:
        return importlib.metadata.version("sealkit")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class ConditionInfo:
    """`condition_info{namespace, name, condition}`: series in the order first seen, as a labelled `Gauge` has.

    Set on the event loop, read by `collect` when /metrics is scraped (a snapshot of the records).
    """

    name = f"{PREFIX}_condition_info"
    documentation = "Current SealedSecret condition status. Values are -1 (false), 0 (unknown or absent), 1 (true)"
    labels = ("namespace", "name", "condition")

    def __init__(self, registry: CollectorRegistry) -> None:
        self._records: dict[tuple[str, str], tuple[tuple[str, float], ...]] = {}
        self._pairs: dict[tuple[str, float], tuple[str, float]] = {}  # shared by every object
        registry.register(self)

    def set(self, namespace: str, name: str, conditions: Mapping[str, str]) -> None:
        key = (namespace, name)
        values = dict(self._records.get(key, ()))
        for condition, status in conditions.items():
            values[condition] = CONDITION_VALUES.get(status, 0.0)
        self._records[key] = tuple(self._pairs.setdefault(pair, pair) for pair in values.items())

    def remove(self, namespace: str, name: str) -> None:
        self._records.pop((namespace, name), None)

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.name, self.documentation, labels=self.labels)

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        for (namespace, name), pairs in list(self._records.items()):
            for condition, value in pairs:
                family.add_metric((namespace, name, condition), value)
        yield family


class Metrics:
    """The controller's metrics in their own registry; `exposition()` is the /metrics body."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, *, omit_secret_labels: bool = False) -> None:
        # --metrics-omit-secret-labels: condition_info (one series per SealedSecret, named) stays empty.
        self.omit_secret_labels = omit_secret_labels
        self.registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        build = Gauge(f"{PREFIX}_build_info", "Build information.", ["revision"], registry=self.registry)
        build.labels(version()).set(1)
        self.unseal_requests = Counter(
            f"{PREFIX}_unseal_requests_total", "Total number of sealed secret unseal requests", registry=self.registry
        )
        self.unseal_errors = Counter(
            f"{PREFIX}_unseal_errors_total",
            "Total number of sealed secret unseal errors by reason",
            ["reason", "namespace"],
            registry=self.registry,
        )
        self.condition_info = ConditionInfo(self.registry)
        self.http_requests = Counter(
            f"{PREFIX}_http_requests_total",
            "A counter for requests to the wrapped handler.",
            ["path", "code", "method"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "A histogram of latencies for requests.",
            ["path", "method"],
            registry=self.registry,
        )
        self.leader = Gauge(
            f"{PREFIX}_leader",
            "1 while this replica writes (holds the leader Lease, or runs alone), 0 while it only serves",
            registry=self.registry,
        )
        self.leader_transitions = Counter(
            f"{PREFIX}_leader_transitions_total",
            "Times this replica became the leader",
            registry=self.registry,
        )

    def unseal_error(self, reason: str, namespace: str) -> None:
        self.unseal_errors.labels(reason, namespace).inc()

    def observe_conditions(self, namespace: str, name: str, conditions: dict[str, str]) -> None:
        """condition type -> status ("True"/"False"/"Unknown") of one SealedSecret."""
        if not self.omit_secret_labels:
            self.condition_info.set(namespace, name, conditions)

    def forget(self, namespace: str, name: str) -> None:
        """A deleted (or no longer watched) SealedSecret leaves condition_info."""
        self.condition_info.remove(namespace, name)

    def observe_http(self, path: str, method: str, code: int, seconds: float) -> None:
        self.http_requests.labels(path, str(code), method.lower()).inc()
        self.http_duration.labels(path, method.lower()).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
