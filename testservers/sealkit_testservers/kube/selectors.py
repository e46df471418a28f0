"""Label and field selectors with the API server's syntax; a bad selector raises ValueError (-> 400)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_SET = re.compile(r"^\s*(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)\s*$")
_CMP = re.compile(r"^\s*(?P<key>[^=!<>\s]+)\s*(?P<op>==|=|!=|<|>)\s*(?P<value>\S*)\s*$")
_EXISTS = re.compile(r"^\s*(?P<neg>!?)\s*(?P<key>[^=!<>\s()]+)\s*$")

LabelMatcher = Callable[[Mapping[str, str]], bool]


@dataclasses.dataclass(frozen=True)
class _Requirement:
    key: str
    op: str  # in, notin, exists, !exists, gt, lt
    values: frozenset[str]

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.op == "in":
            return present and value in self.values
        if self.op == "notin":
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        bound = int(next(iter(self.values)))
        try:
            number = int(value)
        except ValueError:
            return False
        return present and (number > bound if self.op == "gt" else number < bound)


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def _check(key: str, values: list[str], raw: str) -> None:
    if not _KEY.match(key) or len(key.rpartition("/")[2]) > 63:
        raise ValueError(f"invalid label key {key!r} in selector {raw!r}")
    for value in values:
        if not _VALUE.match(value) or len(value) > 63:
            raise ValueError(f"invalid label value {value!r} in selector {raw!r}")


def parse_label_selector(raw: str) -> LabelMatcher:
    """Compile a labelSelector query value into a predicate over an object's labels."""
    requirements: list[_Requirement] = []
    for part in _split_top_level(raw):
        if m := _SET.match(part):
            values = [v.strip() for v in m["values"].split(",") if v.strip()]
            _check(m["key"], values, raw)
            requirements.append(_Requirement(m["key"], m["op"], frozenset(values)))
        elif m := _CMP.match(part):
            key, op, value = m["key"], m["op"], m["value"]
            if op in {"<", ">"}:
                if not re.fullmatch(r"-?\d+", value):
                    raise ValueError(f"{op} needs an integer in selector {raw!r}")
                _check(key, [], raw)
                requirements.append(_Requirement(key, "gt" if op == ">" else "lt", frozenset({value})))
                continue
            _check(key, [value], raw)
            requirements.append(_Requirement(key, "notin" if op == "!=" else "in", frozenset({value})))
        elif m := _EXISTS.match(part):
            _check(m["key"], [], raw)
            requirements.append(_Requirement(m["key"], "!exists" if m["neg"] else "exists", frozenset()))
        else:
            raise ValueError(f"unable to parse requirement {part.strip()!r} in selector {raw!r}")
    return lambda labels: all(req.matches(labels) for req in requirements)


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string form of a dotted field of an object ('' when absent), as field selectors see it."""
    node: Any = obj
    for step in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(step)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def parse_field_selector(raw: str, allowed: frozenset[str]) -> Callable[[Mapping[str, Any]], bool]:
    """Compile a fieldSelector; fields outside `allowed` are refused like the real server does."""
    terms: list[tuple[str, bool, str]] = []
    for part in (p for p in raw.split(",") if p.strip()):
        m = re.fullmatch(r"\s*([^=!\s]+)\s*(==|=|!=)\s*(\S*)\s*", part)
        if not m:
            raise ValueError(f"invalid selector: {raw!r}; can't understand {part.strip()!r}")
        field, op, value = m.group(1), m.group(2), m.group(3)
        if field not in allowed:
            raise ValueError(f"field label not supported: {field}")
        terms.append((field, op != "!=", value))
    return lambda obj: all((field_value(obj, f) == v) == eq for f, eq, v in terms)


# Field labels the real server accepts beyond metadata.name/metadata.namespace, per group/plural.
EXTRA_FIELDS: dict[tuple[str, str], frozenset[str]] = {
    ("", "secrets"): frozenset({"type"}),
    ("", "namespaces"): frozenset({"status.phase"}),
    ("", "pods"): frozenset(
        {
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        }
    ),
    ("", "events"): frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
    ("events.k8s.io", "events"): frozenset(
        {
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "reason",
            "reportingController",
            "type",
        }
    ),
    ("", "replicationcontrollers"): frozenset({"status.replicas"}),
    ("apps", "replicasets"): frozenset({"status.replicas"}),
    ("batch", "jobs"): frozenset({"status.successful"}),
    ("", "nodes"): frozenset({"spec.unschedulable"}),
}
