"""The object store: the API server's write semantics over plain dicts, O(1) per single-object call.

Objects live in dicts keyed by (group, plural) then (namespace, name); a single global counter gives
resourceVersions; every change is kept in a bounded per-resource history for watches that resume from a
resourceVersion, and pushed to the open watches of that resource.
"""

from __future__ import annotations

import base64
import binascii
import collections
import copy
import dataclasses
import datetime
import json
import secrets
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from . import encoding, errors, pruning, validation
from .patching import PatchError, json_patch, merge_patch, strategic_merge_patch
from .resources import ResourceDef, ResourceRegistry
from .selectors import EXTRA_FIELDS, parse_field_selector, parse_label_selector
from .watching import Watcher

Obj = dict[str, Any]
StorageKey = tuple[str, str]
ObjKey = tuple[StorageKey, str, str]  # storage key, namespace ('' if cluster-scoped), name
ChangeHook = Callable[[ResourceDef, str, Obj, "Obj | None"], None]

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# Update strategies: AllowUnconditionalUpdate() is false (PUT needs a resourceVersion) and
# AllowCreateOnUpdate() is true (PUT may create), per k8s.io/kubernetes pkg/registry/<group>/<kind>/strategy.go.
_CONDITIONAL_UPDATE_ONLY = frozenset({("coordination.k8s.io", "leases")})
_CREATE_ON_UPDATE = frozenset({("coordination.k8s.io", "leases"), ("", "events"), ("events.k8s.io", "events")})
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _without_rv(obj: Mapping[str, Any]) -> Obj:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}


def _spec_part(obj: Mapping[str, Any], res: ResourceDef) -> Obj:
    """What a generation bump looks at: everything but metadata (and status when it is a subresource)."""
    skip = {"metadata", "status"} if res.has_status else {"metadata"}
    return {k: v for k, v in obj.items() if k not in skip}


def _owner_uids(obj: Mapping[str, Any]) -> set[str]:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return {ref["uid"] for ref in refs if isinstance(ref, dict) and isinstance(ref.get("uid"), str)}


