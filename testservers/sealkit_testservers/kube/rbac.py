"""RBAC: decide a request from the Roles/ClusterRoles and bindings stored in the emulator itself.

Why: the chart's least-privilege RBAC can be proven sufficient (and minimal) only by a server that
refuses what the bound roles do not grant, exactly with the real evaluation rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from .resources import ResourceRegistry
from .store import Store

RBAC_GROUP = "rbac.authorization.k8s.io"
DISCOVERY_PREFIXES = ("/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/openapi")


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    groups: frozenset[str]

    @classmethod
    def service_account(cls, namespace: str, name: str) -> User:
        return cls(
            f"system:serviceaccount:{namespace}:{name}",
            frozenset({"system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"}),
        )


@dataclasses.dataclass(frozen=True)
class Attributes:
    """What a request wants, in the authorizer's terms."""

    verb: str
    path: str
    resource_request: bool
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str | None = None
    name: str | None = None

    def describe(self, user: User) -> str:
        if not self.resource_request:
            return f'forbidden: User "{user.name}" cannot {self.verb} path "{self.path}"'
        what = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        subject = f'{self.resource} "{self.name}" is forbidden' if self.name else f"{self.resource} is forbidden"
        where = f' in the namespace "{self.namespace}"' if self.namespace else " at the cluster scope"
        return (
            f'{subject}: User "{user.name}" cannot {self.verb} resource "{what}" in API group "{self.api_group}"{where}'
        )


def _has(values: Iterable[Any] | None, wanted: str) -> bool:
    values = list(values or [])
    return "*" in values or wanted in values


def rule_allows(rule: Mapping[str, Any], attrs: Attributes) -> bool:
    if not _has(rule.get("verbs"), attrs.verb):
        return False
    if not attrs.resource_request:
        return any(
            url == attrs.path or (url.endswith("*") and attrs.path.startswith(url[:-1]))
            for url in rule.get("nonResourceURLs") or []
        )
    if not _has(rule.get("apiGroups"), attrs.api_group):
        return False
    resources = rule.get("resources") or []
    if attrs.subresource:
        wanted = f"{attrs.resource}/{attrs.subresource}"
        ok = any(r in {"*", wanted, f"{attrs.resource}/*", f"*/{attrs.subresource}"} for r in resources)
    else:
        ok = any(r in {"*", attrs.resource} for r in resources)
    if not ok:
        return False
    names = rule.get("resourceNames") or []
    return not names or (attrs.name is not None and attrs.name in names)


def _subject_matches(subject: Mapping[str, Any], user: User, binding_ns: str | None) -> bool:
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_ns
        return user.name == f"system:serviceaccount:{namespace}:{subject.get('name')}"
    if kind == "User":
        return user.name == subject.get("name")
    if kind == "Group":
        return subject.get("name") in user.groups
    return False


class Authorizer:
    """Evaluates one request against the RBAC objects currently stored."""

    def __init__(self, store: Store, registry: ResourceRegistry) -> None:
        self.store = store
        self.registry = registry

    def _objects(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        res = self.registry.get(RBAC_GROUP, "v1", plural)
        if res is None:
            return []
        return self.store.select(res, namespace)

    def _role_rules(self, ref: Mapping[str, Any], namespace: str | None) -> list[Mapping[str, Any]]:
        kind, name = ref.get("kind"), ref.get("name")
        plural = "clusterroles" if kind == "ClusterRole" else "roles"
        res = self.registry.get(RBAC_GROUP, "v1", plural)
        if res is None or not isinstance(name, str):
            return []
        role = self.store.find(res, None if kind == "ClusterRole" else namespace, name)
        return list((role or {}).get("rules") or [])

    def allows(self, user: User, attrs: Attributes) -> bool:
        if not attrs.resource_request and attrs.verb == "get" and attrs.path.startswith(DISCOVERY_PREFIXES):
            return True  # system:discovery / system:public-info-viewer, bound to everybody
        for binding in self._objects("clusterrolebindings"):
            if any(_subject_matches(s, user, None) for s in binding.get("subjects") or []):
                rules = self._role_rules(binding.get("roleRef") or {}, None)
                if any(rule_allows(rule, attrs) for rule in rules):
                    return True
        if attrs.namespace and attrs.resource_request:
            for binding in self._objects("rolebindings", attrs.namespace):
                if any(_subject_matches(s, user, attrs.namespace) for s in binding.get("subjects") or []):
                    rules = self._role_rules(binding.get("roleRef") or {}, attrs.namespace)
                    if any(rule_allows(rule, attrs) for rule in rules):
                        return True
        return False
