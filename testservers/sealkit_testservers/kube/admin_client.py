"""A synchronous client of the admin endpoint, for tests that run the emulator as a separate process.

Same method names and arguments as :class:`.server.KubeServer` (`fail`, `partition`, `remove_fault`,
`clear_faults`, `drop_watches`, `refuse_connections`, `resume_connections`, `add_listener`), so a test
can move between the in-process and the subprocess emulator. Standard library only; thread-safe.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from .faults import Fault


class AdminError(RuntimeError):
    """The admin endpoint refused a call (bad rule, unknown id or listener)."""


class EmulatorAdmin:
    """`/__emulator/...` of the emulator at `url` (any of its listeners)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - an http URL of the local emulator
            f"{self.url}/__emulator/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:  # noqa: S310
                result: dict[str, Any] = json.loads(reply.read() or b"{}")
                return result
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("message", "")
            except ValueError:
                message = ""
            raise AdminError(f"{method} /__emulator/{path}: HTTP {exc.code}: {message}") from None

    # --- faults -----------------------------------------------------------------------------------------------

    def fail(
        self,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        *,
        hang: bool = False,
        times: int | None = 1,
        message: str | None = None,
        retry_after: int | None = None,
        params: Mapping[str, str] | None = None,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        client: str | None = None,
        rate: float = 1.0,
        delay: float = 0.0,
        reset: bool = False,
    ) -> Fault:
        """Add a rule (see `KubeServer.fail`); the returned Fault is a snapshot (see `faults()`)."""
        rule: dict[str, Any] = {"times": "forever" if times is None else times, "rate": rate, "delay": delay}
        for key, value in (
            ("method", method),
            ("path", path),
            ("status", status),
            ("message", message),
            ("retry_after", retry_after),
            ("params", dict(params) if params else None),
            ("verb", verb),
            ("resource", resource),
            ("namespace", namespace),
            ("client", client),
        ):
            if value is not None:
                rule[key] = value
        if hang:
            rule["hang"] = True
        if reset:
            rule["reset"] = True
        return self._fault(self._call("POST", "faults", rule))

    def partition(self, client: str, *, mode: str = "reset") -> Fault:
        """Cut one client off: every request of it (and its open watches) reset, or hang with mode="hang"."""
        return self.fail(client=client, times=None, reset=mode == "reset", hang=mode == "hang")

    def faults(self) -> list[Fault]:
        return [self._fault(rule) for rule in self._call("GET", "faults")["faults"]]

    def remove_fault(self, fault: Fault | int) -> None:
        self._call("DELETE", f"faults/{fault.id if isinstance(fault, Fault) else fault}")

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    @staticmethod
    def _fault(data: Mapping[str, Any]) -> Fault:
        fault = Fault.from_json(data)
        fault.id, fault.hits = int(data.get("id", 0)), int(data.get("hits", 0))
        return fault

    # --- watches, connections, listeners ---------------------------------------------------------------------

    def drop_watches(
        self,
        *,
        client: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        mode: str = "close",
    ) -> int:
        body = {"client": client, "resource": resource, "namespace": namespace, "mode": mode}
        return int(self._call("POST", "watches/drop", {k: v for k, v in body.items() if v is not None})["dropped"])

    def refuse_connections(self, seconds: float | None, *, listener: str | None = None) -> list[str]:
        """Refuse connections for `seconds` (None: until resumed) on one listener or all of them.

        Refusing the listener this client talks to also refuses the admin calls until it listens again.
        """
        refused: list[str] = self._call("POST", "connections/refuse", {"seconds": seconds, "listener": listener})[
            "refused"
        ]
        return refused

    def resume_connections(self, *, listener: str | None = None) -> list[str]:
        resumed: list[str] = self._call("POST", "connections/resume", {"listener": listener})["resumed"]
        return resumed

    def add_listener(self, name: str) -> str:
        """A new port named `name` (requests through it carry `name` as a client identity); returns its URL."""
        return str(self._call("POST", "listeners", {"name": name})["url"])

    def listeners(self) -> dict[str, str]:
        return {item["name"]: item["url"] for item in self._call("GET", "listeners")["listeners"]}

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")
