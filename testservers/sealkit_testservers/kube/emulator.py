"""The HTTP face of the emulator: a kmock `KubernetesEmulator` whose requests go straight to the store.

Stock kmock matches every request against its whole history (quadratic) and lacks most server
semantics; this subclass keeps kmock's handler/server plumbing, its bundled builtin resources and its
DSL (user reactions such as ``kube.emulator['get /x'] << 418`` still work, at kmock's cost), but routes
everything else through :class:`~.store.Store` in O(1) per single-object request.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import dataclasses
import functools
import json
import logging
import pathlib
import ssl
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import aiohttp.web
import attrs
import kmock
from kmock._internal import rendering  # pinned kmock==0.8: Request is built here directly

from . import admin, crds, encoding, errors, openapi, protobuf, proxy, routing, tables
from .disruption import Disruptions, WatchStream
from .faults import Fault, FaultTable, RequestFacts
from .listeners import Listener
from .rbac import Attributes, Authorizer, User
from .resources import ResourceDef, ResourceRegistry
from .store import Obj, Store

logger = logging.getLogger(__name__)

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
# The API server's default --max-request-body-bytes (apiserver pkg/server/config.go: 3 * 1024 * 1024).
MAX_REQUEST_BODY = 3 * 1024 * 1024


@dataclasses.dataclass
class RequestRecord:
    """One served request, as tests see it in ``request_log`` / ``denied``."""

    method: str
    path: str
    query: dict[str, str]
    user: str | None = None
    client: str | None = None  # the bearer token's client identity (or the listener's name)
    verb: str | None = None
    status: int = 0
    reason: str = ""
    seconds: float = 0.0


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in {"true", "1"}


@attrs.define(kw_only=True)
class KubeEmulator(kmock.KubernetesEmulator):
    """A Kubernetes API server in memory. Use it from its own event loop (see ``KubeServer`` for threads)."""

    history: int = 50_000
    request_log_size: int = 10_000
    fault_seed: int | None = None
    # Every listener serves HTTPS with this context (what in-cluster clients insist on); None: plain HTTP.
    tls_context: ssl.SSLContext | None = None
    registry: ResourceRegistry = attrs.field(factory=ResourceRegistry, init=False)
    store: Store = attrs.field(init=False)
    disruptions: Disruptions = attrs.field(init=False)
    rbac_enabled: bool = attrs.field(default=False, init=False)
    tokens: dict[str, User] = attrs.field(factory=dict, init=False)
    backends: dict[tuple[str, str, str], str] = attrs.field(factory=dict, init=False)
    request_log: collections.deque[RequestRecord] = attrs.field(init=False)
    denied: list[RequestRecord] = attrs.field(factory=list, init=False)
    internal_errors: list[BaseException] = attrs.field(factory=list, init=False)
    request_count: int = attrs.field(default=0, init=False)
    _closing: asyncio.Event | None = attrs.field(default=None, init=False)
    _session: aiohttp.ClientSession | None = attrs.field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        # No kmock fallbacks: unmatched requests go to the store instead of kmock's history-scanning DSL.
        self.registry.load_builtins()
        self.store = Store(self.registry, history=self.history)
        self.request_log = collections.deque(maxlen=self.request_log_size)
        self.disruptions = Disruptions(self.fault_seed)
        crds.install_hook(self.store, self.registry)

    @property
    def faults(self) -> FaultTable:
        return self.disruptions.faults

    # --- lifecycle --------------------------------------------------------------------------------------

    async def __aenter__(self) -> KubeEmulator:
        await super().__aenter__()
        self._closing = asyncio.Event()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
        await super().__aexit__(*exc)

    async def aclose(self) -> None:
        """End open watches, hanging faults and listeners so the HTTP server can stop at once."""
        if self._closing is not None:
            self._closing.set()
        self.store.close_all_watches()
        await self.disruptions.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- seeding and inspection (call from the emulator's loop) ----------------------------------------
    # Named *_object so kmock's own client shortcuts (get/patch/delete of a URL) keep working.

    def find_resource(self, api_version: str, kind_or_plural: str) -> ResourceDef:
        group, _, version = api_version.rpartition("/")
        res = self.registry.get(group, version, kind_or_plural) or self.registry.find_kind(api_version, kind_or_plural)
        if res is None:
            raise LookupError(f"unknown resource {kind_or_plural} in {api_version}")
        return res

    def create_object(self, obj: Mapping[str, Any], namespace: str | None = None) -> Obj:
        res = self.store.resource_for_object(obj)
        ns = namespace or (obj.get("metadata") or {}).get("namespace") or ("default" if res.namespaced else None)
        return copy.deepcopy(self.store.create(res, ns if res.namespaced else None, dict(obj)))

    def get_object(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        res = self.find_resource(api_version, kind)
        found = self.store.find(res, namespace if res.namespaced else None, name)
        return copy.deepcopy(found) if found is not None else None

    def list_objects(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[Obj]:
        res = self.find_resource(api_version, kind)
        return copy.deepcopy(self.store.select(res, namespace, label_selector=label_selector))

    def patch_object(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Mapping[str, Any],
        namespace: str | None = None,
        *,
        subresource: str | None = None,
    ) -> Obj:
        res = self.find_resource(api_version, kind)
        return copy.deepcopy(
            self.store.patch(res, namespace, name, "application/merge-patch+json", dict(patch), subresource=subresource)
        )

    def delete_object(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete an object; True when it is gone, False while finalizers hold it."""
        res = self.find_resource(api_version, kind)
        return not self.store.delete(res, namespace, name)[1]

    def create_namespace(self, name: str) -> Obj:
        return self.create_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def load_crd(self, crd: str | pathlib.Path | Mapping[str, Any]) -> list[ResourceDef]:
        """Install a CRD (a file path or the parsed object); returns the resources it now serves."""
        doc = crds.read_crd_file(crd) if isinstance(crd, str | pathlib.Path) else dict(crd)
        res = self.find_resource("apiextensions.k8s.io/v1", "customresourcedefinitions")
        name = (doc.get("metadata") or {}).get("name", "")
        body = copy.deepcopy(doc)
        body.setdefault("metadata", {}).pop("resourceVersion", None)
        existing = self.store.find(res, None, name)
        if existing is None:
            self.store.create(res, None, body)
        else:
            body["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
            self.store.replace(res, None, name, body)
        return crds.resource_defs(doc)

    def register_service_backend(self, namespace: str, service: str, port: str | int, url: str) -> None:
        """Forward `.../services/[scheme:]<service>[:port]/proxy/...` for this Service port to `url`."""
        self.backends[(namespace, service, str(port))] = url

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
        fault = Fault.from_json(
            {
                "method": method,
                "path": path,
                "status": status,
                "message": message,
                "retry_after": retry_after,
                "params": dict(params or {}),
                "verb": verb,
                "resource": resource,
                "namespace": namespace,
                "client": client,
                "rate": rate,
                "delay": delay,
                "hang": hang,
                "reset": reset,
            }
        )
        fault.times = times
        return self.disruptions.add(fault)

    async def start_listener(self, name: str, host: str = "127.0.0.1", port: int = 0) -> Listener:
        """Serve on one more port; requests through it carry `name` as a client identity."""
        if name in self.disruptions.listeners:
            raise ValueError(f"a listener named {name!r} exists already")
        handler = aiohttp.web.Server(functools.partial(self.serve, listener=name), handler_cancellation=True)
        listener = Listener(name, handler, host, port, self.tls_context)
        await listener.start()
        self.disruptions.listeners[name] = listener
        return listener

    def drop_watches(
        self,
        *,
        client: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        mode: str = "close",
    ) -> int:
        """End open watches (all, or those of a client / resource / namespace); `reset` cuts the connection."""
        probe = Fault.from_json({"client": client, "resource": resource, "namespace": namespace})
        return self.disruptions.drop_watches(lambda stream: probe.matches(stream.facts), mode)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.request_count,
            "objects": self.store.count(),
            "resourceVersion": self.store.rv,
            "watches": len(self.disruptions.streams),
            "watchesDropped": self.disruptions.dropped,
            "refusals": self.disruptions.refusals,
            "faults": [f.to_json() for f in self.faults.rules],
            "listeners": {name: item.url for name, item in self.disruptions.listeners.items()},
        }

    def enable_rbac(self) -> None:
        self.rbac_enabled = True

    def add_token(self, token: str, namespace: str, service_account: str) -> User:
        user = User.service_account(namespace, service_account)
        self.tokens[token] = user
        return user

    def add_user_token(self, token: str, user: str, groups: tuple[str, ...] = ()) -> User:
        identity = User(user, frozenset({*groups, "system:authenticated"}))
        self.tokens[token] = identity
        return identity

    # --- HTTP -------------------------------------------------------------------------------------------

    async def __call__(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        return await self.serve(raw)

    async def serve(self, raw: aiohttp.web.BaseRequest, listener: str | None = None) -> aiohttp.web.StreamResponse:
        if raw.path.startswith(admin.PREFIX):
            return await admin.handle(self, raw, await raw.read())
        self.request_count += 1
        started = time.perf_counter()
        record = RequestRecord(method=raw.method, path=raw.path, query=dict(raw.query))
        response: aiohttp.web.StreamResponse
        try:
            body = await self._read_body(raw)
            response = await self._dispatch(raw, body, record, listener)
        except kmock.KubernetesError as exc:
            response = self._error_response(exc)
            record.reason = exc.message or ""
        except Exception as exc:
            logger.exception("kube emulator failed on %s %s", raw.method, raw.path)
            self.internal_errors.append(exc)
            response = self._error_response(
                errors.ApiError(status=500, reason="InternalError", message=f"emulator error: {exc!r}")
            )
        record.status = response.status
        record.seconds = time.perf_counter() - started
        self.request_log.append(record)
        return response

    @staticmethod
    async def _read_body(raw: aiohttp.web.BaseRequest) -> bytes:
        """The body, up to the real server's limit (413 beyond it, as `limitedReadBody` answers)."""
        length = raw.content_length
        if length is not None:
            if length > MAX_REQUEST_BODY:
                raise errors.request_entity_too_large(MAX_REQUEST_BODY)
            return await raw.content.readexactly(length) if length else b""
        chunks: list[bytes] = []
        size = 0
        async for chunk in raw.content.iter_any():  # chunked: count as it comes
            size += len(chunk)
            if size > MAX_REQUEST_BODY:
                raise errors.request_entity_too_large(MAX_REQUEST_BODY)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _error_response(exc: kmock.KubernetesError) -> aiohttp.web.Response:
        body = errors.status_body(exc.status, exc.message or "", reason=exc.reason, details=exc.details)
        return encoding.response(body, status=exc.status)

    async def _dispatch(
        self, raw: aiohttp.web.BaseRequest, body: bytes, record: RequestRecord, listener: str | None
    ) -> aiohttp.web.StreamResponse:
        route = routing.parse(raw.path)
        res = self.registry.get(route.group, route.version, route.plural) if route.kind == "object" else None
        facts: RequestFacts | None = None
        if self.faults.rules:
            facts = self._facts(raw, route, res, listener)
            record.client = min(facts.clients) if facts.clients else None
            fault = self.faults.take(facts)
            if fault is not None:
                answer = await self.disruptions.answer(fault, raw)
                if answer is not None:
                    return answer

        watching = (
            route.kind == "object" and raw.method == "GET" and (route.legacy_watch or _truthy(raw.query.get("watch")))
        )
        if facts is None and watching:
            facts = self._facts(raw, route, res, listener)  # open watches are dropped/partitioned by these
        user = self._impersonate(raw, self._authenticate(raw))
        record.user = user.name if user else None
        if route.kind == "object":
            res = self._resource(route)
            attrs_ = self._attributes(raw, route, res)
        else:
            attrs_ = Attributes(verb=_VERBS.get(raw.method, raw.method.lower()), path=raw.path, resource_request=False)
        record.verb = attrs_.verb
        if user is not None and self.rbac_enabled and not Authorizer(self.store, self.registry).allows(user, attrs_):
            record.reason = attrs_.describe(user)
            record.status = 403
            self.denied.append(record)
            raise errors.forbidden(record.reason)

        if self._payloads:  # user-defined kmock reactions first (kmock's own matching, O(history))
            reaction = await self._try_reactions(raw, body, route)
            if reaction is not None:
                return reaction

        if res is None:
            return self._discovery(route)
        return await self._serve_object(raw, body, route, res, attrs_, facts)

    def _facts(
        self, raw: aiohttp.web.BaseRequest, route: routing.Route, res: ResourceDef | None, listener: str | None
    ) -> RequestFacts:
        """What fault rules match on: verb, resource, namespace, and who is asking."""
        clients: set[str] = set()
        header = raw.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            token = header[7:].strip()
            clients.add(token)
            if token in self.tokens:
                clients.add(self.tokens[token].name)
        if listener is not None:
            clients.add(listener)
        verb = _VERBS.get(raw.method, raw.method.lower())
        if route.kind == "object":
            watching = route.legacy_watch or _truthy(raw.query.get("watch"))
            if raw.method == "GET" and watching:
                verb = "watch"
            elif raw.method == "GET" and route.name is None:
                verb = "list"
            elif raw.method == "DELETE" and route.name is None:
                verb = "deletecollection"
        return RequestFacts(
            method=raw.method,
            path=raw.path,
            query=raw.query,
            verb=verb,
            group=route.group,
            resource=route.plural if route.kind == "object" else "",
            subresource=route.subresource or "",
            namespace=route.namespace if res is None or res.namespaced else None,
            clients=frozenset(clients),
        )

    def _authenticate(self, raw: aiohttp.web.BaseRequest) -> User | None:
        """None means the unrestricted test admin (no token, or RBAC not enabled)."""
        header = raw.headers.get("Authorization", "")
        if not self.rbac_enabled or not header:
            return None
        # The scheme is case-insensitive (RFC 9110): in-cluster clients send "bearer <token>".
        scheme, _, credentials = header.strip().partition(" ")
        token = credentials.strip() if scheme.lower() == "bearer" else ""
        if token in self.tokens:
            return self.tokens[token]
        raise errors.ApiError(status=401, reason="Unauthorized", message="Unauthorized")

    def _impersonate(self, raw: aiohttp.web.BaseRequest, user: User | None) -> User | None:
        """Impersonate-User/-Group/-Uid as the API server reads them (kubectl's --as, --as-group, --as-uid).

        With RBAC on, an authenticated caller needs `impersonate` on users (and groups, and uids in
        authentication.k8s.io) by name; the test admin (no token) may impersonate anyone. The request then
        runs as the impersonated user, in system:authenticated plus the impersonated groups.
        """
        target = raw.headers.get("Impersonate-User", "")
        groups = tuple(raw.headers.getall("Impersonate-Group", ()))
        uid = raw.headers.get("Impersonate-Uid", "")
        if not target:
            if groups or uid:
                raise errors.bad_request("Impersonate-Group or Impersonate-Uid without Impersonate-User")
            return user
        if self.rbac_enabled and user is not None:
            wanted = [("", "users", target), *(("", "groups", g) for g in groups)]
            if uid:
                wanted.append(("authentication.k8s.io", "uids", uid))
            authorizer = Authorizer(self.store, self.registry)
            for group, resource, name in wanted:
                attrs_ = Attributes(
                    verb="impersonate",
                    path=raw.path,
                    resource_request=True,
                    api_group=group,
                    resource=resource,
                    name=name,
                )
                if not authorizer.allows(user, attrs_):
                    raise errors.forbidden(attrs_.describe(user))
        return User(target, frozenset({*groups, "system:authenticated"}))

    def _resource(self, route: routing.Route) -> ResourceDef:
        res = self.registry.get(route.group, route.version, route.plural)
        if res is None or (route.namespace is not None and not res.namespaced):
            raise errors.ApiError(
                status=404, reason="NotFound", message="the server could not find the requested resource"
            )
        if route.subresource is not None and route.subresource not in res.subresources:
            raise errors.ApiError(
                status=404, reason="NotFound", message="the server could not find the requested resource"
            )
        return res

    def _attributes(self, raw: aiohttp.web.BaseRequest, route: routing.Route, res: ResourceDef) -> Attributes:
        verb = _VERBS.get(raw.method, raw.method.lower())
        watching = route.legacy_watch or _truthy(raw.query.get("watch"))
        if route.subresource == "proxy":
            pass
        elif raw.method == "GET" and watching:
            verb = "watch"
        elif raw.method == "GET" and route.name is None:
            verb = "list"
        elif raw.method == "DELETE" and route.name is None:
            verb = "deletecollection"
        namespace = route.namespace if res.namespaced else None
        if res.storage_key == ("", "namespaces"):
            namespace = route.name
        return Attributes(
            verb=verb,
            path=raw.path,
            resource_request=True,
            api_group=res.group,
            resource=res.plural,
            subresource=route.subresource or "",
            namespace=namespace,
            name=route.name,
        )

    async def _try_reactions(
        self, raw: aiohttp.web.BaseRequest, body: bytes, route: routing.Route
    ) -> aiohttp.web.StreamResponse | None:
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        action = None
        if route.kind == "object":
            action = (
                kmock.action.WATCH
                if _truthy(raw.query.get("watch"))
                else {
                    ("GET", False): kmock.action.FETCH,
                    ("GET", True): kmock.action.LIST,
                    ("POST", True): kmock.action.CREATE,
                    ("PATCH", False): kmock.action.UPDATE,
                    ("DELETE", False): kmock.action.DELETE,
                }.get((raw.method, route.name is None))
            )
        request = rendering.Request(
            id=len(self._requests),
            raw_request=raw,
            url=raw.url,
            method=raw.method,
            params=dict(raw.query),
            headers=dict(raw.headers),
            cookies=dict(raw.cookies),
            body=body,
            text=body.decode("utf-8", errors="replace"),
            data=data,
            action=action,
            resource=kmock.resource(route.group, route.version, route.plural) if route.kind == "object" else None,
            namespace=route.namespace,
            name=route.name,
            subresource=route.subresource,
        )
        self._requests.append(request)
        try:
            return await kmock.RawHandler._handle(self, request)
        except NotImplementedError:
            return None

    # --- discovery --------------------------------------------------------------------------------------

    def _discovery(self, route: routing.Route) -> aiohttp.web.Response:
        doc: Mapping[str, Any] | None
        if route.kind == "root":
            doc = {"paths": self.registry.root_paths()}
        elif route.kind == "version":
            doc = {
                "major": "1",
                "minor": "33",
                "gitVersion": "v1.33.0-sealkit-emulator",
                "gitCommit": "",
                "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z",
                "goVersion": "go1.24",
                "compiler": "gc",
                "platform": "linux/amd64",
            }
        elif route.kind == "health":
            return aiohttp.web.Response(text="ok")
        elif route.kind == "openapi":
            doc = self._openapi(route.rest)
        elif route.kind == "api":
            doc = self.registry.api_versions_doc()
        elif route.kind == "apis":
            doc = self.registry.api_groups_doc()
        elif route.kind == "group":
            doc = self.registry.group_doc(route.group)
        elif route.kind == "resources":
            doc = self.registry.resource_list_doc(route.group, route.version)
        else:
            doc = None
        if doc is None:
            raise errors.ApiError(
                status=404, reason="NotFound", message="the server could not find the requested resource"
            )
        return encoding.response(doc)

    def _openapi(self, rest: str) -> Mapping[str, Any] | None:
        if rest == "v3":
            return openapi.root_document(self.registry)
        parts = rest.split("/")
        if parts[:2] == ["v3", "api"] and len(parts) == 3:
            return openapi.gv_document(self.registry, "", parts[2])
        if parts[:2] == ["v3", "apis"] and len(parts) == 4:
            return openapi.gv_document(self.registry, parts[2], parts[3])
        return None  # no OpenAPI v2

    # --- objects ----------------------------------------------------------------------------------------

    async def _serve_object(
        self,
        raw: aiohttp.web.BaseRequest,
        body: bytes,
        route: routing.Route,
        res: ResourceDef,
        attrs_: Attributes,
        facts: RequestFacts | None,
    ) -> aiohttp.web.StreamResponse:
        if route.subresource == "proxy":
            return await self._proxy(raw, body, route, res)
        namespace = route.namespace if res.namespaced else None
        query = raw.query
        dry_run = bool(query.get("dryRun"))
        verb = attrs_.verb
        store = self.store
        if verb == "watch":
            assert facts is not None  # computed for every watch (see _dispatch)
            return await self._watch(raw, route, res, namespace, facts)
        as_table = tables.wants_table(raw.headers.get("Accept", ""))
        if verb == "list":
            selection: dict[str, Any] = {
                "label_selector": query.get("labelSelector"),
                "field_selector": query.get("fieldSelector"),
                "limit": int(query["limit"]) if query.get("limit", "").isdigit() else None,
                "continue_token": query.get("continue"),
            }
            if not as_table:
                return encoding.response(store.list_encoded(res, namespace, **selection))
            listed = store.list_body(res, namespace, **selection)
            include = query.get("includeObject", "Metadata")
            return encoding.response(tables.table(res, listed["items"], listed["metadata"], include))
        if verb == "get":
            stored = store.get(res, namespace, route.name or "")
            if as_table and route.subresource is None:
                found = store.as_version(stored, res)
                meta = {"resourceVersion": found["metadata"].get("resourceVersion", "")}
                include = query.get("includeObject", "Metadata")
                return encoding.response(tables.table(res, [found], meta, include))
            return encoding.response(store.encoded(res, stored))
        if verb == "deletecollection":
            options = self._json(body, allow_empty=True)
            for obj in store.select(
                res, namespace, label_selector=query.get("labelSelector"), field_selector=query.get("fieldSelector")
            ):
                meta = obj["metadata"]
                store.delete(res, meta.get("namespace"), meta["name"], options, dry_run=dry_run)
            return encoding.response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
        strict = query.get("fieldValidation") == "Strict"
        if route.name is None and verb == "create" and route.subresource is None:
            created = store.create(
                res, namespace, self._object_body(raw, body, res), dry_run=dry_run, strict=strict, owned=True
            )
            return encoding.response(store.encoded(res, created), status=201)
        if route.name is None or verb == "create":
            raise errors.ApiError(
                status=405,
                reason="MethodNotAllowed",
                message="the server does not allow this method on the requested resource",
            )
        if verb == "update":
            updated = store.replace(
                res,
                namespace,
                route.name,
                self._object_body(raw, body, res),
                subresource=route.subresource,
                dry_run=dry_run,
                strict=strict,
                owned=True,
            )
            return encoding.response(store.encoded(res, updated))
        if verb == "patch":
            content_type = raw.headers.get("Content-Type", "")
            patched = store.patch(
                res,
                namespace,
                route.name,
                content_type,
                self._patch_body(body, content_type),
                subresource=route.subresource,
                dry_run=dry_run,
                strict=strict,
                owned=True,
            )
            return encoding.response(store.encoded(res, patched))
        if verb == "delete":
            options = self._delete_options(raw, body)
            if not isinstance(options, dict):
                raise errors.bad_request("DeleteOptions must be a JSON object")
            if query.get("propagationPolicy"):
                options["propagationPolicy"] = query["propagationPolicy"]
            if query.get("orphanDependents"):
                options["orphanDependents"] = _truthy(query["orphanDependents"])
            obj, pending = store.delete(res, namespace, route.name, options, dry_run=dry_run)
            if pending or res.custom:
                return encoding.response(store.encoded(res, obj))
            meta = obj["metadata"]
            return encoding.response(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": {"name": meta["name"], "group": res.group, "kind": res.plural, "uid": meta["uid"]},
                }
            )
        raise errors.ApiError(
            status=405,
            reason="MethodNotAllowed",
            message="the server does not allow this method on the requested resource",
        )

    @staticmethod
    def _json(body: bytes, *, allow_empty: bool = False) -> Any:
        if not body.strip():
            if allow_empty:
                return None
            raise errors.bad_request("the request body is empty")
        try:
            return json.loads(body)
        except ValueError:
            raise errors.bad_request("the request body is not valid JSON") from None

    @staticmethod
    def _delete_options(raw: aiohttp.web.BaseRequest, body: bytes) -> Any:
        """A DELETE's options: none, JSON, or protobuf (client-go's typed clients for builtins, e.g. helm's)."""
        content_type = raw.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type == protobuf.CONTENT_TYPE and body:
            try:
                return protobuf.decode(body)
            except protobuf.ProtobufError as exc:
                raise errors.bad_request(f"DeleteOptions cannot be read ({exc})") from None
        return KubeEmulator._json(body, allow_empty=True) or {}

    @staticmethod
    def _object_body(raw: aiohttp.web.BaseRequest, body: bytes, res: ResourceDef) -> Any:
        """A POST/PUT body: JSON, YAML, or (builtins) protobuf as kubectl's generators send it."""
        content_type = raw.headers.get("Content-Type", "application/json").split(";")[0].strip().lower()
        accepted = ["application/json", "application/yaml"] + ([] if res.custom else [protobuf.CONTENT_TYPE])
        if content_type == protobuf.CONTENT_TYPE and not res.custom:
            try:
                return protobuf.decode(body)
            except protobuf.ProtobufError as exc:
                raise errors.ApiError(
                    status=415,
                    reason="UnsupportedMediaType",
                    message=f"the body of the request was in an unknown format - accepted media types include: "
                    f"{', '.join(accepted)} ({exc})",
                ) from None
        if content_type in {"application/yaml", "application/x-yaml"}:
            return KubeEmulator._patch_body(body, "yaml")
        if content_type not in {"application/json", ""} and not content_type.endswith("+json"):
            raise errors.ApiError(
                status=415,
                reason="UnsupportedMediaType",
                message=f"the body of the request was in an unknown format - accepted media types include: "
                f"{', '.join(accepted)}",
            )
        return KubeEmulator._json(body)

    @staticmethod
    def _patch_body(body: bytes, content_type: str) -> Any:
        if "yaml" in content_type:
            import yaml

            try:
                return yaml.safe_load(body)
            except yaml.YAMLError:
                raise errors.bad_request("the request body is not valid YAML") from None
        return KubeEmulator._json(body)

    async def _watch(
        self,
        raw: aiohttp.web.BaseRequest,
        route: routing.Route,
        res: ResourceDef,
        namespace: str | None,
        facts: RequestFacts,
    ) -> aiohttp.web.StreamResponse:
        query = raw.query
        field_selector = query.get("fieldSelector")
        if route.name is not None:
            name_term = f"metadata.name={route.name}"
            field_selector = f"{field_selector},{name_term}" if field_selector else name_term
        response = aiohttp.web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        try:
            watcher = self.store.open_watch(
                res,
                namespace,
                None,
                label_selector=query.get("labelSelector"),
                field_selector=field_selector,
                resource_version=query.get("resourceVersion"),
                send_initial_events=_truthy(query.get("sendInitialEvents")),
                bookmarks=_truthy(query.get("allowWatchBookmarks")),
            )
        except errors.ApiError as exc:
            if exc.status != 410:
                raise
            await response.prepare(raw)
            await response.write(json.dumps({"type": "ERROR", "object": exc.body()}).encode() + b"\n")
            await response.write_eof()
            return response
        timeout = float(query["timeoutSeconds"]) if query.get("timeoutSeconds") else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout is not None else None
        stream = WatchStream(facts, watcher, raw.transport)
        self.disruptions.watch_opened(stream)
        try:
            await response.prepare(raw)
            while True:
                wait = 1.0 if deadline is None else min(1.0, deadline - loop.time())
                if wait <= 0:
                    break
                try:
                    event = await asyncio.wait_for(watcher.queue.get(), wait)
                except TimeoutError:
                    if raw.transport is None or raw.transport.is_closing():
                        break
                    continue
                if event is None:
                    break
                if self.faults.rules and not await self.disruptions.gate(stream):
                    return response
                await response.write(self._event_line(res, event))
            with contextlib.suppress(ConnectionError, RuntimeError):
                await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self.disruptions.watch_closed(stream)
            self.store.close_watch(res, watcher)
        return response

    def _event_line(self, res: ResourceDef, event: Mapping[str, Any]) -> bytes:
        obj = event["object"]
        if event["type"] in {"ADDED", "MODIFIED", "DELETED"} and isinstance(obj, dict):
            return encoding.event_line(event["type"], self.store.encoded(res, obj))
        return encoding.dumps(event) + b"\n"

    async def _proxy(
        self, raw: aiohttp.web.BaseRequest, body: bytes, route: routing.Route, res: ResourceDef
    ) -> aiohttp.web.StreamResponse:
        namespace = route.namespace or ""
        ref = proxy.ServiceRef.parse(route.name or "")
        service = self.store.get(res, namespace, ref.name)
        port = proxy.resolve_port(service, ref.port)
        names = {str(port)} | {
            str(p.get("name"))
            for p in (service.get("spec") or {}).get("ports") or []
            if int(p.get("port", 0)) == port and p.get("name")
        }
        backend = next(
            (self.backends[(namespace, ref.name, key)] for key in names if (namespace, ref.name, key) in self.backends),
            None,
        )
        if backend is None:
            raise errors.ApiError(
                status=503, reason="ServiceUnavailable", message=f'no endpoints available for service "{ref.name}"'
            )
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return await proxy.forward(raw, body, backend, route.rest, self._session)
