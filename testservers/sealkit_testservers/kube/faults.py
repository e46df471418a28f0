"""Fault injection rules: which requests fail (with a status), slow down, hang or lose their connection.

A rule matches on the HTTP method and path, and on what the request means to Kubernetes: verb,
resource, namespace and the client (bearer token, the user it maps to, or the listener it came in on).
`rate` makes it fire on a fraction of the matching requests, drawn from a seeded RNG (one stream per
rule, so rules do not disturb each other's draws); `times` bounds how often it fires. The same rules come
from Python (`KubeServer.fail`), the command line (`--fault`) and the admin endpoint (JSON), so the
field names are shared: see :meth:`Fault.from_json` and docs/testservers-kube.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import REASONS

VERBS = frozenset({"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"})


@dataclasses.dataclass(frozen=True)
class RequestFacts:
    """What a rule can match in one request."""

    method: str
    path: str
    query: Mapping[str, str]
    verb: str = ""  # the Kubernetes verb for resource requests, else the lower-cased HTTP method
    group: str = ""
    resource: str = ""  # plural; "" for discovery and other non-resource paths
    subresource: str = ""
    namespace: str | None = None
    clients: frozenset[str] = frozenset()  # bearer token, the user it maps to, the listener's name


@dataclasses.dataclass
class Fault:
    """One rule. `times=None` means forever; `hits` counts the requests it has answered.

    Actions, in order: wait `delay` seconds; then `reset` the connection, or `hang` until the rule is
    removed (or the emulator stops), or answer `status`; with none of those the request is served
    normally after the delay (a slow response).
    """

    method: str | None = None
    path: re.Pattern[str] | None = None
    status: int | None = None
    hang: bool = False
    times: int | None = 1
    message: str | None = None
    retry_after: int | None = None
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    verb: frozenset[str] = frozenset()
    resource: frozenset[str] = frozenset()  # "secrets", "sealedsecrets.bitnami.com", "sealedsecrets/status"
    namespace: str | None = None
    client: str | None = None
    rate: float = 1.0
    delay: float = 0.0
    reset: bool = False
    id: int = 0
    hits: int = 0
    _rng: random.Random = dataclasses.field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"a fault's status must be an HTTP status code, got {self.status}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"a fault's rate must be between 0 and 1, got {self.rate}")
        unknown = set(self.verb) - VERBS
        if unknown:
            raise ValueError(f"unknown verb(s) {sorted(unknown)}: use {sorted(VERBS)}")

    @property
    def active(self) -> bool:
        return self.times is None or self.hits < self.times

    @property
    def reason(self) -> str:
        return REASONS.get(self.status or 500, "InternalError")

    @property
    def partitions(self) -> bool:
        """A client-aimed rule that cuts connections off: it also stalls or resets that client's open watches."""
        return self.client is not None and (self.hang or self.reset) and self.rate >= 1.0

    def _resource_matches(self, facts: RequestFacts) -> bool:
        if not self.resource:
            return True
        names = {facts.resource, f"{facts.resource}.{facts.group}" if facts.group else facts.resource}
        if facts.subresource:
            names |= {f"{name}/{facts.subresource}" for name in list(names)}
            names -= {facts.resource, f"{facts.resource}.{facts.group}"}  # "secrets" does not hit ".../status"
        return bool(names & self.resource)

    def matches(self, facts: RequestFacts) -> bool:
        """Everything but `rate` and `times`."""
        if self.method is not None and self.method.upper() != facts.method.upper():
            return False
        if self.verb and facts.verb not in self.verb:
            return False
        if self.namespace is not None and facts.namespace != self.namespace:
            return False
        if self.client is not None and self.client not in facts.clients:
            return False
        if not self._resource_matches(facts):
            return False
        if any(facts.query.get(key) != value for key, value in self.params.items()):
            return False
        return self.path is None or self.path.search(facts.path) is not None

    def roll(self) -> bool:
        return self.rate >= 1.0 or self._rng.random() < self.rate

    # --- the shared JSON / command-line form ----------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "hits": self.hits, "active": self.active, "times": self.times}
        for key in ("method", "status", "message", "retry_after", "namespace", "client"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.path is not None:
            out["path"] = self.path.pattern
        for key in ("verb", "resource"):
            if getattr(self, key):
                out[key] = ",".join(sorted(getattr(self, key)))
        for key in ("hang", "reset"):
            if getattr(self, key):
                out[key] = True
        if self.delay:
            out["delay"] = self.delay
        if self.rate < 1.0:
            out["rate"] = self.rate
        if self.params:
            out["params"] = dict(self.params)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, default_times: int | None = None) -> Fault:
        """A rule from the admin endpoint's JSON (or a parsed `--fault` spec); ValueError on nonsense."""
        known = {
            "method", "path", "status", "hang", "times", "message", "retry_after", "params", "verb",
            "resource", "namespace", "client", "rate", "delay", "reset", "id", "hits", "active",
        }  # fmt: skip
        keys = {key.replace("-", "_") for key in data}
        unknown = keys - known
        if unknown:
            raise ValueError(
                f"unknown fault field(s) {sorted(unknown)}; known: {sorted(known - {'id', 'hits', 'active'})}"
            )
        get = {key.replace("-", "_"): value for key, value in data.items()}

        def words(value: Any) -> frozenset[str]:
            if value is None:
                return frozenset()
            items = value.replace("|", ",").split(",") if isinstance(value, str) else list(value)
            return frozenset(str(item).strip() for item in items if str(item).strip())

        times = get.get("times", default_times)
        params = get.get("params") or {}
        if not isinstance(params, Mapping):
            raise ValueError("a fault's params must be an object of query parameters")
        return cls(
            method=str(get["method"]).upper() if get.get("method") else None,
            path=re.compile(str(get["path"])) if get.get("path") else None,
            status=int(get["status"]) if get.get("status") is not None else None,
            hang=_flag(get.get("hang")),
            times=None if times in (None, "", "inf", "forever") else int(times),
            message=str(get["message"]) if get.get("message") is not None else None,
            retry_after=int(get["retry_after"]) if get.get("retry_after") is not None else None,
            params={str(k): str(v) for k, v in params.items()},
            verb=frozenset(v.lower() for v in words(get.get("verb"))),
            resource=words(get.get("resource")),
            namespace=str(get["namespace"]) if get.get("namespace") is not None else None,
            client=str(get["client"]) if get.get("client") is not None else None,
            rate=float(get.get("rate", 1.0)),
            delay=float(get.get("delay", 0.0)),
            reset=_flag(get.get("reset")),
        )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", ""}
    return bool(value)


