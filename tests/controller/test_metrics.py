"""condition_info kept as compact records: the same exposition as a labelled prometheus `Gauge` gives."""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from sealkit_controller.serving.metrics import CONDITION_VALUES, ConditionInfo, Metrics

STEPS: list[tuple[str, str, str, dict[str, str]]] = [
    ("set", "default", "a", {"Synced": "True", "Ready": "True"}),
    ("set", "other", "b", {"Synced": "False", "Ready": "False"}),
    ("set", "default", "a", {"Synced": "False"}),
    ("set", "default", "c", {"Ready": "Unknown", "Synced": "Maybe"}),
    ("remove", "other", "b", {}),
    ("set", "other", "b", {"Synced": "True", "Ready": "True"}),
    ("remove", "nowhere", "x", {}),
]


def _condition_lines(registry: CollectorRegistry) -> list[str]:
    return [line for line in generate_latest(registry).decode().splitlines() if "condition_info" in line]


def test_same_exposition_as_a_labelled_gauge() -> None:
    compact_registry, gauge_registry = CollectorRegistry(), CollectorRegistry()
    compact = ConditionInfo(compact_registry)
    gauge = Gauge(ConditionInfo.name, ConditionInfo.documentation, ConditionInfo.labels, registry=gauge_registry)
    seen: dict[tuple[str, str], set[str]] = {}
    for action, namespace, name, conditions in STEPS:
        if action == "set":
            compact.set(namespace, name, conditions)
            for condition, status in conditions.items():
                gauge.labels(namespace, name, condition).set(CONDITION_VALUES.get(status, 0.0))
                seen.setdefault((namespace, name), set()).add(condition)
        else:
            compact.remove(namespace, name)
            for condition in seen.pop((namespace, name), set()):
                with contextlib.suppress(KeyError):
                    gauge.remove(namespace, name, condition)
    lines = _condition_lines(compact_registry)
    assert lines == _condition_lines(gauge_registry)
    assert 'sealed_secrets_controller_condition_info{condition="Synced",name="a",namespace="default"} -1.0' in lines
    assert not [line for line in lines if 'namespace="nowhere"' in line]


def test_forget_and_omit_secret_labels() -> None:
    metrics = Metrics()
    metrics.observe_conditions("default", "a", {"Synced": "True", "Ready": "True"})
    assert len([line for line in _condition_lines(metrics.registry) if not line.startswith("#")]) == 2
    metrics.forget("default", "a")
    assert [line for line in _condition_lines(metrics.registry) if not line.startswith("#")] == []

    quiet = Metrics(omit_secret_labels=True)
    quiet.observe_conditions("default", "a", {"Synced": "True"})
    lines = _condition_lines(quiet.registry)
    assert lines and all(line.startswith("#") for line in lines)  # the family is described, with no series


def test_records_share_their_condition_pairs() -> None:
    info = ConditionInfo(CollectorRegistry())
    info.set("default", "a", {"Synced": "True", "Ready": "True"})
    info.set("default", "b", {"Synced": "True", "Ready": "True"})
    a, b = info._records[("default", "a")], info._records[("default", "b")]
    assert a == b and all(x is y for x, y in zip(a, b, strict=True))
