"""What the local Vault holds: namespaces, each with KV mounts, policies, Kubernetes roles; tokens.

Plain data and lookups only; the HTTP rules live in `api.py`. Namespace paths are "" (root) or
"team-a", "team-a/sub" (Vault Enterprise); every namespace has its own mounts, policies and
roles, and a token belongs to the namespace it was made in.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .acl import Rule


@dataclass
class KvVersion:
    data: dict[str, Any]
    created: float = field(default_factory=time.time)
    deleted: float | None = None
    destroyed: bool = False


@dataclass
class KvSecret:
    """A KV v2 secret: its versions (1-based) and metadata."""

    versions: list[KvVersion] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    custom_metadata: dict[str, str] | None = None

    @property
    def current(self) -> int:
        return len(self.versions)


@dataclass
class Mount:
    """A KV secrets engine at `path` (no slashes around it)."""

    path: str
    kv_version: int
    v1: dict[str, dict[str, Any]] = field(default_factory=dict)
    v2: dict[str, KvSecret] = field(default_factory=dict)
    accessor: str = field(default_factory=lambda: f"kv_{secrets.token_hex(4)}")
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))

    def keys(self) -> list[str]:
        return list(self.v1 if self.kv_version == 1 else self.v2)


@dataclass
class Role:
    """A Kubernetes auth role: which service accounts may log in, and the policies they get."""

    name: str
    service_account_names: tuple[str, ...]
    service_account_namespaces: tuple[str, ...]
    policies: tuple[str, ...]
    ttl: int = 3600
    audience: str | None = None


@dataclass
class Token:
    id: str
    accessor: str
    policies: tuple[str, ...]
    namespace: str
    display_name: str
    created: float = field(default_factory=time.time)
    ttl: int | None = None  # None: never expires (root and seeded tokens without ttl)
    meta: dict[str, str] | None = None
    entity_id: str = ""
    path: str = "auth/token/create"

    @property
    def expired(self) -> bool:
        return self.ttl is not None and time.time() >= self.created + self.ttl


@dataclass
class Namespace:
    path: str
    mounts: dict[str, Mount] = field(default_factory=dict)
    policies: dict[str, tuple[Rule, ...]] = field(default_factory=dict)
    auth_mounts: dict[str, dict[str, Role]] = field(default_factory=dict)  # mount -> role name -> role
    id: str = field(default_factory=lambda: secrets.token_hex(3))

    def mount_for(self, path: str) -> tuple[Mount, str] | None:
        """The mount holding `path` (longest prefix) and the rest of the path."""
        best: Mount | None = None
        for name, mount in self.mounts.items():
            if (path == name or path.startswith(name + "/")) and (best is None or len(name) > len(best.path)):
                best = mount
        if best is None:
            return None
        return best, path[len(best.path) :].lstrip("/")


def new_token_id() -> str:
    return "hvs." + secrets.token_urlsafe(18)
