"""A minimal OpenAPI v3 for kubectl: `/openapi/v3` and one document per group/version.

Why: `kubectl apply` (and `create -f`) validate by default; kubectl first asks the OpenAPI v3 document of
the object's group/version whether its PATCH operation takes the `fieldValidation` query parameter
(k8s.io/cli-runtime `resource.QueryParamVerifierV3`). If it does, kubectl leaves validation to the server
(`?fieldValidation=Strict`); otherwise it wants the full OpenAPI v2 schema and fails without it. So each
served resource gets its paths with the `x-kubernetes-group-version-kind` of their operations and that
parameter. The PATCH operations declare no request body, so kubectl computes strategic merge patches
for builtins from its compiled-in types (patcher.go's fallback) and JSON merge patches for custom
resources, as it does against any server. No schemas are served (`kubectl explain` does not work).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .resources import ResourceDef, ResourceRegistry

_QUERY = ("dryRun", "fieldManager", "fieldValidation", "pretty")


def _gv_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _param(name: str, where: str = "query") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": {"type": "string"}, "uniqueItems": True}


def gv_document(registry: ResourceRegistry, group: str, version: str) -> dict[str, Any] | None:
    resources = [r for r in registry if r.group == group and r.version == version]
    if not resources:
        return None
    paths: dict[str, Any] = {}
    for res in resources:
        paths.update(_paths(res))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0-sealkit-emulator"},
        "paths": paths,
        "components": {"schemas": {}},
    }


def _operation(res: ResourceDef, action: str, verb: str) -> dict[str, Any]:
    gvk = {"group": res.group, "version": res.version, "kind": res.kind}
    op: dict[str, Any] = {
        "operationId": f"{verb}{res.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
        "responses": {"200": {"description": "OK"}},
    }
    if action in {"patch", "put", "post"}:
        op["parameters"] = [_param(name) for name in _QUERY[:3]]
    return op


def _paths(res: ResourceDef) -> dict[str, Any]:
    root = f"/{_gv_key(res.group, res.version)}"
    base = f"{root}/namespaces/{{namespace}}/{res.plural}" if res.namespaced else f"{root}/{res.plural}"
    scope = [_param("namespace", "path")] if res.namespaced else []
    verbs = res.verbs
    collection: dict[str, Any] = {"parameters": [*scope, _param("pretty")]}
    if "list" in verbs:
        collection["get"] = _operation(res, "list", "list")
    if "create" in verbs:
        collection["post"] = _operation(res, "post", "create")
    item: dict[str, Any] = {"parameters": [_param("name", "path"), *scope, _param("pretty")]}
    for verb, method, action in (("get", "get", "get"), ("update", "put", "put"), ("delete", "delete", "delete")):
        if verb in verbs:
            item[method] = _operation(res, action, verb)
    if "patch" in verbs:
        item["patch"] = _operation(res, "patch", "patch")
        item["parameters"].append(_param("fieldValidation"))
    paths = {base: collection, f"{base}/{{name}}": item}
    for sub in sorted(res.subresources):
        if sub == "status":
            status: dict[str, Any] = {"parameters": list(item["parameters"])}
            for method, action in (("get", "get"), ("put", "put"), ("patch", "patch")):
                status[method] = _operation(res, action, f"{action}Status")
            paths[f"{base}/{{name}}/status"] = status
    return paths


def root_document(registry: ResourceRegistry) -> dict[str, Any]:
    """`/openapi/v3`: each group/version with the URL of its document (a content hash in the query, as the
    real server does, so clients cache it until it changes)."""
    keys = sorted({(r.group, r.version) for r in registry})
    paths: dict[str, Any] = {}
    for group, version in keys:
        document = gv_document(registry, group, version)
        digest = hashlib.sha512(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32].upper()
        key = _gv_key(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": paths}