class Store:
    """All objects of one emulated cluster. Not thread-safe: use it from the server's event loop only."""

    def __init__(self, registry: ResourceRegistry, *, history: int = 50_000) -> None:
        self.registry = registry
        self.rv = 0
        self._objects: dict[StorageKey, dict[tuple[str, str], Obj]] = collections.defaultdict(dict)
        self._ns_counts: collections.Counter[str] = collections.Counter()
        self._uids: dict[str, ObjKey] = {}
        self._dependents: dict[str, set[ObjKey]] = collections.defaultdict(set)
        self._history: dict[StorageKey, collections.deque[tuple[int, str, Obj, Obj | None]]] = {}
        self._evicted_upto: dict[StorageKey, int] = collections.defaultdict(int)
        self._history_len = history
        self._watchers: dict[StorageKey, set[Watcher]] = collections.defaultdict(set)
        self._encoded: dict[ObjKey, tuple[Obj, bytes]] = {}
        self.hooks: list[ChangeHook] = []

    # --- reading ----------------------------------------------------------------------------------------

    def find(self, res: ResourceDef, namespace: str | None, name: str) -> Obj | None:
        return self._objects[res.storage_key].get((namespace or "", name))

    def get(self, res: ResourceDef, namespace: str | None, name: str) -> Obj:
        obj = self.find(res, namespace, name)
        if obj is None:
            raise errors.not_found(res.plural, name, res.group)
        return obj

    def select(
        self,
        res: ResourceDef,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        """Objects of a resource in one namespace (None: all), filtered, sorted by namespace/name."""
        watcher = self._matcher(res, namespace, None, label_selector, field_selector)
        items = self._objects[res.storage_key]
        keys = sorted(items)
        return [items[key] for key in keys if watcher.selects(items[key])]

    def _matcher(
        self,
        res: ResourceDef,
        namespace: str | None,
        name: str | None,
        label_selector: str | None,
        field_selector: str | None,
    ) -> Watcher:
        try:
            labels = parse_label_selector(label_selector) if label_selector else None
            allowed = frozenset(
                {"metadata.name", "metadata.namespace", *res.selectable_fields, *EXTRA_FIELDS.get(res.storage_key, ())}
            )
            fields = parse_field_selector(field_selector, allowed) if field_selector else None
        except ValueError as exc:
            raise errors.bad_request(str(exc)) from None
        return Watcher(namespace=namespace, name=name, label_match=labels, field_match=fields)

    def _list(
        self,
        res: ResourceDef,
        namespace: str | None,
        *,
        label_selector: str | None,
        field_selector: str | None,
        limit: int | None,
        continue_token: str | None,
    ) -> tuple[Obj, list[Obj]]:
        items = self.select(res, namespace, label_selector=label_selector, field_selector=field_selector)
        list_rv = self.rv
        if continue_token:
            try:
                state = json.loads(base64.urlsafe_b64decode(continue_token.encode()))
                start = (str(state["ns"]), str(state["name"]))
                list_rv = int(state["rv"])
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise errors.bad_request("continue key is not valid") from None
            items = [o for o in items if ((o["metadata"].get("namespace") or ""), o["metadata"]["name"]) > start]
        meta: Obj = {"resourceVersion": str(list_rv)}
        if limit and len(items) > limit:
            last = items[limit - 1]["metadata"]
            token = json.dumps({"rv": list_rv, "ns": last.get("namespace") or "", "name": last["name"]})
            meta["continue"] = base64.urlsafe_b64encode(token.encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        return meta, items

    def list_body(
        self,
        res: ResourceDef,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> Obj:
        meta, items = self._list(
            res,
            namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
        )
        return {
            "kind": f"{res.kind}List",
            "apiVersion": res.api_version,
            "metadata": meta,
            "items": [self.as_version(o, res) for o in items],
        }

    def list_encoded(
        self,
        res: ResourceDef,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> bytes:
        """`list_body` as JSON bytes, spliced from each object's cached encoding."""
        meta, items = self._list(
            res,
            namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
            continue_token=continue_token,
        )
        return encoding.list_bytes(f"{res.kind}List", res.api_version, meta, (self.encoded(res, o) for o in items))

    def encoded(self, res: ResourceDef, obj: Obj) -> bytes:
        """The JSON of an object as served under `res`; a stored version is encoded only once."""
        if obj.get("apiVersion") != res.api_version:
            return encoding.dumps(self.as_version(obj, res))
        meta = obj["metadata"]
        key: ObjKey = (res.storage_key, meta.get("namespace") or "", meta.get("name") or "")
        cached = self._encoded.get(key)
        if cached is not None and cached[0] is obj:
            return cached[1]
        data = encoding.dumps(obj)
        if self._objects[res.storage_key].get(key[1:]) is obj:
            self._encoded[key] = (obj, data)
        return data

    @staticmethod
    def as_version(obj: Obj, res: ResourceDef) -> Obj:
        """The object as served under the requested version (storage is shared, nothing is converted)."""
        if obj.get("apiVersion") == res.api_version:
            return obj
        return {**obj, "apiVersion": res.api_version}

    def count(self) -> int:
        return sum(len(items) for items in self._objects.values())

    # --- watching ---------------------------------------------------------------------------------------

    def open_watch(
        self,
        res: ResourceDef,
        namespace: str | None,
        name: str | None,
        *,
        label_selector: str | None,
        field_selector: str | None,
        resource_version: str | None,
        send_initial_events: bool,
        bookmarks: bool,
    ) -> Watcher:
        """Register a watch and pre-fill it with the initial or replayed events, atomically."""
        watcher = self._matcher(res, namespace, name, label_selector, field_selector)
        skey = res.storage_key
        if resource_version in (None, "", "0") or send_initial_events:
            for obj in self.select(res, namespace, label_selector=label_selector, field_selector=field_selector):
                if name is None or obj["metadata"]["name"] == name:
                    watcher.queue.put_nowait({"type": "ADDED", "object": self.as_version(obj, res)})
            if send_initial_events and bookmarks:
                watcher.queue.put_nowait(
                    {
                        "type": "BOOKMARK",
                        "object": {
                            "kind": res.kind,
                            "apiVersion": res.api_version,
                            "metadata": {"resourceVersion": str(self.rv), "annotations": {INITIAL_EVENTS_END: "true"}},
                        },
                    }
                )
        else:
            try:
                since = int(resource_version or 0)
            except ValueError:
                raise errors.bad_request(f"invalid resource version: {resource_version}") from None
            if since < self._evicted_upto[skey]:
                raise errors.gone(f"too old resource version: {since} ({self._evicted_upto[skey] + 1})")
            replay: list[tuple[int, str, Obj, Obj | None]] = []
            for entry in reversed(self._history.get(skey, ())):
                if entry[0] <= since:
                    break
                replay.append(entry)
            for _, etype, obj, old in reversed(replay):
                watcher.offer(etype, self.as_version(obj, res), old)
        self._watchers[skey].add(watcher)
        return watcher

    def close_watch(self, res: ResourceDef, watcher: Watcher) -> None:
        self._watchers[res.storage_key].discard(watcher)
        watcher.close()

    def close_all_watches(self) -> None:
        for watchers in self._watchers.values():
            for watcher in list(watchers):
                watcher.close()
            watchers.clear()

    # --- writing ----------------------------------------------------------------------------------------

    def _next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def _record(self, res: ResourceDef, etype: str, obj: Obj, old: Obj | None) -> None:
        skey = res.storage_key
        history = self._history.get(skey)
        if history is None:
            history = self._history[skey] = collections.deque()
        if len(history) >= self._history_len:
            self._evicted_upto[skey] = history.popleft()[0]
        history.append((self.rv, etype, obj, old))
        for watcher in self._watchers.get(skey, ()):
            watcher.offer(etype, self.as_version(obj, res), old)
        for hook in self.hooks:
            hook(res, etype, obj, old)

    def _commit(self, res: ResourceDef, obj: Obj, old: Obj | None) -> Obj:
        meta = obj["metadata"]
        meta["resourceVersion"] = self._next_rv()
        key = (meta.get("namespace") or "", meta["name"])
        okey: ObjKey = (res.storage_key, key[0], key[1])
        self._objects[res.storage_key][key] = obj
        if old is None:
            self._ns_counts[key[0]] += 1
            self._uids[meta["uid"]] = okey
        for uid in _owner_uids(old or {}) - _owner_uids(obj):
            self._dependents[uid].discard(okey)
        for uid in _owner_uids(obj):
            self._dependents[uid].add(okey)
        self._record(res, "MODIFIED" if old is not None else "ADDED", obj, old)
        return obj

    def _remove(self, res: ResourceDef, obj: Obj, *, orphan: bool = False) -> Obj:
        """Really delete an object (finalizers are gone), then collect its dependents."""
        meta = obj["metadata"]
        namespace, name = meta.get("namespace") or "", meta["name"]
        gone = {**obj, "metadata": {**meta, "resourceVersion": self._next_rv()}}
        del self._objects[res.storage_key][(namespace, name)]
        self._encoded.pop((res.storage_key, namespace, name), None)
        self._ns_counts[namespace] -= 1
        self._uids.pop(meta["uid"], None)
        for uid in _owner_uids(obj):
            self._dependents[uid].discard((res.storage_key, namespace, name))
        self._record(res, "DELETED", gone, None)
        self._collect_dependents(meta["uid"], orphan=orphan)
        if namespace:
            self._maybe_finish_namespace(namespace)
        return gone

    def _resource_for(self, skey: StorageKey) -> ResourceDef | None:
        for res in self.registry:
            if res.storage_key == skey:
                return res
        return None

    def _collect_dependents(self, owner_uid: str, *, orphan: bool) -> None:
        """Garbage-collect (or orphan) the objects whose ownerReferences name a deleted owner."""
        for skey, namespace, name in sorted(self._dependents.pop(owner_uid, set())):
            obj = self._objects[skey].get((namespace, name))
            res = self._resource_for(skey)
            if obj is None or res is None:
                continue
            refs = obj["metadata"].get("ownerReferences") or []
            alive = [r for r in refs if r.get("uid") != owner_uid and r.get("uid") in self._uids]
            if orphan or alive:
                new = copy.deepcopy(obj)
                new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != owner_uid]
                if not new["metadata"]["ownerReferences"]:
                    del new["metadata"]["ownerReferences"]
                self._commit(res, new, obj)
            else:
                self._delete_obj(res, obj, orphan=False)

    def _delete_obj(self, res: ResourceDef, obj: Obj, *, orphan: bool) -> tuple[Obj, bool]:
        meta = obj["metadata"]
        if res.storage_key == ("", "namespaces"):
            return self._delete_namespace(res, obj)
        if meta.get("finalizers"):
            if meta.get("deletionTimestamp"):
                return obj, True
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = now_rfc3339()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            if res.tracks_generation:
                new["metadata"]["generation"] = int(meta.get("generation") or 0) + 1
            return self._commit(res, new, obj), True
        return self._remove(res, obj, orphan=orphan), False

    def _delete_namespace(self, res: ResourceDef, obj: Obj) -> tuple[Obj, bool]:
        name = obj["metadata"]["name"]
        if not obj["metadata"].get("deletionTimestamp"):
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = now_rfc3339()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            new.setdefault("status", {})["phase"] = "Terminating"
            obj = self._commit(res, new, obj)
            for skey, items in list(self._objects.items()):
                inner = self._resource_for(skey)
                if inner is None or not inner.namespaced:
                    continue
                for key in [k for k in items if k[0] == name]:
                    if key in items:
                        self._delete_obj(inner, items[key], orphan=False)
        self._maybe_finish_namespace(name)
        return self.find(res, None, name) or obj, self.find(res, None, name) is not None

    def _maybe_finish_namespace(self, name: str) -> None:
        res = self.registry.get("", "v1", "namespaces")
        if res is None:
            return
        ns = self.find(res, None, name)
        if ns is None or not ns["metadata"].get("deletionTimestamp") or self._ns_counts[name] > 0:
            return
        if ns["metadata"].get("finalizers"):
            return
        self._remove(res, ns)

    # --- the API verbs ----------------------------------------------------------------------------------

    def create(
        self,
        res: ResourceDef,
        namespace: str | None,
        body: Any,
        *,
        dry_run: bool = False,
        strict: bool = False,
        owned: bool = False,
    ) -> Obj:
        """POST. `owned`: the body is the caller's to give away (freshly decoded), so it is not copied."""
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        obj = body if owned else copy.deepcopy(body)
        self._check_type(res, obj)
        meta = obj.get("metadata")
        meta = dict(meta) if isinstance(meta, dict) else {}
        obj["metadata"] = meta
        if res.namespaced:
            if namespace is None:
                raise errors.ApiError(
                    status=404, reason="NotFound", message="the server could not find the requested resource"
                )
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
            self._require_namespace(namespace)
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            prefix = meta.get("generateName")
            if not prefix:
                raise errors.invalid(
                    res.kind, "", [validation.required("metadata.name", "name or generateName is required")], res.group
                )
            for _ in range(100):
                candidate = prefix + "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(5))
                if self.find(res, namespace, candidate) is None:
                    meta["name"] = candidate
                    break
        name = meta["name"]
        if self.find(res, namespace, name) is not None:
            raise errors.already_exists(res.plural, name, res.group)
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        if res.tracks_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if res.has_status:
            obj.pop("status", None)
        obj = self._normalize(res, obj, None, strict=strict)
        if dry_run:
            meta["resourceVersion"] = ""
            return obj
        return self._commit(res, obj, None)

    def replace(
        self,
        res: ResourceDef,
        namespace: str | None,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        strict: bool = False,
        owned: bool = False,
    ) -> Obj:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        old = self.find(res, namespace, name)
        new = body if owned else copy.deepcopy(body)
        self._check_type(res, new)
        meta: Obj = new["metadata"] if isinstance(new.get("metadata"), dict) else {}
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        if old is None:
            if res.storage_key not in _CREATE_ON_UPDATE or subresource is not None:
                raise errors.not_found(res.plural, name, res.group)
            new["metadata"] = {**meta, "name": name}
            new["metadata"].pop("resourceVersion", None)
            return self.create(res, namespace, new, dry_run=dry_run, strict=strict, owned=True)
        if (res.custom or res.storage_key in _CONDITIONAL_UPDATE_ONLY) and not meta.get("resourceVersion"):
            # the registry store words it with the resource, not the kind (generic/registry/store.go)
            raise errors.invalid(
                res.plural,
                name,
                ["metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"],
                res.group,
            )
        return self._update(res, old, new, subresource=subresource, dry_run=dry_run, strict=strict)

    def patch(
        self,
        res: ResourceDef,
        namespace: str | None,
        name: str,
        content_type: str,
        patch: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        strict: bool = False,
        owned: bool = False,
    ) -> Obj:
        kind = content_type.split(";")[0].strip().lower()
        accepted = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH] + ([] if res.custom else [STRATEGIC_PATCH])
        if kind not in accepted:
            raise errors.ApiError(
                status=415,
                reason="UnsupportedMediaType",
                message=f"the body of the request was in an unknown format - accepted media "
                f"types include: {', '.join(accepted)}",
            )
        old = self.find(res, namespace, name)
        if old is None:
            if kind == APPLY_PATCH and isinstance(patch, dict) and subresource is None:
                body = {**patch, "metadata": {**(patch.get("metadata") or {}), "name": name}}
                return self.create(res, namespace, body, dry_run=dry_run, strict=strict)
            raise errors.not_found(res.plural, name, res.group)
        try:
            if kind == JSON_PATCH:
                new = json_patch(old, patch)
            elif not isinstance(patch, dict):
                raise PatchError("a merge patch must be a JSON object", malformed=True)
            elif kind == STRATEGIC_PATCH:
                new = strategic_merge_patch(old, patch)
            else:
                new = merge_patch(old, patch, copy_values=not owned)
        except PatchError as exc:
            if exc.malformed:
                raise errors.bad_request(str(exc)) from None
            raise errors.ApiError(
                status=422,
                reason="Invalid",
                message=f"the server rejected our request due to an error in our request: {exc}",
            ) from None
        if not isinstance(new, dict):
            raise errors.ApiError(status=422, reason="Invalid", message="the patched object is not an object")
        return self._update(res, old, new, subresource=subresource, dry_run=dry_run, strict=strict)

    def delete(
        self, res: ResourceDef, namespace: str | None, name: str, options: Any = None, *, dry_run: bool = False
    ) -> tuple[Obj, bool]:
        """Delete (or start deleting) an object; returns its last state and whether it still exists."""
        obj = self.get(res, namespace, name)
        options = options if isinstance(options, dict) else {}
        pre = options.get("preconditions") or {}
        meta = obj["metadata"]
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise errors.conflict(
                res.plural,
                name,
                res.group,
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise errors.conflict(
                res.plural,
                name,
                res.group,
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
            )
        if dry_run:
            return obj, bool(meta.get("finalizers"))
        orphan = options.get("propagationPolicy") == "Orphan" or options.get("orphanDependents") is True
        return self._delete_obj(res, obj, orphan=orphan)

    # --- shared write checks ----------------------------------------------------------------------------

    def _check_type(self, res: ResourceDef, obj: Obj) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != res.api_version:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({res.api_version})"
            )
        if kind and kind != res.kind:
            raise errors.bad_request(f"the kind in the data ({kind}) does not match the expected kind ({res.kind})")
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind

    def _require_namespace(self, namespace: str) -> None:
        ns_res = self.registry.get("", "v1", "namespaces")
        if ns_res is None:
            return
        ns = self.find(ns_res, None, namespace)
        if ns is None:
            raise errors.not_found("namespaces", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                f"unable to create new content in namespace {namespace} because it is being terminated"
            )

    @staticmethod
    def _prune(res: ResourceDef, obj: Obj, *, strict: bool) -> Obj:
        """Structural pruning; with fieldValidation=Strict an unknown field is a 400 instead."""
        if not res.custom or res.schema is None:
            return obj
        pruned = pruning.prune(obj, res.schema)
        if strict:
            unknown = pruning.dropped(obj, pruned)
            if unknown:
                raise errors.bad_request(
                    "strict decoding error: " + ", ".join(f'unknown field "{field}"' for field in unknown)
                )
        return pruned

    def _normalize(self, res: ResourceDef, obj: Obj, old: Obj | None, *, strict: bool = False) -> Obj:
        """Kind-specific server behaviour on every write of the main resource."""
        if res.storage_key == ("", "secrets"):
            obj = self._normalize_secret(res, obj, old)
        elif res.storage_key == ("", "configmaps") and old is not None and old.get("immutable"):
            if (
                obj.get("data") != old.get("data")
                or obj.get("binaryData") != old.get("binaryData")
                or not obj.get("immutable")
            ):
                raise errors.invalid(
                    res.kind,
                    obj["metadata"]["name"],
                    [validation.forbidden("data", "field is immutable when `immutable` is set")],
                )
        elif res.storage_key == ("", "namespaces"):
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            if old is None:
                obj["status"] = {"phase": "Active"}
        elif res.storage_key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            obj = self._normalize_crd(obj)
        if res.storage_key == ("coordination.k8s.io", "leases"):
            obj = self._normalize_lease(obj)
        obj = self._prune(res, obj, strict=strict)
        self._validate(res, obj, old)
        return obj

    @staticmethod
    def _validate(res: ResourceDef, obj: Obj, old: Obj | None) -> None:
        """ObjectMeta, kind-specific and schema checks, all problems in one 422 as the server sends them."""
        meta = obj["metadata"]
        problems = (
            []
            if res.storage_key in validation.SKIP_OBJECT_META
            else validation.object_meta(res.kind, meta, custom=res.custom)
        )
        if old is not None and old["metadata"].get("deletionTimestamp"):
            added = sorted(set(meta.get("finalizers") or []) - set(old["metadata"].get("finalizers") or []))
            if added:
                found = "[]string{" + ", ".join(f'"{f}"' for f in added) + "}"
                problems.insert(
                    0,
                    validation.forbidden(
                        "metadata.finalizers",
                        f"no new finalizers can be added if the object is being deleted, found new finalizers {found}",
                    ),
                )
        rule = validation.KIND_RULES.get(res.storage_key)
        if rule is not None:
            problems += rule(obj)
        if res.custom and res.schema is not None:
            problems += pruning.validate_object(obj, res.schema)
        if problems:
            raise errors.invalid(res.kind, meta.get("name") or "", problems, res.group)

    @staticmethod
    def _normalize_lease(obj: Obj) -> Obj:
        """MicroTime fields are stored and served as RFC 3339 with microseconds, in UTC (metav1.MicroTime)."""
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return obj
        for key in ("acquireTime", "renewTime"):
            value = spec.get(key)
            if value is None:
                continue
            try:
                when = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise errors.bad_request(
                    f'Lease in version "v1" cannot be handled as a Lease: parsing time "{value}" as '
                    '"2006-01-02T15:04:05.000000Z07:00": cannot parse'
                ) from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=datetime.UTC)
            spec[key] = when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return obj

    def _normalize_secret(self, res: ResourceDef, obj: Obj, old: Obj | None) -> Obj:
        name = obj["metadata"]["name"]
        data = dict(obj.get("data") or {})
        for key, value in data.items():
            try:
                base64.b64decode(str(value), validate=True)
            except (binascii.Error, ValueError):
                raise errors.bad_request(
                    f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data in data[{key!r}]'
                ) from None
        for key, value in (obj.pop("stringData", None) or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        if data or "data" in obj:
            obj["data"] = data
        obj.setdefault("type", "Opaque")
        if old is not None:
            if obj["type"] != old.get("type", "Opaque"):
                raise errors.invalid(
                    res.kind, name, [validation.invalid_value("type", obj["type"], "field is immutable")]
                )
            if old.get("immutable") and not obj.get("immutable"):
                raise errors.invalid(
                    res.kind, name, [validation.forbidden("immutable", "field is immutable when `immutable` is set")]
                )
            if old.get("immutable") and obj.get("data") != old.get("data"):
                raise errors.invalid(
                    res.kind, name, [validation.forbidden("data", "field is immutable when `immutable` is set")]
                )
        return obj

    def _normalize_crd(self, obj: Obj) -> Obj:
        spec = obj.get("spec") or {}
        names = spec.get("names") or {}
        if not spec.get("group") or not names.get("plural") or not names.get("kind") or not spec.get("versions"):
            raise errors.invalid(
                "CustomResourceDefinition",
                obj["metadata"]["name"],
                ["spec: Required value: group, names.plural, names.kind and versions"],
                "apiextensions.k8s.io",
            )
        if obj["metadata"]["name"] != f"{names['plural']}.{spec['group']}":
            raise errors.invalid(
                "CustomResourceDefinition",
                obj["metadata"]["name"],
                ['metadata.name: Invalid value: must be spec.names.plural+"."+spec.group'],
                "apiextensions.k8s.io",
            )
        accepted = {
            **names,
            "singular": names.get("singular") or names["kind"].lower(),
            "listKind": names.get("listKind") or f"{names['kind']}List",
        }
        obj["status"] = {
            "acceptedNames": accepted,
            "storedVersions": [v["name"] for v in spec["versions"] if v.get("storage")],
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "reason": "NoConflicts",
                    "lastTransitionTime": now_rfc3339(),
                    "message": "no conflicts found",
                },
                {
                    "type": "Established",
                    "status": "True",
                    "reason": "InitialNamesAccepted",
                    "lastTransitionTime": now_rfc3339(),
                    "message": "the initial names have been accepted",
                },
            ],
        }
        return obj

    def _update(
        self, res: ResourceDef, old: Obj, new: Obj, *, subresource: str | None, dry_run: bool, strict: bool = False
    ) -> Obj:
        old_meta = old["metadata"]
        name = old_meta["name"]
        meta: Obj = dict(new["metadata"]) if isinstance(new.get("metadata"), dict) else {}
        new["metadata"] = meta
        if meta.get("namespace") and meta["namespace"] != (old_meta.get("namespace") or ""):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        rv = meta.get("resourceVersion")
        if rv and rv != old_meta["resourceVersion"]:
            raise errors.conflict(res.plural, name, res.group)
        if meta.get("uid") and meta["uid"] != old_meta["uid"]:
            raise errors.conflict(
                res.plural,
                name,
                res.group,
                f"Precondition failed: UID in precondition: {meta['uid']}, UID in object meta: {old_meta['uid']}",
            )
        if subresource == "status":
            # stored objects are never changed in place, so sharing their parts is safe
            result = {**old, "metadata": dict(old["metadata"])}
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
            if res.custom and res.schema is not None and "status" in result:
                # only the status changed, and the rest was valid: prune and validate just that part
                schema = pruning.only(res.schema, "status")
                part = self._prune(dataclasses.replace(res, schema=schema), {"status": result["status"]}, strict=strict)
                problems = pruning.validate_object(part, schema)
                if problems:
                    raise errors.invalid(res.kind, name, problems, res.group)
                if "status" in part:
                    result["status"] = part["status"]
                else:
                    result.pop("status", None)
        elif subresource is not None:
            raise errors.ApiError(
                status=404, reason="NotFound", message="the server could not find the requested resource"
            )
        else:
            result = new
            self._check_type(res, result)
            for key in (
                "name",
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "namespace",
                "selfLink",
            ):
                meta.pop(key, None)
                if key in old_meta:
                    meta[key] = old_meta[key]
            meta.pop("managedFields", None)
            if res.has_status:
                if "status" in old:
                    result["status"] = copy.deepcopy(old["status"])
                else:
                    result.pop("status", None)
            result = self._normalize(res, result, old, strict=strict)
            if res.tracks_generation and _spec_part(result, res) != _spec_part(old, res):
                result["metadata"]["generation"] = int(old_meta.get("generation") or 0) + 1
        result["metadata"]["resourceVersion"] = old_meta["resourceVersion"]
        if _without_rv(result) == _without_rv(old):
            return old  # a no-op write changes nothing, not even the resourceVersion
        if dry_run:
            return result
        rmeta = result["metadata"]
        if rmeta.get("deletionTimestamp") and not rmeta.get("finalizers"):
            if res.storage_key == ("", "namespaces"):
                self._commit(res, result, old)
                self._maybe_finish_namespace(name)
                return self.find(res, None, name) or result
            self._objects[res.storage_key][(rmeta.get("namespace") or "", name)] = result
            return self._remove(res, result)
        return self._commit(res, result, old)

    # --- seeding shortcuts (used by the in-process API) -------------------------------------------------

    def resource_for_object(self, obj: Mapping[str, Any]) -> ResourceDef:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            raise ValueError("the object needs apiVersion and kind")
        res = self.registry.find_kind(api_version, kind)
        if res is None:
            raise LookupError(f"unknown kind {kind} in {api_version}: load its CRD first")
        return res
