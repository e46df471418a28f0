"""Kubernetes label selectors ("app=web,tier!=db,env in (a,b),!legacy"), matched in the controller.

Why here and not server-side: Kopf's watches take no label selector, and the namespace selector is matched
against namespaces the controller watches itself. The syntax and rules are the API server's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sealkit.errors import InputError

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s+\(([^()]*)\)\s*$")
_EQUALITY = re.compile(rf"^\s*({_KEY})\s*(==|!=|=)\s*({_VALUE})\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_VALUE_ONLY = re.compile(rf"^{_VALUE}$")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "exists":
            return self.key in labels
        if self.operator == "!exists":
            return self.key not in labels
        if self.operator == "in":
            return self.key in labels and labels[self.key] in self.values
        return self.key not in labels or labels[self.key] not in self.values  # notin, !=


@dataclass(frozen=True)
class Selector:
    """All requirements must hold; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        found = labels or {}
        return all(r.matches(found) for r in self.requirements)

    def __bool__(self) -> bool:
        return bool(self.requirements)


def _split(text: str) -> list[str]:
    """Commas separate requirements, except inside the parentheses of a set."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_selector(text: str, what: str = "label selector") -> Selector:
    """Parse a selector; one clear InputError naming the bad part."""
    if not text.strip():
        return Selector()
    requirements: list[Requirement] = []
    for part in _split(text):
        if match := _SET.match(part):
            values = [v.strip() for v in match.group(4).split(",")]
            if not values or any(not v or not _VALUE_ONLY.match(v) for v in values):
                raise InputError(f"{part.strip()!r} needs a list of label values in parentheses", where=what)
            requirements.append(Requirement(match.group(1), match.group(3), frozenset(values)))
        elif match := _EQUALITY.match(part):
            operator = "notin" if match.group(3) == "!=" else "in"
            requirements.append(Requirement(match.group(1), operator, frozenset({match.group(4)})))
        elif match := _EXISTS.match(part):
            requirements.append(Requirement(match.group(2), "!exists" if match.group(1) else "exists"))
        else:
            raise InputError(
                f"{part.strip()!r} is not a requirement (key, !key, key=value, key!=value, "
                "key in (a,b), key notin (a,b))",
                where=what,
            )
    return Selector(tuple(requirements))
