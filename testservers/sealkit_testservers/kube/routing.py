"""Split a Kubernetes API path into what it addresses (kmock's own parser breaks on `/api/v1/namespaces`)."""

from __future__ import annotations

import dataclasses

NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclasses.dataclass(frozen=True)
class Route:
    """`kind` is one of: root, api, apis, group, resources (discovery), version, health, openapi, object, unknown."""

    kind: str
    group: str = ""
    version: str = ""
    plural: str = ""
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    rest: str = ""  # the tail after .../proxy/ for the service proxy
    legacy_watch: bool = False


def parse(path: str) -> Route:
    trailing = path.endswith("/") and path != "/"
    parts = [p for p in path.split("/") if p]
    if not parts:
        return Route("root")
    if parts == ["version"]:
        return Route("version")
    if parts[0] in {"healthz", "livez", "readyz"}:
        return Route("health")
    if parts[0] == "openapi":
        return Route("openapi", rest="/".join(parts[1:]))
    if parts[0] == "api":
        if len(parts) == 1:
            return Route("api")
        group, version, tail = "", parts[1], parts[2:]
    elif parts[0] == "apis":
        if len(parts) == 1:
            return Route("apis")
        if len(parts) == 2:
            return Route("group", group=parts[1])
        group, version, tail = parts[1], parts[2], parts[3:]
    else:
        return Route("unknown")
    if not tail:
        return Route("resources", group=group, version=version)
    legacy_watch = tail[0] == "watch"
    if legacy_watch:
        tail = tail[1:]
        if not tail:
            return Route("unknown")
    namespace: str | None = None
    if tail[0] == "namespaces" and len(tail) >= 3 and tail[2] not in NAMESPACE_SUBRESOURCES:
        namespace, tail = tail[1], tail[2:]
    plural, name = tail[0], tail[1] if len(tail) > 1 else None
    subresource = tail[2] if len(tail) > 2 else None
    rest = "/".join(tail[3:]) + ("/" if trailing and len(tail) > 3 else "")
    if subresource != "proxy" and len(tail) > 3:
        return Route("unknown")
    return Route("object", group, version, plural, namespace, name, subresource, rest, legacy_watch)
