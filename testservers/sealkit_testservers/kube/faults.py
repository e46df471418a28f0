"""Fault injection: make chosen requests fail with a status, or hang, a given number of times."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from .errors import REASONS


@dataclasses.dataclass
class Fault:
    """One rule. `times=None` means forever; `hits` counts the requests it has answered."""

    method: str | None
    path: re.Pattern[str]
    status: int | None = None
    hang: bool = False
    times: int | None = 1
    message: str | None = None
    retry_after: int | None = None
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    hits: int = 0

    @property
    def active(self) -> bool:
        return self.times is None or self.hits < self.times

    @property
    def reason(self) -> str:
        return REASONS.get(self.status or 500, "InternalError")

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        if not self.active or (self.method is not None and self.method.upper() != method.upper()):
            return False
        if any(query.get(key) != value for key, value in self.params.items()):
            return False
        return self.path.search(path) is not None


class FaultTable:
    """The rules in force; the first active matching rule answers the request."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.status is None and not fault.hang:
            raise ValueError("a fault needs a status or hang=True")
        self.rules.append(fault)
        return fault

    def take(self, method: str, path: str, query: Mapping[str, str]) -> Fault | None:
        for fault in self.rules:
            if fault.matches(method, path, query):
                fault.hits += 1
                return fault
        return None

    def clear(self) -> None:
        self.rules.clear()
