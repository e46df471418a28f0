"""Injected failures: throttling and arbitrary errors (denied principals live in `permissions.py`).

Checked after authentication (so the SDK's challenge round trip never uses up a fault) and
before routing. Rules fire in the order added; a rule with `times` counts down and retires.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from .https import Request, Response
from .render import error


@dataclass
class Fault:
    """Answer matching requests with `status` and a Key Vault error body, `times` times (None: always)."""

    status: int
    code: str
    message: str
    times: int | None = 1
    method: str | None = None
    path_prefix: str | None = None
    inner: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, request: Request) -> bool:
        if self.method is not None and request.method.upper() != self.method.upper():
            return False
        return self.path_prefix is None or request.path.startswith(self.path_prefix)


def retry_after_value(seconds: float) -> str:
    """Whole seconds as the service sends them; sub-second values pass through for fast tests.

    azure-core parses Retry-After as a float, so "0.05" makes a retry wait 50 ms.
    """
    if seconds >= 1 and float(seconds).is_integer():
        return str(int(seconds))
    return str(seconds) if seconds < 1 else str(math.ceil(seconds))


class Faults:
    """The fault rules of one vault."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def check(self, request: Request) -> Response | None:
        """The injected answer for this request, if any."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(request):
                    continue
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                return Response.json(rule.status, error(rule.code, rule.message, rule.inner), dict(rule.headers))
        return None
