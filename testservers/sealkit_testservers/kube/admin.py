"""The emulator's admin endpoint, `/__emulator/...`: change faults, drop watches and refuse connections at runtime.

For multi-process tests: the emulator runs as `python -m sealkit_testservers.kube` and the test (or a
helper) talks to this endpoint over HTTP (see :class:`.admin_client.EmulatorAdmin`). The prefix can never
be a Kubernetes path (those start with /api, /apis, /version, /openapi, /healthz, /livez or /readyz);
fault rules, RBAC and the request log do not apply to it. Bodies and answers are JSON.

    GET    /__emulator/faults                  {"seed": n, "faults": [rule, ...]}
    POST   /__emulator/faults                  rule -> 201 rule (with "id"); "times" omitted = forever
    DELETE /__emulator/faults                  remove every rule
    DELETE /__emulator/faults/<id>             remove one rule (404 if unknown)
    POST   /__emulator/watches/drop            {"mode": "close"|"reset", "client", "resource", "namespace"}
                                               -> {"dropped": n}
    POST   /__emulator/connections/refuse      {"seconds": s or null, "listener": name or null}
                                               -> {"refused": [names]}
    POST   /__emulator/connections/resume      {"listener": name or null} -> {"resumed": [names]}
    GET    /__emulator/listeners               {"listeners": [{"name", "url", "port", "refusing"}]}
    POST   /__emulator/listeners               {"name": n} -> 201 {"name", "url", "port", "refusing"}
    GET    /__emulator/stats                   requests served, objects, open watches, resourceVersion, ...
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import aiohttp.web

from . import errors
from .faults import Fault

if TYPE_CHECKING:
    from .emulator import KubeEmulator

PREFIX = "/__emulator/"


def _json(data: Any, status: int = 200, *, close: bool = False) -> aiohttp.web.Response:
    headers = {"Connection": "close"} if close else None
    return aiohttp.web.json_response(data, status=status, headers=headers)


def _error(status: int, message: str) -> aiohttp.web.Response:
    return aiohttp.web.json_response(errors.status_body(status, message), status=status)


def _listener_json(emulator: KubeEmulator, name: str) -> dict[str, Any]:
    listener = emulator.disruptions.listeners[name]
    return {"name": name, "url": listener.url, "port": listener.port, "refusing": listener.refusing}


async def handle(emulator: KubeEmulator, raw: aiohttp.web.BaseRequest, body: bytes) -> aiohttp.web.StreamResponse:
    parts = [p for p in raw.path[len(PREFIX) :].split("/") if p]
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError:
        return _error(400, "the request body is not valid JSON")
    if not isinstance(data, dict):
        return _error(400, "the request body must be a JSON object")
    try:
        return await _route(emulator, raw, parts, data)
    except (ValueError, TypeError) as exc:
        return _error(400, str(exc))
    except LookupError as exc:
        return _error(404, str(exc.args[0] if exc.args else exc))


async def _route(
    emulator: KubeEmulator, raw: aiohttp.web.BaseRequest, parts: list[str], data: dict[str, Any]
) -> aiohttp.web.StreamResponse:
    disruptions = emulator.disruptions
    method = raw.method
    if parts == ["faults"]:
        if method == "GET":
            return _json({"seed": disruptions.faults.seed, "faults": [f.to_json() for f in disruptions.faults.rules]})
        if method == "POST":
            fault = disruptions.add(Fault.from_json(data))
            return _json(fault.to_json(), 201)
        if method == "DELETE":
            disruptions.faults.clear()
            return _json({"faults": []})
    elif len(parts) == 2 and parts[0] == "faults" and method == "DELETE":
        if not parts[1].isdigit() or disruptions.faults.remove(int(parts[1])) is None:
            raise LookupError(f"no fault rule with id {parts[1]}")
        return _json({"removed": int(parts[1])})
    elif parts == ["watches", "drop"] and method == "POST":
        count = emulator.drop_watches(
            client=data.get("client"),
            resource=data.get("resource"),
            namespace=data.get("namespace"),
            mode=str(data.get("mode") or "close"),
        )
        return _json({"dropped": count})
    elif parts == ["connections", "refuse"] and method == "POST":
        seconds = data.get("seconds")
        names = [str(data["listener"])] if data.get("listener") else None
        refused = disruptions.refuse(float(seconds) if seconds is not None else None, names, spare=raw.transport)
        return _json({"refused": refused}, close=True)
    elif parts == ["connections", "resume"] and method == "POST":
        names = [str(data["listener"])] if data.get("listener") else None
        return _json({"resumed": await disruptions.resume(names)})
    elif parts == ["listeners"]:
        if method == "GET":
            return _json({"listeners": [_listener_json(emulator, name) for name in disruptions.listeners]})
        if method == "POST":
            name = str(data.get("name") or "")
            if not name:
                raise ValueError("a listener needs a name")
            await emulator.start_listener(name, port=int(data.get("port") or 0))
            return _json(_listener_json(emulator, name), 201)
    elif parts == ["stats"] and method == "GET":
        return _json(emulator.stats())
    return _error(404, f"no admin endpoint {method} {raw.path}")