def parse_spec(spec: str) -> dict[str, Any]:
    """`status=429,rate=0.1,verb=create|patch,resource=secrets,retry_after=1` -> the JSON form.

    Comma separates fields; a field's list values (verb, resource) are separated by `|`; a bare word
    (`hang`, `reset`) is a true flag. `params` is not available on the command line.
    """
    out: dict[str, Any] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip().replace("-", "_")
        if key == "params":
            raise ValueError("--fault cannot set params; use the admin endpoint or the Python API")
        out[key] = value.strip().replace("|", ",") if sep else True
    return out


class FaultTable:
    """The rules in force; the first active matching rule whose draw succeeds answers the request."""

    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[Fault] = []
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self._next_id = 1
        self._changed = asyncio.Event()

    def add(self, fault: Fault) -> Fault:
        if fault.status is None and not fault.hang and not fault.reset and fault.delay <= 0:
            raise ValueError("a fault needs a status, hang=True, reset=True or a delay")
        fault.id = self._next_id
        self._next_id += 1
        fault._rng = random.Random(f"{self.seed}:{fault.id}")  # noqa: S311 - reproducible draws, not secrets
        self.rules.append(fault)
        self._notify()
        return fault

    def remove(self, fault_id: int) -> Fault | None:
        for fault in self.rules:
            if fault.id == fault_id:
                self.rules.remove(fault)
                self._notify()
                return fault
        return None

    def take(self, facts: RequestFacts) -> Fault | None:
        for fault in self.rules:
            if fault.active and fault.matches(facts) and fault.roll():
                fault.hits += 1
                return fault
        return None

    def partition_for(self, facts: RequestFacts) -> Fault | None:
        """The partition rule in force for an open stream of these facts, if any (no draw, no hit)."""
        for fault in self.rules:
            if fault.partitions and fault.active and fault.matches(facts):
                return fault
        return None

    def holds(self, fault: Fault) -> bool:
        """A hanging request keeps hanging while its rule is still in the table."""
        return any(rule is fault for rule in self.rules)

    async def changed(self) -> None:
        """Wait until a rule is added or removed."""
        await self._changed.wait()

    def clear(self) -> None:
        self.rules.clear()
        self._notify()

    def extend(self, faults: Iterable[Fault]) -> None:
        for fault in faults:
            self.add(fault)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
